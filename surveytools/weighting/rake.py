"""Raking (rim weighting) to population margins, and weighting audits.

:func:`rake` adjusts the weights of a Survey so that its weighted totals
match population totals on several margins (iterative proportional fitting,
as R's ``survey::rake``).  The raked Survey carries a calibration that makes
linearisation SEs account for the raking exactly as R's ``rake()`` followed
by ``svymean`` does; replicate designs have every replicate weight raked too.

Margins
-------
``margins`` maps a column name -- or a tuple of column names for a crossed
margin such as age band x gender -- to ``{category: population total}``.

* Category keys are codes (``1``, ``"1"``) or value labels (``"18-24"``,
  resolved through ``survey.meta.value_labels``); a crossed margin's keys
  are tuples of codes or labels, one per column.
* A margin whose targets sum to 1 (within 0.5%) holds population *shares*:
  they are scaled to the population total of the margins given as totals,
  or, when every margin is given as shares, to the current weighted total.
* Every margin must imply the same population total. Totals more than 0.5%
  apart are an error; smaller differences (rounding) are removed by scaling
  each margin to the total of the first, and the report says so.

The :class:`RakingReport` of a raked Survey is ``raked.meta.notes["raking"]``.
:func:`read_targets` reads margins from a targets file (the format of
``data/tracker/targets.toml``); :func:`weighting_audit` and
:func:`margin_audit` compare the weights of several waves and their margins
with the population.

Examples
--------
>>> import pandas as pd, surveytools as st
>>> df = pd.DataFrame({"w": [1.0] * 6, "sex": [1, 1, 1, 2, 2, 2], "old": [0, 0, 1, 0, 1, 1]})
>>> raked = st.rake(st.Survey(df, st.Design(weight="w")),
...                 {"sex": {1: 50.0, 2: 50.0}, "old": {0: 60.0, 1: 40.0}})
>>> raked.meta.notes["raking"].converged, round(float(raked.weights.sum()), 6)
(True, 100.0)
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .calibration import RakingCalibration, ipf
from ..core.design import ReplicateDesign
from ..core.errors import WeightingError, row_number
from ..survey import Survey

#: Relative gap within which margins' totals are reconciled, and within which
#: a margin summing to 1 is read as shares.
TOTALS_AGREE = 0.005


class Targets(dict):
    """Raking margins read from a file: a ``dict`` that remembers its ``file``
    (named in every error :func:`rake` raises about them)."""

    def __init__(self, margins: Mapping, *, file: str | None = None) -> None:
        super().__init__(margins)
        self.file = file


@dataclass(frozen=True, eq=False)
class RakingReport:
    """How raking went: convergence, weight spread and the margins achieved.

    Attributes
    ----------
    converged : bool
    iterations : int
        Full sweeps over the margins.
    max_deviation : float
        Worst ``|achieved - target| / target`` over every margin category.
    tolerance : float
    n : int
        Rows with a positive raked weight.
    efficiency : float
        Weighting efficiency ``(sum w)^2 / (n sum w^2)``.
    kish_deff : float
        Kish's design effect from weighting, ``1 + CV^2 = n sum w^2 / (sum w)^2``.
    effective_n : float
        ``n / kish_deff``.
    weight_min, weight_max, weight_ratio : float
        Smallest and largest positive weight and their ratio.
    cap : (low, high) or None
        Bounds on raked / initial weight, as applied.
    trim : float or None
        Maximum weight / mean weight, as applied.
    n_capped, n_trimmed : int
        Respondents held at a cap bound or trimmed in the last iteration.
    margins : pandas.DataFrame
        One row per margin category: margin, category (crossed cells as
        "code:code"), label, n, target, initial (weighted total before
        raking), achieved, deviation (relative).
    notes : tuple of str
        Adjustments made to the targets (shares scaled, totals reconciled).
    """

    converged: bool
    iterations: int
    max_deviation: float
    tolerance: float
    n: int
    efficiency: float
    kish_deff: float
    effective_n: float
    weight_min: float
    weight_max: float
    weight_ratio: float
    cap: tuple[float, float] | None
    trim: float | None
    n_capped: int
    n_trimmed: int
    margins: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.Series:
        """The scalar fields as a Series (for printing or a table row)."""
        names = ["converged", "iterations", "max_deviation", "tolerance", "n", "efficiency",
                 "kish_deff", "effective_n", "weight_min", "weight_max", "weight_ratio",
                 "n_capped", "n_trimmed"]
        return pd.Series({name: getattr(self, name) for name in names}, dtype=object)


def rake(survey: Survey, margins: Mapping, *, tolerance: float = 1e-10,
         max_iterations: int = 100, cap: float | tuple[float, float] | None = None,
         trim: float | None = None, name: str | None = None) -> Survey:
    """Rake the weights of ``survey`` to population margins.

    Parameters
    ----------
    survey : Survey
        Its design weight is the starting weight; the Survey is not changed.
    margins : mapping
        ``{column or (column, ...): {category: total}}``; see the module
        docstring for codes, labels, crossed margins and shares.  The result
        of :func:`read_targets` works as is.
    tolerance : float
        Stop when every margin category is within this relative deviation
        of its target.
    max_iterations : int
        Maximum sweeps over the margins before a WeightingError.
    cap : float or (low, high), optional
        Bounds on the adjustment factor: the raked weight over the initial
        weight scaled to the population total (a single number is the upper
        bound).
    trim : float, optional
        Maximum ratio of a weight to the mean weight.

        With ``cap`` or ``trim``, plain raking runs first; if its weights
        break a bound, raking continues with the bound enforced in every
        margin step (rows that would cross it are held at it, the rest of
        their category absorbs the difference). The report counts the
        respondents held (``n_capped``, ``n_trimmed``). Linearisation SEs
        then treat the weights as raked (the bounds are ignored by the
        variance, as R does after ``trimWeights``).
    name : str, optional
        Column for the raked weight (default ``<weight>_raked``); replicate
        weights ``r`` become ``r_raked``.

    Returns
    -------
    Survey
        Whose design weight is the raked weight, whose calibration makes
        linearisation SEs account for the raking (as R's ``svyrecvar``), and
        whose ``meta.notes["raking"]`` is the :class:`RakingReport`.

    Raises
    ------
    WeightingError
        Targets that do not fit the data (uncovered or absent categories,
        non-positive totals, totals that disagree, missing values in a
        margin variable) or raking that does not converge.

    Examples
    --------
    >>> import pandas as pd, surveytools as st
    >>> df = pd.DataFrame({"w": [1.0, 1, 1, 1], "g": [1, 1, 2, 2]})
    >>> st.rake(st.Survey(df, st.Design(weight="w")), {"g": {1: 0.25, 2: 0.75}}).weights.tolist()
    [0.5, 0.5, 1.5, 1.5]
    """
    file = getattr(margins, "file", None)
    bounds = _check_options(tolerance, max_iterations, cap, trim)
    resolved = _resolve_margins(survey, margins, file)
    initial = _weight_matrix(survey)
    targets, notes = _reconcile_totals(resolved, float(initial[:, 0].sum()), file)
    fit = ipf(initial, [m.rows for m in resolved], targets, tolerance=tolerance,
              max_iterations=max_iterations, cap=bounds, trim=trim)
    if not fit.converged:
        worst = int(np.argmax(fit.deviations))
        margin = resolved[worst]
        raise WeightingError(
            f"raking did not converge after {fit.iterations} iterations; the worst margin is "
            f"{margin.title!r}, category {margin.keys[fit.worst_category[worst]]!r}, "
            f"{fit.deviations[worst]:.3g} (relative) from its target",
            file=file or survey.meta.file, column=margin.title,
            expected=f"every margin within {tolerance:g} of its target",
            found=f"a worst relative deviation of {fit.deviations.max():.3g}",
            hint="raise max_iterations, loosen tolerance, collapse sparse categories "
                 "or loosen cap=/trim= (bounds that cannot all hold stop convergence)",
        )
    report = _report(survey, fit, resolved, targets, initial[:, 0], tolerance, bounds, trim, notes)
    return _raked_survey(survey, fit.weights, resolved, report, name)


def read_targets(path: str | Path) -> Targets:
    """Raking margins from a targets TOML file (the format of ``data/tracker/targets.toml``).

    ::

        population_size = 53000000          # optional: every margin must sum to it

        [margins.region]
        variables = ["region"]
        [margins.region.totals]
        "1" = 2130000                       # code (or value label) = population total
        "2" = 5730000

        [margins.age_band_gender]
        variables = ["age_band", "gender"]  # two or more: a crossed margin
        [margins.age_band_gender.totals]
        "1:1" = 2800000                     # codes joined by ":" in the order of variables

    Totals may be shares (a margin summing to 1); see :func:`rake`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Targets
        A dict ``{column or (column, ...): {category: total}}`` for :func:`rake`,
        with the file's path in ``.file``.

    Raises
    ------
    WeightingError
        A missing or malformed file, a margin without variables or totals, a
        crossed cell key with the wrong number of codes, or a margin that does
        not sum to ``population_size`` (more than 0.5% off).

    Examples
    --------
    >>> import tempfile, os
    >>> text = '[margins.sex]\\nvariables = ["sex"]\\ntotals = {"1" = 0.5, "2" = 0.5}\\n'
    >>> with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
    ...     _ = f.write(text)
    >>> dict(read_targets(f.name)); os.unlink(f.name)
    {'sex': {'1': 0.5, '2': 0.5}}
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise WeightingError("targets file not found", file=path,
                             hint="check the path of the targets file") from None
    except tomllib.TOMLDecodeError as exc:
        raise WeightingError(f"targets file is not valid TOML: {exc}", file=path,
                             hint="fix the TOML syntax at the position given") from None
    tables = document.get("margins")
    if not isinstance(tables, dict) or not tables:
        raise WeightingError("targets file has no margins", file=path,
                             expected="a [margins.<name>] table per margin",
                             found="keys " + ", ".join(document) if document else "an empty file",
                             hint="add [margins.region] with variables = [...] and a totals table")
    margins: dict[Any, dict] = {}
    for name, table in tables.items():
        variables, totals = _margin_table(table, name, path)
        if len(variables) == 1:
            margins[variables[0]] = dict(totals)
        else:
            margins[tuple(variables)] = {_cell_key(key, variables, name, path): total
                                         for key, total in totals.items()}
    population = document.get("population_size")
    if population is not None:
        _check_population_size(margins, population, path)
    return Targets(margins, file=str(path))


def _margin_table(table, name: str, path: Path) -> tuple[list[str], dict]:
    variables = table.get("variables") if isinstance(table, dict) else None
    totals = table.get("totals") if isinstance(table, dict) else None
    if not (isinstance(variables, list) and variables and all(isinstance(v, str) for v in variables)):
        raise WeightingError(f"margin {name!r} does not name its variables", file=path,
                             column=name, expected='variables = ["column", ...]',
                             found=repr(variables), hint=f"add variables = [...] under [margins.{name}]")
    if not isinstance(totals, dict) or not totals:
        raise WeightingError(f"margin {name!r} has no totals", file=path, column=name,
                             expected=f"a [margins.{name}.totals] table of \"code\" = total",
                             found=repr(totals), hint="list one population total per category")
    return variables, totals


def _cell_key(key: str, variables: list[str], name: str, path: Path) -> tuple:
    parts = tuple(key.split(":"))
    if len(parts) != len(variables):
        raise WeightingError(
            f"cell {key!r} of crossed margin {name!r} needs one code per variable", file=path,
            column=name, expected=f"{len(variables)} codes joined by ':' ({':'.join(variables)})",
            found=repr(key), hint='write the cell as "code1:code2", e.g. "3:2"')
    return parts


def _check_population_size(margins: dict, population, path: Path) -> None:
    for key, totals in margins.items():
        values = [v for v in totals.values() if isinstance(v, (int, float))]
        total = float(sum(values))
        if abs(total / population - 1.0) > TOTALS_AGREE and abs(total - 1.0) > TOTALS_AGREE:
            title = " x ".join(_margin_columns(key))
            raise WeightingError(
                f"margin {title!r} sums to {total:.6g}, not population_size {population:.6g} "
                f"({100 * (total / population - 1):+.2f}%)",
                file=path, column=title, expected="totals that sum to population_size",
                found=f"{total:.6g}", hint="correct the totals or population_size")


# -- margins resolved against one survey -----------------------------------
@dataclass(frozen=True, eq=False)
class _Margin:
    columns: tuple[str, ...]
    keys: list            # the categories as the caller wrote them
    codes: list           # the data values they stand for (tuples for crossed margins)
    totals: np.ndarray    # as given (totals or shares)
    rows: np.ndarray      # (n,) category of each row

    @property
    def title(self) -> str:
        return " x ".join(self.columns)


def _check_options(tolerance, max_iterations, cap, trim) -> tuple[float, float] | None:
    if not (isinstance(tolerance, (int, float)) and tolerance > 0):
        raise WeightingError("tolerance must be a positive number", found=repr(tolerance),
                             hint="pass tolerance=1e-8, say")
    if not (isinstance(max_iterations, int) and max_iterations >= 1):
        raise WeightingError("max_iterations must be a positive integer",
                             found=repr(max_iterations), hint="pass max_iterations=100, say")
    if trim is not None and not (isinstance(trim, (int, float)) and trim > 1):
        raise WeightingError("trim must be a number above 1 (maximum weight / mean weight)",
                             found=repr(trim), hint="pass trim=5, say")
    if cap is None:
        return None
    low, high = (0.0, cap) if isinstance(cap, (int, float)) else tuple(cap)
    if not (0 <= low < 1 < high):
        raise WeightingError("cap must be an upper bound above 1, or (low, high) with "
                             "0 <= low < 1 < high, on the ratio of raked to initial weight",
                             found=repr(cap), hint="pass cap=3 or cap=(0.3, 3), say")
    return float(low), float(high)


def _weight_matrix(survey: Survey) -> np.ndarray:
    design = survey.design
    columns = [design.weight]
    if isinstance(design, ReplicateDesign):
        columns += list(design.replicate_weights)
    return survey.data[columns].to_numpy(dtype=float)


def _margin_columns(key) -> tuple[str, ...]:
    return tuple(key) if isinstance(key, (tuple, list)) else (key,)


def _resolve_margins(survey: Survey, margins, file) -> list[_Margin]:
    if not isinstance(margins, Mapping) or not margins:
        raise WeightingError("margins must be a non-empty mapping", file=file,
                             found=repr(type(margins).__name__),
                             hint='pass margins={"age_band": {1: 5.6e6, 2: 9.0e6, ...}, ...}')
    return [_resolve_margin(survey, _margin_columns(key), categories, file, strict=True)
            for key, categories in margins.items()]


def _resolve_margin(survey: Survey, columns: tuple[str, ...], categories, file, *,
                    strict: bool) -> _Margin:
    """Match a margin's categories to data codes and code every row.

    ``strict`` (raking): a missing value or a category the margin does not
    cover is an error. Otherwise such rows get category -1.
    """
    data = survey.data
    title = " x ".join(columns)
    for column in columns:
        if column not in data.columns:
            raise WeightingError("margin variable not found in the data", file=file,
                                 column=column, expected=f"a column named {column!r}",
                                 hint="check the margin's name against the survey's columns")
        missing = np.flatnonzero(data[column].isna().to_numpy())
        if strict and len(missing):
            raise WeightingError(
                f"margin variable has {len(missing)} missing values",
                file=survey.meta.file, column=column, row=row_number(missing[0]),
                expected="a category for every respondent", found="a missing value",
                hint="impute or assign a category before raking")
    if not isinstance(categories, Mapping) or not categories:
        raise WeightingError("a margin must map categories to population totals",
                             file=file, column=title, found=repr(categories),
                             hint="pass {category: total, ...}")
    keys = list(categories)
    codes = [_resolve_key(survey, columns, key, file) for key in keys]
    totals = np.array([_total(categories[k], file, title, k) for k in keys])
    seen: dict = {}
    for key, code in zip(keys, codes):
        if code in seen:
            raise WeightingError(f"categories {seen[code]!r} and {key!r} are the same code",
                                 file=file, column=title, found=repr(code),
                                 hint="give each category once (as a code or as a label)")
        seen[code] = key
    frame = data[list(columns)]
    if len(columns) == 1:
        rows = pd.Index([c[0] for c in codes]).get_indexer(frame[columns[0]])
    else:
        rows = pd.MultiIndex.from_tuples(codes).get_indexer(
            pd.MultiIndex.from_frame(frame))
    uncovered = np.flatnonzero(rows < 0)
    if strict and len(uncovered):
        first = uncovered[0]
        value = tuple(frame.iloc[first])
        shown = ", ".join(_describe(survey, c, v) for c, v in zip(columns, value))
        raise WeightingError(
            f"the data hold a category the margin {title!r} does not cover "
            f"({len(uncovered)} respondents)" + (f" in the targets file {file}" if file else ""),
            file=survey.meta.file, column=title, row=row_number(first),
            expected="a target for every category in the data",
            found=shown, hint="add a target for that category, or recode/collapse it in the "
                              "data (e.g. 'Prefer not to say') before raking")
    weights = survey.weights.to_numpy()
    present = np.bincount(rows[rows >= 0], weights=weights[rows >= 0], minlength=len(codes))
    absent = np.flatnonzero(present <= 0)
    if strict and len(absent):
        key = keys[absent[0]]
        raise WeightingError(
            f"target category {key!r} of margin {title!r} has no respondents "
            "with a positive weight in the data",
            file=file, column=title, expected="respondents in every target category",
            found=f"{len(absent)} empty categories",
            hint="collapse the category with a neighbouring one in the targets and the data")
    return _Margin(columns, keys, [c if len(columns) > 1 else c[0] for c in codes], totals, rows)


def _resolve_key(survey: Survey, columns, key, file) -> tuple:
    parts = tuple(key) if len(columns) > 1 and isinstance(key, (tuple, list)) else (key,)
    if len(parts) != len(columns):
        raise WeightingError(
            f"category {key!r} of a crossed margin needs one category per column",
            file=file, column=" x ".join(columns),
            expected=f"a tuple of {len(columns)} ({', '.join(columns)})", found=repr(key),
            hint="write crossed categories as tuples, e.g. ('18-24', 'Woman')")
    return tuple(_resolve_value(survey, c, p, file) for c, p in zip(columns, parts))


def _resolve_value(survey: Survey, column: str, key, file):
    """The data value that a target category (code or value label) stands for."""
    values = pd.unique(survey.data[column].dropna())
    match = _equal_value(values, key)
    if match is not None:
        return match
    labels = survey.meta.value_labels.get(column, {})
    if isinstance(key, str):
        wanted = key.strip().casefold()
        for code, label in labels.items():
            if str(label).strip().casefold() == wanted:
                return _equal_value(values, code, default=code)
        try:
            number = float(key)
        except ValueError:
            number = None
        if number is not None:
            match = _equal_value(values, number)
            if match is not None:
                return match
            if any(_equal_value([code], number) is not None for code in labels):
                return number
    shown = ", ".join(_describe(survey, column, v) for v in sorted(values, key=str)[:15])
    raise WeightingError(
        f"target category {key!r} is neither a code in the data nor a value label",
        file=file, column=column, expected="a code or value label of the column",
        found=f"categories {shown}", hint="correct the category in the targets")


def _equal_value(values, key, default=None):
    for value in values:
        try:
            if value == key or (not isinstance(value, str) and not isinstance(key, str)
                                and float(value) == float(key)):
                return value
        except (TypeError, ValueError):
            continue
    return default


def _describe(survey: Survey, column: str, value) -> str:
    code = value
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        code = int(value)
    label = survey.meta.value_label(column, value)
    shown = f"{column}={code!r}"
    return shown + (f" ({label})" if label != str(code) else "")


def _total(value, file, title, key) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not np.isfinite(value) or value <= 0:
        raise WeightingError(
            f"the target of category {key!r} must be a positive number",
            file=file, column=title, expected="a population total or share > 0",
            found=repr(value), hint="give every category a positive target, or collapse "
                                    "an empty category with a neighbour")
    return float(value)


def _reconcile_totals(margins: list[_Margin], weighted_total: float, file):
    """Population totals of every margin: shares scaled, rounding removed."""
    sums = np.array([m.totals.sum() for m in margins])
    shares = np.abs(sums - 1.0) <= TOTALS_AGREE
    notes = []
    population = sums[~shares][0] if (~shares).any() else weighted_total
    if shares.any():
        notes.append(f"margins {', '.join(m.title for m, s in zip(margins, shares) if s)} "
                     f"read as shares of {population:.6g}")
    implied = np.where(shares, population, sums)
    gap = implied.max() / implied.min() - 1.0
    if gap > TOTALS_AGREE:
        high, low = int(np.argmax(implied)), int(np.argmin(implied))
        raise WeightingError(
            f"the margins imply different population totals: {margins[high].title!r} sums to "
            f"{implied[high]:.6g} and {margins[low].title!r} to {implied[low]:.6g} "
            f"({100 * gap:.2f}% apart)",
            file=file, expected=f"totals within {100 * TOTALS_AGREE:g}% of each other",
            found=f"{100 * gap:.2f}% apart",
            hint="use totals for the same population and date in every margin")
    if gap > 1e-12:
        notes.append(f"margin totals up to {100 * gap:.3f}% apart were scaled to "
                     f"{implied[0]:.6g} (the first margin)")
    targets = [m.totals / m.totals.sum() * implied[0] if s or gap > 1e-12 else m.totals
               for m, s in zip(margins, shares)]
    return targets, tuple(notes)


# -- results -----------------------------------------------------------------
def weight_summary(weights) -> dict[str, float]:
    """Spread of the positive weights: n, sum, min, max, ratio, mean, CV,
    Kish design effect, efficiency and effective n.

    Examples
    --------
    >>> s = weight_summary([1.0, 1.0, 2.0, 4.0])
    >>> s["kish_deff"], s["efficiency"], s["effective_n"]
    (1.375, 0.7272727272727273, 2.909090909090909)
    """
    w = np.asarray(weights, dtype=float)
    w = w[w > 0]
    n, total = len(w), w.sum()
    deff = n * (w ** 2).sum() / total ** 2
    return {"n": n, "sum_weights": float(total), "min": float(w.min()), "max": float(w.max()),
            "ratio": float(w.max() / w.min()), "mean": float(total / n),
            "cv": float(np.sqrt(max(deff - 1.0, 0.0))), "kish_deff": float(deff),
            "efficiency": float(1.0 / deff), "effective_n": float(n / deff)}


def _category_text(key) -> str:
    """A category as the targets file writes it: crossed cells as "code:code"."""
    return ":".join(map(str, key)) if isinstance(key, tuple) else str(key)


def _category_label(survey: Survey, margin: _Margin, j: int) -> str:
    codes = margin.codes[j] if len(margin.columns) > 1 else (margin.codes[j],)
    return ", ".join(survey.meta.value_label(c, v) for c, v in zip(margin.columns, codes))


def _report(survey, fit, margins, targets, initial, tolerance, cap, trim, notes) -> RakingReport:
    final = fit.weights[:, 0]
    rows = []
    for margin, target in zip(margins, targets):
        before = np.bincount(margin.rows, weights=initial, minlength=len(target))
        after = np.bincount(margin.rows, weights=final, minlength=len(target))
        count = np.bincount(margin.rows, minlength=len(target))
        for j, key in enumerate(margin.keys):
            rows.append({"margin": margin.title, "category": _category_text(key),
                         "label": _category_label(survey, margin, j), "n": int(count[j]), "target": target[j], "initial": before[j],
                         "achieved": after[j], "deviation": after[j] / target[j] - 1.0})
    stats = weight_summary(final)
    return RakingReport(
        converged=fit.converged, iterations=fit.iterations,
        max_deviation=float(fit.deviations.max()), tolerance=tolerance, n=stats["n"],
        efficiency=stats["efficiency"], kish_deff=stats["kish_deff"],
        effective_n=stats["effective_n"], weight_min=stats["min"], weight_max=stats["max"],
        weight_ratio=stats["ratio"], cap=cap, trim=trim, n_capped=fit.n_capped,
        n_trimmed=fit.n_trimmed, margins=pd.DataFrame(rows), notes=notes)


def _fresh_name(data: pd.DataFrame, base: str) -> str:
    name, k = base, 1
    while name in data.columns:
        k += 1
        name = f"{base}{k}"
    return name


def _raked_survey(survey: Survey, weights: np.ndarray, margins, report, name) -> Survey:
    design = survey.design
    data = survey.data
    if name is not None and name in data.columns:
        raise WeightingError("the column for the raked weight already exists",
                             file=survey.meta.file, column=name,
                             expected="a new column name", found="an existing column",
                             hint="pass another name= (the data are never overwritten)")
    weight_name = name or _fresh_name(data, f"{design.weight}_raked")
    new = {weight_name: weights[:, 0]}
    if isinstance(design, ReplicateDesign):
        replicate_names = [_fresh_name(data, f"{c}_raked") for c in design.replicate_weights]
        new.update(zip(replicate_names, weights[:, 1:].T))
        new_design = design.replace(weight=weight_name, replicate_weights=replicate_names)
        calibration = None  # replicate variance sees the raking through the raked replicates
    else:
        new_design = design.replace(weight=weight_name)
        calibration = RakingCalibration(tuple(m.rows for m in margins), weights[:, 0],
                                        previous=survey.calibration)
    meta = survey.meta.replace(notes={**survey.meta.notes, "raking": report})
    return survey.replace(data=data.assign(**new), design=new_design, meta=meta,
                          calibration=calibration)


# -- audit across waves --------------------------------------------------------
def _named_surveys(surveys) -> list[tuple[str, Survey]]:
    if isinstance(surveys, Survey):
        return [(surveys.wave or "survey", surveys)]
    if hasattr(surveys, "names") and not isinstance(surveys, Mapping):
        return [(str(n), surveys[n]) for n in surveys.names]
    if isinstance(surveys, Mapping):
        return [(str(k), v) for k, v in surveys.items()]
    if isinstance(surveys, Sequence):
        return [(s.wave or str(i + 1), s) for i, s in enumerate(surveys)]
    raise WeightingError("weighting_audit needs surveys", found=type(surveys).__name__,
                         hint="pass a Tracker, a {label: Survey} dict or a list of Surveys")


def weighting_audit(surveys, margins: Mapping | None = None) -> pd.DataFrame:
    """The spread of the weights of every wave, and how far each is from the targets.

    Parameters
    ----------
    surveys : Tracker, mapping of label -> Survey, list of Surveys, or a Survey
    margins : mapping, optional
        Population margins (as for :func:`rake`). Adds, per wave, the largest
        gap in percentage points between a population share and the
        unweighted and the weighted sample share; :func:`margin_audit` gives
        every category.

    Returns
    -------
    pandas.DataFrame
        Indexed by wave: n (positive weights), sum_weights, min, max, ratio
        (max/min), mean, cv, kish_deff, efficiency, effective_n.

    Examples
    --------
    >>> import pandas as pd, surveytools as st
    >>> df = pd.DataFrame({"w": [1.0, 1.0, 2.0, 4.0]})
    >>> float(weighting_audit({"2024": st.Survey(df, st.Design(weight="w"))})["kish_deff"].iloc[0])
    1.375
    """
    named = _named_surveys(surveys)
    table = pd.DataFrame([weight_summary(s.weights) for _, s in named],
                         index=pd.Index([n for n, _ in named], name="wave"))
    if margins is not None:
        shares = margin_audit(dict(named), margins)
        gaps = shares.assign(
            unweighted=(shares["unweighted_share"] - shares["population_share"]).abs() * 100,
            weighted=(shares["weighted_share"] - shares["population_share"]).abs() * 100)
        worst = gaps.groupby("wave", sort=False)[["unweighted", "weighted"]].max()
        table["max_gap_unweighted_pp"] = worst["unweighted"]
        table["max_gap_weighted_pp"] = worst["weighted"]
    return table


def margin_audit(surveys, margins: Mapping) -> pd.DataFrame:
    """Unweighted and weighted sample shares of every margin category against the
    population shares, wave by wave.

    Returns a long DataFrame: wave, margin, category, label, n, population_share,
    unweighted_share, weighted_share. Sample categories that the margin does
    not cover appear with a missing population share; rows with a missing
    value in a margin variable are left out of that margin's shares.
    """
    file = getattr(margins, "file", None)
    rows = []
    for wave, survey in _named_surveys(surveys):
        weights = survey.weights.to_numpy()
        for key, categories in margins.items():
            margin = _resolve_margin(survey, _margin_columns(key), categories, file,
                                     strict=False)
            known = margin.rows >= 0
            complete = ~survey.data[list(margin.columns)].isna().any(axis=1).to_numpy()
            population = margin.totals / margin.totals.sum()
            count = np.bincount(margin.rows[known], minlength=len(population))
            weighted = np.bincount(margin.rows[known], weights=weights[known],
                                   minlength=len(population))
            for j, category in enumerate(margin.keys):
                rows.append({"wave": wave, "margin": margin.title,
                             "category": _category_text(category),
                             "label": _category_label(survey, margin, j), "n": int(count[j]), "population_share": population[j],
                             "unweighted_share": count[j] / complete.sum(),
                             "weighted_share": weighted[j] / weights[complete].sum()})
            other = complete & ~known
            if other.any():
                rows.append({"wave": wave, "margin": margin.title, "category": "(not in targets)",
                             "label": "", "n": int(other.sum()), "population_share": np.nan,
                             "unweighted_share": other.sum() / complete.sum(),
                             "weighted_share": weights[other].sum() / weights[complete].sum()})
    return pd.DataFrame(rows)
