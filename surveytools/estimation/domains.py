"""From ``variable``, ``by``, ``where`` and ``user_missing`` to integer codes.

Everything an estimator needs to know about *which* rows count is decided
here, once, and checked: columns exist (else the close matches are listed),
``where`` is a valid subpopulation, user-missing codes are taken out of the
base (and recorded) unless ``user_missing="include"``.

Domains are the observed combinations of the by columns among the rows in
``where``, sorted by code.  Rows with a missing (NaN) or, by default,
user-missing by value belong to no domain.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from surveytools.estimation.domains import domain_codes
>>> data = pd.DataFrame({"a": [2, 1, 2], "b": ["x", "y", "x"]})
>>> factorised = [pd.factorize(data[c], sort=True) for c in ("a", "b")]
>>> codes, keys = domain_codes(factorised, ["a", "b"], np.ones(3, bool))
>>> codes.tolist(), keys.to_dict("list")
([1, 0, 1], {'a': [1, 2], 'b': ['y', 'x']})
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.errors import DataError, row_number
from .sample import Sample

USER_MISSING_OPTIONS = ("exclude", "include")


@dataclass(frozen=True, eq=False)
class Domains:
    """Resolved rows of one estimate (internal).

    Attributes
    ----------
    values : the analysed column as a Series (the data's own codes)
    codes, levels : the analysed column factorised (``levels[codes]`` are the
        values; -1 where missing), shared with the Survey's cache
    group : (n,) int domain code of each base row, -1 outside the base
    keys : DataFrame of the domain keys (by columns), one row per domain
    excluded_codes : {column: tuple of user-missing codes taken out}
    in_scope : (n,) bool rows in ``where`` (the subpopulation)
    """

    values: pd.Series
    codes: np.ndarray
    levels: np.ndarray
    group: np.ndarray
    keys: pd.DataFrame
    in_scope: np.ndarray
    excluded_codes: dict = field(default_factory=dict)

    @property
    def n_groups(self) -> int:
        return len(self.keys)

    @property
    def base(self) -> np.ndarray:
        return self.group >= 0


def resolve(sample: Sample, variable: str, *, by, where, user_missing: str) -> Domains:
    """Check the arguments and code the domains and the base of ``variable``."""
    data, meta = sample.data, sample.meta
    if user_missing not in USER_MISSING_OPTIONS:
        raise DataError("unknown user_missing option", file=meta.file,
                        expected="'exclude' or 'include'", found=repr(user_missing),
                        hint="pass user_missing='exclude' (the default) or 'include'")
    by_columns = by_list(by)
    for column in (variable, *by_columns):
        check_column(data, column, meta.file)
    in_scope = where_mask(data, where, meta.file)
    excluded: dict = {}
    valid = in_scope.copy()
    for column in by_columns:
        valid &= _answered(sample, column, user_missing, excluded, in_scope)
    if by_columns and not valid.any():
        raise DataError(
            "no respondent in scope has an answer to the by column" + ("s" if len(by_columns) > 1 else ""),
            file=meta.file, column=", ".join(by_columns),
            expected="at least one row with a value that is not missing",
            found="every value missing" + (" or user-missing" if user_missing == "exclude" else "")
            + (" among the rows in where=" if where is not None else ""),
            hint="check the column name and the wave (a question not asked in this wave is all "
                 f"missing); survey.data[{by_columns[0]!r}].value_counts(dropna=False) shows what "
                 "is there",
        )
    codes, keys = domain_codes([sample.codes(c) for c in by_columns], by_columns, valid)
    answered = _answered(sample, variable, user_missing, excluded, valid)
    in_base = answered & (codes >= 0)
    group = codes if in_base.all() else np.where(in_base, codes, -1)
    var_codes, var_levels = sample.codes(variable)
    return Domains(values=data[variable], codes=var_codes, levels=var_levels, group=group,
                   keys=keys, in_scope=in_scope, excluded_codes=excluded)


def by_list(by) -> list[str]:
    """``by`` as a list of column names (None -> [])."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def check_column(data: pd.DataFrame, column, file) -> None:
    """A DataError naming the close matches when ``column`` is not in the data."""
    if column in data.columns:
        return
    names = [str(c) for c in data.columns]
    close = difflib.get_close_matches(str(column), names, n=3, cutoff=0.6)
    raise DataError(
        "column not found in the data", file=file, column=str(column),
        expected="a column of the survey",
        found="no such column" + (f"; close matches: {', '.join(close)}" if close else ""),
        hint=(f"did you mean {close[0]!r}?" if close
              else "check the spelling (survey.data.columns lists the columns)"),
    )


def where_mask(data: pd.DataFrame, where, file) -> np.ndarray:
    """The rows of a subpopulation: bool array/Series, query string or {column: values}."""
    n = len(data)
    if where is None:
        return np.ones(n, bool)
    if isinstance(where, str):
        try:
            result = data.eval(where)
        except Exception as err:  # pandas raises many types for a bad expression
            raise DataError(f"cannot evaluate where={where!r}: {err}", file=file,
                            expected="a pandas query expression such as \"region == 7\"",
                            found=repr(where),
                            hint="use column names of the data and ==, !=, <, in, &, |") from err
        return _bool_rows(result, n, file, repr(where))
    if isinstance(where, dict):
        mask = np.ones(n, bool)
        for column, wanted in where.items():
            check_column(data, column, file)
            wanted = list(wanted) if isinstance(wanted, (list, tuple, set, np.ndarray)) else [wanted]
            mask &= data[column].isin(wanted).to_numpy()
        return mask
    if isinstance(where, pd.Series) and not where.index.equals(data.index):
        aligned = where.reindex(data.index)
        if aligned.isna().any():
            raise DataError("where= Series does not cover every row of the data", file=file,
                            expected="a boolean Series with the data's index",
                            found=f"{int(aligned.isna().sum())} rows without a value",
                            hint="build the mask from survey.data, e.g. survey.data['age'] >= 65")
        where = aligned
    return _bool_rows(where, n, file, "the where= mask")


def _bool_rows(result, n: int, file, what: str) -> np.ndarray:
    arr = np.asarray(result)
    if arr.shape != (n,):
        raise DataError(f"{what} does not give one value per row", file=file,
                        expected=f"{n} booleans", found=f"shape {arr.shape}",
                        hint="pass a boolean array or Series as long as the data")
    if arr.dtype != bool:
        series = pd.Series(arr)
        if not pd.api.types.is_bool_dtype(series) or series.isna().any():
            bad = np.flatnonzero(~series.isin([True, False]).to_numpy())
            raise DataError(f"{what} must be True/False for every row", file=file,
                            row=row_number(bad[0]) if len(bad) else None,
                            expected="True or False",
                            found=repr(series.iloc[bad[0]]) if len(bad) else str(arr.dtype),
                            hint="compare a column, e.g. data['age'] >= 65, or fill missing with False")
        arr = series.to_numpy(dtype=bool)
    return arr


def domain_codes(factorised: list, by_columns: list[str],
                 valid: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Domain code of every row (-1 where not ``valid``) and the domain keys, sorted by code.

    ``factorised`` holds ``(codes, levels)`` of each by column (sorted levels).
    """
    n = len(valid)
    if not by_columns:
        return np.where(valid, 0, -1), pd.DataFrame(index=range(1))
    if len(by_columns) == 1:
        codes, levels = factorised[0]
        usable = valid & (codes >= 0)
        every_row = usable.all()
        present = np.bincount(codes if every_row else codes[usable], minlength=len(levels)) > 0
        keys = pd.DataFrame({by_columns[0]: np.asarray(levels)[present]})
        if every_row and present.all():  # the codes are already the domain codes
            return codes, keys
        rank = np.cumsum(present) - 1
        return np.where(usable, rank[codes], -1), keys
    combined = np.zeros(n, np.int64)
    uniques = []
    for codes, levels in factorised:
        uniques.append(pd.Index(levels))
        combined = combined * (len(levels) + 1) + np.maximum(codes, 0)
    # hash then sort the few distinct combinations (faster than sorting n rows)
    codes, observed = pd.factorize(combined[valid])
    order = np.argsort(observed)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    observed = observed[order]
    group = np.full(n, -1, np.int64)
    group[valid] = rank[codes]
    keys = {}
    for column, levels in zip(reversed(by_columns), reversed(uniques)):
        keys[column] = levels.take(observed % (len(levels) + 1))
        observed = observed // (len(levels) + 1)
    return group, pd.DataFrame({c: np.asarray(keys[c]) for c in by_columns})


def _answered(sample, column: str, user_missing: str, excluded: dict,
              scope: np.ndarray) -> np.ndarray:
    """Rows with a value (not NaN) that is not a user-missing code being excluded.

    The user-missing test runs on the column's distinct levels, then is
    gathered to rows.
    """
    codes, levels = sample.codes(column)
    ok = codes >= 0
    if user_missing == "exclude":
        level_missing = sample.meta.missing_mask(column, levels)
        if level_missing.any():
            missing = ok & level_missing[codes]
            hit = np.bincount(codes[missing & scope], minlength=len(levels)) > 0
            if hit.any():
                excluded[column] = tuple(sorted(levels[hit].tolist()))
            ok = ok & ~missing
    return ok
