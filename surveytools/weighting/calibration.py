"""Iterative proportional fitting and the variance correction for raked weights.

Two pieces of :func:`surveytools.rake` that do not touch Survey objects:

* :func:`ipf` rakes one or more weight columns to the population totals of
  several margins (iterative proportional fitting), with optional capping
  and trimming applied between iterations;
* :class:`RakingCalibration` is the Survey's calibration hook: its
  ``residualise(scores)`` replaces linearisation scores by their residuals
  from the raking margins, exactly as R's ``survey:::svyrecvar`` does for a
  design raked with ``rake()`` (ten back-fitting sweeps over the margins).

Examples
--------
>>> import numpy as np
>>> codes = [np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])]
>>> fit = ipf(np.ones((4, 1)), codes, [np.array([3.0, 1.0]), np.array([2.0, 2.0])])
>>> fit.converged, np.round(fit.weights[:, 0], 6).tolist()
(True, [1.5, 1.5, 0.5, 0.5])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse

#: Back-fitting sweeps R's ``svyrecvar`` makes over the raking margins.
R_RESIDUAL_SWEEPS = 10


@dataclass(frozen=True)
class IPFResult:
    """What :func:`ipf` returns (internal).

    Attributes
    ----------
    weights : (n, k) raked weight columns.
    converged : every margin of every column within ``tolerance`` of its target.
    iterations : full sweeps over the margins that were made.
    deviations : (m,) worst relative deviation from target, per margin.
    worst_category : (m,) index of the category with that deviation.
    n_capped, n_trimmed : rows of the first column held at a cap bound, or at
        the trim bound, in some margin step (their final weight is at or
        just below the bound: later steps may scale them down).
    """

    weights: np.ndarray
    converged: bool
    iterations: int
    deviations: np.ndarray
    worst_category: np.ndarray
    n_capped: int
    n_trimmed: int


def ipf(weights: np.ndarray, codes: list[np.ndarray], targets: list[np.ndarray], *,
        tolerance: float = 1e-10, max_iterations: int = 100,
        cap: tuple[float, float] | None = None, trim: float | None = None) -> IPFResult:
    """Rake every column of ``weights`` to the margins' population totals.

    Parameters
    ----------
    weights : (n, k) array
        Initial weights, one column per weight variable (the full-sample
        weight and, for replicate designs, every replicate weight).
    codes : list of (n,) int arrays
        Category of each row in each margin (0 .. c-1).
    targets : list of (c,) float arrays
        Population total of each category of each margin (every margin
        summing to the same total).
    tolerance : float
        Converged when ``|achieved - target| / target <= tolerance`` for
        every category of every margin.
    max_iterations : int
        Maximum full sweeps over the margins.
    cap : (low, high), optional
        Bounds on the ratio of the raked weight to the initial weight scaled
        to the population total (the adjustment factor).
    trim : float, optional
        Maximum ratio of a weight to the mean positive weight of its column
        (the mean is the population total over the rows with a positive
        weight, fixed by the margins).

    With bounds, plain raking runs first; only if its solution breaks a
    bound does raking continue with bounded steps (up to ``max_iterations``
    more sweeps): in each margin step, rows that would cross a bound are
    held at it and the rest of their category absorbs the difference. A
    bound that does not bind therefore leaves the plain raking weights.
    """
    initial = np.asarray(weights, dtype=float)
    current = initial.copy()
    indicators = [_indicator(c, len(t)) for c, t in zip(codes, targets)]
    bounds = _bounds(initial, cap, trim, float(targets[0].sum()))
    ever_held = np.zeros(len(initial), dtype=bool)
    fit = _sweeps(current, codes, targets, indicators, None, tolerance, max_iterations, ever_held)
    current, converged, iterations, deviations, worst = fit
    if bounds is not None and _outside(current, bounds):
        # the plain raking solution breaks a bound: continue with bounded steps
        fit = _sweeps(current, codes, targets, indicators, bounds, tolerance, max_iterations,
                      ever_held)
        current, converged, more, deviations, worst = fit
        iterations += more
    n_capped = n_trimmed = 0
    if bounds is not None:
        # a held row was trimmed when the trim bound is the tighter one there
        trim_tighter = bounds[2][:, 0] <= bounds[1][:, 0]
        n_trimmed = int((ever_held & trim_tighter).sum())
        n_capped = int(ever_held.sum()) - n_trimmed
    return IPFResult(current, converged, iterations, deviations, worst, n_capped, n_trimmed)


def _sweeps(current, codes, targets, indicators, bounds, tolerance, max_iterations, ever_held):
    """Sweep over the margins until converged; ``ever_held`` collects held rows."""
    deviations = np.full(len(codes), np.inf)
    worst = np.zeros(len(codes), dtype=int)
    iterations = 0
    converged = False
    while iterations < max_iterations and not converged:
        iterations += 1
        for code, target, indicator in zip(codes, targets, indicators):
            current, held = _post_stratify(current, code, target, indicator, bounds)
            ever_held |= held[:, 0]
        deviations, worst = _deviations(current, indicators, targets)
        converged = bool(deviations.max(initial=0.0) <= tolerance)
    return current, converged, iterations, deviations, worst


def _outside(current, bounds) -> bool:
    low, high = bounds[0], np.minimum(bounds[1], bounds[2])
    slack = 1e-12 * np.abs(current)
    return bool((current < low - slack).any() or (current > high + slack).any())


def _bounds(initial, cap, trim, population):
    """(low, cap_high, trim_high) (n, k) bounds on the weights, or None without cap and trim."""
    if cap is None and trim is None:
        return None
    scaled = initial * (population / initial.sum(axis=0))  # initial weights on the population scale
    low = scaled * (cap[0] if cap is not None else 0.0)
    cap_high = scaled * (cap[1] if cap is not None else np.inf)
    mean = population / np.maximum((initial > 0).sum(axis=0), 1)
    trim_high = np.broadcast_to(trim * mean if trim is not None else np.inf, initial.shape)
    return low, cap_high, trim_high


def _post_stratify(current, code, target, indicator, bounds):
    """One margin step: scale each category to its target, within the bounds."""
    totals = np.asarray(indicator @ current)
    factor = np.where(totals > 0, target[:, None] / np.where(totals > 0, totals, 1.0), 0.0)
    proposal = current * factor[code]
    held = np.zeros(current.shape, dtype=bool)
    if bounds is None:
        return proposal, held
    low, high = bounds[0], np.minimum(bounds[1], bounds[2])
    for _ in range(100):
        clipped = np.clip(proposal, low, high)
        newly = clipped != proposal
        if not newly.any():
            break
        held |= newly
        fixed_total = np.asarray(indicator @ np.where(held, clipped, 0.0))
        free_total = np.asarray(indicator @ np.where(held, 0.0, current))
        factor = np.where(free_total > 0,
                          (target[:, None] - fixed_total) / np.where(free_total > 0, free_total, 1.0),
                          1.0)
        proposal = np.where(held, clipped, current * np.maximum(factor, 0.0)[code])
    return np.clip(proposal, low, high), held


def _indicator(code: np.ndarray, n_categories: int) -> sparse.csr_matrix:
    """(c, n) 0/1 matrix: row j sums the rows of category j."""
    n = len(code)
    return sparse.csr_matrix((np.ones(n), (code, np.arange(n))), shape=(n_categories, n))


def _deviations(current, indicators, targets) -> tuple[np.ndarray, np.ndarray]:
    """Worst relative deviation of each margin (over categories and columns)."""
    worst_dev, worst_cat = [], []
    for indicator, target in zip(indicators, targets):
        relative = np.abs(np.asarray(indicator @ current) / target[:, None] - 1.0)
        per_category = relative.max(axis=1)
        worst_cat.append(int(np.argmax(per_category)))
        worst_dev.append(float(per_category.max()))
    return np.array(worst_dev), np.array(worst_cat)


@dataclass(frozen=True, eq=False)
class RakingCalibration:
    """The calibration hook of a raked Survey (see :class:`surveytools.Survey`).

    Parameters
    ----------
    codes : tuple of (n,) int arrays
        Category of each row in each raking margin.
    weights : (n,) array
        The raked weights.
    previous : calibration, optional
        The calibration of the weights that were raked (raking a raked
        survey chains them, as R chains ``postStrata``).

    Examples
    --------
    >>> import numpy as np
    >>> cal = RakingCalibration((np.array([0, 0, 1, 1]),), np.array([1.0, 1.0, 2.0, 2.0]))
    >>> cal.residualise(np.array([[1.0], [3.0], [2.0], [2.0]])).ravel().tolist()
    [-1.0, 1.0, 0.0, 0.0]
    """

    codes: tuple[np.ndarray, ...]
    weights: np.ndarray
    previous: object | None = None

    def residualise(self, scores: np.ndarray) -> np.ndarray:
        """Scores minus their projection on the raking margins.

        As R's ``svyrecvar`` for a ``raking`` postStrata: ten sweeps of
        ``x <- x - w * ave(x / w, margin)`` over the margins, where ``ave``
        is the unweighted mean within each category.
        """
        x = np.asarray(scores, dtype=float)
        x = x[:, None] if x.ndim == 1 else x
        if self.previous is not None:
            x = self.previous.residualise(x)
        w = self.weights[:, None]
        safe_w = np.where(w > 0, w, 1.0)
        counts = [np.bincount(c) for c in self.codes]
        indicators = [_indicator(c, len(n)) for c, n in zip(self.codes, counts)]
        for _ in range(R_RESIDUAL_SWEEPS):
            for code, count, indicator in zip(self.codes, counts, indicators):
                means = np.asarray(indicator @ (x / safe_w)) / np.maximum(count, 1)[:, None]
                x = x - w * means[code]
        return x
