"""One wave's cells: every group of every breakdown, estimated and compared at once.

This module owns the "stacked cells" device behind the cube's speed:
:func:`stacked_cells` repeats each respondent once per breakdown, so that one
estimate ``by=CELL`` (:func:`estimate`) gives the total and every group of
every breakdown with their exact domain SEs and the covariance between the
groups of a breakdown; :func:`pair_tests` turns that covariance into the
design-based tests of every pair of groups, adjusted and read into letters
by :mod:`surveytools.indicators.significance`.

A cell code is ``breakdown position * CELL_STEP + group position`` (1-based
group positions; the total is breakdown 0, see :data:`TOTAL`).

Examples
--------
>>> codes = cell_codes((TOTAL,))
>>> [(bd.name, group.code) for bd, group in codes.values()], list(codes)
([('total', 'all')], [1])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .catalogue import Breakdown, Group, Indicator, IndicatorCatalogue
from .significance import ALPHA, letters_from_pairs

#: The whole sample, as a breakdown of one group.
TOTAL = Breakdown(name="total", variable="", label="Total",
                  groups=(Group(code="all", label="All adults", codes=()),))
CELL = "_cell"
CELL_STEP = 1000


def asked(survey, question: str) -> bool:
    """Whether ``question`` is in this wave (a column with at least one answer)."""
    return question in survey.data.columns and bool(survey.data[question].notna().any())


def cell_codes(breakdowns) -> dict:
    """Cell code -> (breakdown, group) for the total and every group of ``breakdowns``."""
    return {position * CELL_STEP + g: (bd, group)
            for position, bd in enumerate(breakdowns)
            for g, group in enumerate(bd.groups, start=1)}


def stacked_cells(survey, catalogue: IndicatorCatalogue, breakdowns: tuple[Breakdown, ...]):
    """One wave with every respondent repeated once per breakdown, so that one
    estimate ``by=CELL`` gives the total and every group of every breakdown.

    The copies of a respondent stay in the respondent's PSU (each respondent
    becomes its own PSU when the design has none), so PSU totals, strata and
    fpc are those of the wave: every domain estimate, its SE, df and deff,
    and the covariance between the groups of one breakdown are exactly those
    of ``survey`` estimated ``by=`` that breakdown.  Copies outside every
    group of a breakdown, or whose code is user-missing in this wave (e.g.
    "Prefer not to say"), are left out.

    Returns
    -------
    Survey
        The design columns and the catalogue's questions, with a ``CELL``
        column (see :func:`cell_codes`) and, for each net indicator, its score
        column (:func:`net_scores`).
    """
    data = survey.data
    design = survey.design
    questions = [q for q in catalogue.questions if q in data.columns]
    extra = {net_column(i): net_scores(survey, i) for i in catalogue
             if i.kind == "net" and i.question in data.columns}
    if not design.is_replicate and design.psu is None:
        extra["_respondent"] = np.arange(len(data))
        design = design.replace(psu="_respondent")
    rows, codes = [], []
    for position, bd in enumerate(breakdowns):
        if bd is TOTAL:
            code = np.full(len(data), float(position * CELL_STEP + 1))
        elif bd.variable not in data.columns:
            continue  # not asked in this wave: the breakdown has no rows here
        else:
            values = data[bd.variable]
            group = np.where(survey.meta.missing_mask(bd.variable, values), np.nan,
                             values.map(bd.mapping()).to_numpy(dtype=float, na_value=np.nan))
            code = position * CELL_STEP + group
        keep = np.flatnonzero(~np.isnan(code))
        rows.append(keep)
        codes.append(code[keep])
    # only the columns estimates need, gathered in one step (no fragmented frames)
    needed = list(dict.fromkeys([*survey.design.columns, *questions]))
    table = pd.concat([data[needed], pd.DataFrame(extra, index=data.index)], axis=1)
    rows = np.concatenate(rows) if rows else np.zeros(0, dtype=int)
    stacked = table.iloc[rows].reset_index(drop=True)
    stacked[CELL] = np.concatenate(codes) if codes else np.zeros(0)
    return survey.replace(data=stacked, design=design)


def net_column(indicator: Indicator) -> str:
    return f"_net_{indicator.name}"


def net_scores(survey, indicator: Indicator) -> np.ndarray:
    """+1 for a ``plus`` answer, -1 for a ``minus`` answer, 0 for any other answer
    in the base, NaN outside it: their weighted mean is the net score."""
    values = survey.data[indicator.question]
    missing = survey.meta.missing_mask(indicator.question, values)
    scores = np.where(values.isin(indicator.codes), 1.0,
                      np.where(values.isin(indicator.minus), -1.0, 0.0))
    out_of_base = values.isna().to_numpy().copy()
    if indicator.dont_know == "exclude":
        out_of_base |= missing
    return np.where(out_of_base, np.nan, scores)


def estimate(survey, indicator: Indicator, by: str | None = CELL, *, ci: str = "logit",
             conf_level: float = 0.95):
    """The :class:`Estimate` of one indicator ``by`` a column (default: the cells
    of :func:`stacked_cells`); net indicators need their score column."""
    if indicator.kind == "share":
        user_missing = "include" if indicator.dont_know == "include" else "exclude"
        return survey.proportion(indicator.question, value=list(indicator.codes), by=by,
                                 ci=ci, conf_level=conf_level, user_missing=user_missing)
    variable = net_column(indicator) if indicator.kind == "net" else indicator.question
    return survey.mean(variable, by=by, conf_level=conf_level)


def pair_tests(est, hidden: np.ndarray | None = None, *, alpha: float = ALPHA,
               correction: str = "bh") -> pd.DataFrame:
    """Design-based tests of every pair of groups within each breakdown of a
    cell estimate (:func:`stacked_cells`), adjusted per breakdown.

    Parameters
    ----------
    est : Estimate
        By :data:`CELL`; its covariance gives the SE of each difference
        (R's ``svycontrast`` on ``svyby(..., covmat=TRUE)``).
    hidden : bool array, optional
        Rows suppressed by the small-base rule (default: the estimate's own
        rule): their pairs get no p-value and do not count in the adjustment.

    Returns
    -------
    DataFrame
        ``a, b`` (cell codes), ``breakdown`` (its position), ``difference``
        (a minus b), ``se, df, p_value``, and from
        :func:`surveytools.indicators.significance.letters_from_pairs`
        ``p_adjusted, significant, higher`` (the cell significantly higher,
        or None).
    """
    codes = est.table[CELL].to_numpy(dtype=float).astype(int)
    hidden = est.suppressed if hidden is None else np.asarray(hidden, bool)
    breakdown = codes // CELL_STEP
    pairs = [(i, j) for i in range(len(codes)) for j in range(i + 1, len(codes))
             if breakdown[i] == breakdown[j] and breakdown[i] > 0]
    first, second = np.array(pairs, dtype=int).reshape(-1, 2).T
    tested = ~(hidden[first] | hidden[second])  # a hidden group's pairs: no test at all
    matrix = np.zeros((int(tested.sum()), len(codes)))
    matrix[np.arange(len(matrix)), first[tested]] = 1.0
    matrix[np.arange(len(matrix)), second[tested]] = -1.0
    results = {c: np.full(len(pairs), np.nan) for c in ("estimate", "se", "df", "p_value")}
    if len(matrix):
        contrasts = est.contrast(matrix)
        for column, values in results.items():
            values[tested] = contrasts[column].to_numpy(dtype=float)
    return letters_from_pairs(pd.DataFrame({
        "a": codes[first], "b": codes[second], "breakdown": breakdown[first],
        "difference": results["estimate"], "se": results["se"], "df": results["df"],
        "p_value": results["p_value"]}), alpha=alpha, correction=correction,
        family="breakdown")
