"""Raking (rim weighting) to population margins: :func:`rake` and its :class:`RakingReport`.

This module owns raking a Survey: :func:`rake` adjusts the weights so that
the weighted totals match population totals on several margins (iterative
proportional fitting, as R's ``survey::rake``) and returns a new Survey.
The raked Survey carries a calibration that makes linearisation SEs account
for the raking exactly as R's ``rake()`` followed by ``svymean`` does;
replicate designs have every replicate weight raked too.

The pieces live beside it: the targets file (:mod:`.targets`), matching
margins to the data (:mod:`.margins`), the IPF loop and the variance
correction (:mod:`.calibration`) and the audits of weights (:mod:`.audit`).

Margins
-------
``margins`` maps a column name -- or a tuple of column names for a crossed
margin such as age band x gender -- to ``{category: population total}``.
Categories are codes or value labels; a margin summing to 1 holds shares;
margins whose totals differ by rounding are reconciled
(:mod:`surveytools.weighting.margins` has the rules).

The :class:`RakingReport` of a raked Survey is ``raked.meta.notes["raking"]``.

Examples
--------
>>> import pandas as pd, surveytools as st
>>> df = pd.DataFrame({"w": [1.0] * 6, "sex": [1, 1, 1, 2, 2, 2], "old": [0, 0, 1, 0, 1, 1]})
>>> raked = rake(st.Survey(df, st.Design(weight="w")),
...              {"sex": {1: 50.0, 2: 50.0}, "old": {0: 60.0, 1: 40.0}})
>>> raked.meta.notes["raking"].converged, round(float(raked.weights.sum()), 6)
(True, 100.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.design import ReplicateDesign
from ..core.errors import WeightingError
from ..survey import Survey
from .audit import weight_summary
from .calibration import RakingCalibration, ipf
from .margins import category_label, category_text, reconcile_totals, resolve_margins


@dataclass(frozen=True, eq=False)
class RakingReport:
    """How raking went: convergence, weight spread and the margins achieved.

    Attributes
    ----------
    converged : bool
    iterations : int
        Full sweeps over the margins.
    max_deviation : float
        Worst ``|achieved - target| / target`` over every margin category.
    tolerance : float
    n : int
        Rows with a positive raked weight.
    efficiency : float
        Weighting efficiency ``(sum w)^2 / (n sum w^2)``.
    kish_deff : float
        Kish's design effect from weighting, ``1 + CV^2 = n sum w^2 / (sum w)^2``.
    effective_n : float
        ``n / kish_deff``.
    weight_min, weight_max, weight_ratio : float
        Smallest and largest positive weight and their ratio.
    cap : (low, high) or None
        Bounds on raked / initial weight, as applied.
    trim : float or None
        Maximum weight / mean weight, as applied.
    n_capped, n_trimmed : int
        Respondents held at a cap bound or trimmed in the last iteration.
    margins : pandas.DataFrame
        One row per margin category: margin, category (crossed cells as
        "code:code"), label, n, target, initial (weighted total before
        raking), achieved, deviation (relative).
    notes : tuple of str
        Adjustments made to the targets (shares scaled, totals reconciled).
    """

    converged: bool
    iterations: int
    max_deviation: float
    tolerance: float
    n: int
    efficiency: float
    kish_deff: float
    effective_n: float
    weight_min: float
    weight_max: float
    weight_ratio: float
    cap: tuple[float, float] | None
    trim: float | None
    n_capped: int
    n_trimmed: int
    margins: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.Series:
        """The scalar fields as a Series (for printing or a table row)."""
        names = ["converged", "iterations", "max_deviation", "tolerance", "n", "efficiency",
                 "kish_deff", "effective_n", "weight_min", "weight_max", "weight_ratio",
                 "n_capped", "n_trimmed"]
        return pd.Series({name: getattr(self, name) for name in names}, dtype=object)


def rake(survey: Survey, margins: Mapping, *, tolerance: float = 1e-10,
         max_iterations: int = 100, cap: float | tuple[float, float] | None = None,
         trim: float | None = None, name: str | None = None) -> Survey:
    """Rake the weights of ``survey`` to population margins.

    Parameters
    ----------
    survey : Survey
        Its design weight is the starting weight; the Survey is not changed.
    margins : mapping
        ``{column or (column, ...): {category: total}}``; see the module
        docstring for codes, labels, crossed margins and shares.  The result
        of :func:`~surveytools.weighting.targets.read_targets` works as is.
    tolerance : float
        Stop when every margin category is within this relative deviation
        of its target.
    max_iterations : int
        Maximum sweeps over the margins before a WeightingError.
    cap : float or (low, high), optional
        Bounds on the adjustment factor: the raked weight over the initial
        weight scaled to the population total (a single number is the upper
        bound).
    trim : float, optional
        Maximum ratio of a weight to the mean weight.

        With ``cap`` or ``trim``, plain raking runs first; if its weights
        break a bound, raking continues with the bound enforced in every
        margin step (rows that would cross it are held at it, the rest of
        their category absorbs the difference). The report counts the
        respondents held (``n_capped``, ``n_trimmed``). Linearisation SEs
        then treat the weights as raked (the bounds are ignored by the
        variance, as R does after ``trimWeights``).
    name : str, optional
        Column for the raked weight (default ``<weight>_raked``); replicate
        weights ``r`` become ``r_raked``.

    Returns
    -------
    Survey
        Whose design weight is the raked weight, whose calibration makes
        linearisation SEs account for the raking (as R's ``svyrecvar``), and
        whose ``meta.notes["raking"]`` is the :class:`RakingReport`.

    Raises
    ------
    WeightingError
        Targets that do not fit the data (uncovered or absent categories,
        non-positive totals, totals that disagree, missing values in a
        margin variable) or raking that does not converge.

    Examples
    --------
    >>> import pandas as pd, surveytools as st
    >>> df = pd.DataFrame({"w": [1.0, 1, 1, 1], "g": [1, 1, 2, 2]})
    >>> st.rake(st.Survey(df, st.Design(weight="w")), {"g": {1: 0.25, 2: 0.75}}).weights.tolist()
    [0.5, 0.5, 1.5, 1.5]
    """
    file = getattr(margins, "file", None)
    bounds = _check_options(tolerance, max_iterations, cap, trim)
    resolved = resolve_margins(survey, margins, file)
    initial = _weight_matrix(survey)
    targets, notes = reconcile_totals(resolved, float(initial[:, 0].sum()), file)
    fit = ipf(initial, [m.rows for m in resolved], targets, tolerance=tolerance,
              max_iterations=max_iterations, cap=bounds, trim=trim)
    if not fit.converged:
        worst = int(np.argmax(fit.deviations))
        margin = resolved[worst]
        raise WeightingError(
            f"raking did not converge after {fit.iterations} iterations; the worst margin is "
            f"{margin.title!r}, category {margin.keys[fit.worst_category[worst]]!r}, "
            f"{fit.deviations[worst]:.3g} (relative) from its target",
            file=file or survey.meta.file, column=margin.title,
            expected=f"every margin within {tolerance:g} of its target",
            found=f"a worst relative deviation of {fit.deviations.max():.3g}",
            hint="raise max_iterations, loosen tolerance, collapse sparse categories "
                 "or loosen cap=/trim= (bounds that cannot all hold stop convergence)",
        )
    report = _report(survey, fit, resolved, targets, initial[:, 0], tolerance, bounds, trim, notes)
    return _raked_survey(survey, fit.weights, resolved, report, name)


def _check_options(tolerance, max_iterations, cap, trim) -> tuple[float, float] | None:
    """Checked options; ``cap`` as ``(low, high)`` (or None)."""
    if not (isinstance(tolerance, (int, float)) and tolerance > 0):
        raise WeightingError("tolerance must be a positive number", found=repr(tolerance),
                             hint="pass tolerance=1e-8, say")
    if not (isinstance(max_iterations, int) and max_iterations >= 1):
        raise WeightingError("max_iterations must be a positive integer",
                             found=repr(max_iterations), hint="pass max_iterations=100, say")
    if trim is not None and not (isinstance(trim, (int, float)) and trim > 1):
        raise WeightingError("trim must be a number above 1 (maximum weight / mean weight)",
                             found=repr(trim), hint="pass trim=5, say")
    if cap is None:
        return None
    low, high = (0.0, cap) if isinstance(cap, (int, float)) else tuple(cap)
    if not (0 <= low < 1 < high):
        raise WeightingError("cap must be an upper bound above 1, or (low, high) with "
                             "0 <= low < 1 < high, on the ratio of raked to initial weight",
                             found=repr(cap), hint="pass cap=3 or cap=(0.3, 3), say")
    return float(low), float(high)


def _weight_matrix(survey: Survey) -> np.ndarray:
    """(n, k): the design weight and, for a replicate design, every replicate weight."""
    design = survey.design
    columns = [design.weight]
    if isinstance(design, ReplicateDesign):
        columns += list(design.replicate_weights)
    return survey.data[columns].to_numpy(dtype=float)


def _report(survey, fit, margins, targets, initial, tolerance, cap, trim, notes) -> RakingReport:
    """The RakingReport of an IPF fit: convergence, weight spread (:func:`weight_summary`)
    and one row per margin category."""
    final = fit.weights[:, 0]
    rows = []
    for margin, target in zip(margins, targets):
        before = np.bincount(margin.rows, weights=initial, minlength=len(target))
        after = np.bincount(margin.rows, weights=final, minlength=len(target))
        count = np.bincount(margin.rows, minlength=len(target))
        for j, key in enumerate(margin.keys):
            rows.append({"margin": margin.title, "category": category_text(key),
                         "label": category_label(survey, margin, j), "n": int(count[j]),
                         "target": target[j], "initial": before[j], "achieved": after[j],
                         "deviation": after[j] / target[j] - 1.0})
    stats = weight_summary(final)
    return RakingReport(
        converged=fit.converged, iterations=fit.iterations,
        max_deviation=float(fit.deviations.max()), tolerance=tolerance, n=stats["n"],
        efficiency=stats["efficiency"], kish_deff=stats["kish_deff"],
        effective_n=stats["effective_n"], weight_min=stats["min"], weight_max=stats["max"],
        weight_ratio=stats["ratio"], cap=cap, trim=trim, n_capped=fit.n_capped,
        n_trimmed=fit.n_trimmed, margins=pd.DataFrame(rows), notes=notes)


def _fresh_name(data: pd.DataFrame, base: str) -> str:
    """``base``, or ``base2``, ``base3``... whichever is not yet a column."""
    name, k = base, 1
    while name in data.columns:
        k += 1
        name = f"{base}{k}"
    return name


def _raked_survey(survey: Survey, weights: np.ndarray, margins, report, name) -> Survey:
    """A copy of ``survey`` with the raked weight column(s), design and calibration."""
    design = survey.design
    data = survey.data
    if name is not None and name in data.columns:
        raise WeightingError("the column for the raked weight already exists",
                             file=survey.meta.file, column=name,
                             expected="a new column name", found="an existing column",
                             hint="pass another name= (the data are never overwritten)")
    weight_name = name or _fresh_name(data, f"{design.weight}_raked")
    new = {weight_name: weights[:, 0]}
    if isinstance(design, ReplicateDesign):
        replicate_names = [_fresh_name(data, f"{c}_raked") for c in design.replicate_weights]
        new.update(zip(replicate_names, weights[:, 1:].T))
        new_design = design.replace(weight=weight_name, replicate_weights=replicate_names)
        calibration = None  # replicate variance sees the raking through the raked replicates
    else:
        new_design = design.replace(weight=weight_name)
        calibration = RakingCalibration(tuple(m.rows for m in margins), weights[:, 0],
                                        previous=survey.calibration)
    meta = survey.meta.replace(notes={**survey.meta.notes, "raking": report})
    return survey.replace(data=data.assign(**new), design=new_design, meta=meta,
                          calibration=calibration)
