"""CSV waves and their JSON codebooks: reading the CSV, reading and writing the codebook.

This module owns the codebook format and reading a CSV wave through it.
A CSV file holds no labels, so a CSV wave comes with a codebook
(``wave.codebook.json``) that carries what an SPSS file would: variable and
value labels, user-missing codes and ranges, measure levels and the CSV's
text encoding.  Every CSV column must be described in the codebook, and every
code in the codebook must be of its variable's type.

Numeric variables are read as float64 (as SPSS and pyreadstat do), string
variables as pandas strings; an empty numeric field is a system-missing value,
an empty string field is the empty string.

Examples
--------
>>> import tempfile, pathlib, pandas as pd
>>> from surveytools.core.meta import Metadata
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> data = pd.DataFrame({"q1": [1.0, 8.0]})
>>> data.to_csv(folder / "w.csv", index=False)
>>> meta = Metadata(value_labels={"q1": {1: "Yes", 8: "Don't know"}}, missing={"q1": [8]})
>>> write_codebook(meta, folder / "w.codebook.json", data=data)
>>> frame, back = read_csv(folder / "w.csv", folder / "w.codebook.json")
>>> back.value_labels["q1"][8], 8 in back.missing["q1"]
("Don't know", True)
"""

from __future__ import annotations

import csv
import gzip
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import DataError, FileFormatError, row_number
from ..core.files import atomic_write
from ..core.meta import MEASURES, Metadata, MissingSpec, code_text, plain_code
from ..core.schema import Source
from .charset import DEFAULT, encoding_name, undecodable

FORMAT = "surveytools-codebook"
VERSION = 1
TYPES = ("numeric", "string")
_TOP_KEYS = {"format", "version", "encoding", "variables", "description"}
_VARIABLE_KEYS = {"label", "type", "measure", "value_labels", "missing"}


@dataclass(frozen=True)
class Codebook:
    """What a codebook says: each column's type, the metadata, the CSV encoding."""

    types: Mapping[str, str]
    meta: Metadata
    encoding: str


def codebook_path(csv_path: Path) -> Path:
    """The default codebook of a CSV: ``wave.csv`` / ``wave.csv.gz`` -> ``wave.codebook.json``."""
    name = csv_path.name
    stem = name[: -len(".csv.gz")] if name.lower().endswith(".csv.gz") else csv_path.stem
    return csv_path.with_name(stem + ".codebook.json")


def read_codebook(path: Path) -> Codebook:
    """Parse and check a codebook, naming the file and variable of any fault.

    Raises
    ------
    FileFormatError
        A missing file, text that is not UTF-8 JSON, an unknown key, type or
        measure level, codes or user-missing values not of the variable's type.
    """
    source = Source(path, what="codebook", error=FileFormatError, format="JSON",
                    guide="the format is in the docs of st.write_codebook")
    book = source.read(hint="write one with st.write_codebook(meta, path, data=frame), "
                            "or pass codebook=")
    if not isinstance(book, dict) or book.get("format") != FORMAT or book.get("version") != VERSION:
        raise source.fault(
            "not a surveytools codebook", key="format",
            expected=f'"format": "{FORMAT}", "version": {VERSION}',
            found=repr({k: book.get(k) for k in ("format", "version")} if isinstance(book, dict)
                       else type(book).__name__),
            hint="start the codebook with those two keys",
        )
    source.check_keys(book, _TOP_KEYS, where="the codebook")
    variables = source.table(book, "variables", where="the codebook", required=True,
                             expected='"variables": {"column": {...}, ...}',
                             hint="describe every CSV column under \"variables\"")
    types, labels, values, missing, measure = {}, {}, {}, {}, {}
    for column, spec in variables.items():
        variable = source.at(column)
        if not isinstance(spec, dict):
            raise variable.fault("a codebook variable must be a JSON object",
                                 found=repr(spec)[:60], expected='{"type": "numeric", ...}',
                                 hint="describe the variable as a JSON object")
        variable.check_keys(spec, _VARIABLE_KEYS, where="a codebook variable")
        kind = types[column] = variable.choice(
            spec, "type", TYPES, noun="variable type",
            hint='give every variable "type": "numeric" or "string"')
        if spec.get("label"):
            labels[column] = variable.text(spec, "label")
        level = variable.choice(spec, "measure", MEASURES, default="unknown",
                                noun="measure level", expected="nominal, ordinal or scale",
                                hint='use "nominal", "ordinal" or "scale", or leave it out')
        if level != "unknown":
            measure[column] = level
        if spec.get("value_labels"):
            values[column] = _value_labels(variable, spec, kind)
        declared = _missing(variable, spec, kind)
        if declared:
            missing[column] = declared
    encoding = encoding_name(book.get("encoding") or DEFAULT, file=source.file)
    meta = Metadata(variable_labels=labels, value_labels=values, missing=missing,
                    measure=measure, encoding=encoding)
    return Codebook(types=types, meta=meta, encoding=encoding)


def read_csv(path: Path, codebook: Path, *, encoding: str | None = None
             ) -> tuple[pd.DataFrame, Metadata]:
    """A CSV wave and the metadata of its codebook.

    Parameters
    ----------
    path : Path
        ``.csv`` or ``.csv.gz``; the first line names the columns.
    codebook : Path
        Its JSON codebook.
    encoding : str, optional
        Overrides the codebook's ``encoding``.

    Raises
    ------
    FileFormatError
        Columns absent from the codebook (or the reverse), text that does not
        decode, rows with a wrong number of fields.
    DataError
        A numeric column holding something that is not a number.
    """
    path = Path(path)
    book = read_codebook(codebook)
    encoding = encoding_name(encoding, file=path) if encoding else book.encoding
    columns = _header(path, encoding)
    _check_columns(columns, book, csv=path, codebook=Path(codebook))
    numeric = [c for c in columns if book.types[c] == "numeric"]
    try:
        frame = pd.read_csv(
            path, encoding=encoding, compression="infer", keep_default_na=False,
            na_values={c: [""] for c in numeric},
            dtype={c: "float64" if c in numeric else "str" for c in columns},
        )
    except UnicodeDecodeError:
        raise _locate_undecodable(path, encoding) from None
    except pd.errors.ParserError as error:
        raise FileFormatError(
            "the CSV rows do not all have the same number of fields", file=path,
            expected=f"{len(columns)} fields per row", found=str(error).strip(),
            hint="quote fields that contain commas or line breaks, and check the export",
        ) from None
    except ValueError:
        raise _locate_non_numeric(path, encoding, numeric, codebook) from None
    return frame, book.meta.replace(encoding=encoding)


def write_codebook(meta: Metadata, path, *, data: pd.DataFrame | None = None,
                   encoding: str = DEFAULT) -> None:
    """Write ``meta`` as a JSON codebook that :func:`read_csv` reads back.

    Parameters
    ----------
    meta : Metadata
        Labels, user-missing codes and measure levels to write.
    path : str or Path
        The codebook to write (``wave.codebook.json`` beside ``wave.csv``).
    data : DataFrame, optional
        The data the CSV holds: its columns (in order) are the variables and
        its dtypes give each variable's type. Without it, the variables are
        those ``meta`` describes, numeric unless their codes are text.
    encoding : str
        The encoding the CSV is written in.

    Notes
    -----
    An open-ended user-missing range (SPSS ``LO THRU -1``) is written with
    ``null`` for the open end.

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> from surveytools.core.meta import Metadata
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.codebook.json"
    >>> write_codebook(Metadata(variable_labels={"q1": "Trust"}), path)
    >>> json.loads(path.read_text())["variables"]["q1"]
    {'label': 'Trust', 'type': 'numeric'}
    """
    if data is not None:
        columns = list(data.columns)
        kinds = {c: "numeric" if pd.api.types.is_numeric_dtype(data[c])
                 and not pd.api.types.is_bool_dtype(data[c]) else "string" for c in columns}
    else:
        columns = list(dict.fromkeys([*meta.variable_labels, *meta.value_labels,
                                      *meta.missing, *meta.measure]))
        kinds = {c: _kind_of_codes(meta, c) for c in columns}
    variables = {}
    for column in columns:
        spec: dict[str, Any] = {}
        if meta.variable_labels.get(column):
            spec["label"] = meta.variable_labels[column]
        spec["type"] = kinds[column]
        if meta.measure.get(column, "unknown") != "unknown":
            spec["measure"] = meta.measure[column]
        if meta.value_labels.get(column):
            spec["value_labels"] = {code_text(k): v for k, v in meta.value_labels[column].items()}
        if meta.missing.get(column):
            spec["missing"] = {
                "values": [_json_number(v) for v in meta.missing[column].values],
                "ranges": [[_json_number(lo), _json_number(hi)]
                           for lo, hi in meta.missing[column].ranges],
            }
        variables[column] = spec
    book = {"format": FORMAT, "version": VERSION,
            "encoding": encoding_name(encoding, file=path), "variables": variables}
    atomic_write(path, json.dumps(book, ensure_ascii=False, indent=1, allow_nan=False) + "\n")


# -- codebook parts -------------------------------------------------------
def _value_labels(variable: Source, spec: dict, kind: str) -> dict:
    labels = variable.table(spec, "value_labels", expected='{"1": "Yes", "2": "No"}')
    out = {}
    for key in labels:
        code = _parse_code(variable, key, kind) if kind == "numeric" else key
        out[code] = variable.text(labels, key, where="value_labels")
    return out


def _parse_code(variable: Source, key: str, kind: str):
    try:
        value = float(key)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise variable.fault(
            "a value-label code is not of the variable's type",
            expected=f"a number (the variable is {kind})", found=repr(key),
            hint='write numeric codes as "1", "98"; or declare the variable "type": "string"',
        )
    return plain_code(value)


def _missing(variable: Source, spec: dict, kind: str) -> MissingSpec:
    if not spec.get("missing"):
        return MissingSpec()
    declared = variable.table(spec, "missing", expected='{"values": [98], "ranges": []}')
    variable.check_keys(declared, {"values", "ranges"}, where="missing",
                        expected='"values" and "ranges" ({"values": [98], "ranges": []})')
    values = [_missing_value(variable, v, kind) for v in declared.get("values", [])]
    ranges = []
    for pair in declared.get("ranges", []):
        if kind != "numeric" or not isinstance(pair, list) or len(pair) != 2:
            raise variable.fault(
                "a user-missing range must be a [low, high] pair of a numeric variable",
                expected="[low, high] (null for an open end)",
                found=repr(pair) + ("" if kind == "numeric" else " on a string variable"),
                hint="declare string codes under \"values\"; ranges are for numbers",
            )
        low, high = pair
        ranges.append((-math.inf if low is None else _missing_value(variable, low, kind),
                       math.inf if high is None else _missing_value(variable, high, kind)))
    return MissingSpec(values=tuple(values), ranges=tuple(ranges))


def _missing_value(variable: Source, value, kind: str):
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "numeric" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return plain_code(value)
    raise variable.fault(
        "a user-missing value is not of the variable's type",
        expected="a JSON number" if kind == "numeric" else "a JSON string",
        found=repr(value), hint=f"the variable is declared \"type\": \"{kind}\"",
    )


def _json_number(value):
    if isinstance(value, (float, np.floating)) and math.isinf(value):
        return None
    return plain_code(value.item() if isinstance(value, np.generic) else value)


def _kind_of_codes(meta: Metadata, column) -> str:
    codes = [*meta.value_labels.get(column, {}), *meta.missing.get(column, MissingSpec()).values]
    return "string" if any(isinstance(c, str) for c in codes) else "numeric"


# -- the CSV ----------------------------------------------------------------
def _open_binary(path: Path):
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def _header(path: Path, encoding: str) -> list[str]:
    with _open_binary(path) as handle:
        first = handle.readline().rstrip(b"\r\n")
    try:
        text = first.decode(encoding)
    except UnicodeDecodeError as error:
        raise undecodable(path, encoding, found=f"{first[error.start:error.end]!r} in the header"
                          ) from None
    return next(csv.reader([text.removeprefix("\ufeff")]), [])


def _check_columns(columns: list[str], book: Codebook, *, csv: Path, codebook: Path) -> None:
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise FileFormatError(
            "the CSV header names a column twice", file=csv, column=twice[0],
            expected="a different name for every column", found=", ".join(twice),
            hint="rename one of the columns in the CSV (and describe it in the codebook)",
        )
    extra = [c for c in columns if c not in book.types]
    if extra:
        raise FileFormatError(
            f"{len(extra)} CSV column(s) are not in the codebook", file=csv, column=extra[0],
            expected=f"every column described in {codebook.name}",
            found="undescribed: " + ", ".join(extra[:10]),
            hint=f"add them to {codebook} (type, label, value labels), or drop them from the CSV",
        )
    absent = [c for c in book.types if c not in columns]
    if absent:
        raise FileFormatError(
            f"{len(absent)} codebook variable(s) are not in the CSV", file=codebook,
            column=absent[0], expected=f"a column of {csv.name} for every codebook variable",
            found="absent: " + ", ".join(absent[:10]),
            hint="check the CSV export or remove those variables from the codebook",
        )


def _locate_undecodable(path: Path, encoding: str) -> FileFormatError:
    with _open_binary(path) as handle:
        for line, raw in enumerate(handle, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as error:
                return undecodable(path, encoding, row=line - 1 or None,
                                   found=f"{raw[error.start:error.end]!r} on line {line}")
    return undecodable(path, encoding)


def _locate_non_numeric(path: Path, encoding: str, numeric: list[str], codebook) -> DataError:
    text = pd.read_csv(path, encoding=encoding, compression="infer", dtype="str",
                       keep_default_na=False, usecols=numeric)
    for column in numeric:
        values = text[column]
        parsed = pd.to_numeric(values.where(values != ""), errors="coerce")
        bad = np.flatnonzero(parsed.isna().to_numpy() & (values != "").to_numpy())
        if len(bad):
            return DataError(
                "a numeric column holds a value that is not a number", file=path, column=column,
                row=row_number(bad[0]), expected=f"a number (the codebook {Path(codebook).name} "
                "says type numeric), or an empty field for system-missing",
                found=repr(text[column].iloc[bad[0]]),
                hint="fix the value, or declare the column \"type\": \"string\" in the codebook",
            )
    return DataError("a numeric column could not be read as numbers", file=path,
                     hint="check the numeric columns of the CSV")
