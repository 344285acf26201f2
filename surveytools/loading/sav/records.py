"""The header and the dictionary records of a system file, checked one by one.

The header (176 bytes: signature, layout code, case size, compression,
weight index, case count, bias) and then, until record 999, the records of
the dictionary: variable records (type 2) with their continuations, value
labels (type 3) and the variables they label (type 4), documents (type 6)
and extension records (type 7, :mod:`~surveytools.loading.sav.extensions`).
Each count, length, flag and format is checked against the file's size and
against the records before it.

Examples
--------
>>> import struct
>>> header = (b"$FL2" + b" " * 60 + struct.pack("<4i", 2, 1, 0, 0)
...           + struct.pack("<i", 3) + struct.pack("<d", 0.0) + b" " * 84)
>>> cursor = Cursor("w.sav", header, len(header))
>>> read_header(cursor), cursor.pos
(Header(case_size=1, compression=0, weight=0, cases=3), 176)
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from ...core.errors import FileFormatError
from .cursor import Cursor
from .dictionary import Dictionary, Variable
from .extensions import check_display, extension
from .format import HEADER, MAX_LABEL, NUMBER_FORMATS, TEXT_FORMATS
from .text import decode_texts, short_name

__all__ = ["Header", "read_header", "read_dictionary"]


@dataclass(frozen=True)
class Header:
    """The counts of the header record.

    Attributes
    ----------
    case_size : int
        8-byte elements per case (-1: not stated).
    compression : int
        0 none, 1 bytecode, 2 ZLIB.
    weight : int
        The 1-based element of the weight variable (0: none).
    cases : int
        The number of cases (-1: not stated).
    """

    case_size: int
    compression: int
    weight: int
    cases: int


def read_header(cursor: Cursor) -> Header:
    """The header record, checked; sets the cursor's byte order and moves past it."""
    data = cursor.data
    magic = bytes(data[0:4])
    if magic not in (b"$FL2", b"$FL3"):
        raise cursor.fail("this is not an SPSS system file", at=0,
                          expected='the signature "$FL2" (or "$FL3" for .zsav)',
                          found=repr(magic))
    for order in ("<", ">"):
        cursor.order = order
        if cursor.unpack("i", 64)[0] in (2, 3):
            break
    else:
        raise cursor.fail("the layout code is damaged", at=64,
                          expected="2 or 3 (it gives the byte order)",
                          found=struct.unpack_from("<i", data, 64)[0])
    case_size, compression, weight, cases = cursor.unpack("4i", 68)
    bias = cursor.unpack("d", 84)[0]
    allowed = (2,) if magic == b"$FL3" else (0, 1)
    if compression not in allowed:
        raise cursor.fail("the compression code is damaged", at=72,
                          expected=f"{' or '.join(map(str, allowed))} for a {magic.decode()} "
                                   "file", found=compression)
    if case_size < -1 or case_size == 0:
        raise cursor.fail("the case size is damaged", at=68,
                          expected="the number of 8-byte elements per case (or -1)",
                          found=case_size)
    if cases < -1:
        raise cursor.fail("the case count is damaged", at=80,
                          expected="the number of cases (or -1 when unknown)", found=cases)
    if compression and bias != 100.0:
        raise cursor.fail("the compression bias is damaged", at=84,
                          expected="100 (every SPSS writer uses it)", found=bias)
    if weight < 0:
        raise cursor.fail("the weight index is damaged", at=76,
                          expected="0 or the element of the weight variable", found=weight)
    cursor.pos = HEADER
    return Header(case_size=case_size, compression=compression, weight=weight, cases=cases)


def read_dictionary(cursor: Cursor, *, encoding: str | None = None) -> Dictionary:
    """Every record from the end of the header to record 999 (the cursor moves past it).

    ``encoding`` is the one the reader will be told to use (None: the file's
    own): names and text codes must decode in it.
    """
    book = Dictionary()
    pending = 0         # continuation records still owed to the last string
    while True:
        start = cursor.pos
        kind = cursor.int32("a record type")
        if pending and kind != 2:
            raise _short_string(cursor, book, start)
        if kind == 2:
            pending = _variable(cursor, book, start, pending)
        elif kind == 3:
            _value_labels(cursor, book, start)
        elif kind == 4:
            raise cursor.fail("a value-label variable record without its value labels",
                              at=start, expected="record type 4 right after a type 3",
                              found="a type 4 record on its own")
        elif kind == 6:
            lines = cursor.int32("the document record")
            if lines < 0 or lines > (cursor.size - cursor.pos) // 80:
                raise cursor.fail("the document record has an impossible line count",
                                  at=start + 4, expected="lines of 80 bytes within the file",
                                  found=lines)
            cursor.pos += 80 * lines
        elif kind == 7:
            extension(cursor, book, start)
        elif kind == 999:
            filler = cursor.int32("the dictionary termination record")
            if filler != 0:
                raise cursor.fail("the dictionary termination record is damaged",
                                  at=start + 4, expected="0 after record type 999",
                                  found=filler)
            break
        else:
            raise cursor.fail("an unknown record type in the dictionary", at=start,
                              expected="2, 3, 6, 7 or 999", found=kind)
    _finish(cursor, book, encoding)
    return book


# -- variable records (type 2) ------------------------------------------------
def _variable(cursor: Cursor, book: Dictionary, start: int, pending: int) -> int:
    """One variable record; the continuation records its width still owes."""
    cursor.need(28, "a variable record")
    width, has_label, n_missing, print_format, write_format = cursor.unpack("5i", cursor.pos)
    raw_name = bytes(cursor.data[cursor.pos + 20:cursor.pos + 28])
    cursor.pos += 28
    if width == -1:
        if not pending:
            raise cursor.fail("a continuation record that continues no text variable",
                              at=start + 4, expected="a width of 0-255",
                              found="-1 (continuation)")
        if has_label or n_missing:
            raise cursor.fail("a continuation record with a label or missing values",
                              at=start + 8, expected="0 and 0",
                              found=f"{has_label} and {n_missing}",
                              column=book.variables[-1].short)
        book.element_kind.append(len(book.variables) - 1)
        book.variables[-1].elements += 1
        return pending - 1
    short = short_name(raw_name)
    shown = short or repr(raw_name)
    if not 0 <= width <= 255:
        raise cursor.fail("the variable record has an impossible width", at=start + 4,
                          expected="a width of 0 (numeric) or 1-255 (text)", found=width,
                          column=shown)
    if short is None:
        raise cursor.fail("a variable name is damaged", at=start + 24,
                          expected="a name of letters, digits and @#$_. starting with a "
                                   "letter", found=repr(raw_name), column=shown)
    if has_label not in (0, 1):
        raise cursor.fail("the variable record's label flag is damaged", at=start + 8,
                          expected="0 or 1", found=has_label, column=short)
    if n_missing not in (0, 1, 2, 3, -2, -3) or (width and n_missing < 0):
        raise cursor.fail("the variable record's missing-value count is damaged",
                          at=start + 12, column=short, found=n_missing,
                          expected="0-3, or -2/-3 for a range (numeric variables only)")
    for offset, value in ((16, print_format), (20, write_format)):
        kind = (value >> 16) & 0xFF
        allowed = TEXT_FORMATS if width else NUMBER_FORMATS
        # 0 (no format) is harmless; a text format on a number is not: ReadStat
        # would read the number as text
        if value >> 24 or (kind and kind not in allowed):
            raise cursor.fail("the variable's display format is damaged",
                              at=start + offset, column=short,
                              expected=("a text format (A)" if width else
                                        "a numeric format (F, DATE, ...)"),
                              found=f"format code {kind}" if not value >> 24 else hex(value))
    if has_label:
        length = cursor.int32("a variable label", short)
        if not 0 <= length <= MAX_LABEL:
            raise cursor.fail("the variable label has an impossible length",
                              at=cursor.pos - 4, expected=f"0-{MAX_LABEL} bytes",
                              found=length, column=short)
        cursor.need((length + 3) // 4 * 4, "a variable label", short)
        cursor.pos += (length + 3) // 4 * 4
    if n_missing:
        cursor.need(8 * abs(n_missing), "the missing values", short)
        if not width:
            values = cursor.unpack(f"{abs(n_missing)}d", cursor.pos)
            if any(math.isnan(v) for v in values) or (n_missing < 0 and values[0] > values[1]):
                raise cursor.fail("the variable's missing values are damaged",
                                  expected="numbers, a range's low end first",
                                  found=", ".join(map(repr, values)), column=short)
        cursor.pos += 8 * abs(n_missing)
    book.add(Variable(short=short, element=len(book.element_kind), width=width, elements=1,
                      record=start))
    return (width + 7) // 8 - 1 if width else 0


def _short_string(cursor: Cursor, book: Dictionary, at: int) -> FileFormatError:
    last = book.variables[-1]
    return cursor.fail("a text variable has fewer continuation records than its width "
                       "needs", at=at, column=last.short,
                       expected=f"{(last.width + 7) // 8 - 1} continuation records for a "
                                f"width of {last.width}",
                       found=f"{last.elements - 1} and then another record")


# -- value labels (types 3 and 4) ------------------------------------------------
def _value_labels(cursor: Cursor, book: Dictionary, start: int) -> None:
    """A set of value labels and the variables it labels: one type, one label per code."""
    count = cursor.int32("a value-label record")
    if count < 0 or count > (cursor.size - cursor.pos) // 16:
        raise cursor.fail("the value-label record has an impossible label count",
                          at=start + 4, expected="a count that fits in the file", found=count)
    codes = []
    for _ in range(count):
        cursor.need(9, "a value label")
        raw = bytes(cursor.data[cursor.pos:cursor.pos + 8])
        length = cursor.data[cursor.pos + 8]
        cursor.pos += 9
        padded = (length + 8) // 8 * 8 - 1
        cursor.need(padded, "a value label")
        cursor.pos += padded
        codes.append(raw)
    if cursor.int32("the value-label variable record") != 4:
        raise cursor.fail("value labels are not followed by the variables they label",
                          at=cursor.pos - 4, expected="record type 4",
                          found=cursor.unpack("i", cursor.pos - 4)[0])
    n_vars = cursor.int32("the value-label variable record")
    elements = len(book.element_kind)
    if not 0 < n_vars <= elements:
        raise cursor.fail("the value labels apply to an impossible number of variables",
                          at=cursor.pos - 4, expected=f"1-{elements} variables", found=n_vars)
    cursor.need(4 * n_vars, "the value-label variable record")
    indexes = cursor.unpack(f"{n_vars}i", cursor.pos)
    cursor.pos += 4 * n_vars
    owners = []
    for index in indexes:
        variable = book.variable_at(index)
        if variable is None:
            raise cursor.fail("value labels point at no variable", at=start,
                              expected=f"the element index of a variable (1-{elements})",
                              found=index)
        if variable.width > 8:
            raise cursor.fail("short value labels on a long text variable", at=start,
                              column=variable.short, expected="a numeric or <= 8-byte text "
                              "variable", found=f"width {variable.width}")
        if variable.element in book.labelled:
            raise cursor.fail("a variable has two sets of value labels", at=start,
                              column=variable.short, expected="one set per variable",
                              found=f"sets at bytes {book.labelled[variable.element]} and "
                                    f"{start}")
        book.labelled[variable.element] = start
        owners.append(variable)
    if len({bool(v.width) for v in owners}) > 1:
        raise cursor.fail("one set of value labels is shared by numeric and text variables",
                          at=start, expected="variables of one type", found="both")
    first = owners[0]
    numeric = not first.width
    if not numeric:
        book.text_codes += [(start, code, first.short) for code in codes]
    values = ([struct.unpack(cursor.order + "d", c)[0] for c in codes] if numeric
              else [c.rstrip(b" ") for c in codes])
    if len(set(values)) != len(values):
        twice = next(v for v in values if values.count(v) > 1)
        raise cursor.fail("a code has two value labels", at=start, column=first.short,
                          expected="one label per code", found=f"code {twice!r} twice")


# -- after record 999 -----------------------------------------------------------
def _finish(cursor: Cursor, book: Dictionary, encoding: str | None) -> None:
    """What only the whole dictionary shows: texts decode, names are distinct,
    the display parameters fit the variables."""
    decode_texts(cursor, book, encoding)
    if not book.variables:
        raise cursor.fail("the dictionary has no variables", at=HEADER,
                          expected="at least one variable record", found="none")
    seen: dict[str, str] = {}
    for variable in book.variables:
        if variable.ghost:
            continue
        key = variable.short.upper()
        if key in seen:
            raise cursor.fail("two variables have the same name", at=variable.record,
                              column=variable.short, expected="a different name for "
                              "every variable", found=f"{variable.short} twice")
        seen[key] = variable.short
    check_display(cursor, book)
