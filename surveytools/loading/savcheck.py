"""The structure of an SPSS system file (.sav/.zsav), checked before the C reader opens it.

pyreadstat's C library (ReadStat) trusts the counts, lengths and offsets a
system file states: one damaged byte in a variable record can make it read
or write past its buffers and kill the Python process (a segmentation fault,
no message), and a damaged case count can make it stop early without a word.
:func:`check_sav` walks the file as GNU PSPP documents the format ("System
File Format") and checks every count, length, offset and cross-reference
against the file's size and against each other, so that ReadStat only ever
sees a file whose structure is sound (one module of
:mod:`surveytools.loading.sav` a part):

* the header record: ``$FL2``/``$FL3``, layout code (byte order), case size,
  compression, weight index, case count, compression bias;
* variable records (type 2): width, the continuation records of a string,
  label length, missing-value count and order, print and write formats
  (a text format on a number makes ReadStat read it as text), names;
* value labels (type 3) and the variables they apply to (type 4): the
  indexes, one type of variable per set, one label per code, one set per
  variable;
* documents (type 6) and extension records (type 7): size and count of every
  subtype and the contents of those ReadStat parses (3 integer info, 4 float
  info, 7 and 19 multiple-response sets, 11 display parameters, 13 long
  names, 14 very long strings, 16 case count, 20 encoding, 21 long-string
  value labels, 22 long-string missing values);
* the dictionary termination record (999);
* the data: an uncompressed file must hold exactly ``cases x case size``
  bytes; bytecode-compressed data (and the decompressed blocks of a .zsav,
  whose ZLIB header, trailer and block table are checked, each block
  inflated and its Adler-32 verified) are decoded command by command to
  count the cases and to check that every code fits its column (a number
  code in a text column, spaces in a numeric one).

What no reader can detect is a damaged byte that leaves a valid file with
another value: a digit of an uncompressed number, a letter of a label.

Cost (``benchmarks/bench_io.py``, 1,000,000 rows x 60 columns): walking the
dictionary takes about a millisecond; the data check of an uncompressed file
is arithmetic on its size; decoding compressed data is vectorised (numpy)
and costs a fraction of ReadStat's own read.

Examples
--------
>>> import tempfile, pathlib, pandas as pd, pyreadstat
>>> path = pathlib.Path(tempfile.mkdtemp()) / "w.sav"
>>> pyreadstat.write_sav(pd.DataFrame({"q1": [1.0, 2.0, 8.0]}), path)
>>> layout = check_sav(path)
>>> layout.rows, layout.names, layout.compression
(3, ('q1',), 0)
>>> raw = bytearray(path.read_bytes()); raw[182] = 0xAF   # the width of q1
>>> _ = path.write_bytes(raw)
>>> check_sav(path)
Traceback (most recent call last):
...
surveytools.core.errors.FileFormatError: ...w.sav, column 'Q1': the SPSS file is corrupt or truncated: the variable record has an impossible width; expected a width of 0 (numeric) or 1-255 (text), found 11468800 at byte 180. Fix: copy or export the file again (compare its size or checksum with the original); if it opens in SPSS, re-save it from there
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass
from pathlib import Path

from .faults import SPSS_HINT as HINT
from .faults import corrupt
from .sav.cursor import Cursor
from .sav.data import check_data
from .sav.format import HEADER
from .sav.records import read_dictionary, read_header

__all__ = ["SavLayout", "check_sav", "HINT"]


@dataclass(frozen=True)
class SavLayout:
    """What the structure check found: enough to verify what the reader returns.

    Attributes
    ----------
    compression : int
        0 none, 1 bytecode, 2 ZLIB (.zsav).
    byte_order : str
        ``"<"`` little-endian or ``">"`` big-endian.
    case_size : int
        8-byte elements per case.
    rows : int
        Cases the data hold (counted, and equal to the header's count when it
        states one).
    names : tuple of str
        The variables (long names where the file has them), in file order.
    encoding : str or None
        The encoding the file names (subtype 20), if any.
    isolate : bool
        True when a part of the file is sound but of a form ReadStat may not
        read safely (multiple-response sets it does not write itself): the
        reader then runs in a child process.
    """

    compression: int
    byte_order: str
    case_size: int
    rows: int
    names: tuple[str, ...]
    encoding: str | None = None
    isolate: bool = False


def check_sav(path, *, encoding: str | None = None) -> SavLayout:
    """Walk the structure of a .sav or .zsav file; a FileFormatError at the first fault.

    Parameters
    ----------
    path : str or Path
    encoding : str, optional
        The encoding the reader will be told to use (default: the one the
        file declares); text codes of value labels must decode in it.

    Returns
    -------
    SavLayout

    Raises
    ------
    FileFormatError
        Naming the file, the variable where there is one, the byte offset
        of the fault, what was expected and what was found.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size < HEADER:
            raise corrupt("SPSS", path, "the file is shorter than an SPSS header",
                          expected=f"at least the {HEADER}-byte header record",
                          found=f"{size} bytes")
        view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            cursor = Cursor(path, view, size)
            header = read_header(cursor)
            book = read_dictionary(cursor, encoding=encoding)
            rows = check_data(cursor, book, header)
        finally:
            view.close()
    return SavLayout(compression=header.compression, byte_order=cursor.order,
                     case_size=len(book.element_kind), rows=rows,
                     names=tuple(v.name for v in book.variables if not v.ghost),
                     encoding=book.encoding, isolate=book.isolate)
