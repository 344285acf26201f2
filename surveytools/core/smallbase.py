"""The small-base rule: suppress estimates on tiny bases, flag low ones.

DESIGN.md's default: an unweighted base under 50 is suppressed everywhere it
could be shown, 50-99 is flagged as a low base.  Every presentation layer
(tables, charts, dashboards, exports) goes through :meth:`SmallBaseRule.apply`
so that one rule governs every output path.

Examples
--------
>>> rule = SmallBaseRule()
>>> rule.flag(30), rule.flag(75), rule.flag(400)
('suppressed', 'low', 'ok')
>>> rule.describe()
'Estimates on an unweighted base under 50 are suppressed (shown as "n<50"); bases of 50-99 are flagged as low.'
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import ManifestError

SUPPRESSED = "suppressed"
LOW = "low"
OK = "ok"

#: Columns that carry an estimate or something derived from it; these are
#: blanked when the base is suppressed.  The bases (``n``, ``weighted_n``) are
#: withheld too wherever a number is published (the cube's disclosure control,
#: :mod:`surveytools.indicators.disclosure`), where a hidden base could be
#: subtracted from the total's.
ESTIMATE_COLUMNS = (
    "estimate", "se", "ci_low", "ci_high", "df", "deff", "n_eff", "cv",
    "before", "after", "change", "change_se", "change_p", "change_ci_low", "change_ci_high",
    "change_significant", "difference", "difference_se", "t", "p_value", "p_adjusted", "letters",
)


@dataclass(frozen=True)
class SmallBaseRule:
    """Thresholds on the unweighted base of an estimate.

    Parameters
    ----------
    suppress_below : int
        Estimates on fewer respondents are suppressed.
    flag_below : int
        Estimates on fewer respondents (but not suppressed) are flagged low.
    """

    suppress_below: int = 50
    flag_below: int = 100

    def __post_init__(self) -> None:
        for key in ("suppress_below", "flag_below"):
            value = getattr(self, key)
            # bool is an int in Python: True would silently mean 1 (suppression off)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ManifestError(
                    f"the small-base threshold {key} must be a whole number", column=key,
                    expected=f"{key} = 50 (an integer, without quotes)",
                    found=f"{value!r} ({type(value).__name__})",
                    hint=f"write {key} as a whole number of respondents, e.g. "
                         f"{key} = {50 if key == 'suppress_below' else 100}",
                )
            object.__setattr__(self, key, int(value))
        if not (0 <= self.suppress_below <= self.flag_below):
            raise ManifestError(
                "small-base thresholds must satisfy 0 <= suppress_below <= flag_below",
                found=f"suppress_below={self.suppress_below}, flag_below={self.flag_below}",
                hint="e.g. suppress_below = 50, flag_below = 100",
            )

    def replace(self, **changes) -> "SmallBaseRule":
        return dataclasses.replace(self, **changes)

    @property
    def suppressed_label(self) -> str:
        return f"n<{self.suppress_below}"

    def flag(self, n) -> str:
        """``"suppressed"``, ``"low"`` or ``"ok"`` for one unweighted base."""
        return str(self.flags(np.asarray([n]))[0])

    def flags(self, n) -> np.ndarray:
        """Vectorised :meth:`flag` for an array of unweighted bases."""
        n = np.asarray(n, dtype=float)
        out = np.full(n.shape, OK, dtype=object)
        out[n < self.flag_below] = LOW
        out[(n < self.suppress_below) | np.isnan(n)] = SUPPRESSED
        return out

    def apply(self, frame: pd.DataFrame, *, n_column: str = "n") -> pd.DataFrame:
        """A copy of ``frame`` with a ``base_flag`` column and suppressed values blanked.

        Every column of :data:`ESTIMATE_COLUMNS` that is present is set to
        missing where the base is suppressed.
        """
        flags = self.flags(frame[n_column].to_numpy())
        return blank(frame.assign(base_flag=flags), flags == SUPPRESSED)

    def describe(self) -> str:
        """The rule in one sentence, printed beside every table."""
        return (
            f"Estimates on an unweighted base under {self.suppress_below} are suppressed "
            f'(shown as "{self.suppressed_label}"); bases of {self.suppress_below}-'
            f"{self.flag_below - 1} are flagged as low."
        )


DEFAULT_RULE = SmallBaseRule()


def blank(frame: pd.DataFrame, hidden, columns=ESTIMATE_COLUMNS) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` emptied in the ``hidden`` rows.

    The one place where suppressed values are removed: every output that
    shows estimates (estimates, comparisons, the cube, tables, charts,
    dashboards, exports) blanks through here.  Numeric columns become NaN,
    others None; columns absent from ``frame`` are skipped.

    Examples
    --------
    >>> frame = pd.DataFrame({"estimate": [0.5, 0.25], "n": [30, 300], "letters": ["B", "A"]})
    >>> blank(frame, [True, False]).to_dict("list")
    {'estimate': [nan, 0.25], 'n': [30, 300], 'letters': [None, 'A']}
    """
    hidden = np.asarray(hidden, dtype=bool)
    out = frame.copy()
    if not hidden.any():
        return out
    for column in columns:
        if column not in out.columns:
            continue
        if pd.api.types.is_bool_dtype(out[column]) or not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].astype(object)
            out.loc[hidden, column] = None
        else:
            out[column] = out[column].astype(float)
            out.loc[hidden, column] = np.nan
    return out
