"""A design turned into integer codes and arrays, once per Survey.

Estimators never look at design columns again: they use the codes here.
Preparing is O(n) (one factorisation each for strata and PSUs) and the
Survey caches the result, so repeated estimates pay nothing.

Examples
--------
>>> import pandas as pd, surveytools as st
>>> df = pd.DataFrame({"wt": [1.0, 1, 2, 2], "s": [1, 1, 2, 2], "c": [1, 2, 3, 4]})
>>> p = st.Survey(df, st.Design(weight="wt", strata="s", psu="c")).sample.prepared
>>> p.n_strata, p.n_psu_total, p.psus_per_stratum.tolist()
(2, 4, [2, 2])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sparse

from ..core.design import Design, ReplicateDesign


@dataclass(frozen=True, eq=False)
class PreparedDesign:
    """Integer-coded design arrays (internal).

    Attributes
    ----------
    weights : (n,) float array of full-sample weights.
    stratum : (n,) int codes 0..H-1 (all zero without strata).
    psu : (n,) int codes 0..P-1, unique across strata (PSUs nested in strata).
    psu_stratum : (P,) stratum code of each PSU.
    psus_per_stratum : (H,) PSUs per stratum in the full design (R's nPSU).
    finite_correction : (H,) 1 - sampling fraction of PSUs (1 without fpc).
    psu_matrix : (P, n) sparse 0/1 matrix summing rows into PSU totals.
    stratum_labels : the stratum value of each code, for messages.
    replicate_weights : (n, R) float array, replicate designs only.
    calibration : the Survey's calibration (``residualise(scores)``), or None.
    """

    design: Design | ReplicateDesign
    weights: np.ndarray
    stratum: np.ndarray
    psu: np.ndarray
    psu_stratum: np.ndarray
    psus_per_stratum: np.ndarray
    finite_correction: np.ndarray
    psu_matrix: sparse.csr_matrix
    stratum_labels: np.ndarray
    replicate_weights: np.ndarray | None = None
    file: str | None = None
    calibration: object | None = None

    @property
    def n(self) -> int:
        return len(self.weights)

    @property
    def n_strata(self) -> int:
        return len(self.psus_per_stratum)

    @property
    def n_psu_total(self) -> int:
        return len(self.psu_stratum)

    @property
    def is_replicate(self) -> bool:
        return self.replicate_weights is not None

    @cached_property
    def replicate_patterns(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct rows of the replicate weights, each scaled to max 1 (for ranks).

        Returns ``(patterns, pattern_of_row)``; rows whose replicate weights
        are all zero get -1. Scaling a row does not change the rank of any
        set of rows, and rows of one PSU usually share a pattern, so the rank
        of a domain's replicate weights is the rank of a few patterns.
        """
        reps = self.replicate_weights
        size = np.abs(reps).max(axis=1)
        scaled = np.round(reps / np.where(size > 0, size, 1.0)[:, None], 12)
        probe = np.random.default_rng(0).random(reps.shape[1])
        codes, _ = pd.factorize(scaled @ probe)
        first = np.unique(codes, return_index=True)[1]
        return scaled[first], np.where(size > 0, codes, -1)

    def psu_totals(self, scores: np.ndarray) -> np.ndarray:
        """Sum the rows of ``scores`` (n x k) within each PSU -> (P x k)."""
        return np.asarray(self.psu_matrix @ scores)


def prepare(sample) -> PreparedDesign:
    """Code the design columns of a :class:`~surveytools.estimation.sample.Sample` (once, then cached)."""
    data, design = sample.data, sample.design
    n = len(data)
    weights = data[design.weight].to_numpy(dtype=float)
    if isinstance(design, ReplicateDesign):
        reps = data[list(design.replicate_weights)].to_numpy(dtype=float)
        return _build(design, weights, np.zeros(n, np.int64), np.arange(n), np.array([0]),
                      None, replicate_weights=reps, file=sample.meta.file,
                      calibration=sample.calibration)
    if design.strata is not None:
        stratum, labels = pd.factorize(data[design.strata], sort=True)
    else:
        stratum, labels = np.zeros(n, np.int64), np.array([None], dtype=object)
    if design.psu is not None:
        # PSUs are nested in strata: the same PSU id in two strata is two PSUs.
        psu_raw, _ = pd.factorize(data[design.psu], sort=True)
        psu_key = stratum.astype(np.int64) * (int(psu_raw.max(initial=0)) + 1) + psu_raw
        psu, _ = pd.factorize(psu_key, sort=True)
    else:
        psu = np.arange(n)
    fpc = data[design.fpc].to_numpy(dtype=float) if design.fpc is not None else None
    return _build(design, weights, np.asarray(stratum, np.int64), np.asarray(psu, np.int64),
                  np.asarray(labels, dtype=object), fpc, file=sample.meta.file,
                  calibration=sample.calibration)


def _build(design, weights, stratum, psu, stratum_labels, fpc, *, replicate_weights=None,
           file=None, calibration=None) -> PreparedDesign:
    n = len(weights)
    n_psu = int(psu.max(initial=-1)) + 1
    psu_stratum = np.zeros(n_psu, np.int64)
    psu_stratum[psu] = stratum
    n_strata = max(int(stratum.max(initial=-1)) + 1, 1)
    psus_per_stratum = np.bincount(psu_stratum, minlength=n_strata)
    correction = np.ones(n_strata)
    if fpc is not None:
        stratum_fpc = np.zeros(n_strata)
        stratum_fpc[stratum] = fpc  # constant within a stratum (Survey checks it)
        if (stratum_fpc <= 1).all():
            # a sampling fraction: the population has nPSU / fraction PSUs
            correction = 1.0 - stratum_fpc
        else:
            correction = np.where(np.isinf(stratum_fpc), 1.0,
                                  (stratum_fpc - psus_per_stratum) / stratum_fpc)
    matrix = sparse.csr_matrix((np.ones(n), (psu, np.arange(n))), shape=(n_psu, n))
    return PreparedDesign(
        design=design, weights=weights, stratum=stratum, psu=psu, psu_stratum=psu_stratum,
        psus_per_stratum=psus_per_stratum, finite_correction=correction, psu_matrix=matrix,
        stratum_labels=stratum_labels, replicate_weights=replicate_weights, file=file,
        calibration=calibration,
    )
