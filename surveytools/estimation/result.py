"""The result of an estimator: an :class:`Estimate`.

An Estimate holds one row per domain (times answer, for a distribution) in
``table`` and the covariance of those rows in ``covariance``, so that any
comparison (a difference between groups, every pair of groups, a contrast)
gets its SE from the design.  It is frozen; its small-base rule governs
everything it shows, and a suppressed row never leaks through a comparison.

Examples
--------
>>> import pandas as pd, surveytools as st
>>> df = pd.DataFrame({"wt": [1.0] * 6, "g": [1, 1, 1, 2, 2, 2], "y": [1, 0, 1, 0, 0, 1]})
>>> est = st.Survey(df, st.Design(weight="wt")).proportion("y", value=1, by="g")
>>> est.table[["g", "estimate", "n"]]
   g  estimate  n
0  1  0.666667  3
1  2  0.333333  3
>>> est.to_frame()["base_flag"].tolist()
['suppressed', 'suppressed']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..core.meta import Metadata, code_text
from ..core.smallbase import DEFAULT_RULE, SUPPRESSED, SmallBaseRule
from . import compare

#: Columns of ``Estimate.table`` after the by columns (and ``level``).
STAT_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "df", "deff", "n", "n_eff",
                "weighted_n", "cv")


@dataclass(frozen=True, eq=False)
class Estimate:
    """Design-based estimates for one variable, one row per domain.

    Attributes
    ----------
    statistic : {"mean", "total", "proportion", "distribution"}
    variable : str
    by : tuple of str
        The domain columns (empty for the whole base).
    table : pandas.DataFrame
        Raw results, one row per domain (x answer ``level`` for a
        distribution): the by columns holding codes, ``level``, then
        ``estimate, se, ci_low, ci_high, df, deff, n, n_eff, weighted_n, cv``.
        Nothing is suppressed here; use :meth:`to_frame` to show it.
    covariance : (k, k) ndarray
        Covariance of the ``estimate`` column, aligned with the table rows.
    ci_method : str
        ``"t"`` for means and totals, else the proportion interval method.
    conf_level : float
    user_missing : {"exclude", "include"}
    excluded_codes : mapping of column -> tuple
        The user-missing codes found in the data and taken out of the base
        (of the variable and of the by columns).
    value : tuple or None
        The codes counted as "yes" (proportions).
    small_base : SmallBaseRule
    meta : Metadata
    wave : str or None
    design_df : float
        Degrees of freedom of the design subset to the whole base of this
        estimate (every domain together): the df of contrasts and pairwise
        comparisons, as ``confint(svycontrast(...), df=degf(design))`` in R.
    """

    statistic: str
    variable: str
    by: tuple[str, ...]
    table: pd.DataFrame
    covariance: np.ndarray
    ci_method: str
    conf_level: float
    user_missing: str = "exclude"
    excluded_codes: Mapping[str, tuple] = field(default_factory=dict)
    value: tuple | None = None
    small_base: SmallBaseRule = DEFAULT_RULE
    meta: Metadata = field(default_factory=Metadata)
    wave: str | None = None
    design_df: float = np.nan

    def replace(self, **changes: Any) -> "Estimate":
        """A copy with ``changes`` applied (e.g. another ``small_base``)."""
        return dataclasses.replace(self, **changes)

    # -- shape ------------------------------------------------------------
    @property
    def key_columns(self) -> tuple[str, ...]:
        """The columns that identify a row: the by columns, then ``level``."""
        return self.by + (("level",) if "level" in self.table.columns else ())

    @property
    def keys(self) -> list:
        """The key of every row: a scalar for one key column, else a tuple."""
        columns = self.key_columns
        if not columns:
            return [()] * len(self.table)
        values = zip(*(self.table[c].tolist() for c in columns))
        return [v[0] if len(columns) == 1 else tuple(v) for v in values]

    @property
    def base_flags(self) -> np.ndarray:
        """``"suppressed"``, ``"low"`` or ``"ok"`` for every row."""
        return self.small_base.flags(self.table["n"].to_numpy())

    @property
    def suppressed(self) -> np.ndarray:
        """True for rows whose base is under the suppression threshold."""
        return self.base_flags == SUPPRESSED

    def row_of(self, key) -> int:
        """The table row (0-based) of a domain key such as ``2`` or ``(2, 1)``."""
        return compare.row_of(self, key)

    # -- presentation -----------------------------------------------------
    def to_frame(self, *, suppress: bool = True, labels: bool = False) -> pd.DataFrame:
        """The results as a tidy DataFrame with a ``base_flag`` column.

        Parameters
        ----------
        suppress : bool
            Blank the estimate-derived columns of rows whose base is
            suppressed by the small-base rule (``n`` and ``weighted_n`` stay).
        labels : bool
            Add ``<by>_label`` (and ``level_label``) columns with the value
            labels of the codes.
        """
        if suppress:
            frame = self.small_base.apply(self.table)
        else:
            frame = self.table.assign(base_flag=self.base_flags)
        if labels:
            for column in self.key_columns:
                source = self.variable if column == "level" else column
                position = frame.columns.get_loc(column) + 1
                frame.insert(position, f"{column}_label",
                             [self.meta.value_label(source, v) for v in frame[column]])
        return frame

    def note(self) -> str:
        """The base rule and the user-missing codes excluded, in words."""
        parts = [self.small_base.describe()]
        excluded = {k: v for k, v in self.excluded_codes.items() if v}
        if excluded:
            listed = "; ".join(
                f"{col}: " + ", ".join(f"{code_text(c)} ({self.meta.value_label(col, c)})" for c in codes)
                for col, codes in excluded.items())
            parts.append(f"User-missing codes excluded from the base: {listed}.")
        elif self.user_missing == "include":
            parts.append("User-missing codes are counted as answers.")
        return " ".join(parts)

    def __repr__(self) -> str:
        what = f"{self.statistic} of {self.variable}"
        if self.value is not None:
            what += f" = {', '.join(map(code_text, self.value))}"
        if self.by:
            what += f" by {', '.join(self.by)}"
        if self.wave:
            what += f" (wave {self.wave})"
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            body = self.to_frame().to_string(index=False)
        return f"Estimate: {what}\n{body}\n{self.note()}"

    def _repr_html_(self) -> str:
        title = f"<b>{self.statistic} of {self.variable}</b>"
        return (title + self.to_frame(labels=True).to_html(index=False, na_rep="")
                + f"<p><small>{self.note()}</small></p>")

    # -- comparisons (see surveytools.estimation.compare) ------------------
    def contrast(self, coefficients) -> pd.DataFrame:
        """Linear combinations of the rows, with design-based SE and t test.

        Parameters
        ----------
        coefficients : array-like of length k, (m, k) array, or dict
            One coefficient per table row (a dict maps row keys to
            coefficients, the other rows getting 0); a 2-D array gives one
            contrast per row.

        Returns
        -------
        DataFrame with ``estimate, se, t, df, p_value, ci_low, ci_high,
        base_flag``; the df is :attr:`design_df`. A contrast that puts
        weight on a suppressed row is NaN with ``base_flag="suppressed"``.
        """
        return compare.contrast(self, coefficients)

    def difference(self, a, b) -> pd.DataFrame:
        """Row ``a`` minus row ``b`` (domain keys such as ``2`` or ``(2, 1)``)."""
        return compare.difference(self, a, b)

    def pairwise(self) -> pd.DataFrame:
        """Every pair of domains (within each answer, for a distribution)."""
        return compare.pairwise(self)

