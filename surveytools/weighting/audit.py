"""Weighting audits: the spread of the weights, and sample shares against the population.

This module owns the checks an analyst runs before and after raking:
:func:`weight_summary` (Kish's design effect from weighting, efficiency,
effective n) for one set of weights, :func:`weighting_audit` for every wave
of a tracker, and :func:`margin_audit` for every margin category.

Examples
--------
>>> import pandas as pd, surveytools as st
>>> survey = st.Survey(pd.DataFrame({"w": [1.0, 1.0, 2.0, 4.0], "g": [1, 1, 2, 2]}),
...                    st.Design(weight="w"))
>>> shares = margin_audit([survey], {"g": {1: 50.0, 2: 50.0}})
>>> shares[["category", "population_share", "unweighted_share", "weighted_share"]].round(3)
  category  population_share  unweighted_share  weighted_share
0        1               0.5               0.5            0.25
1        2               0.5               0.5            0.75
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..core.errors import WeightingError
from ..survey import Survey
from .margins import category_label, category_text, margin_columns, resolve_margin


def weight_summary(weights) -> dict[str, float]:
    """Spread of the positive weights: n, sum, min, max, ratio, mean, CV,
    Kish design effect, efficiency and effective n.

    ``kish_deff = n * sum(w^2) / sum(w)^2 = 1 + CV^2`` (CV with the population
    variance, as R's ``1 + (sd(w) / mean(w))^2 * (n - 1) / n``);
    ``efficiency = 1 / kish_deff``; ``effective_n = n / kish_deff``.

    Examples
    --------
    >>> s = weight_summary([1.0, 1.0, 2.0, 4.0])
    >>> s["kish_deff"], s["efficiency"], s["effective_n"]
    (1.375, 0.7272727272727273, 2.909090909090909)
    """
    w = np.asarray(weights, dtype=float)
    w = w[w > 0]
    n, total = len(w), w.sum()
    deff = n * (w ** 2).sum() / total ** 2
    return {"n": n, "sum_weights": float(total), "min": float(w.min()), "max": float(w.max()),
            "ratio": float(w.max() / w.min()), "mean": float(total / n),
            "cv": float(np.sqrt(max(deff - 1.0, 0.0))), "kish_deff": float(deff),
            "efficiency": float(1.0 / deff), "effective_n": float(n / deff)}


def _named_surveys(surveys) -> list[tuple[str, Survey]]:
    """``(label, Survey)`` pairs of a Tracker (anything with ``names``), a mapping,
    a list or one Survey."""
    if isinstance(surveys, Survey):
        return [(surveys.wave or "survey", surveys)]
    if hasattr(surveys, "names") and not isinstance(surveys, Mapping):
        return [(str(n), surveys[n]) for n in surveys.names]
    if isinstance(surveys, Mapping):
        return [(str(k), v) for k, v in surveys.items()]
    if isinstance(surveys, Sequence):
        return [(s.wave or str(i + 1), s) for i, s in enumerate(surveys)]
    raise WeightingError("weighting_audit needs surveys", found=type(surveys).__name__,
                         hint="pass a Tracker, a {label: Survey} dict or a list of Surveys")


def weighting_audit(surveys, margins: Mapping | None = None) -> pd.DataFrame:
    """The spread of the weights of every wave, and how far each is from the targets.

    Parameters
    ----------
    surveys : Tracker, mapping of label -> Survey, list of Surveys, or a Survey
    margins : mapping, optional
        Population margins (as for :func:`surveytools.rake`). Adds, per wave, the largest
        gap in percentage points between a population share and the
        unweighted and the weighted sample share; :func:`margin_audit` gives
        every category.

    Returns
    -------
    pandas.DataFrame
        Indexed by wave: n (positive weights), sum_weights, min, max, ratio
        (max/min), mean, cv, kish_deff, efficiency, effective_n.

    Examples
    --------
    >>> import pandas as pd, surveytools as st
    >>> df = pd.DataFrame({"w": [1.0, 1.0, 2.0, 4.0]})
    >>> float(weighting_audit({"2024": st.Survey(df, st.Design(weight="w"))})["kish_deff"].iloc[0])
    1.375
    """
    named = _named_surveys(surveys)
    table = pd.DataFrame([weight_summary(s.weights) for _, s in named],
                         index=pd.Index([n for n, _ in named], name="wave"))
    if margins is not None:
        shares = margin_audit(dict(named), margins)
        gaps = shares.assign(
            unweighted=(shares["unweighted_share"] - shares["population_share"]).abs() * 100,
            weighted=(shares["weighted_share"] - shares["population_share"]).abs() * 100)
        worst = gaps.groupby("wave", sort=False)[["unweighted", "weighted"]].max()
        table["max_gap_unweighted_pp"] = worst["unweighted"]
        table["max_gap_weighted_pp"] = worst["weighted"]
    return table


def margin_audit(surveys, margins: Mapping) -> pd.DataFrame:
    """Unweighted and weighted sample shares of every margin category against the
    population shares, wave by wave.

    Parameters
    ----------
    surveys : Tracker, mapping of label -> Survey, list of Surveys, or a Survey
    margins : mapping
        Population margins (as for :func:`surveytools.rake`, e.g. :class:`~surveytools.weighting.targets.Targets`).

    Returns
    -------
    pandas.DataFrame
        Long: wave, margin, category, label, n, population_share,
        unweighted_share, weighted_share. Sample categories that the margin
        does not cover appear with a missing population share; rows with a
        missing value in a margin variable are left out of that margin's shares.
    """
    file = getattr(margins, "file", None)
    rows = []
    for wave, survey in _named_surveys(surveys):
        weights = survey.weights.to_numpy()
        for key, categories in margins.items():
            margin = resolve_margin(survey, margin_columns(key), categories, file,
                                    strict=False)
            known = margin.rows >= 0
            complete = ~survey.data[list(margin.columns)].isna().any(axis=1).to_numpy()
            population = margin.totals / margin.totals.sum()
            count = np.bincount(margin.rows[known], minlength=len(population))
            weighted = np.bincount(margin.rows[known], weights=weights[known],
                                   minlength=len(population))
            for j, category in enumerate(margin.keys):
                rows.append({"wave": wave, "margin": margin.title,
                             "category": category_text(category),
                             "label": category_label(survey, margin, j), "n": int(count[j]),
                             "population_share": population[j],
                             "unweighted_share": count[j] / complete.sum(),
                             "weighted_share": weighted[j] / weights[complete].sum()})
            other = complete & ~known
            if other.any():
                rows.append({"wave": wave, "margin": margin.title, "category": "(not in targets)",
                             "label": "", "n": int(other.sum()), "population_share": np.nan,
                             "unweighted_share": other.sum() / complete.sum(),
                             "weighted_share": weights[other].sum() / weights[complete].sum()})
    return pd.DataFrame(rows)
