"""Reader of SPSS portable files (``.por``) that keeps user-missing codes.

pyreadstat's ``read_por`` turns user-missing codes into NaN and has no
``user_missing=`` switch, which would lose answers such as "Don't know".
This reader follows the format as GNU PSPP documents it ("Portable File
Format"): 80-character lines, base-30 numbers ending in ``/``, strings
prefixed by their length, tagged dictionary records, then the cases.

Strings are decoded with ``encoding`` (default UTF-8, which is what PSPP
writes); variables with a date format become datetime64 columns, as
pyreadstat does for ``.sav`` files.

Examples
--------
>>> _number("1.F")        # 1 + 15/30
1.5
>>> _number("-B+1")       # -11 * 30
-330.0

A damaged file is a FileFormatError naming the character where the reader
stopped: every token is checked (a number is base-30 digits ending in ``/``,
a length fits in the file, a name is an SPSS name, a format fits its
variable, value labels and missing values name variables that exist, the
declared number of variables is the number found) and nothing but ``Z``
padding may follow the end of the data.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from .charset import DEFAULT, encoding_name, undecodable
from .sav.format import NUMBER_FORMATS, TEXT_FORMATS
from ..core.errors import FileFormatError
from ..core.meta import Metadata, MissingSpec, plain_code

_LINE = 80
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: SPSS format codes of dates (DATE ADATE JDATE EDATE SDATE DATETIME MOYR QYR WKYR).
_DATE_FORMATS = {20, 22, 23, 24, 28, 29, 30, 38, 39}
#: Seconds from SPSS's day zero (14 Oct 1582) to the Unix epoch.
_SPSS_EPOCH = 12219379200


def read_por(path: Path, *, encoding: str | None = None) -> tuple[pd.DataFrame, Metadata]:
    """The cases and metadata of a portable file.

    Raises
    ------
    FileFormatError
        The file is not a portable file, is truncated, uses a non-ASCII
        character table, or holds text that does not decode as ``encoding``.
    """
    path = Path(path)
    encoding = encoding_name(encoding or DEFAULT, file=path)
    lines = path.read_bytes().splitlines()
    # Lines are 80 characters; writers may drop trailing spaces, which count.
    text = b"".join(line.ljust(_LINE) for line in lines).decode("latin-1")
    if text[456:464] != "SPSSPORT":
        raise FileFormatError(
            "not an SPSS portable file", file=path,
            expected="the SPSSPORT signature after the 464-byte header",
            found=repr(text[456:464]) if len(text) >= 464 else f"only {len(text)} bytes",
            hint="check the file is a complete .por export (or give it its real extension)",
        )
    if text[264:326] != _DIGITS[:62]:
        raise FileFormatError(
            "the portable file uses a non-ASCII character table (e.g. EBCDIC)", file=path,
            expected="the ASCII character table", found="another table",
            hint="convert it to .sav first: pspp-convert file.por file.sav",
        )
    reader = _Reader(text, 464, path, encoding)
    try:
        return reader.read()
    except IndexError:
        raise FileFormatError(
            "the portable file ends early", file=path,
            expected="a complete dictionary and data section",
            found=f"{len(text)} characters", hint="the file is truncated: copy or export it again",
        ) from None


#: A base-30 number as written (without its "/"): sign, digits, fraction, exponent.
_TOKEN = re.compile(r"(-?)([0-9A-T]*)(?:\.([0-9A-T]*))?(?:([+-])([0-9A-T]+))?")
#: Bounds that no number a writer produces exceeds (digits; base-30 exponent).
_MAX_DIGITS, _MAX_EXPONENT = 200, 250
#: Latest SPSS date the reader accepts (31 Dec 9999), in seconds from day zero.
_LAST_DATE = 253402300799 + _SPSS_EPOCH


def _number(token: str) -> float:
    """A base-30 number as the portable format writes it (without its ``/``).

    Anything else (no digit, a letter beyond T, an absurd exponent) is a
    ValueError.

    >>> _number("1.F"), _number("-B+1")
    (1.5, -330.0)
    """
    match = _TOKEN.fullmatch(token.strip(" "))
    if not match or not (match.group(2) or match.group(3)):
        raise ValueError(f"not a base-30 number: {token!r}")
    sign, whole, fraction, mark, power = match.groups()
    fraction = fraction or ""
    exponent = int(power, 30) * (-1 if mark == "-" else 1) if power else 0
    if len(whole) + len(fraction) > _MAX_DIGITS or abs(exponent) > _MAX_EXPONENT:
        raise ValueError(f"a number out of range: {token!r}")
    mantissa = int(whole + fraction or "0", 30)
    scale = exponent - len(fraction)
    value = (Fraction(mantissa * 30**scale) if scale >= 0
             else Fraction(mantissa, 30**-scale))
    try:
        return (-1.0 if sign else 1.0) * float(value)
    except OverflowError:
        raise ValueError(f"a number too large for a float: {token!r}") from None


class _Reader:
    """A cursor over the joined text of a portable file."""

    def __init__(self, text: str, position: int, path: Path, encoding: str) -> None:
        self.text, self.pos, self.path, self.encoding = text, position, path, encoding
        self.names: list[str] = []
        self.widths: dict[str, int] = {}
        self.formats: dict[str, int] = {}

    # -- tokens -------------------------------------------------------------
    def _skip_spaces(self) -> None:
        while self.text[self.pos] == " ":
            self.pos += 1

    def number(self) -> float:
        self._skip_spaces()
        if self.text[self.pos] == "*":
            if self.text[self.pos + 1] != ".":
                raise self._corrupt("'*.' for a missing value")
            self.pos += 2
            return math.nan
        end = self.text.find("/", self.pos)
        if end < 0:
            raise IndexError
        token, start = self.text[self.pos:end], self.pos
        try:
            value = _number(token)
        except ValueError:
            raise self._corrupt(f"a base-30 number ending in '/', found {token[:20]!r}",
                                at=start) from None
        self.pos = end + 1
        return value

    def integer(self, what: str, low: int = 0, high: int = 2**31 - 1) -> int:
        start = self.pos
        value = self.number()
        if not (math.isfinite(value) and value.is_integer() and low <= value <= high):
            raise self._corrupt(f"{what}: a whole number {low}-{high}, found {value!r}",
                                at=start)
        return int(value)

    def raw_string(self) -> str:
        length = self.integer("a text length", 0, len(self.text) - self.pos)
        value = self.text[self.pos:self.pos + length]
        if len(value) < length:
            raise IndexError
        self.pos += length
        return value

    def string(self) -> str:
        raw = self.raw_string().encode("latin-1")
        try:
            return raw.decode(self.encoding)
        except UnicodeDecodeError:
            raise undecodable(self.path, self.encoding, found=repr(raw)) from None

    def value(self, column: str):
        width = self.widths[column]
        if width:
            start = self.pos
            text = self.string()
            if len(text.encode(self.encoding)) > width:
                # a damaged length would swallow the values that follow it
                raise self._corrupt(f"a text value of at most {width} bytes (the width of "
                                    f"{column}), found {len(text.encode(self.encoding))}",
                                    at=start, column=column)
            return text.rstrip(" ")
        return plain_code(self.number())

    def _corrupt(self, expected: str, *, at: int | None = None,
                 column: str | None = None) -> FileFormatError:
        return FileFormatError(
            "the portable file is corrupt", file=self.path, column=column,
            expected=expected, found=f"at character {self.pos if at is None else at}",
            hint="export the file again, or save it as .sav",
        )

    def _variable(self, name: str, what: str) -> str:
        if name not in self.widths:
            raise self._corrupt(f"{what} naming a variable of the file, found {name!r}",
                                column=name)
        return name

    # -- records ------------------------------------------------------------
    def read(self) -> tuple[pd.DataFrame, Metadata]:
        if not self.text[self.pos].isalpha():
            raise self._corrupt("a format version letter")
        self.pos += 1
        if len(self.string()) != 8 or len(self.string()) != 6:
            raise self._corrupt("a creation date of 8 and a time of 6 characters")
        labels, values, missing, documents = {}, {}, {}, []
        declared = None
        current = None
        while True:
            tag = self.text[self.pos]
            self.pos += 1
            if tag in "123":  # product, author, sub-product
                self.string()
            elif tag == "4":
                declared = self.integer("the number of variables", 1)
            elif tag == "5":  # precision
                self.integer("the precision", 1, 100)
            elif tag == "6":  # SPSS's own case weight variable
                self.string()
            elif tag == "7":
                current = self._variable_record()
            elif tag in "89AB":
                if current is None:
                    raise self._corrupt("a variable record before its missing values")
                self._missing(tag, current, missing)
            elif tag == "C":
                if current is None or current in labels:
                    raise self._corrupt("one label after each variable record")
                labels[current] = self.string()
            elif tag == "D":
                self._value_labels(values)
            elif tag == "E":
                documents += [self.string() for _ in range(self.integer("a line count"))]
            elif tag == "F":
                if declared is not None and declared != len(self.names):
                    raise self._corrupt(f"{declared} variable records (as the file says), "
                                        f"found {len(self.names)}")
                if not self.names:
                    raise self._corrupt("at least one variable record")
                frame = self._cases()
                break
            else:
                raise self._corrupt(f"a record tag, found {tag!r}", at=self.pos - 1)
        meta = Metadata(
            variable_labels=labels, value_labels=values,
            missing={c: MissingSpec(values=tuple(v), ranges=tuple(r))
                     for c, (v, r) in missing.items()},
            encoding=self.encoding,
            notes={"documents": documents} if documents else {},
        )
        return frame, meta

    def _variable_record(self) -> str:
        start = self.pos
        width = self.integer("a variable width", 0, 32767)
        name = self.string()
        if not _valid_name(name):
            raise self._corrupt("a variable name (a letter, then letters, digits or ._$#@)",
                                at=start, column=name)
        if name in self.widths:
            raise self._corrupt("a different name for every variable", at=start, column=name)
        print_format = [self.integer("a print format", 0, 255) for _ in range(3)]
        write_format = [self.integer("a write format", 0, 255) for _ in range(3)]
        allowed = TEXT_FORMATS if width else NUMBER_FORMATS
        if {print_format[0], write_format[0]} - allowed - {0}:
            raise self._corrupt("a text format for a text variable, a numeric one for a "
                                f"number, found {print_format[0]}/{write_format[0]}",
                                at=start, column=name)
        self.names.append(name)
        self.widths[name] = width
        self.formats[name] = print_format[0]
        return name

    def _value_labels(self, values: dict) -> None:
        start = self.pos
        count = self.integer("a number of variables", 1, max(len(self.names), 1))
        columns = [self._variable(self.string(), "value labels") for _ in range(count)]
        if len({bool(self.widths[c]) for c in columns}) > 1:
            raise self._corrupt("value labels for variables of one type", at=start)
        pairs: dict = {}
        for _ in range(self.integer("a number of value labels")):
            code = self.value(columns[0])
            if code in pairs:
                raise self._corrupt(f"one label per code, found code {code!r} twice",
                                    at=start, column=columns[0])
            pairs[code] = self.string()
        for column in columns:
            values[column] = dict(pairs)

    def _missing(self, tag: str, column: str, missing: dict) -> None:
        discrete, ranges = missing.setdefault(column, ([], []))
        if tag == "8":
            discrete.append(self.value(column))
            return
        if self.widths[column]:
            raise self._corrupt("missing-value ranges on numbers only", column=column)
        if tag == "9":
            ranges.append((-math.inf, plain_code(self.number())))
        elif tag == "A":
            ranges.append((plain_code(self.number()), math.inf))
        else:
            low, high = plain_code(self.number()), plain_code(self.number())
            if not low <= high:
                raise self._corrupt(f"a range's low end first, found {low} to {high}",
                                    column=column)
            ranges.append((low, high))

    def _cases(self) -> pd.DataFrame:
        rows = []
        # The cases end with "Z"; a file that stops without one was cut short
        # (IndexError), even when the cut falls between two cases.
        while self.text[self.pos] != "Z":
            rows.append([self.value(c) for c in self.names])
            self._skip_spaces()
        if self.text[self.pos:].strip("Z "):
            raise self._corrupt("only 'Z' padding after the end of the data (a damaged "
                                "value can look like the end)")
        columns = list(zip(*rows)) if rows else [() for _ in self.names]
        data = {}
        for name, cells in zip(self.names, columns):
            if self.widths[name]:
                data[name] = pd.Series(cells, dtype="str")
            else:
                numbers = np.asarray(cells, dtype=float)
                if self.formats[name] in _DATE_FORMATS:
                    bad = np.flatnonzero(~np.isnan(numbers) & ((numbers < 0)
                                                               | (numbers > _LAST_DATE)))
                    if len(bad):
                        raise FileFormatError(
                            "a date in the portable file is out of range", file=self.path,
                            column=name, row=int(bad[0]) + 1,
                            expected="a date between 1582 and 9999",
                            found=f"{numbers[bad[0]]:g} seconds from 14 Oct 1582",
                            hint="export the file again, or save it as .sav")
                    data[name] = _dates(numbers)
                else:
                    data[name] = pd.Series(numbers)
        return pd.DataFrame(data, columns=self.names)


def _valid_name(name: str) -> bool:
    """An SPSS variable name: a letter (or @ # $), then letters, digits or . _ $ # @."""
    return bool(name) and (name[0].isalpha() or name[0] in "@#$") and all(
        ch.isalnum() or ch in "._$#@" for ch in name[1:])


def _dates(seconds: np.ndarray) -> pd.Series:
    """SPSS date values (seconds since 14 Oct 1582) as datetime64[us]."""
    return pd.Series(pd.to_datetime(seconds - _SPSS_EPOCH, unit="s")).astype("datetime64[us]")
