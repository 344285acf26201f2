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
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .charset import DEFAULT, encoding_name, undecodable
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


def _number(token: str) -> float:
    """A base-30 number as the portable format writes it (without its ``/``)."""
    token = token.strip()
    sign = -1 if token.startswith("-") else 1
    token = token.lstrip("-")
    exponent = 0
    for mark in "+-":
        if mark in token:
            token, power = token.split(mark)
            exponent = int(power, 30) * (1 if mark == "+" else -1)
    whole, _, fraction = token.partition(".")
    numerator = int(whole + fraction or "0", 30)
    denominator = 30 ** len(fraction)
    if exponent >= 0:
        numerator *= 30**exponent
    else:
        denominator *= 30**-exponent
    return sign * (numerator / denominator)


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
            self.pos += 2
            return math.nan
        end = self.text.find("/", self.pos)
        if end < 0:
            raise IndexError
        token, self.pos = self.text[self.pos:end], end + 1
        try:
            return _number(token)
        except ValueError:
            raise self._corrupt(f"a number, found {token!r}") from None

    def integer(self) -> int:
        return int(self.number())

    def raw_string(self) -> str:
        length = self.integer()
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
        if self.widths[column]:
            return self.string().rstrip(" ")
        return plain_code(self.number())

    def _corrupt(self, expected: str) -> FileFormatError:
        return FileFormatError(
            "the portable file is corrupt", file=self.path,
            expected=expected, found=f"at character {self.pos}",
            hint="export the file again, or save it as .sav",
        )

    # -- records ------------------------------------------------------------
    def read(self) -> tuple[pd.DataFrame, Metadata]:
        self.pos += 1  # format version letter
        self.string(), self.string()  # creation date and time
        labels, values, missing, documents = {}, {}, {}, []
        current = None
        while True:
            tag = self.text[self.pos]
            self.pos += 1
            if tag in "123":  # product, author, sub-product
                self.string()
            elif tag in "45":  # number of variables, precision
                self.number()
            elif tag == "6":  # SPSS's own case weight variable
                self.string()
            elif tag == "7":
                width = self.integer()
                current = self.string()
                print_format = [self.integer() for _ in range(3)]
                [self.integer() for _ in range(3)]  # write format
                self.names.append(current)
                self.widths[current] = width
                self.formats[current] = print_format[0]
            elif tag in "89AB":
                self._missing(tag, current, missing)
            elif tag == "C":
                labels[current] = self.string()
            elif tag == "D":
                columns = [self.string() for _ in range(self.integer())]
                pairs = {}
                for _ in range(self.integer()):
                    code = self.value(columns[0])
                    pairs[code] = self.string()
                for column in columns:
                    values[column] = dict(pairs)
            elif tag == "E":
                documents += [self.string() for _ in range(self.integer())]
            elif tag == "F":
                frame = self._cases()
                break
            else:
                raise self._corrupt(f"a record tag, found {tag!r}")
        meta = Metadata(
            variable_labels=labels, value_labels=values,
            missing={c: MissingSpec(values=tuple(v), ranges=tuple(r))
                     for c, (v, r) in missing.items()},
            encoding=self.encoding,
            notes={"documents": documents} if documents else {},
        )
        return frame, meta

    def _missing(self, tag: str, column: str, missing: dict) -> None:
        discrete, ranges = missing.setdefault(column, ([], []))
        if tag == "8":
            discrete.append(self.value(column))
        elif tag == "9":
            ranges.append((-math.inf, plain_code(self.number())))
        elif tag == "A":
            ranges.append((plain_code(self.number()), math.inf))
        else:
            ranges.append((plain_code(self.number()), plain_code(self.number())))

    def _cases(self) -> pd.DataFrame:
        rows = []
        # The cases end with "Z"; a file that stops without one was cut short
        # (IndexError), even when the cut falls between two cases.
        while self.text[self.pos] != "Z":
            rows.append([self.value(c) for c in self.names])
            self._skip_spaces()
        columns = list(zip(*rows)) if rows else [() for _ in self.names]
        data = {}
        for name, cells in zip(self.names, columns):
            if self.widths[name]:
                data[name] = pd.Series(cells, dtype="str")
            else:
                numbers = np.asarray(cells, dtype=float)
                data[name] = (_dates(numbers) if self.formats[name] in _DATE_FORMATS
                              else pd.Series(numbers))
        return pd.DataFrame(data, columns=self.names)


def _dates(seconds: np.ndarray) -> pd.Series:
    """SPSS date values (seconds since 14 Oct 1582) as datetime64[us]."""
    return pd.Series(pd.to_datetime(seconds - _SPSS_EPOCH, unit="s")).astype("datetime64[us]")
