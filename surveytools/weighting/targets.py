"""Raking targets: population margins read from a TOML file into an immutable mapping.

This module owns the targets file (the format of ``data/tracker/targets.toml``)
and :class:`Targets`, the read-only ``{column or (column, ...): {category:
total}}`` mapping that :func:`surveytools.weighting.rake.rake` and the audits
take as it is.  Field checks are those of :mod:`surveytools.core.schema`;
every fault is a WeightingError naming the file and the margin.

Examples
--------
>>> targets = read_targets("data/tracker/targets.toml")
>>> list(targets)[:2], targets["region"]["7"]
([('age_band', 'gender'), 'region'], 6966585)
>>> targets.file
'data/tracker/targets.toml'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..core.errors import WeightingError
from ..core.schema import Source
from .margins import TOTALS_AGREE, margin_title


class Targets(Mapping):
    """Raking margins read from a file: an immutable mapping that remembers its ``file``.

    ``{column or (column, ...): {category: total}}``; the inner mappings are
    read-only too.  ``file`` is named in every error :func:`surveytools.rake` raises
    about the targets.  A dict comprehension over ``targets.items()`` gives a
    plain (changeable) dict of the margins wanted.

    Examples
    --------
    >>> t = Targets({"sex": {1: 0.5, 2: 0.5}}, file="targets.toml")
    >>> t["sex"][2], t.file, len(t)
    (0.5, 'targets.toml', 1)
    >>> t["sex"][3] = 0.1
    Traceback (most recent call last):
    ...
    TypeError: 'mappingproxy' object does not support item assignment
    """

    __slots__ = ("_margins", "_file")

    def __init__(self, margins: Mapping, *, file: str | None = None) -> None:
        frozen = {key: MappingProxyType(dict(totals)) if isinstance(totals, Mapping) else totals
                  for key, totals in margins.items()}
        object.__setattr__(self, "_margins", MappingProxyType(frozen))
        object.__setattr__(self, "_file", None if file is None else str(file))

    @property
    def file(self) -> str | None:
        """The targets file the margins were read from."""
        return self._file

    def __getitem__(self, key) -> Mapping:
        return self._margins[key]

    def __iter__(self) -> Iterator:
        return iter(self._margins)

    def __len__(self) -> int:
        return len(self._margins)

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"Targets cannot be changed (setting {name!r}); "
                             "build new Targets from a dict of the margins")

    def __reduce__(self):
        return (_rebuild, (self.to_dict(), self._file))

    def __repr__(self) -> str:
        return f"Targets({self.to_dict()!r}, file={self._file!r})"

    def to_dict(self) -> dict:
        """The margins as plain, changeable dicts (a copy)."""
        return {key: dict(totals) if isinstance(totals, Mapping) else totals
                for key, totals in self._margins.items()}


def _rebuild(margins: dict, file: str | None) -> Targets:
    return Targets(margins, file=file)


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

    Totals may be shares (a margin summing to 1); see :func:`surveytools.rake`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Targets
        An immutable mapping ``{column or (column, ...): {category: total}}``
        for :func:`surveytools.rake`, with the file's path in ``.file``.

    Raises
    ------
    WeightingError
        A missing file, text that is not UTF-8 or not TOML, a margin without
        variables or totals, a crossed cell key with the wrong number of
        codes, or a margin that does not sum to ``population_size`` (more
        than 0.5% off).

    Examples
    --------
    >>> import tempfile, os
    >>> text = '[margins.sex]\\nvariables = ["sex"]\\ntotals = {"1" = 0.5, "2" = 0.5}\\n'
    >>> with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
    ...     _ = f.write(text)
    >>> read_targets(f.name).to_dict(); os.unlink(f.name)
    {'sex': {'1': 0.5, '2': 0.5}}
    """
    source = Source(path, what="targets file", error=WeightingError)
    document = source.read(hint="check the path of the targets file")
    tables = source.table(document, "margins", where="the targets file", required=True,
                          expected="a [margins.<name>] table per margin",
                          found="keys " + ", ".join(document) if document else "an empty file",
                          hint="add [margins.region] with variables = [...] and a totals table")
    margins: dict[Any, dict] = {}
    for name, table in tables.items():
        variables, totals = _margin_table(source.at(name), table, name)
        if len(variables) == 1:
            margins[variables[0]] = dict(totals)
        else:
            margins[tuple(variables)] = {_cell_key(source.at(name), key, variables, name): total
                                         for key, total in totals.items()}
    population = document.get("population_size")
    if population is not None:
        _check_population_size(source, margins, population)
    return Targets(margins, file=str(source.file))


def _margin_table(margin: Source, table, name: str) -> tuple[list[str], dict]:
    variables = table.get("variables") if isinstance(table, dict) else None
    if not (isinstance(variables, list) and variables and all(isinstance(v, str) for v in variables)):
        raise margin.fault(f"margin {name!r} does not name its variables",
                           expected='variables = ["column", ...]', found=repr(variables),
                           hint=f"add variables = [...] under [margins.{name}]")
    totals = margin.table(table, "totals", where=f"margin {name!r}", required=True,
                          expected=f"a [margins.{name}.totals] table of \"code\" = total",
                          hint="list one population total per category")
    return variables, totals


def _cell_key(margin: Source, key: str, variables: list[str], name: str) -> tuple:
    parts = tuple(key.split(":"))
    if len(parts) != len(variables):
        raise margin.fault(
            f"cell {key!r} of crossed margin {name!r} needs one code per variable",
            expected=f"{len(variables)} codes joined by ':' ({':'.join(variables)})",
            found=repr(key), hint='write the cell as "code1:code2", e.g. "3:2"')
    return parts


def _check_population_size(source: Source, margins: dict, population) -> None:
    for key, totals in margins.items():
        values = [v for v in totals.values() if isinstance(v, (int, float))]
        total = float(sum(values))
        if abs(total / population - 1.0) > TOTALS_AGREE and abs(total - 1.0) > TOTALS_AGREE:
            title = margin_title(key)
            raise source.at(title).fault(
                f"margin {title!r} sums to {total:.6g}, not population_size {population:.6g} "
                f"({100 * (total / population - 1):+.2f}%)",
                expected="totals that sum to population_size", found=f"{total:.6g}",
                hint="correct the totals or population_size")
