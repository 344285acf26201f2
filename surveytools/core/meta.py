"""Metadata of a survey file: labels, user-missing codes, measure levels.

What an SPSS file (or a CSV codebook) says about its variables travels with
the data in a frozen :class:`Metadata`.  The data keep the codes that are in
the file; labels are one look-up away.

Examples
--------
>>> from surveytools.meta import Metadata, MissingSpec
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
from collections.abc import Mapping
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
    """

    variable_labels: Mapping[str, str] = field(default_factory=dict)
    value_labels: Mapping[str, Mapping[Any, str]] = field(default_factory=dict)
    missing: Mapping[str, MissingSpec] = field(default_factory=dict)
    measure: Mapping[str, str] = field(default_factory=dict)
    encoding: str | None = None
    file: str | None = None
    wave: str | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "variable_labels", _frozen_mapping(self.variable_labels))
        object.__setattr__(
            self, "value_labels", _frozen_mapping(self.value_labels, inner=_frozen_mapping)
        )
        object.__setattr__(self, "missing", _frozen_mapping(self.missing, inner=_as_missing))
        object.__setattr__(self, "measure", _frozen_mapping(self.measure))
        object.__setattr__(self, "notes", _frozen_mapping(self.notes))

    def replace(self, **changes) -> "Metadata":
        """A copy with ``changes`` applied; the original is unchanged."""
        return dataclasses.replace(self, **changes)

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

        return self.replace(
            variable_labels=remap(self.variable_labels),
            value_labels={k: dict(v) for k, v in remap(self.value_labels).items()},
            missing=remap(self.missing),
            measure=remap(self.measure),
        )


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
