"""A cursor over the bytes of one system file: counts, lengths and the error at a byte.

Every number the walk reads goes through :class:`Cursor`, which refuses to
read past the end of the file and words a fault with its byte offset
(:func:`surveytools.loading.faults.corrupt`).

Examples
--------
>>> import struct
>>> cursor = Cursor("w.sav", struct.pack("<ii", 2, 7), 8)
>>> cursor.int32("a record type"), cursor.int32("a width"), cursor.pos
(2, 7, 8)
>>> cursor.int32("a label length")
Traceback (most recent call last):
...
surveytools.core.errors.FileFormatError: w.sav: the SPSS file is corrupt or truncated: the file ends inside a label length; expected 4 more bytes for a label length, found 0 bytes left at byte 8. Fix: ...
"""

from __future__ import annotations

import struct
from pathlib import Path

from ...core.errors import FileFormatError
from ..faults import corrupt

__all__ = ["Cursor"]


class Cursor:
    """A position in the (memory-mapped) bytes of ``path`` and their byte order.

    Parameters
    ----------
    path : Path
        For the error messages.
    data : bytes-like
        The file's bytes (a memory map).
    size : int
        The file's size in bytes.
    """

    def __init__(self, path: Path, data, size: int) -> None:
        self.path, self.data, self.size = path, data, size
        self.pos = 0
        self.order = "<"

    def fail(self, detail: str, *, expected: str, found, at: int | None = None,
             column: str | None = None, row: int | None = None) -> FileFormatError:
        """The error for a fault at byte ``at`` (default: the cursor; -1: no byte)."""
        return corrupt("SPSS", self.path, detail, expected=expected, found=found,
                       at=self.pos if at is None else at, column=column, row=row)

    def need(self, count: int, what: str, column: str | None = None) -> None:
        """Refuse unless ``count`` more bytes follow the cursor."""
        if count < 0 or self.pos + count > self.size:
            raise self.fail(f"the file ends inside {what}",
                            expected=f"{count} more bytes for {what}",
                            found=f"{max(self.size - self.pos, 0)} bytes left", column=column)

    def unpack(self, fmt: str, at: int) -> tuple:
        """``fmt`` (without byte order) at byte ``at``, in the file's byte order."""
        return struct.unpack_from(self.order + fmt, self.data, at)

    def int32(self, what: str, column: str | None = None) -> int:
        """The 32-bit integer at the cursor; the cursor moves past it."""
        self.need(4, what, column)
        value = self.unpack("i", self.pos)[0]
        self.pos += 4
        return value

    def ints(self, pos: int, end: int, n: int, what: str) -> tuple:
        """``n`` 32-bit integers at ``pos`` of a record that ends at ``end``."""
        if pos + 4 * n > end:
            raise self.fail(f"the {what} record is cut short", at=pos,
                            expected=f"{4 * n} more bytes", found=f"{end - pos}")
        return self.unpack(f"{n}i", pos)

    def pascal(self, pos: int, end: int, what: str, raw: bool = False):
        """A length-prefixed text at ``pos`` (latin-1, or bytes when ``raw``) and the
        position after it."""
        (length,) = self.ints(pos, end, 1, what)
        pos += 4
        if not 0 <= length <= end - pos:
            raise self.fail(f"a length in the {what} record is impossible", at=pos - 4,
                            expected="a length within the record", found=length)
        value = bytes(self.data[pos:pos + length])
        return (value if raw else value.decode("latin-1")), pos + length
