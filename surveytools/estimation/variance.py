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
>>> p = st.Survey(df, st.Design(weight="wt", strata="s", psu="c"))._prepared
>>> taylor_covariance(p, np.array([1.0, -1.0, 2.0, 0.0]))
array([[6.]])
"""

from __future__ import annotations

import numpy as np

from ..errors import DesignError
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
    totals = prepared.psu_totals(scores)  # (P, k)
    pps = prepared.psus_per_stratum
    strata_of_psu = prepared.psu_stratum
    stratum_sums = np.stack(
        [np.bincount(strata_of_psu, weights=totals[:, j], minlength=len(pps)) for j in range(k)],
        axis=1,
    )
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
        held = _strata_holding_base(prepared, base, k)  # (H, k)
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


def psus_and_strata_in_base(prepared: PreparedDesign, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PSUs and strata that hold at least one base row with non-zero weight, per column.

    Returns ``(n_psu, n_strata)``, each of shape (k,). Their difference is
    the design degrees of freedom of each estimate (R's ``degf`` of the
    design subset to the base).
    """
    base = _as_matrix(base).astype(bool) & (prepared.weights != 0)[:, None]
    psu_held = prepared.psu_totals(base.astype(float)) > 0  # (P, k)
    n_psu = psu_held.sum(axis=0)
    strata_held = np.stack(
        [np.bincount(prepared.psu_stratum[psu_held[:, j]], minlength=prepared.n_strata) > 0
         for j in range(base.shape[1])], axis=1)
    return n_psu, strata_held.sum(axis=0)


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
