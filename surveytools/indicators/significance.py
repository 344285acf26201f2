"""Significance letters from pairwise tests, with multiple-comparison correction.

The one implementation of the letters: the cube
(:func:`surveytools.indicators.cells.pair_tests`) and the tables read them
from here.  Published tables mark a group with the letters of the groups it
is significantly *higher* than ("B" under column A: A is higher than B).
The pairwise p-values come from design-based tests of the differences
between groups (contrasts of one :class:`surveytools.estimation.result.Estimate`);
within one indicator x breakdown x wave (a *family*) they are adjusted for
multiple comparisons, Benjamini-Hochberg by default (R's ``p.adjust``).

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

from ..core.errors import DataError

#: Default significance level of letters and changes.
ALPHA = 0.05
CORRECTIONS = ("bh", "bonferroni", "none")
CORRECTION_TEXT = {
    "bh": "Benjamini-Hochberg (false discovery rate) adjustment across the pairs of groups "
          "of one breakdown, indicator and wave",
    "bonferroni": "Bonferroni adjustment across the pairs of groups of one breakdown, "
                  "indicator and wave",
    "none": "no adjustment for multiple comparisons",
}


def check_correction(correction: str) -> None:
    """DataError unless ``correction`` is one of :data:`CORRECTIONS`.

    >>> check_correction("holm")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    surveytools.core.errors.DataError: unknown multiple-comparison correction; ...found 'holm'...
    """
    if correction not in CORRECTIONS:
        raise DataError("unknown multiple-comparison correction",
                        expected="one of " + ", ".join(CORRECTIONS), found=repr(correction),
                        hint="pass correction='bh' (the default), 'bonferroni' or 'none'")


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
    check_correction(method)
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


def letters_from_pairs(pairs: pd.DataFrame, *, alpha: float = ALPHA, correction: str = "bh",
                       family: str | None = None) -> pd.DataFrame:
    """Adjust and read pairwise tests of groups: which group of each pair is higher.

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
    family : str, optional
        A column of ``pairs``: p-values are adjusted within each of its
        values (e.g. per breakdown).  Default: all pairs are one family.

    Returns
    -------
    DataFrame
        A copy of the pairs with ``p_adjusted``, ``significant`` and
        ``higher`` (the key of the significantly higher group, or None).
        The letters per group are :func:`group_letters` of it.

    Examples
    --------
    >>> pairs = pd.DataFrame({"a": ["1"], "b": ["2"], "difference": [0.1], "p_value": [0.001]})
    >>> group_letters(["1", "2"], letters_from_pairs(pairs))
    {'1': 'B', '2': ''}
    """
    check_correction(correction)
    out = pairs.copy()
    p_values = out["p_value"].to_numpy(dtype=float)
    families = out[family].to_numpy() if family is not None else np.zeros(len(out))
    adjusted = np.full(len(out), np.nan)
    for member in pd.unique(families):
        rows = families == member
        adjusted[rows] = adjust_p(p_values[rows], method=correction)
    significant = adjusted < alpha
    difference = out["difference"].to_numpy(dtype=float)
    higher = np.full(len(out), None, dtype=object)
    up, down = significant & (difference > 0), significant & (difference < 0)
    higher[up] = out["a"].to_numpy(dtype=object)[up]
    higher[down] = out["b"].to_numpy(dtype=object)[down]
    out["p_adjusted"] = adjusted
    out["significant"] = significant
    out["higher"] = pd.Series(higher, index=out.index, dtype=object)
    return out


def group_letters(groups, tested: pd.DataFrame, *, letters=None) -> dict:
    """Group key -> the letters of the groups it is significantly higher than.

    Parameters
    ----------
    groups : sequence
        Group keys in column order (the order of the letters in the result).
    tested : DataFrame
        :func:`letters_from_pairs` of the pairs of these groups.
    letters : mapping, optional
        Group key -> its letter; default A, B, C, ... by position in ``groups``.

    Examples
    --------
    >>> tested = pd.DataFrame({"a": [1, 1], "b": [2, 3], "higher": [1, 3]})
    >>> group_letters([1, 2, 3], tested)
    {1: 'B', 2: '', 3: 'A'}
    >>> group_letters([1, 2, 3], tested, letters={1: "A", 2: "C", 3: "D"})
    {1: 'C', 2: '', 3: 'A'}
    """
    groups = list(groups)
    letter = (dict(letters) if letters is not None
              else dict(zip(groups, column_letters(len(groups)))))
    beaten: dict = {g: set() for g in groups}
    for a, b, higher in zip(tested["a"], tested["b"], tested["higher"]):
        if higher is not None and not pd.isna(higher):
            beaten[higher].add(b if higher == a else a)
    return {g: "".join(letter[x] for x in groups if x in beaten[g]) for g in groups}
