"""The structure of an SPSS system file (.sav/.zsav), checked before the C reader opens it.

pyreadstat's C library (ReadStat) trusts the counts, lengths and offsets a
system file states: one damaged byte in a variable record can make it read
or write past its buffers and kill the Python process (a segmentation fault,
no message), and a damaged case count can make it stop early without a word.
This module walks the file as GNU PSPP documents the format ("System File
Format") and checks every count, length, offset and cross-reference against
the file's size and against each other, so that ReadStat only ever sees a
file whose structure is sound:

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

import codecs
import math
import mmap
import os
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError

__all__ = ["SavLayout", "check_sav", "HINT"]

HINT = ("copy or export the file again (compare its size or checksum with the original); "
        "if it opens in SPSS, re-save it from there")
_HEADER = 176
#: SPSS format type codes (PSPP's list); 1 (A) and 2 (AHEX) are the text formats.
TEXT_FORMATS = {1, 2}
NUMBER_FORMATS = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17, *range(20, 42)}
#: Variable display parameters (subtype 11): measure 0-3, alignment 0-2.
_MEASURES, _ALIGNMENTS = range(0, 4), range(0, 3)
#: A variable name: a letter (or @ # $, or any non-ASCII byte), then letters,
#: digits, . _ $ # @ (ReadStat's grammar for the names of records 13 and 14).
_NAME = re.compile(rb"[A-Za-z@#$\x80-\xff][A-Za-z0-9@#$_.\x80-\xff]*\Z")
_LONG_NAME_BYTES = 64
#: System-missing (-DBL_MAX), HIGHEST (DBL_MAX) and LOWEST (the next number
#: above -DBL_MAX) as SPSS, PSPP and ReadStat write them (bit patterns).
_FLOAT_INFO = (0xFFEFFFFFFFFFFFFF, 0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFE)
_MAX_STRING = 32767
#: Longest label ReadStat's buffers and SPSS allow (bytes).
_MAX_LABEL = 65535


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


@dataclass
class _Variable:
    """One variable record that is not a continuation."""

    short: str
    element: int            # 0-based index of its first 8-byte element
    width: int              # 0 numeric, 1-255 text (one segment)
    elements: int           # 8-byte elements it spans
    record: int             # byte offset of its record
    long: str | None = None
    ghost: bool = False     # a later segment of a very long string
    segments: int = 1


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
        if size < _HEADER:
            raise _fault(path, "the file is shorter than an SPSS header",
                         expected=f"at least the {_HEADER}-byte header record",
                         found=f"{size} bytes")
        view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            return _Walker(path, view, size, encoding).walk()
        finally:
            view.close()


def _fault(path, detail: str, *, expected: str, found, column: str | None = None,
           row: int | None = None, hint: str = HINT) -> FileFormatError:
    return FileFormatError(f"the SPSS file is corrupt or truncated: {detail}", file=path,
                           column=column, row=row, expected=expected, found=found, hint=hint)


class _Walker:
    """A cursor over the dictionary of one system file."""

    def __init__(self, path: Path, data, size: int, encoding: str | None = None) -> None:
        self.path, self.data, self.size = path, data, size
        self.forced_encoding = encoding
        self.text_codes: list[tuple[int, bytes, str]] = []   # (offset, code, variable)
        self.long_names: list[tuple[int, bytes, _Variable]] = []
        self.pos = 0
        self.order = "<"
        self.variables: list[_Variable] = []
        self.element_kind: list[int] = []   # per element: index into variables
        self.labelled: dict[int, int] = {}  # variable index -> offset of its label set
        self.encoding: str | None = None
        self.charset_code: int | None = None
        self.display: tuple[int, int, int] | None = None   # (offset, size, count)
        self.extended_cases: int | None = None
        self.isolate = False    # parts ReadStat may not read safely: read in a child
        self.seen_subtypes: dict[int, int] = {}

    # -- primitives ---------------------------------------------------------
    def fail(self, detail: str, *, expected: str, found, at: int | None = None,
             column: str | None = None, row: int | None = None) -> FileFormatError:
        """The error for a fault at byte ``at`` (default: the cursor; -1: no byte)."""
        where = self.pos if at is None else at
        found = f"{found} at byte {where}" if where >= 0 else found
        return _fault(self.path, detail, expected=expected, found=found, column=column, row=row)

    def need(self, count: int, what: str, column: str | None = None) -> None:
        if count < 0 or self.pos + count > self.size:
            raise self.fail(f"the file ends inside {what}",
                            expected=f"{count} more bytes for {what}",
                            found=f"{max(self.size - self.pos, 0)} bytes left", column=column)

    def int32(self, what: str, column: str | None = None) -> int:
        self.need(4, what, column)
        value = struct.unpack_from(self.order + "i", self.data, self.pos)[0]
        self.pos += 4
        return value

    # -- the file -----------------------------------------------------------
    def walk(self) -> SavLayout:
        header = self.header()
        self.dictionary()
        rows = self.data_section(header)
        names = tuple(v.long or v.short for v in self.variables if not v.ghost)
        return SavLayout(compression=header["compression"], byte_order=self.order,
                         case_size=len(self.element_kind), rows=rows, names=names,
                         encoding=self.encoding, isolate=self.isolate)

    def header(self) -> dict:
        magic = bytes(self.data[0:4])
        if magic not in (b"$FL2", b"$FL3"):
            raise self.fail("this is not an SPSS system file", at=0,
                            expected='the signature "$FL2" (or "$FL3" for .zsav)',
                            found=repr(magic))
        for order in ("<", ">"):
            if struct.unpack_from(order + "i", self.data, 64)[0] in (2, 3):
                self.order = order
                break
        else:
            raise self.fail("the layout code is damaged", at=64,
                            expected="2 or 3 (it gives the byte order)",
                            found=struct.unpack_from("<i", self.data, 64)[0])
        case_size, compression, weight, cases = struct.unpack_from(self.order + "4i",
                                                                   self.data, 68)
        bias = struct.unpack_from(self.order + "d", self.data, 84)[0]
        allowed = (2,) if magic == b"$FL3" else (0, 1)
        if compression not in allowed:
            raise self.fail("the compression code is damaged", at=72,
                            expected=f"{' or '.join(map(str, allowed))} for a {magic.decode()} "
                                     "file", found=compression)
        if case_size < -1 or case_size == 0:
            raise self.fail("the case size is damaged", at=68,
                            expected="the number of 8-byte elements per case (or -1)",
                            found=case_size)
        if cases < -1:
            raise self.fail("the case count is damaged", at=80,
                            expected="the number of cases (or -1 when unknown)", found=cases)
        if compression and bias != 100.0:
            raise self.fail("the compression bias is damaged", at=84,
                            expected="100 (every SPSS writer uses it)", found=bias)
        if weight < 0:
            raise self.fail("the weight index is damaged", at=76,
                            expected="0 or the element of the weight variable", found=weight)
        self.pos = _HEADER
        return {"case_size": case_size, "compression": compression, "weight": weight,
                "cases": cases}

    def dictionary(self) -> None:
        pending = 0         # continuation records still owed to the last string
        while True:
            start = self.pos
            kind = self.int32("a record type")
            if pending and kind != 2:
                raise self._short_string(start)
            if kind == 2:
                pending = self.variable(start, pending)
            elif kind == 3:
                self.value_labels(start)
            elif kind == 4:
                raise self.fail("a value-label variable record without its value labels",
                                at=start, expected="record type 4 right after a type 3",
                                found="a type 4 record on its own")
            elif kind == 6:
                lines = self.int32("the document record")
                if lines < 0 or lines > (self.size - self.pos) // 80:
                    raise self.fail("the document record has an impossible line count",
                                    at=start + 4, expected="lines of 80 bytes within the file",
                                    found=lines)
                self.pos += 80 * lines
            elif kind == 7:
                self.extension(start)
            elif kind == 999:
                filler = self.int32("the dictionary termination record")
                if filler != 0:
                    raise self.fail("the dictionary termination record is damaged",
                                    at=start + 4, expected="0 after record type 999",
                                    found=filler)
                break
            else:
                raise self.fail("an unknown record type in the dictionary", at=start,
                                expected="2, 3, 6, 7 or 999", found=kind)
        self.finish_dictionary()

    # -- variable records ---------------------------------------------------
    def variable(self, start: int, pending: int) -> int:
        self.need(28, "a variable record")
        width, has_label, n_missing, print_format, write_format = struct.unpack_from(
            self.order + "5i", self.data, self.pos)
        raw_name = bytes(self.data[self.pos + 20:self.pos + 28])
        self.pos += 28
        if width == -1:
            if not pending:
                raise self.fail("a continuation record that continues no text variable",
                                at=start + 4, expected="a width of 0-255",
                                found="-1 (continuation)")
            if has_label or n_missing:
                raise self.fail("a continuation record with a label or missing values",
                                at=start + 8, expected="0 and 0",
                                found=f"{has_label} and {n_missing}",
                                column=self.variables[-1].short)
            self.element_kind.append(len(self.variables) - 1)
            self.variables[-1].elements += 1
            return pending - 1
        short = _short_name(raw_name)
        shown = short or repr(raw_name)
        if not 0 <= width <= 255:
            raise self.fail("the variable record has an impossible width", at=start + 4,
                            expected="a width of 0 (numeric) or 1-255 (text)", found=width,
                            column=shown)
        if short is None:
            raise self.fail("a variable name is damaged", at=start + 24,
                            expected="a name of letters, digits and @#$_. starting with a "
                                     "letter", found=repr(raw_name), column=shown)
        if has_label not in (0, 1):
            raise self.fail("the variable record's label flag is damaged", at=start + 8,
                            expected="0 or 1", found=has_label, column=short)
        if n_missing not in (0, 1, 2, 3, -2, -3) or (width and n_missing < 0):
            raise self.fail("the variable record's missing-value count is damaged",
                            at=start + 12, column=short, found=n_missing,
                            expected="0-3, or -2/-3 for a range (numeric variables only)")
        for offset, value in ((16, print_format), (20, write_format)):
            kind = (value >> 16) & 0xFF
            allowed = TEXT_FORMATS if width else NUMBER_FORMATS
            # 0 (no format) is harmless; a text format on a number is not: ReadStat
            # would read the number as text
            if value >> 24 or (kind and kind not in allowed):
                raise self.fail("the variable's display format is damaged",
                                at=start + offset, column=short,
                                expected=("a text format (A)" if width else
                                          "a numeric format (F, DATE, ...)"),
                                found=f"format code {kind}" if not value >> 24 else hex(value))
        if has_label:
            length = self.int32("a variable label", short)
            if not 0 <= length <= _MAX_LABEL:
                raise self.fail("the variable label has an impossible length",
                                at=self.pos - 4, expected=f"0-{_MAX_LABEL} bytes",
                                found=length, column=short)
            self.need((length + 3) // 4 * 4, "a variable label", short)
            self.pos += (length + 3) // 4 * 4
        if n_missing:
            self.need(8 * abs(n_missing), "the missing values", short)
            if not width:
                values = struct.unpack_from(self.order + f"{abs(n_missing)}d", self.data,
                                            self.pos)
                if any(math.isnan(v) for v in values) or (n_missing < 0
                                                          and values[0] > values[1]):
                    raise self.fail("the variable's missing values are damaged",
                                    expected="numbers, a range's low end first",
                                    found=", ".join(map(repr, values)), column=short)
            self.pos += 8 * abs(n_missing)
        self.variables.append(_Variable(short=short, element=len(self.element_kind),
                                        width=width, elements=1, record=start))
        self.element_kind.append(len(self.variables) - 1)
        return (width + 7) // 8 - 1 if width else 0

    def _short_string(self, at: int) -> FileFormatError:
        last = self.variables[-1]
        return self.fail("a text variable has fewer continuation records than its width "
                         "needs", at=at, column=last.short,
                         expected=f"{(last.width + 7) // 8 - 1} continuation records for a "
                                  f"width of {last.width}",
                         found=f"{last.elements - 1} and then another record")

    # -- value labels -------------------------------------------------------
    def value_labels(self, start: int) -> None:
        count = self.int32("a value-label record")
        if count < 0 or count > (self.size - self.pos) // 16:
            raise self.fail("the value-label record has an impossible label count",
                            at=start + 4, expected="a count that fits in the file",
                            found=count)
        codes = []
        for _ in range(count):
            self.need(9, "a value label")
            raw = bytes(self.data[self.pos:self.pos + 8])
            length = self.data[self.pos + 8]
            self.pos += 9
            padded = (length + 8) // 8 * 8 - 1
            self.need(padded, "a value label")
            self.pos += padded
            codes.append(raw)
        if self.int32("the value-label variable record") != 4:
            raise self.fail("value labels are not followed by the variables they label",
                            at=self.pos - 4, expected="record type 4",
                            found=struct.unpack_from(self.order + "i", self.data,
                                                     self.pos - 4)[0])
        n_vars = self.int32("the value-label variable record")
        if not 0 < n_vars <= len(self.element_kind):
            raise self.fail("the value labels apply to an impossible number of variables",
                            at=self.pos - 4, expected=f"1-{len(self.element_kind)} variables",
                            found=n_vars)
        self.need(4 * n_vars, "the value-label variable record")
        indexes = struct.unpack_from(self.order + f"{n_vars}i", self.data, self.pos)
        self.pos += 4 * n_vars
        kinds = set()
        for index in indexes:
            owner = (self.element_kind[index - 1]
                     if 1 <= index <= len(self.element_kind) else None)
            if owner is None or self.variables[owner].element != index - 1:
                raise self.fail("value labels point at no variable", at=start,
                                expected=f"the element index of a variable (1-"
                                         f"{len(self.element_kind)})", found=index)
            variable = self.variables[owner]
            if variable.width > 8:
                raise self.fail("short value labels on a long text variable", at=start,
                                column=variable.short, expected="a numeric or <= 8-byte text "
                                "variable", found=f"width {variable.width}")
            if owner in self.labelled:
                raise self.fail("a variable has two sets of value labels", at=start,
                                column=variable.short, expected="one set per variable",
                                found=f"sets at bytes {self.labelled[owner]} and {start}")
            self.labelled[owner] = start
            kinds.add(bool(variable.width))
        if len(kinds) > 1:
            raise self.fail("one set of value labels is shared by numeric and text variables",
                            at=start, expected="variables of one type", found="both")
        numeric = not kinds.pop()
        if not numeric:
            owner = self.variables[self.element_kind[indexes[0] - 1]].short
            self.text_codes += [(start, code, owner) for code in codes]
        values = ([struct.unpack(self.order + "d", c)[0] for c in codes] if numeric
                  else [c.rstrip(b" ") for c in codes])
        if len(set(values)) != len(values):
            twice = next(v for v in values if values.count(v) > 1)
            raise self.fail("a code has two value labels", at=start,
                            column=self.variables[self.element_kind[indexes[0] - 1]].short,
                            expected="one label per code",
                            found=f"code {twice!r} twice")

    # -- extension records --------------------------------------------------
    def extension(self, start: int) -> None:
        subtype = self.int32("an extension record")
        size = self.int32("an extension record")
        count = self.int32("an extension record")
        if size <= 0 or count <= 0 or size * count > self.size - self.pos:
            raise self.fail(f"extension record {subtype} has an impossible size", at=start,
                            expected="size x count > 0 bytes within the file",
                            found=f"size {size} x count {count}")
        body = self.pos
        self.pos += size * count
        if subtype not in _KNOWN_SUBTYPES:
            raise self.fail("an extension record of an unknown kind", at=start + 4,
                            expected="subtype " + ", ".join(map(str, sorted(_KNOWN_SUBTYPES))),
                            found=f"subtype {subtype}")
        if _KNOWN_SUBTYPES[subtype] and size != _KNOWN_SUBTYPES[subtype]:
            raise self.fail(f"extension record {subtype} has the wrong element size",
                            at=start + 8, expected=f"size {_KNOWN_SUBTYPES[subtype]}",
                            found=f"size {size}")
        if subtype in _ONCE and subtype in self.seen_subtypes:
            raise self.fail(f"extension record {subtype} appears twice", at=start + 4,
                            expected="one record of this kind",
                            found=f"a second one (the first at byte {self.seen_subtypes[subtype]})")
        self.seen_subtypes.setdefault(subtype, start)
        check = _SUBTYPES.get(subtype)
        if check is not None:
            check(self, start, body, size, count)

    def _fixed(self, subtype: int, start: int, size: int, count: int, want_size: int,
               want_count: int | None) -> None:
        if size != want_size or (want_count is not None and count != want_count):
            raise self.fail(f"extension record {subtype} has the wrong shape", at=start,
                            expected=f"size {want_size}" + (f" x count {want_count}"
                                                             if want_count else ""),
                            found=f"size {size} x count {count}")

    def _integer_info(self, start, body, size, count) -> None:
        self._fixed(3, start, size, count, 4, 8)
        values = struct.unpack_from(self.order + "8i", self.data, body)
        if values[4] != 1:
            raise self.fail("the file's number format is not IEEE 754", at=body + 16,
                            expected="floating-point code 1", found=values[4])
        endian = 2 if self.order == "<" else 1
        if values[6] != endian:
            raise self.fail("the byte order of the integer-info record disagrees with the "
                            "header", at=body + 24, expected=endian, found=values[6])
        self.charset_code = values[7]

    def _float_info(self, start, body, size, count) -> None:
        self._fixed(4, start, size, count, 8, 3)
        found = struct.unpack_from(self.order + "3Q", self.data, body)
        if found != _FLOAT_INFO:
            # ReadStat reads values equal to these as system-missing: another
            # "sysmis" would turn every missing value into a number.
            raise self.fail("the floating-point info record is damaged", at=body,
                            expected="SPSS's system-missing, highest and lowest values",
                            found=", ".join(hex(v) for v in found))

    def _display(self, start, body, size, count) -> None:
        self._fixed(11, start, size, count, 4, None)
        self.display = (body, size, count)

    def _long_names(self, start, body, size, count) -> None:
        self._fixed(13, start, size, count, 1, None)
        text = bytes(self.data[body:body + count])
        exact = {v.short: v for v in self.variables}
        seen = {}
        items = text.split(b"\t")
        if items and not items[-1]:         # a closing tab
            items.pop()
        for item in items:
            short, sep, long = item.partition(b"=")
            if not sep or not _NAME.match(short) or not _NAME.match(long) \
                    or len(long) > _LONG_NAME_BYTES:
                raise self.fail("the long variable names record is damaged", at=body,
                                expected="SHORT=long_name pairs separated by tabs",
                                found=repr(item[:80]))
            owner = exact.get(short.decode("latin-1"))
            if owner is None:
                # ReadStat finds the variable whatever the case but then sets the
                # long name only on an exact match: anything else loses the name.
                raise self.fail("the long variable names record names a variable that does "
                                "not exist", at=body, column=short.decode("latin-1"),
                                expected="the short name of a variable, in the same case",
                                found=repr(short.decode("latin-1")))
            self.long_names.append((body, long, owner))
            name = long.decode("latin-1")
            if name.casefold() in seen:
                raise self.fail("two variables have the same long name", at=body,
                                column=name, expected="a different name for every variable",
                                found=f"{name} for {seen[name.casefold()]} and "
                                      f"{owner.short}")
            seen[name.casefold()] = owner.short
            owner.long = name       # as bytes (latin-1) until decode_texts decodes it

    def _very_long_strings(self, start, body, size, count) -> None:
        self._fixed(14, start, size, count, 1, None)
        text = bytes(self.data[body:body + count])
        by_short = self._by_short()
        for item in text.split(b"\t"):
            item = item.strip(b"\x00")
            if not item:
                continue
            short, sep, digits = item.partition(b"=")
            if not sep or not digits.isdigit() or not _NAME.match(short):
                raise self.fail("the very long string record is damaged", at=body,
                                expected="SHORT=00600 entries", found=repr(item[:80]))
            owner = by_short.get(short.decode("latin-1").upper())
            length = int(digits)
            if owner is None or owner.width != 255 or not 255 < length <= _MAX_STRING:
                raise self.fail("the very long string record does not fit its variable",
                                at=body, column=short.decode("latin-1"),
                                expected="a text variable of width 255 and a length of "
                                         f"256-{_MAX_STRING}",
                                found=f"length {length}" + ("" if owner else " of no variable"))
            segments = (length + 251) // 252
            first = self.variables.index(owner)
            parts = self.variables[first + 1:first + segments]
            if len(parts) != segments - 1 or any(p.width == 0 or p.ghost for p in parts):
                raise self.fail("a very long string lacks its segments", at=body,
                                column=owner.short,
                                expected=f"{segments - 1} text variables after it",
                                found=f"{sum(1 for p in parts if p.width)}")
            for part in parts:
                part.ghost = True
            owner.segments = segments

    def _case_count(self, start, body, size, count) -> None:
        self._fixed(16, start, size, count, 8, 2)
        fmt = self.order + "q"
        self.extended_cases = struct.unpack_from(fmt, self.data, body + 8)[0]

    def _encoding(self, start, body, size, count) -> None:
        self._fixed(20, start, size, count, 1, None)
        raw = bytes(self.data[body:body + count])
        if not re.fullmatch(rb"[A-Za-z0-9_.:()\-]+", raw):
            raise self.fail("the encoding record is damaged", at=body,
                            expected="an encoding name such as UTF-8", found=repr(raw[:40]))
        self.encoding = raw.decode("ascii")

    def _long_string_labels(self, start, body, size, count) -> None:
        self._fixed(21, start, size, count, 1, None)
        end, pos = body + count, body
        by_long = self._by_long()
        while pos < end:
            name, pos = self._pascal(pos, end, "long-string value labels")
            width, n_labels = self._ints(pos, end, 2, "long-string value labels")
            pos += 8
            owner = by_long.get(name)
            if owner is None or not owner.width or n_labels < 0:
                raise self.fail("the long-string value labels name no text variable", at=body,
                                column=name, expected="the long name of a text variable",
                                found=repr(name) + f" with {n_labels} labels")
            codes = set()
            for _ in range(n_labels):
                value, pos = self._pascal(pos, end, "long-string value labels", raw=True)
                _, pos = self._pascal(pos, end, "long-string value labels", raw=True)
                if value.rstrip(b" ") in codes:
                    raise self.fail("a code has two value labels", at=body, column=name,
                                    expected="one label per code",
                                    found=f"code {value.rstrip(b' ')!r} twice")
                codes.add(value.rstrip(b" "))
            del width

    def _long_string_missing(self, start, body, size, count) -> None:
        self._fixed(22, start, size, count, 1, None)
        end, pos = body + count, body
        by_long = self._by_long()
        while pos < end:
            name, pos = self._pascal(pos, end, "long-string missing values")
            if pos >= end:
                raise self.fail("the long-string missing values are cut short", at=body,
                                expected="a count of values", found="the end of the record")
            n_values = self.data[pos]
            pos += 1
            owner = by_long.get(name)
            if owner is None or not owner.width or not 1 <= n_values <= 3:
                raise self.fail("the long-string missing values are damaged", at=body,
                                column=name, expected="1-3 values of a text variable",
                                found=f"{n_values} values of {name!r}")
            (length,) = self._ints(pos, end, 1, "long-string missing values")
            pos += 4
            if length != 8 or pos + n_values * length > end:
                raise self.fail("the long-string missing values are damaged", at=body,
                                column=name, expected="values of 8 bytes within the record",
                                found=f"{n_values} values of {length} bytes")
            pos += n_values * length

    def _multiple_response(self, start, body, size, count) -> None:
        subtype = struct.unpack_from(self.order + "i", self.data, start + 4)[0]
        self._fixed(subtype, start, size, count, 1, None)
        text = bytes(self.data[body:body + count])
        # ReadStat's parser of these sets trusts the lengths inside each line
        # (a label length past the line reads beyond its buffer).  Lines in
        # the one form it reads safely pass; any other form is read in a
        # child process (see read.py), where a crash cannot take Python down.
        if b"\x00" in text or not all(_mr_line_safe(line)
                                       for line in text.split(b"\n")[:-1]) \
                or not text.endswith(b"\n") or not text.startswith(b"$"):
            self.isolate = True

    # -- helpers for extension records -------------------------------------
    def _by_short(self) -> dict[str, _Variable]:
        return {v.short.upper(): v for v in self.variables}

    def _by_long(self) -> dict[str, _Variable]:
        return {(v.long or v.short): v for v in self.variables}

    def _ints(self, pos: int, end: int, n: int, what: str) -> tuple:
        if pos + 4 * n > end:
            raise self.fail(f"the {what} record is cut short", at=pos,
                            expected=f"{4 * n} more bytes", found=f"{end - pos}")
        return struct.unpack_from(self.order + f"{n}i", self.data, pos)

    def _pascal(self, pos: int, end: int, what: str, raw: bool = False):
        (length,) = self._ints(pos, end, 1, what)
        pos += 4
        if not 0 <= length <= end - pos:
            raise self.fail(f"a length in the {what} record is impossible", at=pos - 4,
                            expected="a length within the record", found=length)
        value = bytes(self.data[pos:pos + length])
        return (value if raw else value.decode("latin-1")), pos + length

    # -- after the dictionary -----------------------------------------------
    def codec(self) -> str | None:
        """The Python codec of the text ReadStat will convert (None: unknown)."""
        name = self.forced_encoding
        if name is None and self.charset_code is not None:
            name = _CHARSETS.get(self.charset_code)
        if name is None:
            name = self.encoding or ("utf-8" if self.charset_code is None else None)
        if name is None:
            return None
        try:
            return codecs.lookup(name).name
        except LookupError:
            return None

    def decode_texts(self) -> None:
        """Names and text codes must decode: ReadStat crashes on a text code of a
        value label that does not convert, and silently cuts a long name short."""
        codec = self.codec()
        for body, raw, owner in self.long_names:
            text = _decoded(raw, codec) if codec else raw.decode("latin-1")
            if text is None:
                raise self.fail("a long variable name does not decode", at=body,
                                column=owner.short, expected=f"a name in {codec}",
                                found=repr(raw))
            owner.long = text
        for start, raw, owner in self.text_codes:
            if codec is None:
                self.isolate = True
            elif _decoded(raw, codec, partial_end=True) is None:
                raise self.fail("a text code of a value label does not decode", at=start,
                                column=owner, expected=f"text in {codec}", found=repr(raw))

    def finish_dictionary(self) -> None:
        self.decode_texts()
        if not self.variables:
            raise self.fail("the dictionary has no variables", at=_HEADER,
                            expected="at least one variable record", found="none")
        real = [v for v in self.variables if not v.ghost]
        seen: dict[str, str] = {}
        for variable in real:
            key = variable.short.upper()
            if key in seen:
                raise self.fail("two variables have the same name", at=variable.record,
                                column=variable.short, expected="a different name for "
                                "every variable", found=f"{variable.short} twice")
            seen[key] = variable.short
        if self.display is not None:
            body, _, count = self.display
            per = count / len(self.variables)
            if per not in (2, 3):
                raise self.fail("the display parameters do not match the variables", at=body,
                                expected=f"2 or 3 values for each of {len(self.variables)} "
                                         "variables", found=f"{count} values")
            values = struct.unpack_from(self.order + f"{count}i", self.data, body)
            for number, variable in enumerate(self.variables):
                group = values[int(per) * number:int(per) * (number + 1)]
                if group[0] not in _MEASURES or group[-1] not in _ALIGNMENTS \
                        or (per == 3 and group[1] < 0):
                    raise self.fail("the display parameters of a variable are damaged",
                                    at=body + 4 * int(per) * number, column=variable.short,
                                    expected="measure 0-3, width >= 0, alignment 0-2",
                                    found=group)

    # -- the data -----------------------------------------------------------
    def data_section(self, header: dict) -> int:
        elements = len(self.element_kind)
        if header["case_size"] not in (-1, elements):
            raise self.fail("the header's case size disagrees with the variables", at=68,
                            expected=f"{elements} elements (the variable records)",
                            found=header["case_size"])
        weight = header["weight"]
        if weight and not (weight <= elements
                           and self.variables[self.element_kind[weight - 1]].element
                           == weight - 1
                           and self.variables[self.element_kind[weight - 1]].width == 0):
            raise self.fail("the header's weight variable is not a numeric variable", at=76,
                            expected="the element index of a numeric variable",
                            found=weight)
        cases = header["cases"]
        if self.extended_cases is not None and cases >= 0 \
                and self.extended_cases not in (-1, cases):
            raise self.fail("the header and the case-count record disagree", at=80,
                            expected=f"{cases} cases in both", found=self.extended_cases)
        start, compression = self.pos, header["compression"]
        if compression == 0:
            return self._uncompressed(start, elements, cases)
        if compression == 1:
            # a copy, not a view of the map (which is closed when this returns)
            stream = np.fromfile(self.path, dtype=np.uint8, offset=start)
            return self._bytecode(stream, cases, start)
        return self._bytecode(self._zlib(start), cases, None)

    def _uncompressed(self, start: int, elements: int, cases: int) -> int:
        case_bytes = 8 * elements
        held, rest = divmod(self.size - start, case_bytes)
        if held < cases or (cases < 0 and rest):
            raise self.fail("the data stop in the middle of the file", at=self.size,
                            row=held + 1,
                            expected=f"{cases if cases >= 0 else held + 1} cases of "
                                     f"{case_bytes} bytes",
                            found=f"{held} complete cases"
                                  + (f" and {rest} bytes of the next" if rest else ""))
        if cases >= 0 and (held > cases or rest):
            raise self.fail("the file holds more data than its case count says",
                            at=start + cases * case_bytes,
                            expected=f"{cases} cases (the header's count)",
                            found=f"{held} cases" + (f" and {rest} more bytes" if rest else ""))
        return held

    def _zlib(self, start: int) -> np.ndarray:
        self.pos = start
        self.need(24, "the ZLIB header")
        zheader, ztrailer, zlength = struct.unpack_from(self.order + "3q", self.data, start)
        if zheader != start or ztrailer < start + 24 or zlength < 24 \
                or (zlength - 24) % 24 or ztrailer + zlength != self.size:
            raise self.fail("the ZLIB header is damaged", at=start,
                            expected=f"offsets {start}, a trailer that ends the file "
                                     f"({self.size} bytes)",
                            found=f"{zheader}, trailer at {ztrailer} of {zlength} bytes")
        bias, zero, block_size, n_blocks = struct.unpack_from(self.order + "qqii",
                                                              self.data, ztrailer)
        if bias != -100 or zero != 0 or block_size <= 0 or n_blocks != (zlength - 24) // 24:
            raise self.fail("the ZLIB trailer is damaged", at=ztrailer,
                            expected=f"bias -100, 0, a block size, {(zlength - 24) // 24} "
                                     "blocks",
                            found=f"{bias}, {zero}, {block_size}, {n_blocks}")
        chunks = []
        expect_u, expect_c = start, start + 24
        for number in range(n_blocks):
            at = ztrailer + 24 + 24 * number
            u_ofs, c_ofs, u_size, c_size = struct.unpack_from(self.order + "qqii", self.data, at)
            last = number == n_blocks - 1
            if u_ofs != expect_u or c_ofs != expect_c or c_size <= 0 or u_size <= 0 \
                    or u_size > block_size or (not last and u_size != block_size) \
                    or c_ofs + c_size > ztrailer or u_size % 8:
                raise self.fail(f"the ZLIB block table is damaged (block {number + 1} of "
                                f"{n_blocks})", at=at,
                                expected=f"block at {expect_c} (data offset {expect_u}), "
                                         f"at most {block_size} bytes",
                                found=f"block at {c_ofs} (data offset {u_ofs}), {c_size} "
                                      f"compressed, {u_size} bytes")
            inflater = zlib.decompressobj()
            try:
                chunk = inflater.decompress(self.data[c_ofs:c_ofs + c_size], u_size + 1)
            except zlib.error as error:
                raise self.fail(f"ZLIB block {number + 1} of {n_blocks} is damaged", at=c_ofs,
                                expected="a complete ZLIB stream with a matching checksum",
                                found=f"zlib: {error}") from None
            if not inflater.eof or inflater.unused_data or len(chunk) != u_size:
                raise self.fail(f"ZLIB block {number + 1} of {n_blocks} is damaged", at=c_ofs,
                                expected=f"{u_size} bytes from one complete ZLIB stream",
                                found=f"{len(chunk)} bytes" + ("" if inflater.eof
                                                               else ", stream cut short"))
            chunks.append(chunk)
            expect_u, expect_c = u_ofs + u_size, c_ofs + c_size
        if expect_c != ztrailer:
            raise self.fail("the ZLIB blocks do not reach the trailer", at=expect_c,
                            expected=f"the last block to end at byte {ztrailer}",
                            found=f"it ends at byte {expect_c}")
        return np.frombuffer(b"".join(chunks), dtype=np.uint8)

    def _bytecode(self, stream: np.ndarray, cases: int, start: int | None) -> int:
        """Decode compressed data: count the cases, check each code against its column."""
        elements = len(self.element_kind)
        where = "compressed data" if start is not None else "decompressed ZLIB data"
        at = (lambda offset: -1 if start is None else start + offset)
        if len(stream) % 8:
            raise self.fail(f"the {where} stop inside an 8-byte unit", at=self.size,
                            expected="a whole number of 8-byte units",
                            found=f"{len(stream) % 8} bytes over")
        decoded = _decode(stream)
        if decoded.finish > decoded.blocks:
            raise self.fail(f"the {where} stop in the middle of a value", at=at(len(stream)),
                            expected=f"{8 * (decoded.finish - decoded.blocks)} more bytes of "
                                     "data", found="the end of the file")
        if decoded.finish < decoded.blocks:
            raise self.fail(f"the {where} go on after their end-of-data code",
                            at=at(8 * decoded.finish), expected="the end of the file",
                            found=f"{8 * (decoded.blocks - decoded.finish)} more bytes")
        if decoded.misplaced is not None:
            # Writers pad a block with code 0 only at its end (ReadStat at the end
            # of each case): a code after a 0 is 8 bytes of raw data read as codes
            # (a damaged 253), which could otherwise shift values and still add up.
            block = decoded.misplaced
            raise self.fail(f"the {where} hold a code after padding", at=at(8 * block),
                            expected="code 0 only at the end of a block",
                            found=f"codes {stream[8 * block:8 * block + 8].tolist()}")
        codes = decoded.codes
        rows, partial = divmod(len(codes), elements)
        if rows < cases or (cases < 0 and partial):
            raise self.fail(f"the {where} stop before the last case", at=at(len(stream)),
                            row=rows + 1,
                            expected=f"{cases if cases >= 0 else rows + 1} complete cases",
                            found=f"{rows} complete cases"
                                  + (f" and {partial} values of the next" if partial else ""))
        if cases >= 0 and (rows > cases or partial):
            raise self.fail("the file holds more cases than its case count says", at=80,
                            expected=f"{cases} cases (the header's count)",
                            found=f"{rows} cases in the data" + (
                                f" and {partial} values" if partial else ""))
        if rows:
            self._check_codes(codes[:rows * elements].reshape(rows, elements))
        return rows

    def _check_codes(self, table: np.ndarray) -> None:
        """Every code fits its column: text columns hold 8-byte text (253) or 8
        spaces (254), numeric columns never 254 (a chunk of cases at a time)."""
        text = np.flatnonzero([self.variables[k].width > 0 for k in self.element_kind])
        step = max(1, _CHUNK * 8 // table.shape[1])
        for low in range(0, len(table), step):
            part = table[low:low + step]
            in_text = part[:, text] if len(text) else part[:, :0]
            wrong_text = bool(((in_text != 253) & (in_text != 254)).any())
            if not wrong_text and np.count_nonzero(part == 254) == np.count_nonzero(
                    in_text == 254):
                continue
            is_text = np.zeros(table.shape[1], dtype=bool)
            is_text[text] = True
            wrong = np.where(is_text, (part != 253) & (part != 254), part == 254)
            row, element = (int(i) for i in np.argwhere(wrong)[0])
            variable = self.variables[self.element_kind[element]]
            found = int(part[row, element])
            raise self.fail(
                "a compressed value does not fit its column",
                at=-1, row=low + row + 1, column=variable.long or variable.short,
                expected="8 bytes of text (codes 253, 254)" if variable.width else
                         "a number (codes 1-251, 253, 255)",
                found=f"code {found}" + (" (8 spaces)" if found == 254 else ""))


@dataclass
class _Decoded:
    """What :func:`_decode` found in a bytecode stream."""

    codes: np.ndarray            # the value codes of the cases, in order
    blocks: int                  # 8-byte blocks in the stream
    finish: int                  # the block where the data end (> blocks: cut off)
    misplaced: int | None        # the first command block with a code after padding


#: Blocks handled at a time: temporaries stay small (and warm) however large the file.
_CHUNK = 1 << 20
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_REPEAT = np.uint64(0x0101010101010101)


def _count_bytes(words: np.ndarray, value: int) -> np.ndarray:
    """For each 8-byte word, how many of its bytes equal ``value`` (SWAR, exact)."""
    v = words ^ (_REPEAT * np.uint64(value))
    return np.bitwise_count(~(((v & _LOW7) + _LOW7) | v | _LOW7))


def _decode(stream: np.ndarray) -> _Decoded:
    """Decode SPSS bytecode: which 8-byte blocks hold commands, and their codes.

    A command block of 8 codes is followed by one 8-byte block of raw data
    for each code 253 in it, so the command blocks form a chain from block 0
    that no single vectorised operation finds.  Most blocks have no 253: a
    run of them is walked one by one, so only the blocks with a 253 (or the
    end code 252) are *nodes* that can jump, and the chain is followed from
    node to node (:func:`_walk`).  The walk stops at the first command block
    with the end code 252.  Everything else is done a chunk of blocks at a
    time with whole-word (8 codes) arithmetic.
    """
    n = len(stream) // 8
    words = stream.view(np.uint64)
    raw = np.empty(n, dtype=np.uint8)
    is_end = np.empty(n, dtype=bool)
    for low in range(0, n, _CHUNK):
        chunk = words[low:low + _CHUNK]
        raw[low:low + _CHUNK] = _count_bytes(chunk, 253)
        is_end[low:low + _CHUNK] = _count_bytes(chunk, 252) > 0
    blocks = stream.reshape(n, 8)
    ends = np.flatnonzero(is_end)
    if len(ends):                           # 253s after a 252 do not count
        codes = blocks[ends]
        before = ~np.logical_or.accumulate(codes == 252, axis=1)
        raw[ends] = np.count_nonzero((codes == 253) & before, axis=1)
    raw = raw.astype(np.int64)
    nodes = np.flatnonzero((raw > 0) | is_end)
    if len(nodes):
        following = np.searchsorted(nodes, nodes + 1 + raw[nodes])
        following[is_end[nodes]] = np.iinfo(np.int64).max     # the chain ends at a 252
        chain_nodes = nodes[_walk(following, len(nodes))]
    else:
        chain_nodes = nodes
    stop = None
    if len(chain_nodes) and is_end[chain_nodes[-1]]:
        stop = int(chain_nodes[-1])
        finish, end = stop + 1 + int(raw[stop]), stop
    else:
        last = int(chain_nodes[-1]) if len(chain_nodes) else -1
        finish = max(n, last + 1 + int(raw[last])) if last >= 0 else n
        end = n
    # the command blocks before the end: all but the raw blocks after each chain node
    command = np.ones(end, dtype=bool)
    counts = raw[chain_nodes]
    total = int(counts.sum())
    if total:
        within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        skipped = np.repeat(chain_nodes + 1, counts) + within
        command[skipped[skipped < end]] = False
    pieces, misplaced = [], None
    for low in range(0, end, _CHUNK):
        chosen = words[low:min(low + _CHUNK, end)][command[low:low + _CHUNK]]
        flat = chosen.view(np.uint8)
        present = flat != 0
        # padding (0) only at the end of a block: its non-zero codes form a prefix
        filled = present.view(np.uint64) * np.uint64(0xFF)
        bad = np.flatnonzero(filled & (filled + np.uint64(1)))
        if len(bad) and misplaced is None:
            misplaced = low + int(np.flatnonzero(command[low:low + _CHUNK])[bad[0]])
        pieces.append(flat[present])
    if stop is not None:                    # the codes of the last block, before its 252
        last = blocks[stop][:int(np.argmax(blocks[stop] == 252))]
        zero = np.flatnonzero(last == 0)
        if len(zero) and last[zero[0]:].any() and misplaced is None:
            misplaced = stop
        pieces.append(last[last != 0])
    codes = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.uint8)
    return _Decoded(codes=codes, blocks=n, finish=finish, misplaced=misplaced)


def _walk(following: np.ndarray, count: int) -> np.ndarray:
    """Which nodes the chain from node 0 visits (``following[i]``: the node after i,
    at most 9 further on, or a huge number where the chain ends)."""
    span = 1024 if count > 8192 else 16
    chunks = -(-count // span)
    lows = np.arange(chunks, dtype=np.int64) * span
    highs = np.minimum(lows + span, count)
    entries = (lows[:, None] + np.arange(9)[None, :]).ravel()
    limit = np.repeat(highs, 9)
    position = entries.copy()
    active = position < limit
    while active.any():
        index = np.flatnonzero(active)
        position[index] = following[position[index]]
        active[index] = position[index] < limit[index]
    exits = position.reshape(chunks, 9)
    entry = np.full(chunks, -1, dtype=np.int64)
    here = 0
    for chunk in range(chunks):
        if here >= count:       # past the last node, or the end code (a huge number)
            break
        offset = here - int(lows[chunk])
        assert 0 <= offset < 9, "a jump crossed a whole chunk"
        entry[chunk] = here
        here = int(exits[chunk, offset])
    visited = np.zeros(count, dtype=bool)
    reached = np.flatnonzero(entry >= 0)
    position = entry[reached].copy()
    limit = highs[reached]
    active = position < limit
    while active.any():
        index = np.flatnonzero(active)
        visited[position[index]] = True
        position[index] = following[position[index]]
        active[index] = position[index] < limit[index]
    return visited


def _decoded(raw: bytes, codec: str, *, partial_end: bool = False) -> str | None:
    """``raw`` decoded, or None; ``partial_end`` forgives a character cut at the
    end of a fixed-width field (some SPSS versions write them)."""
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as error:
        if partial_end and error.reason == "unexpected end of data":
            return raw[:error.start].decode(codec, errors="strict")
        return None


def _short_name(raw: bytes) -> str | None:
    """The name of a variable record (without its padding), or None when damaged."""
    name = raw.rstrip(b" \x00")
    if not _NAME.match(name):
        return None
    return name.decode("latin-1")


def _mr_line_safe(line: bytes) -> bool:
    """One line of a multiple-response set record in the form ReadStat parses
    without reading past it: ``$name=C 9 the label A B`` or
    ``$name=D1 1 9 the label A B`` (lengths that fit inside the line)."""
    head = re.match(rb"\$[A-Za-z0-9_]+=([CD])(\d{0,6}) ", line)
    if not head:
        return False
    counted = int(head.group(2) or 0)
    at = head.end() - 1                        # the space after the type
    if counted:
        at += 1 + counted                      # ReadStat skips the byte after the value
        if at + 1 >= len(line):
            return False
        at += 1
    else:
        at += 1
    label = re.match(rb"(\d{1,6}) ", line[at:])
    if not label:
        return False
    end = at + label.end() + int(label.group(1))   # the byte after the label, skipped
    if end + 1 > len(line):
        return False
    return re.fullmatch(rb" *[A-Za-z0-9_]+( [A-Za-z0-9_]+)*", line[end + 1:]) is not None


#: SPSS character codes (integer-info record) and the codecs ReadStat maps them to.
_CHARSETS = {
    2: "cp1252", 3: "cp1252", 437: "cp437", 737: "cp737", 775: "cp775", 850: "cp850",
    852: "cp852", 855: "cp855", 857: "cp857", 858: "cp858", 860: "cp860", 861: "cp861",
    862: "cp862", 863: "cp863", 864: "cp864", 865: "cp865", 866: "cp866", 869: "cp869",
    874: "cp874", 932: "cp932", 936: "gbk", 949: "cp949", 950: "big5", 1200: "utf-16-le",
    1201: "utf-16-be", 1250: "cp1250", 1251: "cp1251", 1252: "cp1252", 1253: "cp1253",
    1254: "cp1254", 1255: "cp1255", 1256: "cp1256", 1257: "cp1257", 1258: "cp1258",
    1361: "johab", 10000: "mac-roman", 10006: "mac-greek", 10007: "mac-cyrillic",
    10029: "mac-latin2", 10079: "mac-iceland", 10081: "mac-turkish", 12000: "utf-32-le",
    12001: "utf-32-be", 20127: "ascii", 20866: "koi8-r", 20932: "euc-jp", 21866: "koi8-u",
    28591: "latin-1", 28592: "iso8859-2", 28593: "iso8859-3", 28594: "iso8859-4",
    28595: "iso8859-5", 28596: "iso8859-6", 28597: "iso8859-7", 28598: "iso8859-8",
    28599: "iso8859-9", 28603: "iso8859-13", 28605: "iso8859-15", 50220: "iso2022-jp",
    50221: "iso2022-jp", 50222: "iso2022-jp", 50225: "iso2022-kr", 51932: "euc-jp",
    51936: "gbk", 51949: "euc-kr", 54936: "gb18030", 65000: "utf-7", 65001: "utf-8",
}

#: Extension record subtypes that SPSS and PSPP write, and their element size
#: (0: not fixed).  Any other subtype is refused: a record the reader does not
#: know is data it cannot vouch for, and a damaged subtype would otherwise
#: make a record (the measure levels, say) silently disappear.
_KNOWN_SUBTYPES = {3: 4, 4: 8, 5: 1, 6: 4, 7: 1, 8: 0, 10: 1, 11: 4, 13: 1, 14: 1, 16: 8,
                   17: 1, 18: 1, 19: 1, 20: 1, 21: 1, 22: 1, 24: 1}
#: Subtypes a file holds at most once.
_ONCE = {3, 4, 11, 13, 14, 16, 20}

_SUBTYPES = {
    3: _Walker._integer_info, 4: _Walker._float_info, 7: _Walker._multiple_response,
    11: _Walker._display, 13: _Walker._long_names, 14: _Walker._very_long_strings,
    16: _Walker._case_count, 19: _Walker._multiple_response, 20: _Walker._encoding,
    21: _Walker._long_string_labels, 22: _Walker._long_string_missing,
}
