"""CSV waves and their JSON codebooks: reading the CSV, reading and writing the codebook.

This module owns the codebook format and reading a CSV wave through it.
A CSV file holds no labels, so a CSV wave comes with a codebook
(``wave.codebook.json``) that carries what an SPSS file would: variable and
value labels, user-missing codes and ranges, measure levels and the CSV's
text encoding.  Every CSV column must be described in the codebook, and every
code in the codebook must be of its variable's type.

Numeric variables are read as float64 (as SPSS and pyreadstat do), string
variables as pandas strings; an empty numeric field is a system-missing value,
an empty string field is the empty string.  The CSV is parsed by pyarrow
with every field as text first, so that a row with too few fields, a quote
that never closes, ``inf``, ``nan`` or ``1e400`` in a numeric column are
errors naming their row, never a silent NaN or infinity.  A codebook written
with ``data=`` records the number of rows (``"rows"``), so that a CSV cut at
a line break is an error too.

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
import io
import json
import math
import re
import zlib
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
_TOP_KEYS = {"format", "version", "encoding", "variables", "description", "rows"}
_VARIABLE_KEYS = {"label", "type", "measure", "value_labels", "missing"}


@dataclass(frozen=True)
class Codebook:
    """What a codebook says: each column's type, the metadata, the CSV encoding
    and (when it says so) the number of data rows of the CSV."""

    types: Mapping[str, str]
    meta: Metadata
    encoding: str
    rows: int | None = None


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
    rows = book.get("rows")
    if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 0):
        raise source.fault("rows must be the number of data rows of the CSV", key="rows",
                           expected='"rows": 4194 (a whole number >= 0)', found=repr(rows),
                           hint="write the count without quotes, or leave \"rows\" out")
    meta = Metadata(variable_labels=labels, value_labels=values, missing=missing,
                    measure=measure, encoding=encoding)
    return Codebook(types=types, meta=meta, encoding=encoding, rows=rows)


def read_csv(path: Path, codebook: Path, *, encoding: str | None = None
             ) -> tuple[pd.DataFrame, Metadata]:
    """A CSV wave and the metadata of its codebook.

    The whole file is checked before a value is used: a gzip stream must be
    complete (its CRC and length match), the text must decode, hold no
    control characters and end with a line break (or have exactly the rows
    the codebook's ``"rows"`` says); every row must have one field per
    column and every quoted field must close; a numeric field must be a
    decimal number (``inf``, ``nan`` or ``1e400`` are not) or empty
    (system-missing).

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
        Columns absent from the codebook (or the reverse), a cut or damaged
        file, text that does not decode, rows with a wrong number of fields,
        a quote that never closes, a number of rows the codebook does not
        expect.
    DataError
        A numeric column holding something that is not a finite number.
    """
    path = Path(path)
    book = read_codebook(codebook)
    encoding = encoding_name(encoding, file=path) if encoding else book.encoding
    raw = _raw_bytes(path)
    text = _decoded(raw, path, encoding)
    columns = _header(text)
    _check_columns(columns, book, csv=path, codebook=Path(codebook))
    _check_characters(text, path)
    data = raw if encoding == "utf-8" else text.encode("utf-8")
    table = _parse(data, columns, text, path)
    _check_length(text, table.num_rows, book, path, Path(codebook))
    frame = pd.DataFrame({
        column: (_numbers(table.column(column), path, column, codebook)
                 if book.types[column] == "numeric"
                 else table.column(column).to_pandas().astype("str"))
        for column in columns})
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
        The data the CSV holds: its columns (in order) are the variables,
        its dtypes give each variable's type and its length is recorded as
        ``"rows"`` (so that a CSV cut short is an error, not fewer
        respondents). Without it, the variables are those ``meta``
        describes, numeric unless their codes are text, and no row count.
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
    if data is not None:
        book["rows"] = len(data)
    atomic_write(path, json.dumps(book, ensure_ascii=False, indent=1, allow_nan=False) + "\n")


# -- codebook parts -------------------------------------------------------
def _value_labels(variable: Source, spec: dict, kind: str) -> dict:
    labels = variable.table(spec, "value_labels", expected='{"1": "Yes", "2": "No"}')
    out, spelt = {}, {}
    for key in labels:
        code = _parse_code(variable, key, kind) if kind == "numeric" else key
        if code in out:
            raise variable.fault(
                "two value labels for one code", expected="one label per code",
                found=f'"{spelt[code]}" and "{key}" are both code {code_text(code)}',
                hint="keep one of the two labels (codes are numbers: \"1\", \"01\" and "
                     "\"1.0\" are the same code)")
        out[code], spelt[code] = variable.text(labels, key, where="value_labels"), key
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
#: A decimal number as a CSV field may hold it (no inf, nan, hex or separators).
_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
#: Characters no survey text holds; a damaged byte often becomes one.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _raw_bytes(path: Path) -> bytes:
    """The bytes of the CSV, a gzip stream inflated and checked (CRC, length, end)."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise FileFormatError(
            "the gzip file is cut short", file=path,
            expected="a complete gzip stream (it ends with a checksum and the length)",
            found=f"the stream stops after {len(raw)} compressed bytes",
            hint="copy or download the file again (compare its size with the original)",
        ) from None
    except (OSError, zlib.error) as error:
        raise FileFormatError(
            "the gzip file is damaged", file=path,
            expected="a gzip stream whose checksum matches its content",
            found=f"{type(error).__name__}: {error}",
            hint="copy or download the file again (compare its checksum with the original)",
        ) from None


def _decoded(raw: bytes, path: Path, encoding: str) -> str:
    """The text of the CSV; bytes that do not decode are an error naming their row."""
    try:
        return raw.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        where = "in the header" if line == 1 else f"on line {line}"
        raise undecodable(path, encoding, row=line - 1 or None,
                          found=f"{raw[error.start:error.end]!r} {where}") from None


def _header(text: str) -> list[str]:
    first = text.split("\n", 1)[0].rstrip("\r")
    return next(csv.reader([first]), [])


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _check_characters(text: str, path: Path) -> None:
    found = _CONTROL.search(text)
    if found:
        line = _line_of(text, found.start())
        raise FileFormatError(
            "the CSV holds a control character, which no survey text contains", file=path,
            row=line - 1 or None, expected="printable text, tabs and line breaks",
            found=f"{found.group()!r} on line {line}",
            hint="the file is damaged or is not a text CSV: export or copy it again",
        )


def _parse(data: bytes, columns: list[str], text: str, path: Path):
    """Every field as text (pyarrow); a row with another number of fields, or a
    quote that never closes, is an error naming its row."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    try:
        return pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=columns, skip_rows=1),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: pa.string() for c in columns}, strings_can_be_null=False,
                null_values=[], quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as error:
        raise _locate_bad_row(text, len(columns), path, str(error)) from None


def _locate_bad_row(text: str, width: int, path: Path, detail: str) -> FileFormatError:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    row = 0
    try:
        next(reader, None)
        line = reader.line_num + 1
        for record in reader:
            if not record:          # blank lines are skipped, as the parser does
                line = reader.line_num + 1
                continue
            row += 1
            if len(record) != width:
                return FileFormatError(
                    "the CSV rows do not all have the same number of fields", file=path,
                    row=row, expected=f"{width} fields per row (one per column of the header)",
                    found=f"{len(record)} fields on line {line}",
                    hint="quote fields that contain commas or line breaks, and check the "
                         "export; a row with too few fields is often a file cut short",
                )
            line = reader.line_num + 1
    except csv.Error as error:
        return FileFormatError(
            "a quoted field never closes", file=path, row=row + 1,
            expected="a closing quote (\") for every opening one",
            found=f"a quote opened on line {line} still open at the end of the file "
                  f"({error})",
            hint="the file is cut short or a quote is missing: export or copy it again",
        )
    return FileFormatError("the CSV cannot be parsed", file=path, found=detail,
                           hint="check the export (quotes, separators, line breaks)")


def _check_length(text: str, rows: int, book: Codebook, path: Path, codebook: Path) -> None:
    if book.rows is not None and rows != book.rows:
        raise FileFormatError(
            f"the CSV holds {rows} rows but its codebook says {book.rows}", file=path,
            row=rows + 1 if rows < book.rows else book.rows + 1,
            expected=f"{book.rows} rows (\"rows\" in {codebook.name})",
            found=f"{rows} rows", hint="the file is cut short or rows were added: copy or "
            "export it again, or correct \"rows\" in the codebook")
    if text and not text.endswith(("\n", "\r")) and book.rows is None:
        raise FileFormatError(
            "the last line of the CSV has no line break: the file may be cut short",
            file=path, row=rows or None, expected="every line ending with a line break",
            found=f"{text[-40:]!r} at the end",
            hint="if the file is complete, end it with a line break, or record the number "
                 "of rows in the codebook (\"rows\"); otherwise copy or export it again")


def _numbers(column, path: Path, name: str, codebook) -> pd.Series:
    """A text column as float64: empty fields are system-missing, anything that
    is not a finite decimal number is an error naming its row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim(column, " \t")
    empty = pc.equal(trimmed, "")
    bad = pc.and_(pc.invert(empty), pc.invert(pc.match_substring_regex(trimmed, _NUMBER)))
    if pc.any(bad).as_py():
        at = pc.index(bad, True).as_py()
        value = column[at].as_py()
        infinite = value.strip().lower().lstrip("+-") in ("inf", "infinity")
        raise DataError(
            "a numeric column holds an infinite value" if infinite else
            "a numeric column holds a value that is not a number", file=path, column=name,
            row=row_number(at), expected=f"a finite number (the codebook {Path(codebook).name} "
            "says type numeric), or an empty field for system-missing", found=repr(value),
            hint="fix the value, or declare the column \"type\": \"string\" in the codebook",
        )
    numbers = pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), trimmed), pa.float64())
    infinite = pc.is_inf(numbers)
    if pc.any(infinite).as_py():
        at = pc.index(infinite, True).as_py()
        raise DataError(
            "a numeric column holds a number too large to store", file=path, column=name,
            row=row_number(at), expected="a number below 1.8e308 in size",
            found=repr(column[at].as_py()) + " (it overflows to infinity)",
            hint="fix the value (a damaged exponent?), or leave the field empty",
        )
    return numbers.to_pandas().astype("float64")


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


