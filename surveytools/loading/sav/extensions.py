"""The extension records (type 7) of a system file: size and count, and the contents
ReadStat parses.

Every subtype must be one SPSS or PSPP writes, with its element size, at
most once where the format allows one; the contents are checked for those
ReadStat reads: 3 integer info, 4 float info, 7 and 19 multiple-response
sets, 11 display parameters (checked once the variables are known,
:func:`check_display`), 13 long names, 14 very long strings, 16 case count,
20 encoding, 21 long-string value labels, 22 long-string missing values.

Examples
--------
>>> mr_line_safe(b"$set=C 9 the label A B"), mr_line_safe(b"$set=C 9 99999 A")
(True, False)
"""

from __future__ import annotations

import re

from .cursor import Cursor
from .dictionary import Dictionary
from .format import (ALIGNMENTS, FLOAT_INFO, KNOWN_SUBTYPES, LONG_NAME_BYTES, MAX_STRING,
                     MEASURES, NAME, ONCE)

__all__ = ["extension", "check_display", "mr_line_safe"]


def extension(cursor: Cursor, book: Dictionary, start: int) -> None:
    """The extension record at ``start`` (after its type); the cursor moves past it."""
    subtype = cursor.int32("an extension record")
    size = cursor.int32("an extension record")
    count = cursor.int32("an extension record")
    if size <= 0 or count <= 0 or size * count > cursor.size - cursor.pos:
        raise cursor.fail(f"extension record {subtype} has an impossible size", at=start,
                          expected="size x count > 0 bytes within the file",
                          found=f"size {size} x count {count}")
    body = cursor.pos
    cursor.pos += size * count
    if subtype not in KNOWN_SUBTYPES:
        raise cursor.fail("an extension record of an unknown kind", at=start + 4,
                          expected="subtype " + ", ".join(map(str, sorted(KNOWN_SUBTYPES))),
                          found=f"subtype {subtype}")
    if KNOWN_SUBTYPES[subtype] and size != KNOWN_SUBTYPES[subtype]:
        raise cursor.fail(f"extension record {subtype} has the wrong element size",
                          at=start + 8, expected=f"size {KNOWN_SUBTYPES[subtype]}",
                          found=f"size {size}")
    if subtype in ONCE and subtype in book.seen_subtypes:
        raise cursor.fail(f"extension record {subtype} appears twice", at=start + 4,
                          expected="one record of this kind",
                          found=f"a second one (the first at byte {book.seen_subtypes[subtype]})")
    book.seen_subtypes.setdefault(subtype, start)
    check = _SUBTYPES.get(subtype)
    if check is not None:
        want_size, want_count = _SHAPES[subtype]
        if size != want_size or (want_count is not None and count != want_count):
            raise cursor.fail(f"extension record {subtype} has the wrong shape", at=start,
                              expected=f"size {want_size}" + (f" x count {want_count}"
                                                               if want_count else ""),
                              found=f"size {size} x count {count}")
        check(cursor, book, body, count)


def _integer_info(cursor: Cursor, book: Dictionary, body: int, count: int) -> None:
    values = cursor.unpack("8i", body)
    if values[4] != 1:
        raise cursor.fail("the file's number format is not IEEE 754", at=body + 16,
                          expected="floating-point code 1", found=values[4])
    endian = 2 if cursor.order == "<" else 1
    if values[6] != endian:
        raise cursor.fail("the byte order of the integer-info record disagrees with the "
                          "header", at=body + 24, expected=endian, found=values[6])
    book.charset_code = values[7]


def _float_info(cursor: Cursor, book: Dictionary, body: int, count: int) -> None:
    found = cursor.unpack("3Q", body)
    if found != FLOAT_INFO:
        # ReadStat reads values equal to these as system-missing: another
        # "sysmis" would turn every missing value into a number.
        raise cursor.fail("the floating-point info record is damaged", at=body,
                          expected="SPSS's system-missing, highest and lowest values",
                          found=", ".join(hex(v) for v in found))


def _display(cursor: Cursor, book: Dictionary, body: int, count: int) -> None:
    book.display = (body, 4, count)


def check_display(cursor: Cursor, book: Dictionary) -> None:
    """The display parameters (subtype 11) once the variables are known: 2 or 3
    values a variable, measure 0-3, width >= 0, alignment 0-2."""
    if book.display is None:
        return
    body, _, count = book.display
    per = count / len(book.variables)
    if per not in (2, 3):
        raise cursor.fail("the display parameters do not match the variables", at=body,
                          expected=f"2 or 3 values for each of {len(book.variables)} "
                                   "variables", found=f"{count} values")
    values = cursor.unpack(f"{count}i", body)
    for number, variable in enumerate(book.variables):
        group = values[int(per) * number:int(per) * (number + 1)]
        if group[0] not in MEASURES or group[-1] not in ALIGNMENTS \
                or (per == 3 and group[1] < 0):
            raise cursor.fail("the display parameters of a variable are damaged",
                              at=body + 4 * int(per) * number, column=variable.short,
                              expected="measure 0-3, width >= 0, alignment 0-2",
                              found=group)


def _long_names(cursor: Cursor, book: Dictionary, body: int, count: int) -> None:
    text = bytes(cursor.data[body:body + count])
    exact = {v.short: v for v in book.variables}
    seen = {}
    items = text.split(b"\t")
    if items and not items[-1]:         # a closing tab
        items.pop()
    for item in items:
        short, sep, long = item.partition(b"=")
        if not sep or not NAME.match(short) or not NAME.match(long) \
                or len(long) > LONG_NAME_BYTES:
            raise cursor.fail("the long variable names record is damaged", at=body,
                              expected="SHORT=long_name pairs separated by tabs",
                              found=repr(item[:80]))
        owner = exact.get(short.decode("latin-1"))
        if owner is None:
            # ReadStat finds the variable whatever the case but then sets the
            # long name only on an exact match: anything else loses the name.
            raise cursor.fail("the long variable names record names a variable that does "
                              "not exist", at=body, column=short.decode("latin-1"),
                              expected="the short name of a variable, in the same case",
                              found=repr(short.decode("latin-1")))
        book.long_names.append((body, long, owner))
        name = long.decode("latin-1")
        if name.casefold() in seen:
            raise cursor.fail("two variables have the same long name", at=body,
                              column=name, expected="a different name for every variable",
                              found=f"{name} for {seen[name.casefold()]} and {owner.short}")
        seen[name.casefold()] = owner.short
        owner.long = name       # as latin-1 until text.decode_texts decodes it


def _very_long_strings(cursor: Cursor, book: Dictionary, body: int, count: int) -> None:
    text = bytes(cursor.data[body:body + count])
    by_short = book.by_short()
    for item in text.split(b"\t"):
        item = item.strip(b"\x00")
        if not item:
            continue
        short, sep, digits = item.partition(b"=")
        if not sep or not digits.isdigit() or not NAME.match(short):
            raise cursor.fail("the very long string record is damaged", at=body,
                              expected="SHORT=00600 entries", found=repr(item[:80]))
        owner = by_short.get(short.decode("latin-1").upper())
        length = int(digits)
        if owner is None or owner.width != 255 or not 255 < length <= MAX_STRING:
            raise cursor.fail("the very long string record does not fit its variable",
                              at=body, column=short.decode("latin-1"),
                              expected="a text variable of width 255 and a length of "
                                       f"256-{MAX_STRING}",
                              found=f"length {length}" + ("" if owner else " of no variable"))
        segments = (length + 251) // 252
        first = book.variables.index(owner)
        parts = book.variables[first + 1:first + segments]
        if len(parts) != segments - 1 or any(p.width == 0 or p.ghost for p in parts):
            raise cursor.fail("a very long string lacks its segments", at=body,
                              column=owner.short,
                              expected=f"{segments - 1} text variables after it",
                              found=f"{sum(1 for p in parts if p.width)}")
        for part in parts:
            part.ghost = True
        owner.segments = segments


def _case_count(cursor: Cursor, book: Dictionary, body: int, count: int) -> None:
    book.extended_cases = cursor.unpack("q", body + 8)[0]


def _encoding(cursor: Cursor, book: Dictionary, body: int, count: int) -> None:
    raw = bytes(cursor.data[body:body + count])
    if not re.fullmatch(rb"[A-Za-z0-9_.:()\-]+", raw):
        raise cursor.fail("the encoding record is damaged", at=body,
                          expected="an encoding name such as UTF-8", found=repr(raw[:40]))
    book.encoding = raw.decode("ascii")


def _long_string_labels(cursor: Cursor, book: Dictionary, body: int, count: int) -> None:
    end, pos = body + count, body
    by_long = book.by_long()
    what = "long-string value labels"
    while pos < end:
        name, pos = cursor.pascal(pos, end, what)
        _, n_labels = cursor.ints(pos, end, 2, what)      # the width, the count
        pos += 8
        owner = by_long.get(name)
        if owner is None or not owner.width or n_labels < 0:
            raise cursor.fail("the long-string value labels name no text variable", at=body,
                              column=name, expected="the long name of a text variable",
                              found=repr(name) + f" with {n_labels} labels")
        codes = set()
        for _ in range(n_labels):
            value, pos = cursor.pascal(pos, end, what, raw=True)
            _, pos = cursor.pascal(pos, end, what, raw=True)
            if value.rstrip(b" ") in codes:
                raise cursor.fail("a code has two value labels", at=body, column=name,
                                  expected="one label per code",
                                  found=f"code {value.rstrip(b' ')!r} twice")
            codes.add(value.rstrip(b" "))


def _long_string_missing(cursor: Cursor, book: Dictionary, body: int, count: int) -> None:
    end, pos = body + count, body
    by_long = book.by_long()
    what = "long-string missing values"
    while pos < end:
        name, pos = cursor.pascal(pos, end, what)
        if pos >= end:
            raise cursor.fail("the long-string missing values are cut short", at=body,
                              expected="a count of values", found="the end of the record")
        n_values = cursor.data[pos]
        pos += 1
        owner = by_long.get(name)
        if owner is None or not owner.width or not 1 <= n_values <= 3:
            raise cursor.fail("the long-string missing values are damaged", at=body,
                              column=name, expected="1-3 values of a text variable",
                              found=f"{n_values} values of {name!r}")
        (length,) = cursor.ints(pos, end, 1, what)
        pos += 4
        if length != 8 or pos + n_values * length > end:
            raise cursor.fail("the long-string missing values are damaged", at=body,
                              column=name, expected="values of 8 bytes within the record",
                              found=f"{n_values} values of {length} bytes")
        pos += n_values * length


def _multiple_response(cursor: Cursor, book: Dictionary, body: int, count: int) -> None:
    text = bytes(cursor.data[body:body + count])
    # ReadStat's parser of these sets trusts the lengths inside each line
    # (a label length past the line reads beyond its buffer).  Lines in
    # the one form it reads safely pass; any other form is read in a
    # child process (see read.py), where a crash cannot take Python down.
    if b"\x00" in text or not all(mr_line_safe(line) for line in text.split(b"\n")[:-1]) \
            or not text.endswith(b"\n") or not text.startswith(b"$"):
        book.isolate = True


def mr_line_safe(line: bytes) -> bool:
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


#: The checks of the subtypes whose contents ReadStat parses ...
_SUBTYPES = {
    3: _integer_info, 4: _float_info, 7: _multiple_response, 11: _display, 13: _long_names,
    14: _very_long_strings, 16: _case_count, 19: _multiple_response, 20: _encoding,
    21: _long_string_labels, 22: _long_string_missing,
}
#: ... and the shape (element size, count or None: any) each must have.
_SHAPES = {3: (4, 8), 4: (8, 3), 7: (1, None), 11: (4, None), 13: (1, None), 14: (1, None),
           16: (8, 2), 19: (1, None), 20: (1, None), 21: (1, None), 22: (1, None)}
