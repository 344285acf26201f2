"""A Survey pairs a DataFrame with its design, metadata and small-base rule.

A Survey is immutable: every method that changes something returns a new
Survey and leaves the original untouched (pandas copy-on-write makes the
shallow copies safe).  Construction validates the design columns, so an
estimate is never computed from weights the code does not understand.

Examples
--------
>>> import pandas as pd, surveytools as st
>>> df = pd.DataFrame({"wt": [1.0, 2.0, 1.0], "trust": [1, 0, 1]})
>>> s = st.Survey(df, st.Design(weight="wt"))
>>> round(float(s.proportion("trust", value=1).to_frame(suppress=False)["estimate"].iloc[0]), 3)
0.5
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .core.design import AnyDesign, Design, ReplicateDesign
from .core.errors import DataError, DesignError, row_number
from .core.meta import Metadata, code_text, plain_code
from .core.smallbase import DEFAULT_RULE, SmallBaseRule
from .estimation import estimators
from .estimation.result import Estimate
from .estimation.sample import Sample


class Survey:
    """Survey data with its design.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent. Never modified.
    design : Design or ReplicateDesign
        Which columns hold weights, strata, PSUs, fpc or replicate weights.
    meta : Metadata, optional
        Labels and user-missing codes (from :func:`surveytools.read_wave`).
    small_base : SmallBaseRule, optional
        Thresholds for suppressing and flagging small bases.
    calibration : object, optional
        Set by :func:`surveytools.rake`: an object with a
        ``residualise(scores) -> scores`` method that makes linearisation
        variances account for the calibration of the weights (as R's
        ``svyrecvar`` does with a design's ``postStrata``). It belongs to
        these rows and weights, so :meth:`replace` drops it when the data or
        design change.

    Raises
    ------
    DesignError
        A design column is absent from the data.
    DataError
        Weights that are non-numeric, NaN, negative or all zero; strata or
        PSUs with missing values; an fpc that varies within a stratum.
    """

    __slots__ = ("_data", "_design", "_meta", "_small_base", "_calibration", "__dict__")

    def __init__(
        self,
        data: pd.DataFrame,
        design: AnyDesign,
        meta: Metadata | None = None,
        *,
        small_base: SmallBaseRule | None = None,
        calibration: Any = None,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise DataError(
                "Survey needs a pandas DataFrame",
                found=type(data).__name__,
                hint="pass pd.DataFrame(...) or use st.read_wave(path, design=...)",
            )
        if not isinstance(design, (Design, ReplicateDesign)):
            raise DesignError(
                "Survey needs a Design or ReplicateDesign",
                found=type(design).__name__,
                hint='pass st.Design(weight="wt", ...)',
            )
        self._data = data.copy(deep=False)
        self._design = design
        self._meta = meta if meta is not None else Metadata()
        self._small_base = small_base if small_base is not None else DEFAULT_RULE
        self._calibration = calibration
        _validate(self._data, design, self._meta.file)

    # -- the parts --------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The respondents (a copy-on-write view: changing it leaves the Survey alone)."""
        return self._data.copy(deep=False)

    @property
    def design(self) -> AnyDesign:
        return self._design

    @property
    def meta(self) -> Metadata:
        return self._meta

    @property
    def small_base(self) -> SmallBaseRule:
        return self._small_base

    @property
    def calibration(self):
        """The calibration the weights came from (see :func:`surveytools.rake`), or None."""
        return self._calibration

    @property
    def weights(self) -> pd.Series:
        """The full-sample weights as a float Series."""
        return self._data[self._design.weight].astype(float)

    @property
    def wave(self) -> str | None:
        return self._meta.wave

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        where = f" from {self._meta.file}" if self._meta.file else ""
        wave = f" wave {self._meta.wave!r}" if self._meta.wave else ""
        return f"<Survey{wave}: {len(self)} respondents, {self._design!r}{where}>"

    # -- changed copies ---------------------------------------------------
    def replace(self, **changes: Any) -> "Survey":
        """A new Survey with ``data``, ``design``, ``meta``, ``small_base`` or
        ``calibration`` changed. A new ``data`` or ``design`` drops the
        calibration unless one is passed."""
        parts = {
            "data": self._data,
            "design": self._design,
            "meta": self._meta,
            "small_base": self._small_base,
            "calibration": self._calibration,
        }
        unknown = set(changes) - set(parts)
        if unknown:
            raise TypeError(f"Survey.replace() got unknown fields {sorted(unknown)}")
        if ("data" in changes or "design" in changes) and "calibration" not in changes:
            parts["calibration"] = None
        parts.update(changes)
        return Survey(parts["data"], parts["design"], parts["meta"],
                      small_base=parts["small_base"], calibration=parts["calibration"])

    def with_weights(self, weights, *, name: str | None = None) -> "Survey":
        """A new Survey whose design weight is ``weights`` (a column is added).

        Parameters
        ----------
        weights : array-like
            One weight per row.
        name : str, optional
            Column name for the new weights (default: ``<weight>_new``).
        """
        name = name or f"{self._design.weight}_new"
        data = self._data.assign(**{name: np.asarray(weights, dtype=float)})
        return self.replace(data=data, design=self._design.replace(weight=name))

    # -- labels -----------------------------------------------------------
    def labelled(self, column: str) -> pd.Series:
        """``column`` with codes replaced by their value labels (a new Series).

        Values without a label (and missing values) are kept as they are.
        """
        labels = self._meta.value_labels.get(column, {})
        return self._data[column].map(lambda value: labels.get(plain_code(value), value))

    # -- estimation (see surveytools.estimation) --------------------------
    @cached_property
    def sample(self) -> Sample:
        """What the estimators read: data, design, metadata, rule and calibration,
        with the per-column codes and the coded design cached (a Survey never changes)."""
        return Sample(self._data, self._design, self._meta, self._small_base, self._calibration)

    def mean(self, variable: str, *, by=None, where=None, conf_level: float = 0.95,
             user_missing: str = "exclude") -> Estimate:
        """Weighted mean of ``variable`` with design-based SE and CI.

        Parameters
        ----------
        variable : str
            A numeric column.
        by : str or list of str, optional
            Domains: one column or several crossed.
        where : optional
            A subpopulation that keeps the whole design: a boolean array or
            Series, a pandas query string, or a ``{column: value(s)}`` dict.
        conf_level : float
            Confidence level of the interval (estimate ± t(df)·se).
        user_missing : {"exclude", "include"}
            Whether user-missing codes are out of the base (the default).

        Returns
        -------
        surveytools.estimation.Estimate
        """
        return estimators.mean(self.sample, variable, by=by, where=where, conf_level=conf_level,
                               user_missing=user_missing)

    def total(self, variable: str, *, by=None, where=None, conf_level: float = 0.95,
              user_missing: str = "exclude") -> Estimate:
        """Weighted total of ``variable`` (see :meth:`mean` for the arguments)."""
        return estimators.total(self.sample, variable, by=by, where=where, conf_level=conf_level,
                                user_missing=user_missing)

    def proportion(self, variable: str, *, value, by=None, where=None, ci: str = "logit",
                   conf_level: float = 0.95, user_missing: str = "exclude") -> Estimate:
        """Weighted share of respondents whose ``variable`` is ``value``.

        Parameters
        ----------
        value : scalar or list
            The code, or the list of codes, counted as "yes".
        ci : {"logit", "beta", "wilson", "wald"}
            Interval method (DESIGN.md, R's ``svyciprop``).

        See :meth:`mean` for the other arguments.
        """
        return estimators.proportion(self.sample, variable, value=value, by=by, where=where, ci=ci,
                                     conf_level=conf_level, user_missing=user_missing)

    def distribution(self, variable: str, *, by=None, where=None, ci: str = "logit",
                     conf_level: float = 0.95, user_missing: str = "exclude") -> Estimate:
        """The weighted share of every answer of ``variable``."""
        return estimators.distribution(self.sample, variable, by=by, where=where, ci=ci, conf_level=conf_level,
                                       user_missing=user_missing)


def _validate(data: pd.DataFrame, design: AnyDesign, file: str | None) -> None:
    """Reject column names and design columns the estimators cannot use, naming
    file, column and row."""
    _check_column_names(data, file)
    for column in design.columns:
        if column not in data.columns:
            raise DesignError(
                "design column not found in the data",
                file=file, column=column,
                expected=f"a column named '{column}'",
                found="columns " + ", ".join(map(str, list(data.columns)[:12]))
                + (" ..." if data.shape[1] > 12 else ""),
                hint="check the spelling in the Design, or the manifest's design columns",
            )
    weight_columns = [design.weight]
    if isinstance(design, ReplicateDesign):
        weight_columns += list(design.replicate_weights)
    for column in weight_columns:
        check_weights(data[column], file=file, column=column)
    if isinstance(design, Design):
        for column in (design.strata, design.psu):
            if column is not None:
                _check_no_missing(data[column], file=file, column=column)
        if design.strata is not None and design.psu is not None and not design.nest:
            _check_nested(data, design, file)
        if design.fpc is not None:
            _check_fpc(data, design, file)


def _check_column_names(data: pd.DataFrame, file) -> None:
    """Every column name a distinct string: estimators look columns up by name."""
    names = list(data.columns)
    odd = [name for name in names if not isinstance(name, str)]
    if odd:
        raise DataError(
            "column names must be text", file=file, column=repr(odd[0]),
            expected="string column names", found=f"{len(odd)} names that are not strings, "
            f"e.g. {odd[0]!r} ({type(odd[0]).__name__})",
            hint="name the columns first: df.columns = [str(c) for c in df.columns]",
        )
    duplicated = sorted(set(pd.Index(names)[pd.Index(names).duplicated()]))
    if duplicated:
        raise DataError(
            "column names must be unique", file=file, column=", ".join(duplicated[:5]),
            expected="each name once", found=f"{len(duplicated)} repeated names",
            hint="rename or drop the copies, e.g. "
                 "df = df.loc[:, ~df.columns.duplicated()] after checking they hold the same data",
        )


def _check_nested(data: pd.DataFrame, design: Design, file) -> None:
    """A PSU id in two strata is an error unless the design says ``nest=True`` (as R)."""
    psu, psu_ids = pd.factorize(data[design.psu])
    stratum, strata = pd.factorize(data[design.strata])
    pairs = pd.unique(psu.astype(np.int64) * len(strata) + stratum)
    per_psu = np.bincount(pairs // len(strata), minlength=len(psu_ids))
    if not (per_psu > 1).any():
        return
    shared = int(np.argmax(per_psu > 1))
    rows = np.flatnonzero(psu == shared)
    first = stratum[rows[0]]
    other = rows[np.argmax(stratum[rows] != first)]
    raise DataError(
        "PSU ids repeat across strata", file=file, column=design.psu, row=row_number(other),
        expected="each PSU id in one stratum (PSUs nested in strata)",
        found=f"PSU {code_text(psu_ids[shared])} in stratum {code_text(strata[first])} and in "
              f"stratum {code_text(strata[stratum[other]])} ({int((per_psu > 1).sum())} such PSU "
              "ids)",
        hint="if PSU ids are numbered within each stratum, say so: "
             f"st.Design(weight={design.weight!r}, strata={design.strata!r}, "
             f"psu={design.psu!r}, nest=True) (R's svydesign(nest=TRUE); in a manifest, "
             "nest = true under [design]); otherwise fix the PSU ids",
    )


def check_weights(values: pd.Series, *, file: str | None, column: str) -> np.ndarray:
    """Weights as float, or a DataError naming the first offending row."""
    series = pd.Series(values)
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        numeric = pd.to_numeric(series, errors="coerce")
        bad = np.flatnonzero(numeric.isna().to_numpy() & series.notna().to_numpy())
        row = row_number(bad[0]) if len(bad) else None
        raise DataError(
            "weights must be numeric",
            file=file, column=column, row=row,
            expected="a number >= 0",
            found=repr(series.iloc[bad[0]]) if len(bad) else f"dtype {series.dtype}",
            hint="clean the weight column (no text) or name the right weight column",
        )
    arr = series.to_numpy(dtype=float, na_value=np.nan)
    nan = np.flatnonzero(np.isnan(arr))
    if len(nan):
        raise DataError(
            f"weights must not be missing ({len(nan)} missing)",
            file=file, column=column, row=row_number(nan[0]),
            expected="a number >= 0", found="a missing value",
            hint="give every respondent a weight (0 to leave one out), or drop those rows",
        )
    inf = np.flatnonzero(~np.isfinite(arr))
    if len(inf):
        raise DataError(
            "weights must be finite",
            file=file, column=column, row=row_number(inf[0]),
            expected="a finite number >= 0", found=str(arr[inf[0]]),
            hint="fix the weight of that respondent",
        )
    negative = np.flatnonzero(arr < 0)
    if len(negative):
        raise DataError(
            f"weights must not be negative ({len(negative)} negative)",
            file=file, column=column, row=row_number(negative[0]),
            expected="a number >= 0", found=repr(float(arr[negative[0]])),
            hint="fix the weights at source; negative weights have no design meaning",
        )
    with np.errstate(over="ignore"):
        total = arr.sum()
    if not np.isfinite(total):
        raise DataError(
            "weights are too large: their sum overflows", file=file, column=column,
            row=row_number(int(np.argmax(arr))), expected="weights whose sum is a finite number",
            found=f"largest weight {arr.max():g}",
            hint="check the weight column (a grossing factor of 1e300 is a data error); rescale "
                 "it, e.g. to sum to the sample size, if only shares and means are needed")
    if len(arr) and not (arr > 0).any():
        raise DataError(
            "weights are all zero",
            file=file, column=column,
            expected="at least one positive weight", found="every weight is 0",
            hint="name the right weight column in the design",
        )
    return arr


def _check_no_missing(values: pd.Series, *, file, column) -> None:
    missing = np.flatnonzero(values.isna().to_numpy())
    if len(missing):
        raise DataError(
            f"design column has {len(missing)} missing values",
            file=file, column=column, row=row_number(missing[0]),
            expected="a stratum or PSU identifier for every respondent",
            found="a missing value",
            hint="fill in the identifier or drop those respondents before building the Survey",
        )


def _check_fpc(data: pd.DataFrame, design: Design, file) -> None:
    column = design.fpc
    fpc = data[column]
    if not pd.api.types.is_numeric_dtype(fpc):
        raise DataError("fpc must be numeric", file=file, column=column,
                        expected="a population size or a sampling fraction",
                        found=f"dtype {fpc.dtype}", hint="convert the fpc column to numbers")
    arr = fpc.to_numpy(dtype=float, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(arr) | (arr <= 0))
    if len(bad):
        raise DataError("fpc must be a positive number", file=file, column=column,
                        row=row_number(bad[0]), expected="a population size > 0 or a fraction in (0, 1]",
                        found=repr(arr[bad[0]]), hint="fix or fill in the fpc of that stratum")
    strata = data[design.strata] if design.strata else pd.Series(0, index=data.index)
    varies = pd.Series(arr, index=data.index).groupby(strata.to_numpy()).nunique()
    if (varies > 1).any():
        stratum = varies.index[np.argmax(varies.to_numpy() > 1)]
        first = np.flatnonzero(strata.to_numpy() == stratum)[0]
        raise DataError("fpc must be constant within a stratum", file=file, column=column,
                        row=row_number(first), expected="one population size per stratum",
                        found=f"{int(varies.loc[stratum])} different values in stratum {stratum!r}",
                        hint="the fpc is the first-stage population (number of PSUs) of the stratum")
    fractions = arr <= 1
    if fractions.any() and not fractions.all():
        first = np.flatnonzero(~fractions)[0]
        raise DataError("fpc mixes sampling fractions (<= 1) and population sizes (> 1)",
                        file=file, column=column, row=row_number(first),
                        expected="all fractions or all population sizes", found=f"{arr[first]:g}",
                        hint="use one convention for the whole column")
    if fractions.all():
        return
    # A population size below the PSUs sampled from it is impossible (R: "FPC implies
    # >100% sampling in some strata").
    units = data[design.psu] if design.psu else pd.Series(np.arange(len(data)), index=data.index)
    sampled = units.groupby(strata.to_numpy()).nunique()
    population = pd.Series(arr, index=data.index).groupby(strata.to_numpy()).first()
    over = sampled.index[(population < sampled).to_numpy()]
    if len(over):
        stratum = over[0]
        first = np.flatnonzero(strata.to_numpy() == stratum)[0]
        raise DataError("fpc is smaller than the number of PSUs sampled in a stratum",
                        file=file, column=column, row=row_number(first),
                        expected=f"a population of at least {int(sampled.loc[stratum])} PSUs "
                                 f"in stratum {code_text(stratum)}",
                        found=f"{population.loc[stratum]:g}",
                        hint="the fpc is the number of PSUs in the stratum's population (or the "
                             "sampling fraction, <= 1); check the column and the design's psu")
