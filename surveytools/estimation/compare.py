"""Comparisons of estimates: contrasts, differences, pairs, wave-to-wave change.

Within one Estimate the SE of a linear combination comes from its
covariance matrix (R's ``svycontrast`` on ``svyby(..., covmat=TRUE)``) and
the t test uses the df of the design subset to the estimate's whole base
(:attr:`Estimate.design_df`).  Between waves, independent samples add their
variances and their df (the df of the stacked design).

A row suppressed by the small-base rule never leaks: any comparison that
involves it is NaN with ``base_flag="suppressed"``.

Examples
--------
>>> import pandas as pd, surveytools as st
>>> df = pd.DataFrame({"wt": [1.0] * 8, "g": [1, 1, 1, 1, 2, 2, 2, 2], "y": [1, 0, 1, 1, 0, 0, 1, 0]})
>>> est = st.Survey(df, st.Design(weight="wt"), small_base=st.SmallBaseRule(0, 0)).mean("y", by="g")
>>> float(st.difference(est, 1, 2)["difference"].iloc[0])
0.5
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.errors import DataError
from ..core.smallbase import LOW, OK, SUPPRESSED, blank
from .intervals import t_quantile, t_two_sided_p

if TYPE_CHECKING:  # result.py imports this module; the type is for readers only
    from .result import Estimate

_WORST = {OK: 0, LOW: 1, SUPPRESSED: 2}


def row_of(estimate: Estimate, key) -> int:
    """Position of the row whose key (by values, then level) is ``key``."""
    keys = estimate.keys
    for position, candidate in enumerate(keys):
        if _same_key(candidate, key):
            return position
    raise DataError(
        f"no row {key!r} in this estimate", column=", ".join(estimate.key_columns) or None,
        expected="a key of the form " + ("(" + ", ".join(estimate.key_columns) + ")"
                                         if len(estimate.key_columns) > 1 else "a code"),
        found="keys " + ", ".join(map(repr, keys[:12])) + (" ..." if len(keys) > 12 else ""),
        hint="use a code as it appears in est.table",
    )


def _same_key(candidate, wanted) -> bool:
    if isinstance(candidate, tuple) != isinstance(wanted, tuple):
        wanted = wanted[0] if isinstance(wanted, tuple) and len(wanted) == 1 else wanted
    try:
        return bool(candidate == wanted)
    except (TypeError, ValueError):
        return False


def contrast(estimate: Estimate, coefficients) -> pd.DataFrame:
    """Linear combinations of the rows of ``estimate`` (see :meth:`Estimate.contrast`)."""
    matrix = _coefficient_matrix(estimate, coefficients)
    values = estimate.table["estimate"].to_numpy(float)
    involved = matrix != 0
    with np.errstate(invalid="ignore"):
        point = np.where(involved, matrix * np.nan_to_num(values), 0).sum(axis=1)
        point = np.where((involved & np.isnan(values)).any(axis=1), np.nan, point)
        cov = np.nan_to_num(estimate.covariance)
        variance = np.einsum("ij,jk,ik->i", matrix, cov, matrix)
    se = np.sqrt(np.clip(variance, 0, None))
    flags = _combined_flags(estimate.base_flags, involved)
    df = np.full(len(point), float(estimate.design_df))
    frame = _t_test(point, se, df, estimate.conf_level, name="estimate")
    frame["base_flag"] = flags
    return blank(frame, flags == SUPPRESSED)


def difference(estimate: Estimate, a, b) -> pd.DataFrame:
    """Row ``a`` minus row ``b`` of ``estimate``: difference, se, t, df, p_value, CI."""
    coefficients = np.zeros(len(estimate.table))
    coefficients[row_of(estimate, a)] += 1.0
    coefficients[row_of(estimate, b)] -= 1.0
    frame = contrast(estimate, coefficients).rename(columns={"estimate": "difference"})
    frame.insert(0, "b", [b])
    frame.insert(0, "a", [a])
    return frame


def pairwise(estimate: Estimate) -> pd.DataFrame:
    """Every pair of domains (within each answer of a distribution).

    Columns: (``level``), ``a``, ``b`` (domain keys), ``difference, se, t,
    df, p_value, ci_low, ci_high, base_flag``.
    """
    table = estimate.table
    has_level = "level" in table.columns
    by = estimate.by
    domain_keys = [k[0] if len(k) == 1 else k
                   for k in zip(*(table[c].tolist() for c in by))] if by else [()] * len(table)
    groups = (table.groupby("level", sort=False).indices if has_level
              else {None: np.arange(len(table))})
    pairs, labels = [], []
    for level, positions in groups.items():
        for i, j in combinations(sorted(positions), 2):
            pairs.append((i, j))
            labels.append((level, domain_keys[i], domain_keys[j]))
    matrix = np.zeros((len(pairs), len(table)))
    for row, (i, j) in enumerate(pairs):
        matrix[row, i], matrix[row, j] = 1.0, -1.0
    frame = (contrast(estimate, matrix) if pairs
             else _t_test(np.array([]), np.array([]), np.array([]), estimate.conf_level,
                          name="estimate").assign(base_flag=pd.Series([], dtype=object)))
    frame = frame.rename(columns={"estimate": "difference"})
    frame.insert(0, "b", [lab[2] for lab in labels])
    frame.insert(0, "a", [lab[1] for lab in labels])
    if has_level:
        frame.insert(0, "level", [lab[0] for lab in labels])
    return frame


def wave_change(before: Estimate, after: Estimate, *, shared_respondents: bool = False) -> pd.DataFrame:
    """Change from ``before`` to ``after``, row by row, for independent samples.

    SE = sqrt(v_before + v_after) and df = df_before + df_after (the df of
    the two waves stacked as one design with the waves as strata), t test.

    Parameters
    ----------
    before, after : Estimate
        The same statistic of the same variable (and ``value``) on two waves.
    shared_respondents : bool
        True when the waves re-interview the same people: the covariance
        between waves then needs the joint design, so this raises.

    Returns
    -------
    DataFrame: key columns, ``before, after, change, change_se, df, t,
    change_p, change_ci_low, change_ci_high, base_flag``; rows present in
    both estimates only.
    """
    if shared_respondents:
        raise DataError(
            "waves that share respondents are not independent samples",
            expected="independent waves (shared_respondents=False)",
            found="shared_respondents=True",
            hint="stack the waves with Tracker.stacked() and estimate once with by=['wave', ...] "
                 "(one Estimate), then use est.difference(...): its covariance accounts for "
                 "the respondents the waves share",
        )
    if (before.statistic, before.variable, before.value) != (after.statistic, after.variable,
                                                             after.value):
        raise DataError(
            "wave_change needs the same estimate on both waves",
            expected=f"{before.statistic} of {before.variable}",
            found=f"{after.statistic} of {after.variable}",
            hint="estimate the same variable (and value) with the same by= on both waves",
        )
    keys = list(before.key_columns)
    rows_before, rows_after = _matching_rows(before.table, after.table, keys)
    first, second = before.table, after.table

    def column(table, name, rows):
        return table[name].to_numpy(dtype=float)[rows]

    change = column(second, "estimate", rows_after) - column(first, "estimate", rows_before)
    se = np.hypot(column(first, "se", rows_before), column(second, "se", rows_after))
    df = column(first, "df", rows_before) + column(second, "df", rows_after)
    test = _t_test(change, se, df, after.conf_level, name="change")
    rank = np.maximum(_flag_rank(before.base_flags)[rows_before],
                      _flag_rank(after.base_flags)[rows_after])
    flags = np.array([OK, LOW, SUPPRESSED], dtype=object)[rank]
    frame = first[keys].iloc[rows_before].reset_index(drop=True)
    frame = frame.assign(
        before=column(first, "estimate", rows_before), after=column(second, "estimate", rows_after),
        change=change, change_se=se, df=df, t=test["t"].to_numpy(),
        change_p=test["p_value"].to_numpy(), change_ci_low=test["ci_low"].to_numpy(),
        change_ci_high=test["ci_high"].to_numpy(), base_flag=flags,
    )
    return blank(frame, flags == SUPPRESSED)


def _matching_rows(first: pd.DataFrame, second: pd.DataFrame,
                   keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the rows with equal keys in both tables, in ``first``'s order."""
    if not keys:
        common = min(len(first), len(second))
        return np.arange(common), np.arange(common)
    def index(table):
        return (pd.Index(table[keys[0]]) if len(keys) == 1
                else pd.MultiIndex.from_frame(table[keys]))
    where = index(second).get_indexer(index(first))
    rows_first = np.flatnonzero(where >= 0)
    return rows_first, where[rows_first]


def _flag_rank(flags) -> np.ndarray:
    return np.array([_WORST[f] for f in flags], dtype=int)


def _coefficient_matrix(estimate: Estimate, coefficients) -> np.ndarray:
    k = len(estimate.table)
    if isinstance(coefficients, dict):
        row = np.zeros(k)
        for key, coefficient in coefficients.items():
            row[row_of(estimate, key)] += coefficient
        return row[None, :]
    matrix = np.atleast_2d(np.asarray(coefficients, dtype=float))
    if matrix.shape[1] != k:
        raise DataError("contrast needs one coefficient per row of the estimate",
                        expected=f"{k} coefficients", found=f"{matrix.shape[1]}",
                        hint="or pass a dict {row key: coefficient}")
    return matrix


def _combined_flags(row_flags: np.ndarray, involved: np.ndarray) -> np.ndarray:
    rank = _flag_rank(row_flags)
    worst = np.where(involved, rank[None, :], 0).max(axis=1, initial=0)
    names = np.array([OK, LOW, SUPPRESSED], dtype=object)
    return names[worst]


def _t_test(point, se, df, level, *, name) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        t = point / se
    p = t_two_sided_p(t, df)
    half = t_quantile(level, df) * se
    return pd.DataFrame({name: point, "se": se, "t": t, "df": df, "p_value": p,
                         "ci_low": point - half, "ci_high": point + half})
