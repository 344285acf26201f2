"""Metadata of a survey file: labels, user-missing codes, measure levels.

What an SPSS file (or a CSV codebook) says about its variables travels with
the data in a frozen :class:`Metadata`.  The data keep the codes that are in
the file; labels are one look-up away.

Examples
--------
>>> from surveytools.core.meta import Metadata, MissingSpec
>>> meta = Metadata(variable_labels={"q1": "Trust the NHS"},
...                 value_labels={"q1": {8: "Don't know"}},
...                 missing={"q1": MissingSpec(values=(8,))})
>>> meta.value_labels["q1"][8]
"Don't know"
>>> 8 in meta.missing["q1"]
True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

MEASURES = ("nominal", "ordinal", "scale", "unknown")


@dataclass(frozen=True)
class MissingSpec:
    """User-missing codes of one variable: discrete values and closed ranges.

    Examples
    --------
    >>> spec = MissingSpec(values=(98, 99), ranges=((-9, -1),))
    >>> -3 in spec, 98 in spec, 5 in spec
    (True, True, False)
    """

    values: tuple[Any, ...] = ()
    ranges: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))
        object.__setattr__(self, "ranges", tuple((lo, hi) for lo, hi in self.ranges))

    def __contains__(self, value: Any) -> bool:
        if value in self.values:
            return True
        try:
            return any(lo <= value <= hi for lo, hi in self.ranges)
        except TypeError:
            return False

    def __bool__(self) -> bool:
        return bool(self.values or self.ranges)

    def mask(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Boolean array: True where a value is user-missing."""
        arr = pd.Series(values)
        out = arr.isin(list(self.values)).to_numpy() if self.values else np.zeros(len(arr), bool)
        if self.ranges:
            numeric = pd.to_numeric(arr, errors="coerce").to_numpy(dtype=float)
            for lo, hi in self.ranges:
                out = out | ((numeric >= lo) & (numeric <= hi))
        return out

    def to_dict(self) -> dict:
        return {"values": list(self.values), "ranges": [list(r) for r in self.ranges]}


def _frozen_mapping(value: Mapping | None, inner=None) -> Mapping:
    value = dict(value or {})
    if inner is not None:
        value = {k: inner(v) for k, v in value.items()}
    return MappingProxyType(value)


@dataclass(frozen=True)
class Metadata:
    """Everything a survey file says about its variables.

    Parameters
    ----------
    variable_labels : mapping of column -> question wording
    value_labels : mapping of column -> {code: label}
    missing : mapping of column -> :class:`MissingSpec`
    measure : mapping of column -> "nominal" | "ordinal" | "scale" | "unknown"
    encoding : str, optional
        Text encoding the file declared (or was read with).
    file : str, optional
        The path the data came from, for error messages and provenance.
    wave : str, optional
        The wave label, when the data is one wave of a tracker.
    notes : mapping
        Free-form provenance (fieldwork dates, file hash, harmonisation).
    counted_as_answers : mapping of column -> tuple of codes
        Codes that look like non-answers (a "Don't know" meant as an answer)
        but were declared answers on purpose: the non-answer audit
        (:mod:`surveytools.core.nonanswers`) does not list them.

    Change one variable's declarations with :meth:`with_missing`,
    :meth:`without_missing` and :meth:`count_as_answer`; the others stay as
    they are.
    """

    variable_labels: Mapping[str, str] = field(default_factory=dict)
    value_labels: Mapping[str, Mapping[Any, str]] = field(default_factory=dict)
    missing: Mapping[str, MissingSpec] = field(default_factory=dict)
    measure: Mapping[str, str] = field(default_factory=dict)
    encoding: str | None = None
    file: str | None = None
    wave: str | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)
    counted_as_answers: Mapping[str, tuple] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "variable_labels", _frozen_mapping(self.variable_labels))
        object.__setattr__(
            self, "value_labels", _frozen_mapping(self.value_labels, inner=_frozen_mapping)
        )
        object.__setattr__(self, "missing", _frozen_mapping(self.missing, inner=_as_missing))
        object.__setattr__(self, "measure", _frozen_mapping(self.measure))
        object.__setattr__(self, "notes", _frozen_mapping(self.notes))
        object.__setattr__(self, "counted_as_answers",
                           _frozen_mapping(self.counted_as_answers, inner=_codes_tuple))

    def replace(self, **changes) -> "Metadata":
        """A copy with ``changes`` applied; the original is unchanged.

        A new ``missing`` mapping must name every variable that has
        declarations now: dropping one would silently turn its non-answers
        into answers.  To change one variable use :meth:`with_missing`.
        """
        if "missing" in changes:
            new = changes["missing"] or {}
            dropped = sorted(c for c, spec in self.missing.items() if spec and c not in new)
            if dropped:
                from .errors import DataError

                raise DataError(
                    "replace(missing=...) would drop the user-missing codes of other variables",
                    file=self.file, column=", ".join(dropped[:5]) + (" ..." if len(dropped) > 5 else ""),
                    expected="a mapping that keeps every declared variable",
                    found=f"{len(dropped)} declared variables missing from the new mapping",
                    hint="change one variable at a time: meta.with_missing('q1', [8, 9]) "
                         "(adds codes) or meta.without_missing('q1', [8]) (removes them)",
                )
        return dataclasses.replace(self, **changes)

    def with_missing(self, column: str, values: Iterable = (), *,
                     ranges: Iterable[tuple[float, float]] = ()) -> "Metadata":
        """A copy in which ``values`` (and closed ``ranges``) are also user-missing
        codes of ``column``; every other declaration is unchanged.

        Examples
        --------
        >>> meta = Metadata(missing={"q1": MissingSpec(ranges=((-9, -1),)), "q2": [99]})
        >>> new = meta.with_missing("q1", [8, 9])
        >>> new.missing["q1"], new.missing["q2"] == meta.missing["q2"]
        (MissingSpec(values=(8, 9), ranges=((-9, -1),)), True)
        """
        old = self.missing.get(column, MissingSpec())
        values = tuple(dict.fromkeys([*old.values, *map(plain_code, values)]))
        ranges = tuple(dict.fromkeys([*old.ranges, *((lo, hi) for lo, hi in ranges)]))
        answers = tuple(c for c in self.counted_as_answers.get(column, ()) if c not in values)
        return self._with_column(column, MissingSpec(values=values, ranges=ranges), answers)

    def without_missing(self, column: str, values: Iterable) -> "Metadata":
        """A copy in which ``values`` are no longer user-missing codes of ``column``
        (ranges stay); every other declaration is unchanged."""
        old = self.missing.get(column, MissingSpec())
        gone = {plain_code(v) for v in values}
        spec = MissingSpec(values=tuple(v for v in old.values if plain_code(v) not in gone),
                           ranges=old.ranges)
        return self._with_column(column, spec, self.counted_as_answers.get(column, ()))

    def count_as_answer(self, column: str, values: Iterable) -> "Metadata":
        """A copy in which ``values`` of ``column`` are answers on purpose: no longer
        user-missing, and left out of the non-answer audit.

        Examples
        --------
        >>> meta = Metadata(missing={"q": [8]}).count_as_answer("q", [8])
        >>> "q" in meta.missing, meta.counted_as_answers["q"]
        (False, (8,))
        """
        values = tuple(map(plain_code, values))
        without = self.without_missing(column, values)
        answers = tuple(dict.fromkeys([*self.counted_as_answers.get(column, ()), *values]))
        return without._with_column(column, without.missing.get(column, MissingSpec()), answers)

    def _with_column(self, column: str, spec: MissingSpec, answers: tuple) -> "Metadata":
        missing = {c: s for c, s in self.missing.items() if c != column}
        if spec:
            missing[column] = spec
        counted = {c: a for c, a in self.counted_as_answers.items() if c != column}
        if answers:
            counted[column] = answers
        return dataclasses.replace(self, missing=missing, counted_as_answers=counted)

    def label(self, column: str) -> str:
        """The question wording of ``column``, or the column name."""
        return self.variable_labels.get(column) or column

    def value_label(self, column: str, code: Any) -> str:
        """The label of ``code`` in ``column``, or the code as text."""
        labels = self.value_labels.get(column, {})
        if code in labels:
            return labels[code]
        if isinstance(code, float) and code.is_integer() and int(code) in labels:
            return labels[int(code)]
        return code_text(code)

    def missing_mask(self, column: str, values) -> np.ndarray:
        """True where ``values`` of ``column`` are user-missing codes."""
        spec = self.missing.get(column)
        if not spec:
            return np.zeros(len(values), dtype=bool)
        return spec.mask(values)

    def rename(self, names: Mapping[str, str]) -> "Metadata":
        """A copy whose columns ``old`` are called ``names[old]``.

        Examples
        --------
        >>> Metadata(variable_labels={"a": "A"}).rename({"a": "b"}).variable_labels["b"]
        'A'
        """

        return self._per_variable(lambda column: names.get(column, column))

    def to_dict(self) -> dict:
        """A JSON-ready dict; :meth:`from_dict` turns it back into an equal Metadata.

        Value labels are lists of ``[code, label]`` pairs so that numeric codes
        stay numbers. Notes must hold JSON values (dates are written as ISO text).

        Examples
        --------
        >>> meta = Metadata(value_labels={"q": {8: "Don't know"}})
        >>> Metadata.from_dict(meta.to_dict()) == meta
        True
        """
        return {
            "variable_labels": dict(self.variable_labels),
            "value_labels": {c: [[k, v] for k, v in labels.items()]
                             for c, labels in self.value_labels.items()},
            "missing": {c: spec.to_dict() for c, spec in self.missing.items()},
            "measure": dict(self.measure),
            "encoding": self.encoding,
            "file": self.file,
            "wave": self.wave,
            "notes": dict(self.notes),
            "counted_as_answers": {c: list(v) for c, v in self.counted_as_answers.items()},
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text (dates in notes as ISO text)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, default=_json_value)

    @classmethod
    def from_json(cls, text: str) -> "Metadata":
        """The Metadata that :meth:`to_json` wrote."""
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: Mapping) -> "Metadata":
        """The Metadata that :meth:`to_dict` wrote."""
        return cls(
            variable_labels=data.get("variable_labels", {}),
            value_labels={c: {k: v for k, v in pairs}
                          for c, pairs in data.get("value_labels", {}).items()},
            missing=data.get("missing", {}),
            measure=data.get("measure", {}),
            encoding=data.get("encoding"),
            file=data.get("file"),
            wave=data.get("wave"),
            notes=data.get("notes", {}),
            counted_as_answers=data.get("counted_as_answers", {}),
        )

    def restrict(self, columns) -> "Metadata":
        """Metadata of ``columns`` only (e.g. after selecting columns)."""
        keep = set(columns)
        return self._per_variable(lambda column: column if column in keep else None)

    def _per_variable(self, key) -> "Metadata":
        """A copy whose per-variable mappings are re-keyed by ``key(column)``
        (``None`` drops the column)."""

        def remap(mapping):
            return {new: v for k, v in mapping.items() if (new := key(k)) is not None}

        return dataclasses.replace(
            self,
            variable_labels=remap(self.variable_labels),
            value_labels={k: dict(v) for k, v in remap(self.value_labels).items()},
            missing=remap(self.missing),
            measure=remap(self.measure),
            counted_as_answers=remap(self.counted_as_answers),
        )


def _codes_tuple(value) -> tuple:
    return tuple(plain_code(v) for v in value)


def _as_missing(value) -> MissingSpec:
    if isinstance(value, MissingSpec):
        return value
    if isinstance(value, Mapping):
        return MissingSpec(values=tuple(value.get("values", ())), ranges=tuple(value.get("ranges", ())))
    return MissingSpec(values=tuple(value))


def plain_code(code: Any) -> Any:
    """Integral float codes as int (``98.0`` -> ``98``); other values unchanged.

    >>> plain_code(98.0), plain_code(1.5), plain_code("a")
    (98, 1.5, 'a')
    """
    if isinstance(code, (float, np.floating)) and float(code).is_integer():
        return int(code)
    return code


def code_text(code: Any) -> str:
    """A code as a person writes it, the one spelling used in every output.

    >>> code_text(3.0), code_text(1.5), code_text("a")
    ('3', '1.5', 'a')
    """
    return str(plain_code(code))


def _json_value(value: Any):
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"metadata notes must hold JSON values, not {type(value).__name__}")
