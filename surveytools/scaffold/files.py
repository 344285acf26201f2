"""The input files of ``surveytools init``: their metadata, wave labels and the data to inspect.

This module owns reading for the scaffold.  An SPSS file's structure is
checked first (:func:`surveytools.loading.savcheck.check_sav`: a damaged file
is a named error, never a crash of the C reader), then it is read twice with
pyreadstat: once ``metadataonly`` (labels, user-missing codes, formats) and
once for the numeric columns only (plus any text column that may be a
stratum or PSU), never the long text and date columns.  A file with parts
the check cannot prove safe for ReadStat, and every other format, goes
through :func:`surveytools.loading.read.load` (no cache: a scaffold leaves
nothing behind).

Each file becomes a frozen :class:`WaveFile`; :func:`wave_labels` names the
waves from a year in the file names (or the files' labels), else from the
names themselves.

Examples
--------
>>> [label for label, _ in wave_labels(["bsa2019.sav", "bsa2021.sav"])]
['2019', '2021']
>>> [label for label, _ in wave_labels(["spring.sav", "autumn.sav"])]
['spring', 'autumn']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..core.errors import FileFormatError
from ..core.meta import Metadata, MissingSpec, plain_code
from ..core.schema import existing_file
from ..loading.faults import SPSS_HINT, other_case_count
from ..loading.read import file_format, load
from ..loading.savcheck import check_sav

#: SPSS (and Stata) display formats of dates and times.
_DATE_FORMAT = re.compile(r"^(DATE|ADATE|EDATE|SDATE|JDATE|DATETIME|YMDHMS|TIME|DTIME|MTIME|WKDAY"
                          r"|MONTH|MOYR|QYR|WKYR|%t)", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)((?:19[5-9]|20\d)\d)(?!\d)")
KINDS = ("numeric", "string", "date")


@dataclass(frozen=True, eq=False)
class WaveFile:
    """One input file as the scaffold sees it.

    Parameters
    ----------
    path : Path
    label, label_evidence : str
        The wave label and where it came from.
    meta : Metadata
        What the file declares (labels, user-missing codes), untouched.
    kinds : mapping column -> "numeric" | "string" | "date", in file order
    data : DataFrame
        The columns read: every numeric column and text columns that may be
        design columns.
    rows : int
    file_label : str
    """

    path: Path
    label: str
    label_evidence: str
    meta: Metadata
    kinds: Mapping[str, str]
    data: pd.DataFrame
    rows: int
    file_label: str = ""
    order: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_distinct", {})
        object.__setattr__(self, "kinds", MappingProxyType(dict(self.kinds)))
        object.__setattr__(self, "order",
                           MappingProxyType({c: i for i, c in enumerate(self.kinds)}))

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.kinds)

    @property
    def numeric(self) -> tuple[str, ...]:
        return tuple(c for c, k in self.kinds.items() if k == "numeric")

    def label_of(self, column: str) -> str:
        return self.meta.variable_labels.get(column, "")

    def distinct(self, column: str) -> list:
        """The distinct non-missing values of a column that was read, sorted."""
        if column not in self.data.columns:
            return []
        if column not in self._distinct:
            series = self.data[column]
            if series.dtype == np.float64:
                array = series.to_numpy()
                values = np.unique(array[~np.isnan(array)]).tolist()
            else:
                values = pd.unique(series.dropna())
            self._distinct[column] = sorted(plain_code(v) for v in values)
        return list(self._distinct[column])

    def with_label(self, label: str, evidence: str) -> "WaveFile":
        return WaveFile(self.path, label, evidence, self.meta, self.kinds, self.data, self.rows,
                        self.file_label)


def read_file(path, *, text_columns: Callable[[str, str], bool] = lambda name, label: False
              ) -> WaveFile:
    """The metadata of ``path`` and the data of the columns worth inspecting.

    Parameters
    ----------
    path : str or Path
    text_columns : callable (name, variable label) -> bool
        Which text (string) columns to read as well (design columns can be text).
    """
    path = existing_file(path, what="data file")
    kind = file_format(path)
    if kind == "sav":
        layout = check_sav(path)
        if not layout.isolate:
            return _read_sav(path, text_columns, rows=layout.rows)
        # parts ReadStat may misread (multiple-response sets): load reads them in a child
    frame, meta = load(path, cache=False)
    kinds = {c: _dtype_kind(frame[c]) for c in frame.columns}
    keep = [c for c, k in kinds.items()
            if k == "numeric" or (k == "string" and text_columns(c, meta.label(c)))]
    return WaveFile(path, "", "", meta, kinds, frame[keep], len(frame))


def _read_sav(path: Path, text_columns, *, rows: int) -> WaveFile:
    """A .sav/.zsav whose structure :func:`check_sav` found sound (``rows`` cases)."""
    import pyreadstat

    try:
        _, info = pyreadstat.read_sav(path, metadataonly=True, user_missing=True)
        kinds = {c: _format_kind(info.readstat_variable_types.get(c, ""),
                                 info.original_variable_types.get(c, ""))
                 for c in info.column_names}
        labels = {c: t for c, t in info.column_names_to_labels.items() if t}
        keep = [c for c, k in kinds.items()
                if k == "numeric" or (k == "string" and text_columns(c, labels.get(c, "")))]
        if keep:
            frame, _ = pyreadstat.read_sav(path, usecols=keep, user_missing=True,
                                           apply_value_formats=False,
                                           disable_datetime_conversion=True)
        else:
            frame = pd.DataFrame(index=pd.RangeIndex(rows))
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as error:
        raise FileFormatError(
            "the file is corrupt, truncated or not SPSS and cannot be read", file=path,
            expected=f"a complete {path.suffix} file", found=f"pyreadstat: {error}",
            hint=SPSS_HINT,
        ) from None
    if len(frame) != rows:
        raise other_case_count(path, expected=rows, found=len(frame))
    meta = Metadata(
        variable_labels=labels,
        value_labels={c: {plain_code(k): v for k, v in vl.items()}
                      for c, vl in info.variable_value_labels.items()},
        missing=_missing_specs(info.missing_ranges),
        measure={c: m for c, m in info.variable_measure.items() if m != "unknown"},
        encoding=info.file_encoding, file=str(path),
    )
    return WaveFile(path, "", "", meta, kinds, frame, len(frame), info.file_label or "")


def _missing_specs(ranges: Mapping[str, list]) -> dict[str, MissingSpec]:
    specs = {}
    for column, spans in ranges.items():
        values = tuple(plain_code(r["lo"]) for r in spans if r["lo"] == r["hi"])
        pairs = tuple((plain_code(r["lo"]), plain_code(r["hi"])) for r in spans
                      if r["lo"] != r["hi"])
        specs[column] = MissingSpec(values=values, ranges=pairs)
    return specs


def _format_kind(storage: str, spss_format: str) -> str:
    if storage == "string":
        return "string"
    return "date" if _DATE_FORMAT.match(spss_format or "") else "numeric"


def _dtype_kind(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return "numeric"
    return "string"


def wave_labels(paths: Iterable, file_labels: Iterable[str] | None = None
                ) -> list[tuple[str, str]]:
    """``(label, evidence)`` of each file: a year in its name (or its file label), else its name.

    Years are used only when every file has exactly one and no two share it.
    """
    paths = [Path(p) for p in paths]
    file_labels = list(file_labels) if file_labels is not None else [""] * len(paths)
    years = []
    for path, text in zip(paths, file_labels):
        found = set(_YEAR.findall(path.stem))
        if len(found) == 1:
            years.append((found.pop(), f"the year in the file name {path.name}"))
            continue
        found = set(_YEAR.findall(text or ""))
        years.append((found.pop(), f'the year in the file\'s label "{text}"')
                     if len(found) == 1 else None)
    if all(years) and len({y for y, _ in years}) == len(years):
        return years
    stems = [p.stem for p in paths]
    if len(set(stems)) == len(stems):
        return [(s, "the file name (no one year per file in the names)") for s in stems]
    return [(f"{s}_{i}", "the file name and its position (two files share a name)")
            for i, s in enumerate(stems, start=1)]


def in_time_order(waves: list[WaveFile]) -> tuple[list[WaveFile], str]:
    """The waves ordered by year when every label is a year, else as given; and why."""
    if all(re.fullmatch(r"\d{4}", w.label) for w in waves):
        return sorted(waves, key=lambda w: w.label), "by the year of each wave"
    return list(waves), "in the order the files were given (list them from the earliest)"
