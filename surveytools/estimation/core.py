"""Ratio and total estimators for many domain cells in one vectorised pass.

Every estimator here is a total ``A_c = sum_i w_i v_ic`` or a ratio
``A_c / B_g(c)`` with ``B_g = sum of the weights in the base of domain g``.
Column ``c`` of the result belongs to domain ``g(c)``; a row contributes to
its own domain only (scores are zero elsewhere, so the whole design is
kept).  The numerator is given as triplets ``(row, column, value)``: one
per base row for a mean, total or proportion; one per base row for the
answer's column of a distribution.

Linearisation: the PSU totals of the scores are summed by one ``bincount``
over ``psu * k + column`` (no (n x k) matrix), then
:func:`~surveytools.estimation.variance.psu_total_covariance`.  The score
of a ratio is ``w_i (v_ic - r_c) / B_g``; for a one-column-per-domain
estimator it is centred row by row as R does.  Replicate designs: the
estimates under every replicate weight come from one sparse x dense
product, ``(k x n) @ (n x R)``.

Examples
--------
>>> import numpy as np, pandas as pd, surveytools as st
>>> s = st.Survey(pd.DataFrame({"w": [1.0, 1, 2, 2], "y": [1.0, 3, 2, 4]}), st.Design(weight="w"))
>>> cells = Cells(group=np.zeros(4, np.int64), n_groups=1, rows=np.arange(4),
...               columns=np.zeros(4, np.int64), values=s.data["y"].to_numpy(float),
...               column_group=np.zeros(1, np.int64))
>>> r = compute(s.sample.prepared, cells, ratio=True)
>>> float(r.estimate[0])
2.6666666666666665
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse

from .prepared import PreparedDesign
from .variance import (
    degrees_of_freedom,
    df_from_pairs,
    psu_total_covariance,
    replicate_covariance,
    taylor_covariance,
)


@dataclass(frozen=True, eq=False)
class Cells:
    """What to estimate (internal).

    group : (n,) domain of each base row, -1 outside every base.
    rows, columns, values : numerator triplets (rows are base rows).
    column_group : (k,) domain of each column.
    binary : the values are all 0 or 1 (a proportion), which lets the
        linearisation work from PSU sums alone.
    """

    group: np.ndarray
    n_groups: int
    rows: np.ndarray
    columns: np.ndarray
    values: np.ndarray
    column_group: np.ndarray
    binary: bool = False

    @property
    def k(self) -> int:
        return len(self.column_group)

    @property
    def one_column_per_group(self) -> bool:
        return self.k == self.n_groups


@dataclass(frozen=True, eq=False)
class Computed:
    """Estimates with their covariance and base sizes (internal; arrays of length k)."""

    estimate: np.ndarray
    covariance: np.ndarray
    df: np.ndarray
    design_df: float
    n: np.ndarray           # base rows with a non-zero weight
    n_rows: np.ndarray      # base rows (R's nrow() of the domain subset)
    weighted_n: np.ndarray
    deff: np.ndarray
    replicates: np.ndarray | None = None  # (R, k) replicate estimates


def compute(prepared: PreparedDesign, cells: Cells, *, ratio: bool) -> Computed:
    """Estimates, covariance, df and deff of every column of ``cells``."""
    if cells.one_column_per_group and not prepared.is_replicate and prepared.calibration is None:
        return _one_column_taylor(prepared, cells, ratio=ratio)
    w = prepared.weights
    g, k, n_groups = cells.group, cells.k, cells.n_groups
    base = g >= 0
    col_group = cells.column_group
    g_base, w_base = g[base], w[base]
    weight_sum = np.bincount(g_base, weights=w_base, minlength=n_groups)
    row_weights = w[cells.rows]
    numerator = np.bincount(cells.columns, weights=row_weights * cells.values, minlength=k)
    denominator = weight_sum[col_group]
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = numerator / denominator if ratio else numerator
        empty = denominator == 0
        inverse = np.where(empty, 0.0, 1.0 / np.where(empty, 1.0, denominator))
    centred = _centred_values(cells, np.where(empty, 0.0, estimate)) if ratio else cells.values

    n_rows = np.bincount(g_base, minlength=n_groups)[col_group]
    n_nonzero = np.bincount(g_base[w_base != 0], minlength=n_groups)[col_group]
    df, design_df = degrees_of_freedom(prepared, g, n_groups)

    replicates = None
    if prepared.is_replicate:
        replicates = _replicate_estimates(prepared, cells, ratio=ratio)
        covariance = replicate_covariance(prepared, estimate, replicates)
        srs_n = n_rows
    else:
        covariance = _taylor(prepared, cells, centred, inverse if ratio else np.ones(k),
                             estimate if ratio else None)
        srs_n = n_nonzero
    covariance[empty, :] = np.nan
    covariance[:, empty] = np.nan

    spread = _population_variance(cells, row_weights, centred, weight_sum, ratio=ratio)
    with np.errstate(divide="ignore", invalid="ignore"):
        srs_variance = spread / (srs_n - 1)
        if not ratio:
            srs_variance = srs_variance * denominator ** 2
        deff = np.diag(covariance) / srs_variance
    return Computed(estimate=np.where(empty, np.nan, estimate), covariance=covariance,
                    df=df[col_group].astype(float), design_df=float(design_df),
                    n=n_nonzero, n_rows=n_rows, weighted_n=denominator, deff=deff,
                    replicates=replicates)


def _one_column_taylor(prepared: PreparedDesign, cells: Cells, *, ratio: bool) -> Computed:
    """The hot path: one column per domain (means, totals, proportions), linearisation.

    Two sums per (PSU, domain) cell, of ``w`` and of ``w v``, over the keys
    ``psu * k + column`` give the PSUs holding each base (df) and, for 0/1
    values, the PSU score totals ``T - r W`` of a
    proportion ``r`` and the spread ``sum w (v - r)^2 = T (1 - r)`` for
    deff.  Means keep the row-level residual ``w (v - r)``, as R computes
    it, so that no precision is lost to cancellation.  Same results as the
    general path below, in a few passes over the rows.
    """
    k, rows, columns, values = cells.k, cells.rows, cells.columns, cells.values
    every_row = len(rows) == prepared.n  # rows is then 0..n-1: skip the gathers
    w = prepared.weights if every_row else prepared.weights[rows]
    psu = prepared.psu if every_row else prepared.psu[rows]
    key = psu * k + columns
    size = prepared.n_psu_total * k
    weighted_values = w * values
    psu_weights = np.bincount(key, weights=w, minlength=size).reshape(-1, k)
    psu_values = np.bincount(key, weights=weighted_values, minlength=size).reshape(-1, k)
    # the estimates are summed row by row, in the data's order (as R's colSums)
    weight_sum = np.bincount(columns, weights=w, minlength=k)
    total = np.bincount(columns, weights=weighted_values, minlength=k)
    empty = weight_sum == 0
    safe_sum = np.where(empty, 1.0, weight_sum)
    mean = np.where(empty, 0.0, total / safe_sum)
    if not ratio:
        totals, residual = psu_values, values - mean[columns]
    elif cells.binary:
        totals, residual = (psu_values - mean * psu_weights) / safe_sum, None
    else:
        residual = values - mean[columns]
        totals = np.bincount(key, weights=w * residual, minlength=size).reshape(-1, k) / safe_sum
    if residual is None:
        spread = total * (1.0 - mean) / safe_sum
    else:
        spread = np.bincount(columns, weights=w * residual ** 2, minlength=k) / safe_sum
    # weights are >= 0 (Survey checks), so a PSU holds weighted base rows iff its sum is > 0
    held_psu, held_domain = np.divmod(np.flatnonzero(psu_weights.ravel() > 0), k)
    df, design_df = df_from_pairs(prepared, held_psu, held_domain, k)
    nonzero = w != 0
    n_rows = np.bincount(columns, minlength=k)
    n = n_rows if nonzero.all() else np.bincount(columns[nonzero], minlength=k)
    held = None
    if (prepared.psus_per_stratum == 1).any():
        held = _strata_holding(prepared, prepared.stratum[rows], columns, k)
    covariance = psu_total_covariance(prepared, totals, held)
    covariance[empty, :] = np.nan
    covariance[:, empty] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        srs_variance = spread / (n - 1) * (1.0 if ratio else weight_sum ** 2)
        deff = np.diag(covariance) / srs_variance
    return Computed(estimate=np.where(empty, np.nan, mean if ratio else total),
                    covariance=covariance, df=df.astype(float), design_df=design_df,
                    n=n, n_rows=n_rows, weighted_n=weight_sum, deff=deff)


def _strata_holding(prepared: PreparedDesign, stratum: np.ndarray, group: np.ndarray,
                    n_groups: int) -> np.ndarray:
    """(H, n_groups) bool: strata holding base rows of each group.

    ``stratum`` and ``group`` are the stratum and group of each base row; only
    needed when a stratum has a single PSU (``lonely_psu`` "fail"/"average").
    """
    counts = np.bincount(stratum * n_groups + group, minlength=prepared.n_strata * n_groups)
    return counts.reshape(prepared.n_strata, n_groups) > 0


def _centred_values(cells: Cells, estimate: np.ndarray) -> np.ndarray:
    """``v - r`` per triplet when each base row has one column (exact centring)."""
    if cells.one_column_per_group:
        return cells.values - estimate[cells.columns]
    return cells.values


def _taylor(prepared, cells: Cells, centred, inverse, estimate) -> np.ndarray:
    """Linearisation covariance of the cell estimates."""
    k, w = cells.k, prepared.weights
    per_row = w[cells.rows] * centred * inverse[cells.columns]
    subtract_ratio = estimate is not None and not cells.one_column_per_group
    if prepared.calibration is not None:
        scores = np.zeros((prepared.n, k))
        scores[cells.rows, cells.columns] = per_row
        if subtract_ratio:
            g = cells.group
            in_group = (g[:, None] == cells.column_group[None, :])
            scores -= in_group * (w * 1.0)[:, None] * (estimate * inverse)[None, :]
        base = cells.group[:, None] == cells.column_group[None, :]
        return taylor_covariance(prepared, scores, base)
    n_psu = prepared.n_psu_total
    psu = prepared.psu
    totals = np.bincount(psu[cells.rows] * k + cells.columns, weights=per_row,
                         minlength=n_psu * k).reshape(n_psu, k)
    base = cells.group >= 0
    if subtract_ratio:
        g = cells.group
        n_groups = cells.n_groups
        group_totals = np.bincount(psu[base] * n_groups + g[base], weights=w[base],
                                   minlength=n_psu * n_groups).reshape(n_psu, n_groups)
        totals -= group_totals[:, cells.column_group] * (estimate * inverse)[None, :]
    held = None
    if (prepared.psus_per_stratum == 1).any():
        held = _strata_holding(prepared, prepared.stratum[base], cells.group[base],
                               cells.n_groups)[:, cells.column_group]
    return psu_total_covariance(prepared, totals, held)


def _replicate_estimates(prepared, cells: Cells, *, ratio: bool) -> np.ndarray:
    """(R, k) estimates under every replicate weight, by sparse products."""
    n = prepared.n
    reps = prepared.replicate_weights
    numerator = sparse.csr_matrix((cells.values, (cells.columns, cells.rows)),
                                  shape=(cells.k, n)) @ reps
    if not ratio:
        return numerator.T
    base = cells.group >= 0
    groups = sparse.csr_matrix((np.ones(int(base.sum())), (cells.group[base], np.flatnonzero(base))),
                               shape=(cells.n_groups, n)) @ reps
    with np.errstate(divide="ignore", invalid="ignore"):
        return (numerator / groups[cells.column_group]).T


def _population_variance(cells: Cells, row_weights, centred, weight_sum, *, ratio: bool):
    """Weighted population variance of the analysed values in each base (for deff)."""
    k, w = cells.k, row_weights
    denominator = weight_sum[cells.column_group]
    with np.errstate(divide="ignore", invalid="ignore"):
        if not cells.one_column_per_group:
            # a distribution: indicator values, so the variance is p (1 - p)
            share = np.bincount(cells.columns, weights=w, minlength=k) / denominator
            return share * (1.0 - share)
        values = centred
        if not ratio:  # a total: centre on the domain mean
            mean = np.bincount(cells.columns, weights=w * values, minlength=k) / denominator
            values = values - np.nan_to_num(mean)[cells.columns]
        return np.bincount(cells.columns, weights=w * values ** 2, minlength=k) / denominator
