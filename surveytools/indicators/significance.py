"""Significance letters from pairwise tests, with multiple-comparison correction.

Published tables mark a group with the letters of the groups it is
significantly *higher* than ("B" under column A: A is higher than B).  The
pairwise p-values come from design-based tests of the differences between
groups (:meth:`surveytools.estimation.Estimate.pairwise`); within one
indicator x breakdown x wave they are adjusted for multiple comparisons,
Benjamini-Hochberg by default (R's ``p.adjust``).

Examples
--------
>>> adjust_p([0.01, 0.04, 0.03], method="bh").round(3).tolist()
[0.03, 0.04, 0.04]
>>> column_letters(3)
['A', 'B', 'C']
"""

from __future__ import annotations

import string

import numpy as np
import pandas as pd

CORRECTIONS = ("bh", "bonferroni", "none")
CORRECTION_TEXT = {
    "bh": "Benjamini-Hochberg (false discovery rate) adjustment across the pairs of groups "
          "of one breakdown, indicator and wave",
    "bonferroni": "Bonferroni adjustment across the pairs of groups of one breakdown, "
                  "indicator and wave",
    "none": "no adjustment for multiple comparisons",
}


def adjust_p(p_values, *, method: str = "bh") -> np.ndarray:
    """Adjusted p-values as R's ``p.adjust`` (NaN entries stay NaN and do not count).

    Parameters
    ----------
    p_values : array-like of float
    method : {"bh", "bonferroni", "none"}

    Examples
    --------
    >>> adjust_p([0.01, np.nan, 0.02], method="bonferroni").tolist()
    [0.02, nan, 0.04]
    """
    if method not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}, not {method!r}")
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = ~np.isnan(p)
    m = int(valid.sum())
    if m == 0:
        return out
    q = p[valid]
    if method == "none":
        adjusted = q
    elif method == "bonferroni":
        adjusted = np.minimum(q * m, 1.0)
    else:
        order = np.argsort(q)[::-1]  # largest first
        ranks = np.arange(m, 0, -1)
        stepped = np.minimum.accumulate(q[order] * m / ranks)
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(stepped, 1.0)
    out[valid] = adjusted
    return out


def column_letters(k: int) -> list[str]:
    """Letters for ``k`` columns: A..Z, then AA, AB, ..."""
    return [column_letter(i) for i in range(1, k + 1)]


def column_letter(position: int) -> str:
    """The letter of the column at 1-based ``position``: 1 -> A, 27 -> AA."""
    letters, i = string.ascii_uppercase, position - 1
    return letters[i] if i < 26 else letters[i // 26 - 1] + letters[i % 26]


def letters_from_pairs(pairs: pd.DataFrame, *, alpha: float = 0.05,
                       correction: str = "bh") -> pd.DataFrame:
    """Adjust and read the pairwise tests of the groups of one breakdown.

    Parameters
    ----------
    pairs : DataFrame
        One row per pair with columns ``a``, ``b`` (group keys),
        ``difference`` (estimate of a minus estimate of b) and ``p_value``
        (NaN where either group is suppressed: such pairs give no letter
        and do not count in the adjustment).
    alpha : float
        Significance level applied to the adjusted p-values.
    correction : {"bh", "bonferroni", "none"}

    Returns
    -------
    DataFrame
        The pairs with ``p_adjusted`` and ``significant`` added, and
        ``higher`` (the key of the significantly higher group, or None).
        The letters per group are :func:`group_letters` of it.

    Examples
    --------
    >>> pairs = pd.DataFrame({"a": ["1"], "b": ["2"], "difference": [0.1], "p_value": [0.001]})
    >>> group_letters(["1", "2"], letters_from_pairs(pairs))
    {'1': 'B', '2': ''}
    """
    out = pairs.copy()
    adjusted, higher = higher_of_pairs(out["a"].to_numpy(), out["b"].to_numpy(),
                                       out["difference"].to_numpy(dtype=float),
                                       out["p_value"].to_numpy(dtype=float),
                                       alpha=alpha, correction=correction)
    out["p_adjusted"] = adjusted
    out["significant"] = adjusted < alpha
    out["higher"] = pd.Series(higher, index=out.index, dtype=object)
    return out


def higher_of_pairs(a, b, difference, p_values, *, alpha: float = 0.05,
                    correction: str = "bh") -> tuple[np.ndarray, np.ndarray]:
    """Array form of :func:`letters_from_pairs`: ``(p_adjusted, higher)`` where
    ``higher`` holds ``a`` or ``b`` for significant pairs, else None."""
    adjusted = adjust_p(p_values, method=correction)
    significant = adjusted < alpha
    higher = np.full(len(adjusted), None, dtype=object)
    up, down = significant & (difference > 0), significant & (difference < 0)
    higher[up] = np.asarray(a, dtype=object)[up]
    higher[down] = np.asarray(b, dtype=object)[down]
    return adjusted, higher


def group_letters(groups, tested: pd.DataFrame) -> dict:
    """Group key -> letters of the groups it is significantly higher than."""
    groups = list(groups)
    letter = dict(zip(groups, column_letters(len(groups))))
    beaten: dict = {g: [] for g in groups}
    for a, b, higher in zip(tested["a"], tested["b"], tested["higher"]):
        if pd.isna(higher):
            continue
        lower = b if higher == a else a
        beaten[higher].append(lower)
    return {g: "".join(letter[x] for x in groups if x in beaten[g]) for g in groups}
