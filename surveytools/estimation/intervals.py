"""Confidence intervals (DESIGN.md; R's ``confint`` and ``svyciprop``).

Every interval uses the design degrees of freedom ``df`` of its estimate.
Estimates at 0 or 1, or with a zero SE, never raise: they get what R gives
(``logit``: the point itself, R's limit; ``beta``: NaN as R's ``qbeta`` on
zero shape parameters).

Examples
--------
>>> import numpy as np
>>> lo, hi = interval("wald", np.array([0.5]), np.array([0.1]), np.array([np.inf]))
>>> round(float(lo[0]), 4), round(float(hi[0]), 4)
(0.304, 0.696)
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ..core.errors import DataError

CI_METHODS = ("logit", "beta", "wilson", "wald")


def check_ci(ci: str, conf_level: float) -> None:
    """DataError for an unknown interval method or a level outside (0, 1)."""
    if ci not in CI_METHODS:
        raise DataError("unknown confidence interval method", expected="one of " + ", ".join(CI_METHODS),
                        found=repr(ci), hint="pass ci='logit' (the default), 'beta', 'wilson' or 'wald'")
    check_level(conf_level)


def check_level(conf_level: float) -> None:
    if not (isinstance(conf_level, (int, float)) and 0 < conf_level < 1):
        raise DataError("confidence level must be between 0 and 1", expected="e.g. conf_level=0.95",
                        found=repr(conf_level), hint="pass a fraction, not a percentage")


def t_quantile(conf_level: float, df) -> np.ndarray:
    """Two-sided t quantile; NaN where df < 1 (R's ``qt`` gives NaN at df = 0).

    ``scipy.special.stdtrit`` is what ``scipy.stats.t.ppf`` evaluates,
    without the distribution object's per-call overhead (the cube calls
    this hundreds of times).
    """
    df = np.asarray(df, float)
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, special.stdtrit(np.where(df > 0, df, 1.0), 0.5 + conf_level / 2),
                        np.nan)


def t_two_sided_p(t, df) -> np.ndarray:
    """Two-sided p-value of a t statistic; NaN where df < 1 (as ``2 * stats.t.sf``)."""
    df = np.asarray(df, float)
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, 2 * special.stdtr(np.where(df > 0, df, 1.0), -np.abs(t)), np.nan)


def interval(method: str, estimate, se, df, *, conf_level: float = 0.95, n_rows=None,
             logit_se=None) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` for each estimate.

    Parameters
    ----------
    method : {"t", "wald", "logit", "beta", "wilson"}
        ``"t"`` (means, totals) and ``"wald"``: estimate +- t(df) se.
    n_rows : array, optional
        Rows in each base (R's ``nrow(design)`` of the domain), for ``beta``.
    logit_se : array, optional
        SE of logit(p) when it is not se / (p (1 - p)): replicate designs,
        where R refits the logit under every replicate weight.
    """
    p, se = np.asarray(estimate, float), np.asarray(se, float)
    t = t_quantile(conf_level, df)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if method in ("t", "wald"):
            return p - t * se, p + t * se
        if method == "logit":
            return _logit(p, se, t, logit_se)
        if method == "beta":
            return _korn_graubard(p, se, df, conf_level, np.asarray(n_rows, float))
        if method == "wilson":
            return _wilson(p, se, t)
    raise ValueError(f"unknown interval method {method!r}")


def _logit(p, se, t, logit_se):
    scale = se / (p * (1 - p)) if logit_se is None else np.asarray(logit_se, float)
    centre = np.log(p / (1 - p))
    low = 1 / (1 + np.exp(-(centre - t * scale)))
    high = 1 / (1 + np.exp(-(centre + t * scale)))
    edge = (p <= 0) | (p >= 1)
    return np.where(edge, p, low), np.where(edge, p, high)


def _korn_graubard(p, se, df, conf_level, n_rows):
    alpha = 1 - conf_level
    n_eff = p * (1 - p) / se ** 2
    df = np.asarray(df, float)
    ratio = stats.t.ppf(alpha / 2, n_rows - 1) / stats.t.ppf(alpha / 2, np.where(df > 0, df, np.nan))
    n_eff = n_eff * ratio ** 2
    low = stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
    high = stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
    return low, high


def _wilson(p, se, t):
    n_eff = p * (1 - p) / se ** 2
    t2n = t ** 2 / n_eff
    centre = (p + t2n / 2) / (1 + t2n)
    half = t / (1 + t2n) * np.sqrt(p * (1 - p) / n_eff + t ** 2 / (4 * n_eff ** 2))
    edge = (p <= 0) | (p >= 1) | (se == 0)
    return np.where(edge, p, centre - half), np.where(edge, p, centre + half)
