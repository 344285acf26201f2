"""Margins resolved against one survey: which row falls in which target category.

This module owns matching raking targets to a survey's data: a margin's
categories (codes or value labels, crossed margins as tuples) become data
codes and a category for every row (:func:`resolve_margins`), and the
totals of several margins are reconciled to one population
(:func:`reconcile_totals`).  :mod:`surveytools.weighting.rake` and
:mod:`surveytools.weighting.audit` use it; the names here are the weighting
layer's own, not the public API.

* Category keys are codes (``1``, ``"1"``) or value labels (``"18-24"``,
  resolved through ``survey.meta.value_labels``); a crossed margin's keys
  are tuples of codes or labels, one per column.
* A margin whose targets sum to 1 (within :data:`TOTALS_AGREE`) holds
  population *shares*: they are scaled to the population total of the
  margins given as totals, or, when every margin is given as shares, to the
  current weighted total.
* Every margin must imply the same population total. Totals more than 0.5%
  apart are an error; smaller differences (rounding) are removed by scaling
  each margin to the total of the first, and a note says so.

Examples
--------
>>> import pandas as pd, surveytools as st
>>> survey = st.Survey(pd.DataFrame({"w": [1.0, 1.0, 1.0], "sex": [1, 2, 2]}),
...                    st.Design(weight="w"), st.Metadata(value_labels={"sex": {2: "Woman"}}))
>>> margin = resolve_margins(survey, {"sex": {1: 0.5, "Woman": 0.5}}, None)[0]
>>> margin.title, margin.keys, margin.rows.tolist()
('sex', [1, 'Woman'], [0, 1, 1])
>>> targets, notes = reconcile_totals([margin], 3.0, None)
>>> targets[0].tolist(), notes
([1.5, 1.5], ('margins sex read as shares of 3',))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.errors import WeightingError, row_number
from ..core.meta import code_text, plain_code
from ..survey import Survey

#: Relative gap within which margins' totals are reconciled, and within which
#: a margin summing to 1 is read as shares.
TOTALS_AGREE = 0.005


@dataclass(frozen=True, eq=False)
class Margin:
    """One margin matched to a survey: its categories, their data codes and totals,
    and the category of every row (-1: not covered, when not strict)."""

    columns: tuple[str, ...]
    keys: list            # the categories as the caller wrote them
    codes: list           # the data values they stand for (tuples for crossed margins)
    totals: np.ndarray    # as given (totals or shares)
    rows: np.ndarray      # (n,) category of each row

    @property
    def title(self) -> str:
        """``"region"``, or ``"age_band x gender"`` for a crossed margin."""
        return margin_title(self.columns)


def margin_columns(key) -> tuple[str, ...]:
    """The columns of a margin key: ``"region"`` or ``("age_band", "gender")``."""
    return tuple(key) if isinstance(key, (tuple, list)) else (key,)


def margin_title(key) -> str:
    """A margin as errors and reports name it.

    >>> margin_title(("age_band", "gender")), margin_title("region")
    ('age_band x gender', 'region')
    """
    return " x ".join(margin_columns(key))


def resolve_margins(survey: Survey, margins, file) -> list[Margin]:
    """Every margin of ``margins`` matched to ``survey`` (strictly: see :func:`resolve_margin`).

    ``file`` (the targets file, if any) is named in errors about the targets.
    """
    if not isinstance(margins, Mapping) or not margins:
        raise WeightingError("margins must be a non-empty mapping", file=file,
                             found=repr(type(margins).__name__),
                             hint='pass margins={"age_band": {1: 5.6e6, 2: 9.0e6, ...}, ...}')
    return [resolve_margin(survey, margin_columns(key), categories, file, strict=True)
            for key, categories in margins.items()]


def resolve_margin(survey: Survey, columns: tuple[str, ...], categories, file, *,
                   strict: bool) -> Margin:
    """Match a margin's categories to data codes and code every row.

    ``strict`` (raking): a missing value or a category the margin does not
    cover is an error. Otherwise such rows get category -1.
    """
    data = survey.data
    title = margin_title(columns)
    for column in columns:
        if column not in data.columns:
            raise WeightingError("margin variable not found in the data", file=file,
                                 column=column, expected=f"a column named {column!r}",
                                 hint="check the margin's name against the survey's columns")
        missing = np.flatnonzero(data[column].isna().to_numpy())
        if strict and len(missing):
            raise WeightingError(
                f"margin variable has {len(missing)} missing values",
                file=survey.meta.file, column=column, row=row_number(missing[0]),
                expected="a category for every respondent", found="a missing value",
                hint="impute or assign a category before raking")
    if not isinstance(categories, Mapping) or not categories:
        raise WeightingError("a margin must map categories to population totals",
                             file=file, column=title, found=repr(categories),
                             hint="pass {category: total, ...}")
    keys = list(categories)
    codes = [_resolve_key(survey, columns, key, file) for key in keys]
    totals = np.array([_total(categories[k], file, title, k) for k in keys])
    seen: dict = {}
    for key, code in zip(keys, codes):
        if code in seen:
            raise WeightingError(f"categories {seen[code]!r} and {key!r} are the same code",
                                 file=file, column=title, found=repr(code),
                                 hint="give each category once (as a code or as a label)")
        seen[code] = key
    frame = data[list(columns)]
    if len(columns) == 1:
        rows = pd.Index([c[0] for c in codes]).get_indexer(frame[columns[0]])
    else:
        rows = pd.MultiIndex.from_tuples(codes).get_indexer(
            pd.MultiIndex.from_frame(frame))
    uncovered = np.flatnonzero(rows < 0)
    if strict and len(uncovered):
        first = uncovered[0]
        value = tuple(frame.iloc[first])
        shown = ", ".join(_describe(survey, c, v) for c, v in zip(columns, value))
        raise WeightingError(
            f"the data hold a category the margin {title!r} does not cover "
            f"({len(uncovered)} respondents)" + (f" in the targets file {file}" if file else ""),
            file=survey.meta.file, column=title, row=row_number(first),
            expected="a target for every category in the data",
            found=shown, hint="add a target for that category, or recode/collapse it in the "
                              "data (e.g. 'Prefer not to say') before raking")
    weights = survey.weights.to_numpy()
    present = np.bincount(rows[rows >= 0], weights=weights[rows >= 0], minlength=len(codes))
    absent = np.flatnonzero(present <= 0)
    if strict and len(absent):
        key = keys[absent[0]]
        raise WeightingError(
            f"target category {key!r} of margin {title!r} has no respondents "
            "with a positive weight in the data",
            file=file, column=title, expected="respondents in every target category",
            found=f"{len(absent)} empty categories",
            hint="collapse the category with a neighbouring one in the targets and the data")
    return Margin(columns, keys, [c if len(columns) > 1 else c[0] for c in codes], totals, rows)


def _resolve_key(survey: Survey, columns, key, file) -> tuple:
    parts = tuple(key) if len(columns) > 1 and isinstance(key, (tuple, list)) else (key,)
    if len(parts) != len(columns):
        raise WeightingError(
            f"category {key!r} of a crossed margin needs one category per column",
            file=file, column=margin_title(columns),
            expected=f"a tuple of {len(columns)} ({', '.join(columns)})", found=repr(key),
            hint="write crossed categories as tuples, e.g. ('18-24', 'Woman')")
    return tuple(_resolve_value(survey, c, p, file) for c, p in zip(columns, parts))


def _resolve_value(survey: Survey, column: str, key, file):
    """The data value that a target category (code or value label) stands for."""
    values = pd.unique(survey.data[column].dropna())
    match = _equal_value(values, key)
    if match is not None:
        return match
    labels = survey.meta.value_labels.get(column, {})
    if isinstance(key, str):
        wanted = key.strip().casefold()
        for code, label in labels.items():
            if str(label).strip().casefold() == wanted:
                return _equal_value(values, code, default=code)
        try:
            number = float(key)
        except ValueError:
            number = None
        if number is not None:
            match = _equal_value(values, number)
            if match is not None:
                return match
            if any(_equal_value([code], number) is not None for code in labels):
                return number
    shown = ", ".join(_describe(survey, column, v) for v in sorted(values, key=str)[:15])
    raise WeightingError(
        f"target category {key!r} is neither a code in the data nor a value label",
        file=file, column=column, expected="a code or value label of the column",
        found=f"categories {shown}", hint="correct the category in the targets")


def _equal_value(values, key, default=None):
    for value in values:
        try:
            if value == key or (not isinstance(value, str) and not isinstance(key, str)
                                and float(value) == float(key)):
                return value
        except (TypeError, ValueError):
            continue
    return default


def _describe(survey: Survey, column: str, value) -> str:
    """``region=7 (London)``: a data value with its label."""
    code = plain_code(value)
    label = survey.meta.value_label(column, value)
    return f"{column}={code!r}" + (f" ({label})" if label != code_text(code) else "")


def _total(value, file, title, key) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not np.isfinite(value) or value <= 0:
        raise WeightingError(
            f"the target of category {key!r} must be a positive number",
            file=file, column=title, expected="a population total or share > 0",
            found=repr(value), hint="give every category a positive target, or collapse "
                                    "an empty category with a neighbour")
    return float(value)


def reconcile_totals(margins: list[Margin], weighted_total: float, file):
    """Population totals of every margin: shares scaled, rounding removed.

    Returns ``(targets, notes)``: one array of totals per margin, and the
    adjustments made, in words.  Totals more than :data:`TOTALS_AGREE` apart
    are a WeightingError naming ``file``.
    """
    sums = np.array([m.totals.sum() for m in margins])
    shares = np.abs(sums - 1.0) <= TOTALS_AGREE
    notes = []
    population = sums[~shares][0] if (~shares).any() else weighted_total
    if shares.any():
        notes.append(f"margins {', '.join(m.title for m, s in zip(margins, shares) if s)} "
                     f"read as shares of {population:.6g}")
    implied = np.where(shares, population, sums)
    gap = implied.max() / implied.min() - 1.0
    if gap > TOTALS_AGREE:
        high, low = int(np.argmax(implied)), int(np.argmin(implied))
        raise WeightingError(
            f"the margins imply different population totals: {margins[high].title!r} sums to "
            f"{implied[high]:.6g} and {margins[low].title!r} to {implied[low]:.6g} "
            f"({100 * gap:.2f}% apart)",
            file=file, expected=f"totals within {100 * TOTALS_AGREE:g}% of each other",
            found=f"{100 * gap:.2f}% apart",
            hint="use totals for the same population and date in every margin")
    if gap > 1e-12:
        notes.append(f"margin totals up to {100 * gap:.3f}% apart were scaled to "
                     f"{implied[0]:.6g} (the first margin)")
    targets = [m.totals / m.totals.sum() * implied[0] if s or gap > 1e-12 else m.totals
               for m, s in zip(margins, shares)]
    return targets, tuple(notes)


def category_text(key) -> str:
    """A category as the targets file writes it: crossed cells as "code:code".

    >>> category_text((3, 2.0)), category_text("Woman")
    ('3:2', 'Woman')
    """
    return ":".join(map(code_text, key)) if isinstance(key, tuple) else code_text(key)


def category_label(survey: Survey, margin: Margin, j: int) -> str:
    """The value labels of category ``j`` (crossed cells: one per column, comma-joined)."""
    codes = margin.codes[j] if len(margin.columns) > 1 else (margin.codes[j],)
    return ", ".join(survey.meta.value_label(c, v) for c, v in zip(margin.columns, codes))
