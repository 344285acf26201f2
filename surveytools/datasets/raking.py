"""The producer's raking (iterative proportional fitting) of design weights.

Each sweep scales the weights so that the weighted count of every cell of
one margin equals its population total, margin after margin.  It stops
when, after a full sweep, no cell of any margin is off its target by more
than ``tol`` (relative), and fails after ``max_iter`` sweeps.  Before
raking, a cell with fewer than ``min_cell`` respondents is merged with the
next cell of its margin (the previous one for the last cell), smallest
first, and the merged cell's target is the sum of their targets; in small
samples this keeps the margins consistent.  No trimming.

Examples
--------
>>> import numpy as np
>>> cells = [np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])]
>>> targets = [np.array([30.0, 70.0]), np.array([60.0, 40.0])]
>>> res = rake(np.ones(4), cells, targets, min_cell=1)
>>> np.round(res.weights, 3).tolist(), res.merged_cells
([18.0, 12.0, 42.0, 28.0], 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core.errors import WeightingError


@dataclass(frozen=True)
class RakeResult:
    """Raked weights and how the raking went."""

    weights: np.ndarray
    iterations: int
    max_error: float
    merged_cells: int

    @property
    def kish_deff(self) -> float:
        """Kish's design effect from unequal weights: n * sum(w^2) / sum(w)^2."""
        w = self.weights
        return float(len(w) * np.sum(w**2) / np.sum(w) ** 2)

    @property
    def efficiency(self) -> float:
        """Weighting efficiency, 1 / Kish's design effect."""
        return 1.0 / self.kish_deff


def rake(start: np.ndarray, cells: Sequence[np.ndarray], targets: Sequence[np.ndarray], *,
         min_cell: int = 20, tol: float = 1e-10, max_iter: int = 200) -> RakeResult:
    """Rake ``start`` weights to margin totals.

    Parameters
    ----------
    start : array of positive design weights
    cells : one integer array per margin: each respondent's 0-based cell
    targets : one array per margin: the population total of each cell
    min_cell : int
        Cells with fewer respondents are merged with a neighbour first.
    tol : float
        Largest relative gap between a weighted cell count and its target
        that counts as converged.
    max_iter : int
        Most sweeps over all margins.
    """
    n_cells = sum(len(t) for t in targets)
    merged = [_merge_sparse(c, t, min_cell) for c, t in zip(cells, targets, strict=True)]
    cells = [c for c, _ in merged]
    targets = [t for _, t in merged]
    n_merged = n_cells - sum(len(t) for t in targets)
    w = np.asarray(start, dtype=np.float64).copy()
    error = np.inf
    for iteration in range(1, max_iter + 1):
        for c, t in zip(cells, targets):
            sums = np.bincount(c, weights=w, minlength=len(t))
            w *= np.divide(t, sums, out=np.ones_like(t), where=sums > 0)[c]
        error = max(_gap(w, c, t) for c, t in zip(cells, targets))
        if error < tol:
            return RakeResult(w, iteration, error, n_merged)
    raise WeightingError(
        "raking did not converge",
        expected=f"every margin within {tol:g} of its target after {max_iter} sweeps",
        found=f"a relative gap of {error:.3g}",
        hint="collapse sparse cells or check that the margins are consistent",
    )


def _merge_sparse(cells: np.ndarray, targets: np.ndarray, min_cell: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    groups = [[i] for i in range(len(targets))]
    counts = np.bincount(cells, minlength=len(targets)).tolist()
    while len(groups) > 1 and min(counts) < min_cell:
        j = int(np.argmin(counts))
        k = j + 1 if j + 1 < len(groups) else j - 1
        groups[k] = sorted(groups[k] + groups[j])
        counts[k] += counts[j]
        del groups[j], counts[j]
    group_of = np.empty(len(targets), dtype=np.int64)
    for g, members in enumerate(groups):
        group_of[members] = g
    totals = np.bincount(group_of, weights=np.asarray(targets, dtype=np.float64))
    return group_of[cells], totals


def _gap(w: np.ndarray, cells: np.ndarray, targets: np.ndarray) -> float:
    sums = np.bincount(cells, weights=w, minlength=len(targets))
    return float(np.max(np.abs(sums[targets > 0] / targets[targets > 0] - 1.0)))
