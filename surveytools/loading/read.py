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
``.sav`` ``.zsav``      pyreadstat, user-missing codes kept as values
``.por``                :mod:`surveytools.loading.portable` (keeps user-missing)
``.csv`` ``.csv.gz``    pandas + the JSON codebook (:mod:`~surveytools.loading.codebook`)
``.dta``                pyreadstat; Stata's ``.a``-``.z`` stay as letters
``.parquet``            pyarrow; metadata from :func:`write_parquet`
======================  =============================================

Parsed files are cached (:mod:`surveytools.loading.cache`) by content hash.

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
from pathlib import Path

import pandas as pd

from . import cache as _cache
from .charset import encoding_name, undecodable
from .codebook import codebook_path, read_csv, write_codebook
from ..core.design import AnyDesign
from ..core.errors import DataError, FileFormatError
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
    return Survey(frame, design, meta.replace(wave=wave), small_base=small_base)


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
    else:
        key = _cache.entry_key(
            content=_cache.file_digest(path), kind=kind, encoding=encoding,
            codebook=book and _cache.file_digest(book), versions=_versions(),
        )
        hit = _cache.load(key)
        if hit is None:
            frame, meta = _read(kind, path, book=book, encoding=encoding)
            _cache.store(key, frame, meta)
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
    import pyreadstat

    reader = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
    try:
        frame, info = reader(path, user_missing=True, apply_value_formats=False,
                             dates_as_pandas_datetime=True, encoding=encoding)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as error:
        raise _pyreadstat_error(path, error, encoding) from None
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


def _pyreadstat_error(path: Path, error: Exception, encoding: str | None) -> FileFormatError:
    text = str(error)
    if "convert string to the requested encoding" in text:
        return undecodable(path, encoding or "its declared encoding",
                           found="bytes of another encoding (pyreadstat: " + text + ")")
    if "unsupported character set" in text:
        return FileFormatError("the file's text encoding is not supported", file=path,
                               found=text, hint="pass encoding='cp1252' (or the right one)")
    return FileFormatError(
        "the file is corrupt or truncated and cannot be read", file=path,
        expected=f"a complete {path.suffix} file", found=f"pyreadstat: {text}",
        hint="copy or export the file again (compare its size or checksum with the "
        "original); if it opens in SPSS, re-save it from there",
    )


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
