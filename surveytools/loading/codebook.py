"""CSV waves and their JSON codebooks.

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
>>> from surveytools.meta import Metadata
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

from .charset import DEFAULT, encoding_name, undecodable
from ..core.errors import DataError, FileFormatError, row_number
from ..core.meta import MEASURES, Metadata, MissingSpec, code_text, plain_code

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
    """Parse and check a codebook, naming the file and variable of any fault."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(
            "codebook not found", file=path,
            expected="a JSON codebook beside the CSV",
            found="no such file",
            hint="write one with st.write_codebook(meta, path, data=frame), or pass codebook=",
        )
    try:
        book = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FileFormatError(
            "the codebook is not valid UTF-8 JSON", file=path,
            expected="a JSON object", found=str(error),
            hint="fix the JSON syntax at the position given (a JSON validator helps)",
        ) from None
    if not isinstance(book, dict) or book.get("format") != FORMAT or book.get("version") != VERSION:
        raise FileFormatError(
            "not a surveytools codebook", file=path,
            expected=f'"format": "{FORMAT}", "version": {VERSION}',
            found=repr({k: book.get(k) for k in ("format", "version")} if isinstance(book, dict)
                       else type(book).__name__),
            hint="start the codebook with those two keys",
        )
    _unknown_keys(book, _TOP_KEYS, file=path, column=None)
    variables = book.get("variables")
    if not isinstance(variables, dict) or not variables:
        raise FileFormatError("the codebook has no variables", file=path,
                              expected='"variables": {"column": {...}, ...}',
                              found=repr(variables)[:60],
                              hint="describe every CSV column under \"variables\"")
    types, labels, values, missing, measure = {}, {}, {}, {}, {}
    for column, spec in variables.items():
        if not isinstance(spec, dict):
            raise FileFormatError("a codebook variable must be a JSON object", file=path,
                                  column=column, found=repr(spec)[:60],
                                  expected='{"type": "numeric", ...}')
        _unknown_keys(spec, _VARIABLE_KEYS, file=path, column=column)
        kind = spec.get("type")
        if kind not in TYPES:
            raise FileFormatError("unknown variable type", file=path, column=column,
                                  expected=" or ".join(TYPES), found=repr(kind),
                                  hint='give every variable "type": "numeric" or "string"')
        types[column] = kind
        if spec.get("label"):
            labels[column] = _text(spec["label"], file=path, column=column, what="label")
        level = spec.get("measure", "unknown")
        if level not in MEASURES:
            raise FileFormatError("unknown measure level", file=path, column=column,
                                  expected="nominal, ordinal or scale", found=repr(level))
        if level != "unknown":
            measure[column] = level
        if spec.get("value_labels"):
            values[column] = _value_labels(spec["value_labels"], kind, file=path, column=column)
        declared = _missing(spec.get("missing") or {}, kind, file=path, column=column)
        if declared:
            missing[column] = declared
    encoding = encoding_name(book.get("encoding") or DEFAULT, file=path)
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
    >>> from surveytools.meta import Metadata
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
    Path(path).write_text(json.dumps(book, ensure_ascii=False, indent=1, allow_nan=False) + "\n",
                          encoding="utf-8")


# -- codebook parts -------------------------------------------------------
def _unknown_keys(spec: dict, allowed: set, *, file, column) -> None:
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise FileFormatError(
            "unknown codebook key", file=file, column=column,
            expected="one of " + ", ".join(sorted(allowed)), found=", ".join(map(repr, unknown)),
            hint="check the spelling against the codebook format (docs of st.write_codebook)",
        )


def _text(value, *, file, column, what) -> str:
    if not isinstance(value, str):
        raise FileFormatError(f"a {what} must be text", file=file, column=column,
                              expected="a JSON string", found=repr(value))
    return value


def _value_labels(labels, kind, *, file, column) -> dict:
    if not isinstance(labels, dict):
        raise FileFormatError("value_labels must be a JSON object", file=file, column=column,
                              expected='{"1": "Yes", "2": "No"}', found=repr(labels)[:60])
    out = {}
    for key, label in labels.items():
        code = _parse_code(key, kind, file=file, column=column) if kind == "numeric" else key
        out[code] = _text(label, file=file, column=column, what="value label")
    return out


def _parse_code(key: str, kind, *, file, column):
    try:
        value = float(key)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise FileFormatError(
            "a value-label code is not of the variable's type", file=file, column=column,
            expected=f"a number (the variable is {kind})", found=repr(key),
            hint='write numeric codes as "1", "98"; or declare the variable "type": "string"',
        )
    return plain_code(value)


def _missing(spec, kind, *, file, column) -> MissingSpec:
    if not isinstance(spec, dict) or set(spec) - {"values", "ranges"}:
        raise FileFormatError("missing must be {\"values\": [...], \"ranges\": [[lo, hi], ...]}",
                              file=file, column=column, found=repr(spec)[:80],
                              expected='{"values": [98], "ranges": []}')
    values = [_missing_value(v, kind, file=file, column=column) for v in spec.get("values", [])]
    ranges = []
    for pair in spec.get("ranges", []):
        if kind != "numeric" or not isinstance(pair, list) or len(pair) != 2:
            raise FileFormatError(
                "a user-missing range must be a [low, high] pair of a numeric variable",
                file=file, column=column, expected="[low, high] (null for an open end)",
                found=repr(pair) + ("" if kind == "numeric" else " on a string variable"),
            )
        low, high = (-math.inf if pair[0] is None else _missing_value(pair[0], kind, file=file,
                                                                     column=column),
                     math.inf if pair[1] is None else _missing_value(pair[1], kind, file=file,
                                                                    column=column))
        ranges.append((low, high))
    return MissingSpec(values=tuple(values), ranges=tuple(ranges))


def _missing_value(value, kind, *, file, column):
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "numeric" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return plain_code(value)
    raise FileFormatError(
        "a user-missing value is not of the variable's type", file=file, column=column,
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
