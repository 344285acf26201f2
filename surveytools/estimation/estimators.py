"""Weighted means, totals, proportions and distributions with design-based SEs.

All domains of one call are estimated in one vectorised pass (see
:mod:`surveytools.estimation.core`); domain estimates keep the whole design.
Definitions follow DESIGN.md and R's ``survey`` package: df, deff, and the
proportion intervals of ``svyciprop``.

Choices for awkward input (documented here, tested in tests/test_estimation.py):

* a domain whose base is empty (every answer missing) keeps its row, with
  ``n = 0`` and NaN estimates (the small-base rule suppresses it);
* a proportion ``value`` that is neither in the data nor a labelled code is
  an error (a typo, or ``"1"`` for ``1``); a labelled code with no answers is
  a valid estimate of 0;
* a ``value`` that is a user-missing code needs ``user_missing="include"``.

Examples
--------
>>> import pandas as pd, surveytools as st
>>> df = pd.DataFrame({"wt": [1.0, 3.0, 1.0, 1.0], "x": [2.0, 4.0, 6.0, None]})
>>> est = st.Survey(df, st.Design(weight="wt")).mean("x")
>>> float(est.table["estimate"].iloc[0]), int(est.table["n"].iloc[0])
(4.0, 3)
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import DataError, UndeclaredMissingWarning, row_number
from ..core.meta import code_text
from .core import Cells, Computed, compute
from .domains import Domains, by_list, resolve
from .intervals import check_ci, check_level, interval
from .result import Estimate
from .sample import Sample
from .variance import replicate_covariance


def mean(sample: Sample, variable: str, *, by=None, where=None, conf_level: float = 0.95,
         user_missing: str = "exclude") -> Estimate:
    """Weighted mean of a numeric ``variable`` (see :meth:`surveytools.Survey.mean`)."""
    return _numeric(sample, variable, "mean", by=by, where=where, conf_level=conf_level,
                    user_missing=user_missing)


def total(sample: Sample, variable: str, *, by=None, where=None, conf_level: float = 0.95,
          user_missing: str = "exclude") -> Estimate:
    """Weighted total of a numeric ``variable`` (see :meth:`surveytools.Survey.total`)."""
    return _numeric(sample, variable, "total", by=by, where=where, conf_level=conf_level,
                    user_missing=user_missing)


def proportion(sample: Sample, variable: str, *, value, by=None, where=None, ci: str = "logit",
               conf_level: float = 0.95, user_missing: str = "exclude") -> Estimate:
    """Share of the base whose ``variable`` is ``value`` (one code or a list of codes).

    Examples
    --------
    >>> import pandas as pd, surveytools as st
    >>> df = pd.DataFrame({"wt": [1.0, 1, 2], "q": [1, 2, 3]})
    >>> est = st.Survey(df, st.Design(weight="wt")).proportion("q", value=[1, 2])
    >>> float(est.table["estimate"].iloc[0])
    0.5
    """
    check_ci(ci, conf_level)
    domains = resolve(sample, variable, by=by, where=where, user_missing=user_missing)
    codes = tuple(value) if isinstance(value, (list, tuple, set, np.ndarray)) else (value,)
    _check_value(sample, variable, codes, domains, user_missing)
    _warn_undeclared(sample, variable, "proportion", domains, by)
    yes = _level_mask(domains.levels, codes).astype(float)[domains.codes]
    cells = _one_column_cells(domains, yes, binary=True)
    computed = compute(sample.prepared, cells, ratio=True)
    return _estimate(sample, "proportion", variable, domains, computed, by=by, ci=ci,
                     conf_level=conf_level, user_missing=user_missing, value=codes)


def distribution(sample: Sample, variable: str, *, by=None, where=None, ci: str = "logit",
                 conf_level: float = 0.95, user_missing: str = "exclude") -> Estimate:
    """Share of every answer of ``variable`` in each domain (a ``level`` column holds the code).

    Answers are the codes observed in the base, sorted; every domain gets a
    row for every answer (0 where no one in the domain gave it).
    """
    check_ci(ci, conf_level)
    domains = resolve(sample, variable, by=by, where=where, user_missing=user_missing)
    _warn_undeclared(sample, variable, "distribution", domains, by)
    rows = np.flatnonzero(domains.base)
    answer_codes = domains.codes[rows]
    present = np.bincount(answer_codes, minlength=len(domains.levels)) > 0
    answers = (np.cumsum(present) - 1)[answer_codes]
    levels = domains.levels[present]
    n_levels = len(levels)
    cells = Cells(group=domains.group, n_groups=domains.n_groups, rows=rows,
                  columns=domains.group[rows] * n_levels + answers, values=np.ones(len(rows)),
                  column_group=np.repeat(np.arange(domains.n_groups), n_levels))
    computed = compute(sample.prepared, cells, ratio=True)
    keys = domains.keys.loc[np.repeat(np.arange(domains.n_groups), n_levels)].reset_index(drop=True)
    keys["level"] = np.tile(np.asarray(levels), domains.n_groups)
    return _estimate(sample, "distribution", variable, domains, computed, by=by, ci=ci,
                     conf_level=conf_level, user_missing=user_missing, keys=keys)


def _numeric(sample: Sample, variable, statistic, *, by, where, conf_level, user_missing) -> Estimate:
    check_level(conf_level)
    domains = resolve(sample, variable, by=by, where=where, user_missing=user_missing)
    values = _numeric_values(domains.values, variable, sample.meta.file, domains.base)
    _warn_undeclared(sample, variable, statistic, domains, by)
    cells = _one_column_cells(domains, values)
    computed = compute(sample.prepared, cells, ratio=statistic == "mean")
    if np.isinf(computed.estimate).any():
        raise DataError(
            f"the weighted {statistic} overflows", file=sample.meta.file, column=variable,
            expected="weights x values within the range of a float",
            found=f"largest |value| {np.nanmax(np.abs(values)):g}, largest weight "
                  f"{sample.prepared.weights.max():g}",
            hint="check the weight and the variable for sentinel or corrupt values (e.g. 1e300)")
    return _estimate(sample, statistic, variable, domains, computed, by=by, ci="t",
                     conf_level=conf_level, user_missing=user_missing)


def _one_column_cells(domains: Domains, values: np.ndarray, *, binary: bool = False) -> Cells:
    values = np.asarray(values, float)
    base = domains.base
    if base.all():  # every row counts: no gathers
        rows, columns = np.arange(len(base)), domains.group
    else:
        rows = np.flatnonzero(base)
        columns, values = domains.group[rows], values[rows]
    return Cells(group=domains.group, n_groups=domains.n_groups, rows=rows, columns=columns,
                 values=values, column_group=np.arange(domains.n_groups), binary=binary)


def _estimate(sample: Sample, statistic, variable, domains: Domains, computed: Computed, *, by, ci,
              conf_level, user_missing, value=None, keys=None) -> Estimate:
    estimate = computed.estimate
    se = np.sqrt(np.clip(np.diag(computed.covariance), 0, None))
    logit_se = None
    if ci == "logit" and computed.replicates is not None:
        logit_se = _replicate_logit_se(sample.prepared, estimate, computed.replicates, se)
    low, high = interval(ci, estimate, se, computed.df, conf_level=conf_level, n_rows=computed.n_rows,
                         logit_se=logit_se)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = computed.n / computed.deff
        cv = se / estimate
    stats = {"estimate": estimate, "se": se, "ci_low": low, "ci_high": high, "df": computed.df,
             "deff": computed.deff, "n": computed.n, "n_eff": n_eff,
             "weighted_n": computed.weighted_n, "cv": cv}
    keys = domains.keys if keys is None else keys
    table = pd.concat([keys.reset_index(drop=True), pd.DataFrame(stats)], axis=1)
    return Estimate(
        statistic=statistic, variable=variable, by=tuple(_by_tuple(by)), table=table,
        covariance=computed.covariance, ci_method=ci, conf_level=conf_level,
        user_missing=user_missing, excluded_codes=domains.excluded_codes, value=value,
        small_base=sample.small_base, meta=sample.meta, wave=sample.wave,
        design_df=computed.design_df,
    )


def _by_tuple(by) -> tuple[str, ...]:
    if by is None:
        return ()
    return (by,) if isinstance(by, str) else tuple(by)


def _replicate_logit_se(prepared, estimate, replicates, se) -> np.ndarray:
    """SE of logit(p) from the replicate logits, as R's svyglm on a svrepdesign.

    Where a replicate proportion is 0 or 1 its logit is infinite (R's glm
    then stops at an arbitrary large value and gives a meaningless
    interval): those rows use the delta method, se / (p (1 - p)).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        logits = np.log(replicates / (1 - replicates))
        centre = np.log(estimate / (1 - estimate))
        delta = se / (estimate * (1 - estimate))
    finite = np.isfinite(logits).all(axis=0)
    variance = np.diag(replicate_covariance(prepared, centre, np.where(finite, logits, 0.0)))
    return np.where(finite, np.sqrt(np.clip(variance, 0, None)), delta)


def _numeric_values(values: pd.Series, variable: str, file, base) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    if not pd.api.types.is_numeric_dtype(values):
        numeric = pd.to_numeric(values, errors="coerce")
        bad = np.flatnonzero(numeric.isna().to_numpy() & values.notna().to_numpy() & base)
        if len(bad) == 0:
            bad = np.flatnonzero(numeric.isna().to_numpy() & values.notna().to_numpy())
        raise DataError(
            "a mean or total needs a numeric variable", file=file, column=variable,
            row=row_number(bad[0]) if len(bad) else None, expected="numbers",
            found=repr(values.iloc[bad[0]]) if len(bad) else f"dtype {values.dtype}",
            hint="use proportion(..., value=...) or distribution(...) for a categorical "
                 "variable, or convert the column to numbers",
        )
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    infinite = np.flatnonzero(np.isinf(numbers) & base)
    if len(infinite):
        raise DataError(
            f"a mean or total needs finite values ({len(infinite)} infinite in the base)",
            file=file, column=variable, row=row_number(infinite[0]), expected="a finite number",
            found=repr(float(numbers[infinite[0]])),
            hint=f"fix the value at source, or leave those rows out: "
                 f"survey.mean({variable!r}, where=np.isfinite(survey.data[{variable!r}]))",
        )
    return numbers


def _warn_undeclared(sample: Sample, variable: str, statistic: str, domains: Domains,
                     by=None) -> None:
    """Warn (once per variable and Survey) when codes that look like non-answers
    (:mod:`surveytools.core.nonanswers`) are counted in the base of this estimate,
    as answers of ``variable`` or as groups of a ``by`` column."""
    rows = domains.base
    _warn_column(sample, variable, f"the {statistic}", sample.codes(variable), rows)
    for column in by_list(by):
        _warn_column(sample, column, f"the {statistic} by {column}", sample.codes(column), rows)


def _warn_column(sample: Sample, variable: str, what: str, factorised, rows) -> None:
    suspects = sample.non_answers(variable)
    if not suspects:
        return
    codes, levels = factorised
    in_base = np.bincount(codes[rows & (codes >= 0)], minlength=len(levels)) > 0
    hit = in_base & _level_mask(levels, [row["code"] for row in suspects])
    if not hit.any() or not sample.warn_once(("undeclared", variable)):
        return
    found = [row for row in suspects if _level_mask(levels[hit], [row["code"]]).any()]
    listed = ", ".join(f"{code_text(r['code'])} ({r['label'] or r['reason']}, n={r['count']})"
                       for r in found)
    codes = ", ".join(code_text(r["code"]) for r in found)
    meta = sample.meta
    where = f"{meta.file}, " if meta.file else ""
    warnings.warn(UndeclaredMissingWarning(
        f"{where}column '{variable}': {what} counts code(s) {listed} as answers, but "
        "they look like non-answers and are not declared user-missing. Declare them: "
        f"survey = survey.replace(meta=survey.meta.with_missing({variable!r}, [{codes}])); "
        f"or, if they are real answers: survey.meta.count_as_answer({variable!r}, [{codes}])."),
        stacklevel=_outside_package())


def _outside_package() -> int:
    """The ``stacklevel`` of the first caller outside surveytools (the user's line)."""
    package = str(Path(__file__).resolve().parents[1])
    frame, level = sys._getframe(1), 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _level_mask(levels: np.ndarray, codes) -> np.ndarray:
    """True for the levels that are among ``codes`` (pandas ``isin`` semantics)."""
    return pd.Series(levels).isin(list(codes)).to_numpy()



def _check_value(sample: Sample, variable: str, codes: tuple, domains: Domains, user_missing: str) -> None:
    meta = sample.meta
    labelled = meta.value_labels.get(variable, {})
    observed = set(domains.levels.tolist())
    for code in codes:
        if user_missing == "exclude" and meta.missing_mask(variable, pd.Series([code]))[0]:
            raise DataError(
                f"value {code!r} is a user-missing code of {variable}", file=meta.file,
                column=variable, expected="a substantive answer code",
                found=f"{code!r} ({meta.value_label(variable, code)})",
                hint="pass user_missing='include' to count user-missing answers in the base",
            )
        if code not in observed and code not in labelled and not _within_span(
                code, domains, labelled, meta.missing.get(variable)):
            shown = sorted(observed, key=str)[:12]
            raise DataError(
                f"value {code!r} does not occur in {variable}", file=meta.file, column=variable,
                expected="one of the codes in the data or in the value labels",
                found="codes " + ", ".join(map(repr, shown)) + (" ..." if len(observed) > 12 else ""),
                hint="check the code (and its type: 1 is not '1')",
            )


def _within_span(code, domains: Domains, labelled, spec) -> bool:
    """A whole number between the smallest and largest answer code of a numeric item
    (its values in the data and its labelled codes, user-missing codes left out):
    a valid answer that nobody gave."""
    if isinstance(code, bool) or not isinstance(code, (int, float, np.integer, np.floating)):
        return False
    known = [v for v in (*domains.levels.tolist(), *labelled)
             if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
             and not (spec and v in spec)]
    if not known or not float(code).is_integer() or not all(float(v).is_integer() for v in known):
        return False
    return min(known) <= code <= max(known)
