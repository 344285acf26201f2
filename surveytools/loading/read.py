"""Reading one survey file with all its metadata: SPSS, CSV + codebook, Stata, Parquet.

This module owns reading a file (and writing the Parquet copy it reads back).
:func:`read_wave` turns one file into a :class:`~surveytools.survey.Survey`
whose ``meta`` holds variable labels, value labels, user-missing codes and
ranges, measure levels, the file's encoding, its path and the wave label.
Codes stay as they are in the file ("Don't know" = 98 stays 98); numeric
variables are float64, as SPSS stores them.  Raw files are only ever opened
for reading.

======================  =============================================
extension               read with
======================  =============================================
``.sav`` ``.zsav``      pyreadstat, user-missing codes kept as values, after
                        :mod:`~surveytools.loading.savcheck` walked the file
``.por``                :mod:`surveytools.loading.portable` (keeps user-missing)
``.csv`` ``.csv.gz``    pyarrow + the JSON codebook (:mod:`~surveytools.loading.codebook`)
``.dta``                pyreadstat, after :mod:`~surveytools.loading.dtacheck`;
                        Stata's ``.a``-``.z`` stay as letters
``.parquet``            pyarrow; metadata from :func:`write_parquet`
======================  =============================================

Nothing a damaged or hostile file holds can kill the process or pass as
data: the structure of an SPSS or Stata file is checked before the C reader
opens it, the number of cases it returns is checked against the file, and
every reader's output must have printable, distinct names and finite
numbers.  Every fault is a FileFormatError (or DataError) naming the file,
the column and the row where there is one, and a fix.  :func:`read_wave`
also refuses weights that Survey accepts but that no estimate survives
(:func:`check_weight_range`).

Parsed files are cached (:mod:`surveytools.loading.cache`) by content hash;
an entry is verified before it is served.

Examples
--------
>>> import tempfile, pathlib, pandas as pd, surveytools as st
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> frame = pd.DataFrame({"wt": [1.0, 2.0], "q1": [1.0, 8.0]})
>>> meta = st.Metadata(value_labels={"q1": {1: "Yes", 8: "Don't know"}}, missing={"q1": [8]})
>>> write_parquet(frame, folder / "w.parquet", meta=meta)
>>> wave = st.read_wave(folder / "w.parquet", design=st.Design(weight="wt"), wave="2024")
>>> wave.meta.value_labels["q1"][8], wave.wave
("Don't know", '2024')
"""

from __future__ import annotations

import functools
import json
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from . import cache as _cache
from .charset import encoding_name, undecodable
from .codebook import codebook_path, read_csv, write_codebook
from .dtacheck import check_dta
from .faults import SPSS_HINT as HINT, other_case_count
from .savcheck import check_sav
from ..core.design import AnyDesign
from ..core.errors import DataError, FileFormatError, row_number
from ..core.files import atomic_write
from ..core.meta import Metadata, MissingSpec, plain_code
from ..core.schema import existing_file
from ..core.smallbase import SmallBaseRule
from ..survey import Survey

__all__ = ["read_wave", "load", "write_parquet", "write_codebook", "file_format", "FORMATS"]

#: File-name endings and the reader each one uses.
FORMATS = {".sav": "sav", ".zsav": "sav", ".por": "por", ".csv": "csv", ".csv.gz": "csv",
           ".dta": "dta", ".parquet": "parquet"}
#: Key of the surveytools metadata in a Parquet file's schema metadata.
PARQUET_KEY = b"surveytools.meta"


def read_wave(path, *, design: AnyDesign, wave: str | None = None, codebook=None,
              encoding: str | None = None, cache: bool = True,
              small_base: SmallBaseRule | None = None) -> Survey:
    """One survey file as a Survey with its labels and user-missing codes.

    Parameters
    ----------
    path : str or Path
        A ``.sav``, ``.zsav``, ``.por``, ``.csv``, ``.csv.gz``, ``.dta`` or
        ``.parquet`` file.
    design : Design or ReplicateDesign
        The sampling design (column names).
    wave : str, optional
        The wave label, kept in ``meta.wave``.
    codebook : str or Path, optional
        The JSON codebook of a CSV (default: ``<name>.codebook.json`` beside it).
    encoding : str, optional
        Text encoding, overriding what the file (or codebook) declares.
    cache : bool
        Keep a parsed copy keyed by the file's content hash
        (:mod:`surveytools.loading.cache`) and reuse it while the file is unchanged.
    small_base : SmallBaseRule, optional
        Thresholds for small bases (default: suppress < 50, flag < 100).

    Returns
    -------
    Survey

    Raises
    ------
    FileFormatError
        Missing file, unknown extension, corrupt or truncated file, text
        that does not decode, a CSV that does not fit its codebook.
    DataError, DesignError
        Unusable weights or design columns (the message names the file).

    Examples
    --------
    >>> import surveytools as st
    >>> wave = st.read_wave("data/tracker/wave2023.sav",
    ...                     design=st.Design(weight="weight"), wave="2023")  # doctest: +SKIP
    >>> wave.meta.value_labels["trust_nhs"][98]                            # doctest: +SKIP
    "Don't know"
    """
    frame, meta = load(path, codebook=codebook, encoding=encoding, cache=cache)
    survey = Survey(frame, design, meta.replace(wave=wave), small_base=small_base)
    check_weight_range(survey.data, design, file=path)
    return survey


def check_weight_range(frame: pd.DataFrame, design: AnyDesign, *, file=None) -> None:
    """Weights an estimate can be computed from, beyond what Survey checks.

    Survey refuses weights that are missing, infinite, negative, all zero or
    whose sum overflows.  What remains would still give silently wrong
    numbers: a weight whose square overflows (1e300: variances become inf or
    0), a subnormal weight (below 2.2e-308: its square is 0, so design
    effects see a respondent with no weight) and a negative zero (-0: the
    sign bit of a negative number, which divisions turn into -inf).

    Raises
    ------
    DataError
        Naming the file, the weight column and the first row concerned.
    """
    columns = [design.weight, *getattr(design, "replicate_weights", ())]
    for column in dict.fromkeys(columns):
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        tiny = np.finfo(float).tiny
        negative_zero = np.flatnonzero((values == 0) & np.signbit(values))
        subnormal = np.flatnonzero((values > 0) & (values < tiny))
        with np.errstate(over="ignore"):
            squares = float(np.sum(np.square(values)))
        if len(negative_zero):
            raise DataError(
                "a weight is -0 (a negative zero)", file=file, column=column,
                row=row_number(negative_zero[0]), expected="a weight >= 0 with no sign",
                found=f"-0.0 ({len(negative_zero)} such weights)",
                hint="the weights were computed from a negative number: fix the computation, "
                     "or write 0 for respondents who are left out")
        if len(subnormal):
            raise DataError(
                "a weight is too small to compute with (a subnormal number)", file=file,
                column=column, row=row_number(subnormal[0]),
                expected=f"0 or a weight of at least {tiny:.3g}",
                found=f"{float(values[subnormal[0]])!r} ({len(subnormal)} such weights)",
                hint="a damaged value or a weight meant to be 0: fix it at source")
        if not np.isfinite(squares):
            big = int(np.argmax(values))
            raise DataError(
                "weights are too large: the sum of their squares overflows", file=file,
                column=column, row=row_number(big),
                expected="weights whose squares sum to a finite number (below about 1e154)",
                found=f"largest weight {values[big]:g}",
                hint="check the weight column (a grossing factor of 1e300 is a data error); "
                     "rescale it, e.g. to sum to the sample size")


def load(path, *, codebook=None, encoding: str | None = None, cache: bool = True
         ) -> tuple[pd.DataFrame, Metadata]:
    """The data and metadata of one file, before any design is attached.

    The arguments are those of :func:`read_wave`. ``meta.file`` is ``path``.
    """
    path = Path(path)
    kind = file_format(path)
    existing_file(path, what="data file")
    if encoding is not None:
        encoding = encoding_name(encoding, file=path)
    book = _codebook_of(path, kind, codebook)
    if not cache or kind == "parquet":
        frame, meta = _read(kind, path, book=book, encoding=encoding)
        _check_frame(frame, path)
        return frame, meta.replace(file=str(path))

    # a codebook is small: hashed every time, never taken from the stat index
    book_digest = book and _cache.file_digest(book, remembered=False)

    def key_of(content: str) -> str:
        return _cache.entry_key(content=content, kind=kind, encoding=encoding,
                                codebook=book_digest, versions=_versions())

    content, remembered = _cache.digest_of(path)
    hit = _cache.load(key_of(content), content=content, source=path)
    if remembered and (hit is None or hit is _cache.OTHER_FILE):
        # The stat index only gives a hint: hash the file before trusting a miss
        # (nothing is stored under another file's hash) or after an entry that
        # was made from another file.
        fresh = _cache.file_digest(path, remembered=False)
        if fresh != content:
            content = fresh
            hit = _cache.load(key_of(content), content=content, source=path)
    if hit is None or hit is _cache.OTHER_FILE:
        frame, meta = _read(kind, path, book=book, encoding=encoding)
        _check_frame(frame, path)
        _cache.store(key_of(content), frame, meta, content=content, source=path)
    else:
        frame, meta = hit
    return frame, meta.replace(file=str(path))


def file_format(path) -> str:
    """The reader for ``path`` by its extension, or a FileFormatError listing them."""
    name = Path(path).name.lower()
    for ending in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(ending):
            return FORMATS[ending]
    raise FileFormatError(
        "unknown file format", file=path,
        expected="one of " + ", ".join(FORMATS), found=repr(Path(path).suffix or name),
        hint="save the wave as SPSS .sav (keeps labels and missing codes) or as CSV with a "
        "codebook, or rename it if the extension is wrong",
    )


def write_parquet(data, path, *, meta: Metadata | None = None) -> None:
    """Write a Survey (or DataFrame + ``meta``) to Parquet with its metadata, atomically.

    :func:`read_wave` restores the metadata (labels, user-missing codes,
    measure levels) from the file's schema metadata.

    Parameters
    ----------
    data : Survey or DataFrame
    path : str or Path
    meta : Metadata, optional
        Defaults to the Survey's ``meta`` (or empty metadata for a DataFrame).
    """
    if isinstance(data, Survey):
        meta = data.meta if meta is None else meta
        data = data.data
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pa.Table.from_pandas(data, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise DataError(
            "a column cannot be stored in Parquet", file=path, found=str(error),
            expected="one type per column",
            hint="a column that mixes numbers and text (e.g. Stata's .a-.z codes) must be "
            "recoded to numbers first",
        ) from None
    extra = {PARQUET_KEY: (meta or Metadata()).replace(file=None).to_json().encode("utf-8")}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
    atomic_write(path, lambda temporary: pq.write_table(table, temporary))


# -- readers ----------------------------------------------------------------
def _read(kind: str, path: Path, *, book, encoding):
    if kind == "csv":
        return read_csv(path, book, encoding=encoding)
    if kind == "por":
        from .portable import read_por

        return read_por(path, encoding=encoding)
    if kind == "parquet":
        return _read_parquet(path)
    return _read_pyreadstat(kind, path, encoding)


def _read_pyreadstat(kind: str, path: Path, encoding: str | None):
    """A .sav/.zsav/.dta file through pyreadstat, its structure checked first.

    ReadStat (pyreadstat's C library) can crash the process on a damaged SPSS
    file, so :func:`~surveytools.loading.savcheck.check_sav` walks the file's
    structure before ReadStat opens it; a part of the file the check cannot
    prove safe (see ``SavLayout.isolate``) is read in a child process
    instead.  Stata files get the same walk
    (:func:`~surveytools.loading.dtacheck.check_dta`).  What the reader
    returns is checked against what the structure says (number of cases).
    """
    import pyreadstat

    layout = check_sav(path, encoding=encoding) if kind == "sav" else None
    observations = check_dta(path) if kind == "dta" else None
    options = dict(user_missing=True, apply_value_formats=False,
                   dates_as_pandas_datetime=True, encoding=encoding)
    try:
        if layout is not None and layout.isolate:
            frame, info = _read_in_child(path, options)
        else:
            reader = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
            frame, info = reader(path, **options)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as error:
        raise _pyreadstat_error(path, error, encoding) from None
    except UnicodeDecodeError as error:
        raise undecodable(path, encoding or "its declared encoding",
                          found=f"{error.object[error.start:error.end]!r} in a label or "
                                "name") from None
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, MemoryError) as error:
        raise _pyreadstat_error(path, error, encoding) from None
    expected_rows = layout.rows if layout is not None else (
        observations if observations is not None else info.number_rows)
    if expected_rows is not None and expected_rows >= 0 and len(frame) != expected_rows:
        raise other_case_count(path, expected=expected_rows, found=len(frame))
    declared = encoding or info.file_encoding
    file_encoding = declared and encoding_name(declared, file=path, strict=False)
    return _float_codes(frame), Metadata(
        variable_labels={c: t for c, t in info.column_names_to_labels.items() if t},
        value_labels={c: {plain_code(k): v for k, v in labels.items()}
                      for c, labels in info.variable_value_labels.items()},
        missing=_missing_specs(info),
        measure={c: m for c, m in info.variable_measure.items() if m != "unknown"},
        encoding=file_encoding or ("utf-8" if kind == "dta" else None),
        notes={"documents": list(info.notes)} if info.notes else {},
    )


#: Run by :func:`_read_in_child`: read one SPSS file and pickle what pyreadstat returns.
_CHILD = """
import pickle, sys
import pyreadstat
path, out, options = sys.argv[1], sys.argv[2], pickle.loads(bytes.fromhex(sys.argv[3]))
try:
    result = ("ok", pyreadstat.read_sav(path, **options))
except Exception as error:
    result = ("error", type(error).__name__, str(error))
with open(out, "wb") as handle:
    pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
"""


def _read_in_child(path: Path, options: dict):
    """pyreadstat.read_sav in a child process: a crash there is an error here.

    Used only for files with parts the structure check cannot prove safe for
    ReadStat (multiple-response sets of a form it does not write itself);
    costs a Python start-up and a pickle of the data.
    """
    import pickle
    import subprocess
    import sys
    import tempfile

    import pyreadstat

    with tempfile.TemporaryDirectory(prefix="surveytools-read-") as folder:
        out = Path(folder) / "result.pickle"
        done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(out),
                               pickle.dumps(options).hex()], capture_output=True)
        if done.returncode != 0 or not out.is_file():
            how = (f"signal {-done.returncode}" if done.returncode < 0
                   else f"exit status {done.returncode}")
            raise FileFormatError(
                "the file is corrupt: the SPSS reader crashed on it (in a separate process, "
                "so nothing else was affected)", file=path,
                expected="a file the reader can parse", found=f"the reader stopped with {how}",
                hint=HINT)
        with open(out, "rb") as handle:
            result = pickle.load(handle)
    if result[0] == "ok":
        return result[1]
    if result[1] in ("ReadstatError", "PyreadstatError"):
        raise getattr(pyreadstat, result[1])(result[2])
    raise ValueError(f"{result[1]}: {result[2]}")


def _pyreadstat_error(path: Path, error: Exception, encoding: str | None) -> FileFormatError:
    text = str(error)
    if "convert string to the requested encoding" in text:
        return undecodable(path, encoding or "its declared encoding",
                           found="bytes of another encoding (pyreadstat: " + text + ")")
    if "unsupported character set" in text.lower():
        return FileFormatError("the file's text encoding is not supported", file=path,
                               found=text, hint="pass encoding='cp1252' (or the right one)")
    own = type(error).__module__.startswith("pyreadstat")
    found = text if own else f"{type(error).__name__}: {text}"
    return FileFormatError(
        "the file is corrupt or truncated and cannot be read", file=path,
        expected=f"a complete {path.suffix} file", found=f"pyreadstat: {found}",
        hint=HINT,
    )


def _check_frame(frame: pd.DataFrame, path: Path) -> None:
    """What every reader's output must satisfy: names a person can read, once each,
    and finite numbers (a damaged byte can make either wrong)."""
    seen = {}
    for position, column in enumerate(frame.columns):
        if not isinstance(column, str) or not column.strip() \
                or any(unicodedata.category(ch) == "Cc" for ch in column):
            raise FileFormatError(
                "a variable name is empty or holds a control character", file=path,
                column=repr(column), expected="a name of printable characters",
                found=f"{column!r} (variable {position + 1})",
                hint="the file is damaged: copy or export it again (or rename the variable)")
        if column in seen:
            raise FileFormatError(
                "two variables have the same name", file=path, column=column,
                expected="a different name for every variable",
                found=f"variables {seen[column] + 1} and {position + 1}",
                hint="rename one of them at source, or copy the file again if it is damaged")
        seen[column] = position
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_float_dtype(values):
            continue
        infinite = np.flatnonzero(np.isinf(values.to_numpy(dtype=float, na_value=np.nan)))
        if len(infinite):
            raise DataError(
                "a numeric column holds an infinite number", file=path, column=column,
                row=row_number(infinite[0]), expected="finite numbers (or missing values)",
                found=f"{values.iloc[infinite[0]]} ({len(infinite)} such values)",
                hint="the value is damaged or an overflow at source: fix it, or set it missing")


def _missing_specs(info) -> dict[str, MissingSpec]:
    specs = {}
    for column, ranges in info.missing_ranges.items():
        values = tuple(plain_code(r["lo"]) for r in ranges if r["lo"] == r["hi"])
        spans = tuple((plain_code(r["lo"]), plain_code(r["hi"])) for r in ranges
                      if r["lo"] != r["hi"])
        specs[column] = MissingSpec(values=values, ranges=spans)
    for column, letters in info.missing_user_values.items():  # Stata's .a-.z
        old = specs.get(column, MissingSpec())
        specs[column] = MissingSpec(values=old.values + tuple(letters), ranges=old.ranges)
    return specs


def _float_codes(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer columns (Stata's byte/int/long) as float64, as SPSS stores numbers."""
    ints = [c for c in frame.columns if pd.api.types.is_integer_dtype(frame[c])]
    return frame.astype({c: "float64" for c in ints}) if ints else frame


def _read_parquet(path: Path):
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as error:  # pyarrow raises several types for bad files
        raise FileFormatError(
            "the Parquet file is corrupt or truncated", file=path, found=str(error),
            hint="write it again (st.write_parquet) or copy it again",
        ) from None
    stored = (table.schema.metadata or {}).get(PARQUET_KEY)
    meta = Metadata.from_dict(json.loads(stored)) if stored else Metadata()
    return table.to_pandas(), meta


def _codebook_of(path: Path, kind: str, codebook) -> Path | None:
    """The codebook of a CSV wave (checked to exist); None for other formats."""
    if kind != "csv":
        if codebook is not None:
            raise FileFormatError(
                "a codebook goes with a CSV wave only", file=path,
                expected="a .csv or .csv.gz file",
                found=f"codebook={codebook} for a {path.suffix} file",
                hint="drop codebook= (other formats carry their own metadata)",
            )
        return None
    book = Path(codebook) if codebook is not None else codebook_path(path)
    return existing_file(book, what="codebook", hint=f"write {book.name} with "
                         "st.write_codebook(meta, path, data=frame), or pass codebook= to read_wave")


@functools.cache
def _versions() -> dict:
    """Versions of the code that shapes a parsed file (importing pyreadstat would cost more)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        own = version("surveytools")
    except PackageNotFoundError:  # run from a source tree that is not installed
        own = "source"
    return {"surveytools": own, "pyreadstat": version("pyreadstat"),
            "pyarrow": version("pyarrow"), "pandas": pd.__version__}
