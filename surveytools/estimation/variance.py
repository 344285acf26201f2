"""Variance kernels: Taylor linearisation and replicate weights.

Both kernels work on many estimates at once (one column each) and are fully
vectorised: PSU totals by one sparse product, stratum means by ``bincount``.

Taylor linearisation follows R's ``survey:::svyrecvar`` for a one-stage
(ultimate cluster) design with replacement at the first stage::

    V = sum_h  s_h * sum_i (z_hi - zbar_h)(z_hi - zbar_h)'
    s_h = f_h * n_h / (n_h - 1),   f_h = 1 - n_h / N_h (1 without fpc)

where ``z_hi`` is the total of the scores (influence values) in PSU i of
stratum h, ``n_h`` the PSUs of the stratum in the full design (PSUs without
respondents in a domain count, with zero totals, as R's padding does).
Strata with a single PSU are handled by ``lonely_psu`` as R's ``onestrat``.

Examples
--------
>>> import numpy as np, pandas as pd, surveytools as st
>>> df = pd.DataFrame({"wt": [1.0, 1, 1, 1], "s": [1, 1, 2, 2], "c": [1, 2, 3, 4]})
>>> p = st.Survey(df, st.Design(weight="wt", strata="s", psu="c")).sample.prepared
>>> taylor_covariance(p, np.array([1.0, -1.0, 2.0, 0.0]))
array([[8.]])
"""

from __future__ import annotations

import numpy as np

from ..core.errors import DesignError
from .prepared import PreparedDesign


def taylor_covariance(prepared: PreparedDesign, scores: np.ndarray,
                      base: np.ndarray | None = None) -> np.ndarray:
    """Linearisation covariance of the estimates whose scores are given.

    Parameters
    ----------
    prepared : PreparedDesign
    scores : (n,) or (n, k) array
        Influence values of each estimate (zero outside its base).
    base : (n,) or (n, k) bool array, optional
        Rows in each estimate's base (non-missing, in the domain). Used for
        ``lonely_psu="fail"`` (only lonely strata that hold base rows fail)
        and ``"average"`` (strata counted among those holding base rows).
        Defaults to every row.

    When the weights are calibrated (raked), the scores are first replaced
    by their residuals from the calibration, as R's ``svyrecvar`` does.

    Returns
    -------
    (k, k) covariance matrix.
    """
    scores = _as_matrix(scores)
    if prepared.calibration is not None:
        scores = prepared.calibration.residualise(scores)
    k = scores.shape[1]
    held = None
    if (prepared.psus_per_stratum == 1).any() and prepared.design.lonely_psu in ("fail", "average"):
        held = _strata_holding_base(prepared, base, k)
    return psu_total_covariance(prepared, prepared.psu_totals(scores), held)


def psu_total_covariance(prepared: PreparedDesign, totals: np.ndarray,
                         held_strata: np.ndarray | None = None) -> np.ndarray:
    """Linearisation covariance from the PSU totals of the scores.

    The second half of :func:`taylor_covariance`, for estimators that sum
    their scores into PSUs directly (by ``bincount``) instead of building an
    (n x k) score matrix.

    Parameters
    ----------
    totals : (P, k) array
        Score totals of every PSU of the full design (zero where a PSU holds
        no base row).
    held_strata : (H, k) bool array, optional
        Strata holding at least one base row of each estimate; needed only
        when a stratum has a single PSU and ``lonely_psu`` is ``"fail"`` or
        ``"average"``. Defaults to every stratum.
    """
    totals = _as_matrix(totals)
    k = totals.shape[1]
    pps = prepared.psus_per_stratum
    strata_of_psu = prepared.psu_stratum
    cells = (strata_of_psu[:, None] * k + np.arange(k)).ravel()
    stratum_sums = np.bincount(cells, weights=totals.ravel(), minlength=len(pps) * k).reshape(-1, k)
    lonely = pps == 1
    option = prepared.design.lonely_psu
    centred = totals - (stratum_sums / pps[:, None])[strata_of_psu]
    if option == "adjust":
        # R leaves a lonely PSU's total uncentred (centred at zero).
        centred[lonely[strata_of_psu]] = totals[lonely[strata_of_psu]]
    scale = prepared.finite_correction * np.where(lonely, 1.0, pps / np.maximum(pps - 1, 1))
    if option == "average":
        scale = np.where(lonely, 0.0, scale)
    weighted = centred * np.sqrt(scale)[strata_of_psu][:, None]
    cov = weighted.T @ weighted

    if lonely.any() and option in ("fail", "average"):
        held = (np.ones((prepared.n_strata, k), bool) if held_strata is None
                else np.asarray(held_strata, bool))
        if option == "fail":
            bad = np.flatnonzero(lonely & held.any(axis=1))
            if len(bad):
                label = prepared.stratum_labels[bad[0]]
                raise DesignError(
                    f"stratum {label!r} has only one PSU, so its variance cannot be estimated",
                    file=prepared.file, column=prepared.design.strata,
                    expected="at least two PSUs in every stratum",
                    found=f"{len(bad)} stratum(s) with a single PSU",
                    hint="pass lonely_psu='adjust', 'average', 'certainty' or 'remove' to the "
                         "Design (as R's options(survey.lonely.psu=)), or merge the stratum "
                         "with a similar one",
                )
        else:
            n_strata = held.sum(axis=0)
            n_ok = (held & ~lonely[:, None]).sum(axis=0)
            factor = np.where(n_ok > 0, n_strata / np.maximum(n_ok, 1), np.nan)
            root = np.sqrt(factor)
            cov = cov * np.outer(root, root)
    return cov


def replicate_covariance(prepared: PreparedDesign, full: np.ndarray,
                         replicates: np.ndarray) -> np.ndarray:
    """Replicate covariance as R's ``svrVar``.

    Parameters
    ----------
    full : (k,) full-sample estimates.
    replicates : (R, k) the estimates under each replicate weight.

    Returns
    -------
    (k, k) covariance: ``scale * sum_r rscale_r (t_r - c)(t_r - c)'`` with
    ``c`` the replicate mean, or the full-sample estimate when ``mse=True``.
    """
    design = prepared.design
    scale, rscales = design.scale_factors()
    replicates = np.asarray(replicates, dtype=float)
    if replicates.ndim == 1:
        replicates = replicates[:, None]
    centre = np.asarray(full, float) if design.mse else replicates.mean(axis=0)
    deviations = (replicates - centre) * np.sqrt(np.asarray(rscales))[:, None]
    return scale * (deviations.T @ deviations)


def _strata_holding_base(prepared: PreparedDesign, base, k: int) -> np.ndarray:
    if base is None:
        held_rows = np.ones((prepared.n, 1), bool)
    else:
        held_rows = _as_matrix(base).astype(bool)
    counts = np.stack(
        [np.bincount(prepared.stratum[held_rows[:, j]], minlength=prepared.n_strata)
         for j in range(held_rows.shape[1])], axis=1)
    held = counts > 0
    return np.broadcast_to(held, (prepared.n_strata, k)) if held.shape[1] == 1 else held


def _as_matrix(values) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr[:, None] if arr.ndim == 1 else arr


def degrees_of_freedom(prepared: PreparedDesign, group: np.ndarray,
                       n_groups: int) -> tuple[np.ndarray, float]:
    """Design df of each domain's base and of all bases together.

    Parameters
    ----------
    group : (n,) int
        Domain of each base row (0..n_groups-1), -1 outside every base.

    Returns
    -------
    ``(df, design_df)``: df per domain and df of the union of the bases.
    Linearisation: PSUs holding a base row with non-zero weight minus the
    strata holding them (R's ``degf`` of the subset). Replicate designs: the
    rank of the base rows' replicate weights minus 1 (R's ``degf`` of a
    ``svrepdesign`` subset, ``qr(..., tol=1e-5)$rank - 1``).

    Examples
    --------
    >>> import pandas as pd, surveytools as st
    >>> df = pd.DataFrame({"wt": [1.0] * 4, "s": [1, 1, 2, 2], "c": [1, 2, 3, 4]})
    >>> p = st.Survey(df, st.Design(weight="wt", strata="s", psu="c")).sample.prepared
    >>> degrees_of_freedom(p, np.array([0, 0, 1, -1]), 2)
    (array([1, 0]), 1.0)
    """
    base = group >= 0
    if prepared.is_replicate:
        per_group = np.array([_replicate_rank(prepared, group == j) for j in range(n_groups)])
        return per_group - 1, float(_replicate_rank(prepared, base) - 1)
    psu, grp = _psus_holding(prepared, group, n_groups)
    return df_from_pairs(prepared, psu, grp, n_groups)


def df_from_pairs(prepared: PreparedDesign, psu: np.ndarray, grp: np.ndarray,
                  n_groups: int) -> tuple[np.ndarray, float]:
    """Design df from the (PSU, domain) pairs where the PSU holds weighted base rows.

    Per domain: its PSUs minus the strata holding them; and the same for the
    union of the domains (see :func:`degrees_of_freedom`).
    """
    strata = prepared.psu_stratum
    held_strata = np.unique(strata[psu] * n_groups + grp) % n_groups
    per_group = np.bincount(grp, minlength=n_groups) - np.bincount(held_strata, minlength=n_groups)
    union = np.unique(psu)
    return per_group, float(len(union) - len(np.unique(strata[union])))


def _psus_holding(prepared: PreparedDesign, group: np.ndarray,
                  n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(PSU, domain) pairs where the PSU holds a base row of the domain with non-zero weight."""
    rows = (group >= 0) & (prepared.weights != 0)
    keys = prepared.psu[rows] * n_groups + group[rows]
    size = prepared.n_psu_total * n_groups
    if size <= 8 * max(prepared.n, 1):
        pairs = np.flatnonzero(np.bincount(keys, minlength=size))
    else:  # many PSUs (e.g. one per respondent) and domains: avoid a P x G table
        pairs = np.unique(keys)
    return np.divmod(pairs, n_groups)


def _replicate_rank(prepared: PreparedDesign, rows: np.ndarray) -> int:
    patterns, pattern_of_row = prepared.replicate_patterns
    used = np.unique(pattern_of_row[rows])
    used = used[used >= 0]
    if len(used) == 0:
        return 0
    singular = np.linalg.svd(patterns[used], compute_uv=False)
    return int((singular > 1e-5 * singular[0]).sum()) if singular[0] > 0 else 0
