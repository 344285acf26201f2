"""The structure of a Stata file (.dta, releases 117-119), checked before it is read.

pyreadstat reads Stata files without crashing on damaged bytes (a fuzz of
every section found none), but it trusts what the file says: a damaged
offset in a value-label table gives other labels, a damaged variable name
keeps its control characters.  This module walks the sections of a Stata
13+ file as Stata documents the format ("dta_117", "dta_118", "dta_119"):

* ``<header>``: release, byte order, K variables, N observations, label,
  timestamp;
* ``<map>``: the 14 offsets, each pointing at the tag it names, in order,
  the last one the end of the file;
* ``<variable_types>``, ``<varnames>``, ``<sortlist>``, ``<formats>``,
  ``<value_label_names>``, ``<variable_labels>``: the sizes K implies,
  known types, names Stata accepts (once each), formats starting ``%``,
  text that decodes;
* ``<characteristics>``, ``<data>`` (exactly N x the row width the types
  give), ``<strls>`` (every GSO entry in bounds) and ``<value_labels>``
  (each table's length, offsets inside its text, labels ending in NUL, one
  label per value).

Older binary releases (104-115) are left to pyreadstat and the checks that
follow every read.

Examples
--------
>>> import tempfile, pathlib, pandas as pd, pyreadstat
>>> path = pathlib.Path(tempfile.mkdtemp()) / "w.dta"
>>> pyreadstat.write_dta(pd.DataFrame({"q1": [1.0, 2.0]}), path)
>>> check_dta(path)
2
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from ..core.errors import FileFormatError
from .faults import corrupt

__all__ = ["check_dta"]

_TAGS = (b"<stata_dta>", b"<map>", b"<variable_types>", b"<varnames>", b"<sortlist>",
         b"<formats>", b"<value_label_names>", b"<variable_labels>", b"<characteristics>",
         b"<data>", b"<strls>", b"<value_labels>", b"</stata_dta>")
#: Numeric storage types and their widths in bytes (double, float, long, int, byte).
_NUMERIC = {65526: 8, 65527: 4, 65528: 4, 65529: 2, 65530: 1}
_STRL = 32768
_NAME = re.compile(r"[^\W\d]\w*\Z")


def check_dta(path) -> int | None:
    """Check a Stata 13+ file; its number of observations (None: an older release).

    Raises
    ------
    FileFormatError
        Naming the file, the variable where there is one, the byte offset,
        what was expected and what was found.
    """
    path = Path(path)
    data = path.read_bytes()
    if not data.startswith(b"<stata_dta>"):
        return None
    return _Walker(path, data).walk()


class _Walker:
    def __init__(self, path: Path, data: bytes) -> None:
        self.path, self.data = path, data
        self.order = "<"

    def fail(self, detail: str, *, at: int, expected: str, found, column: str | None = None
             ) -> FileFormatError:
        return corrupt("Stata", self.path, detail, expected=expected, found=found, at=at,
                       column=column)

    def tag(self, at: int, tag: bytes) -> int:
        if self.data[at:at + len(tag)] != tag:
            raise self.fail(f"the section tag {tag.decode()} is not where it should be", at=at,
                            expected=tag.decode(), found=repr(self.data[at:at + len(tag)]))
        return at + len(tag)

    def unpack(self, fmt: str, at: int, what: str):
        try:
            return struct.unpack_from(self.order + fmt, self.data, at)
        except struct.error:
            raise self.fail(f"the file ends inside {what}", at=at,
                            expected=f"{struct.calcsize(fmt)} bytes",
                            found=f"{len(self.data) - at} bytes") from None

    def walk(self) -> int:
        data = self.data
        at = self.tag(11, b"<header>")
        at = self.tag(at, b"<release>")
        release = data[at:at + 3]
        if release not in (b"117", b"118", b"119"):
            raise self.fail("an unknown Stata release", at=at, expected="117, 118 or 119",
                            found=repr(release))
        self.release = int(release)
        at = self.tag(at + 3, b"</release>")
        at = self.tag(at, b"<byteorder>")
        order = data[at:at + 3]
        if order not in (b"LSF", b"MSF"):
            raise self.fail("the byte order is damaged", at=at, expected="LSF or MSF",
                            found=repr(order))
        self.order = "<" if order == b"LSF" else ">"
        at = self.tag(at + 3, b"</byteorder>")
        at = self.tag(at, b"<K>")
        k_format = "I" if self.release == 119 else "H"
        (self.k,) = self.unpack(k_format, at, "the number of variables")
        at = self.tag(at + struct.calcsize(k_format), b"</K>")
        at = self.tag(at, b"<N>")
        n_format = "I" if self.release == 117 else "Q"
        (self.n,) = self.unpack(n_format, at, "the number of observations")
        at = self.tag(at + struct.calcsize(n_format), b"</N>")
        at = self.tag(at, b"<label>")
        label_format = "B" if self.release == 117 else "H"
        (length,) = self.unpack(label_format, at, "the dataset label")
        at = self.tag(at + struct.calcsize(label_format) + length, b"</label>")
        at = self.tag(at, b"<timestamp>")
        (length,) = self.unpack("B", at, "the timestamp")
        if length not in (0, 17):
            raise self.fail("the timestamp is damaged", at=at, expected="0 or 17 characters",
                            found=length)
        at = self.tag(at + 1 + length, b"</timestamp>")
        at = self.tag(at, b"</header>")
        if self.k < 1:
            raise self.fail("the file has no variables", at=at, expected="K >= 1", found=self.k)
        offsets = self.map(at)
        self.sections(offsets)
        return self.n

    def map(self, at: int) -> list[int]:
        start = at
        at = self.tag(at, b"<map>")
        offsets = list(self.unpack("14Q", at, "the map"))
        self.tag(at + 14 * 8, b"</map>")
        if offsets[0] != 0 or offsets[1] != start or offsets[13] != len(self.data) \
                or offsets != sorted(offsets):
            raise self.fail("the map of sections is damaged", at=at,
                            expected=f"increasing offsets from 0, the map at {start}, the end "
                                     f"at {len(self.data)}",
                            found=", ".join(map(str, offsets)))
        for offset, tag in zip(offsets[:13], _TAGS):
            self.tag(offset, tag)
        return offsets

    def sections(self, offsets: list[int]) -> None:
        k, name_size = self.k, 33 if self.release == 117 else 129
        # variable types
        at = offsets[2] + len(_TAGS[2])
        types = self.unpack(f"{k}H", at, "the variable types")
        self.tag(at + 2 * k, b"</variable_types>")
        widths = []
        for number, kind in enumerate(types):
            if 1 <= kind <= 2045:
                widths.append(kind)
            elif kind == _STRL:
                widths.append(8)
            elif kind in _NUMERIC:
                widths.append(_NUMERIC[kind])
            else:
                raise self.fail("a variable has an unknown storage type", at=at + 2 * number,
                                expected="str1-str2045, strL, byte, int, long, float or double",
                                found=kind)
        # names
        names = self.fixed_texts(offsets[3], 3, name_size, "a variable name")
        seen = {}
        for number, name in enumerate(names):
            if not _NAME.match(name):
                raise self.fail("a variable name is damaged", at=offsets[3],
                                column=name or None,
                                expected="a letter or _, then letters, digits or _",
                                found=repr(name))
            if name in seen:
                raise self.fail("two variables have the same name", at=offsets[3], column=name,
                                expected="a different name for every variable",
                                found=f"variables {seen[name] + 1} and {number + 1}")
            seen[name] = number
        self.names = names
        # sortlist
        entry = "H" if self.release < 119 else "I"
        at = offsets[4] + len(_TAGS[4])
        sort = self.unpack(f"{k + 1}{entry}", at, "the sort list")
        self.tag(at + (k + 1) * struct.calcsize(entry), b"</sortlist>")
        if any(v > k for v in sort):
            raise self.fail("the sort list names no variable", at=at,
                            expected=f"variable numbers 0-{k}", found=max(sort))
        # formats
        format_size = 49 if self.release == 117 else 57
        for number, text in enumerate(self.fixed_texts(offsets[5], 5, format_size, "a format")):
            if not text.startswith("%"):
                raise self.fail("a display format is damaged", at=offsets[5],
                                column=names[number], expected="a format such as %9.0g",
                                found=repr(text))
        # value-label names and variable labels
        label_names = self.fixed_texts(offsets[6], 6, name_size, "a value-label name")
        for number, text in enumerate(label_names):
            if text and not _NAME.match(text):
                raise self.fail("a value-label name is damaged", at=offsets[6],
                                column=names[number], expected="empty or a Stata name",
                                found=repr(text))
        self.fixed_texts(offsets[7], 7, 81 if self.release == 117 else 321, "a variable label")
        self.characteristics(offsets[8], offsets[9])
        # data
        at = offsets[9] + len(_TAGS[9])
        size = offsets[10] - len(b"</data>") - at
        if size != self.n * sum(widths) or self.data[at + size:offsets[10]] != b"</data>":
            raise self.fail("the data section does not hold N observations", at=at,
                            expected=f"{self.n} x {sum(widths)} bytes",
                            found=f"{size} bytes")
        self.strls(offsets[10], offsets[11])
        tables = self.value_labels(offsets[11], offsets[12], name_size)
        for number, text in enumerate(label_names):
            if text and text not in tables:
                # Stata allows it, but the labels of the variable would be lost
                # without a word (and a damaged name looks just like this).
                raise self.fail("a variable names value labels the file does not hold",
                                at=offsets[6], column=names[number],
                                expected="one of " + (", ".join(sorted(tables)) or "no names"),
                                found=repr(text))

    def fixed_texts(self, offset: int, index: int, size: int, what: str) -> list[str]:
        at = offset + len(_TAGS[index])
        end = at + self.k * size
        closing = b"</" + _TAGS[index][1:]
        self.tag(end, closing)
        texts = []
        for number in range(self.k):
            raw = self.data[at + number * size:at + (number + 1) * size]
            raw = raw.split(b"\x00", 1)[0]
            try:
                text = raw.decode("latin-1" if self.release == 117 else "utf-8")
            except UnicodeDecodeError:
                raise self.fail(f"{what} does not decode", at=at + number * size,
                                expected="UTF-8 text", found=repr(raw)) from None
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
                raise self.fail(f"{what} holds a control character", at=at + number * size,
                                expected="printable text", found=repr(text))
            texts.append(text)
        return texts

    def characteristics(self, start: int, end: int) -> None:
        at = start + len(_TAGS[8])
        while self.data[at:at + 4] == b"<ch>":
            (length,) = self.unpack("I", at + 4, "a characteristic")
            at = self.tag(at + 8 + length, b"</ch>")
        self.tag(at, b"</characteristics>")
        if at + len(b"</characteristics>") != end:
            raise self.fail("the characteristics do not end where the data begin", at=at,
                            expected=f"the data at byte {end}",
                            found=f"{end - at - len(b'</characteristics>')} bytes between")

    def strls(self, start: int, end: int) -> None:
        at = start + len(_TAGS[10])
        o_size = 4 if self.release == 117 else 8
        while self.data[at:at + 3] == b"GSO":
            length = self.unpack(f"I{'I' if o_size == 4 else 'Q'}BI", at + 3, "a long string")[3]
            at += 3 + 4 + o_size + 1 + 4 + length
            if at > end:
                raise self.fail("a long string (strL) runs past its section", at=at,
                                expected=f"the section to end at byte {end}", found=at)
        self.tag(at, b"</strls>")
        if at + len(b"</strls>") != end:
            raise self.fail("the long strings do not end where the value labels begin", at=at,
                            expected=f"byte {end}", found=f"byte {at + len(b'</strls>')}")

    def value_labels(self, start: int, end: int, name_size: int) -> set[str]:
        at = start + len(_TAGS[11])
        tables = set()
        while self.data[at:at + 5] == b"<lbl>":
            (length,) = self.unpack("I", at + 5, "a value-label table")
            table = at + 9 + name_size + 3
            name = self.data[at + 9:at + 9 + name_size].split(b"\x00", 1)[0]
            if not _NAME.match(name.decode("utf-8", "replace")):
                raise self.fail("a value-label table's name is damaged", at=at + 9,
                                expected="a Stata name", found=repr(name))
            count, text_length = self.unpack("ii", table, "a value-label table")
            if count < 0 or text_length < 0 or length != 8 + 8 * count + text_length:
                raise self.fail("a value-label table's counts are damaged", at=table,
                                expected=f"8 + 8 x entries + text = {length} bytes",
                                found=f"{count} entries, {text_length} bytes of text")
            offsets = self.unpack(f"{count}i", table + 8, "a value-label table")
            values = self.unpack(f"{count}i", table + 8 + 4 * count, "a value-label table")
            text = self.data[table + 8 + 8 * count:table + 8 + 8 * count + text_length]
            if len(set(values)) != len(values):
                raise self.fail("a code has two value labels", at=table,
                                column=name.decode("utf-8", "replace"),
                                expected="one label per code", found="a repeated code")
            for offset in offsets:
                if not 0 <= offset < text_length or b"\x00" not in text[offset:]:
                    raise self.fail("a value label points outside its table", at=table,
                                    expected=f"an offset in 0-{text_length - 1} of a label "
                                             "ending in NUL", found=offset)
            at = self.tag(table + length, b"</lbl>")
            table_name = name.decode("utf-8", "replace")
            if table_name in tables:
                raise self.fail("two value-label tables have the same name", at=at,
                                expected="one table per name", found=repr(table_name))
            tables.add(table_name)
        self.tag(at, b"</value_labels>")
        if at + len(b"</value_labels>") != end:
            raise self.fail("the value labels do not end where the file ends", at=at,
                            expected=f"byte {end}", found=f"byte {at + len(b'</value_labels>')}")
        return tables
