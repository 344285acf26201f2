"""Write the example files: SPSS, CSV with its JSON codebook, TOML.

Everything written is a deterministic function of its input: the CSV and
JSON files are byte-identical for the same data, and the SPSS files hold
identical data and metadata (their header carries a creation time).

Examples
--------
>>> print(toml_value("a \\"quoted\\" name"), toml_value([1, 2]), toml_key("1:1"), toml_key("weight"))
"a \\"quoted\\" name" [1, 2] "1:1" weight
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyreadstat

from .codebook import Variable

CODEBOOK_FORMAT = "surveytools-codebook"


def _check_columns(frame: pd.DataFrame, variables: Sequence[Variable], path: Path) -> None:
    names = [v.name for v in variables]
    if list(frame.columns) != names:
        raise ValueError(f"{path}: the columns {list(frame.columns)} do not match the codebook "
                         f"{names}")


def write_sav(frame: pd.DataFrame, path: Path, variables: Sequence[Variable], *,
              file_label: str) -> None:
    """An SPSS file with variable and value labels, user-missing codes and measures."""
    _check_columns(frame, variables, path)
    pyreadstat.write_sav(
        frame, str(path), file_label=file_label, row_compress=True,
        column_labels={v.name: v.label for v in variables},
        variable_value_labels={v.name: dict(v.value_labels) for v in variables if v.value_labels},
        missing_ranges={v.name: list(v.missing) for v in variables if v.missing},
        variable_measure={v.name: v.measure for v in variables},
        variable_format={v.name: _spss_format(frame[v.name]) for v in variables
                         if v.kind == "numeric"},
    )


def _spss_format(values: pd.Series) -> str:
    """``F<width>.0`` for whole numbers (codes display without decimals), else ``F12.6``."""
    if pd.api.types.is_integer_dtype(values):
        return f"F{max(len(str(int(values.abs().max()))) + 1, 2)}.0"
    return "F12.6"


def write_csv(frame: pd.DataFrame, path: Path, *, float_format: str = "%.6f") -> None:
    """A UTF-8 CSV with ``\\n`` line ends and fixed float formatting."""
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n",
                 float_format=float_format)


def codebook(variables: Sequence[Variable]) -> dict:
    """The CSV codebook (shared contract format) of ``variables``."""
    entries = {}
    for v in variables:
        entry = {"label": v.label, "type": v.kind, "measure": v.measure}
        if v.kind == "numeric":
            entry["value_labels"] = {str(code): text for code, text in v.value_labels.items()}
            entry["missing"] = {"values": list(v.missing), "ranges": []}
        entries[v.name] = entry
    return {"format": CODEBOOK_FORMAT, "version": 1, "encoding": "utf-8", "variables": entries}


def write_csv_with_codebook(frame: pd.DataFrame, path: Path, codebook_path: Path,
                            variables: Sequence[Variable]) -> None:
    """A CSV wave and its JSON codebook."""
    _check_columns(frame, variables, path)
    write_csv(frame, path)
    write_text(codebook_path, json.dumps(codebook(variables), ensure_ascii=False, indent=1) + "\n")


def write_text(path: Path, text: str) -> None:
    """UTF-8 text with ``\\n`` line ends."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def toml_key(key: str) -> str:
    """A TOML key: bare when it can be, else quoted."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) and not key.isdigit() else toml_value(key)


def toml_value(value) -> str:
    """A TOML value for a str, bool, int, float, date or list of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def toml_table(header: str | None, items: dict, comments: dict | None = None) -> str:
    """``[header]`` (or ``[[header]]`` when it is given with brackets) and its key/values."""
    lines = [] if header is None else [header if header.startswith("[") else f"[{header}]"]
    for key, value in items.items():
        line = f"{toml_key(str(key))} = {toml_value(value)}"
        if comments and key in comments:
            line += f"  # {comments[key]}"
        lines.append(line)
    return "\n".join(lines) + "\n"
