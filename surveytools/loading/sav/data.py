"""The data of a system file: as many cases as the header says, every code in its column.

An uncompressed file must hold exactly ``cases x case size`` bytes (arithmetic
on its size).  Bytecode-compressed data, and the decompressed blocks of a
.zsav (whose ZLIB header, trailer and block table are checked, each block
inflated and its Adler-32 verified), are decoded command by command
(:mod:`~surveytools.loading.sav.bytecode`) to count the cases and to check
that every code fits its column: a number code in a text column, or spaces
(254) in a numeric one, is a damaged byte.  The header's case size, weight
index and case count are checked against the dictionary first.

Examples
--------
>>> import numpy as np
>>> book = Dictionary()
>>> book.add(Variable(short="Q1", element=0, width=0, elements=1, record=176))
>>> _check_codes(Cursor("w.sav", b"", 0), book, np.array([[101], [254]], dtype=np.uint8))
Traceback (most recent call last):
...
surveytools.core.errors.FileFormatError: w.sav, column 'Q1', row 2: the SPSS file is corrupt or truncated: a compressed value does not fit its column; expected a number (codes 1-251, 253, 255), found code 254 (8 spaces). Fix: ...
"""

from __future__ import annotations

import zlib

import numpy as np

from .bytecode import CHUNK, decode
from .cursor import Cursor
from .dictionary import Dictionary, Variable
from .records import Header

__all__ = ["check_data"]


def check_data(cursor: Cursor, book: Dictionary, header: Header) -> int:
    """The data section after the dictionary (at the cursor): the number of cases it holds."""
    elements = len(book.element_kind)
    if header.case_size not in (-1, elements):
        raise cursor.fail("the header's case size disagrees with the variables", at=68,
                          expected=f"{elements} elements (the variable records)",
                          found=header.case_size)
    weight = header.weight
    weighted = book.variable_at(weight) if weight else None
    if weight and (weighted is None or weighted.width):
        raise cursor.fail("the header's weight variable is not a numeric variable", at=76,
                          expected="the element index of a numeric variable",
                          found=weight)
    cases = header.cases
    if book.extended_cases is not None and cases >= 0 \
            and book.extended_cases not in (-1, cases):
        raise cursor.fail("the header and the case-count record disagree", at=80,
                          expected=f"{cases} cases in both", found=book.extended_cases)
    start, compression = cursor.pos, header.compression
    if compression == 0:
        return _uncompressed(cursor, start, elements, cases)
    if compression == 1:
        # a copy, not a view of the map (which is closed when this returns)
        stream = np.fromfile(cursor.path, dtype=np.uint8, offset=start)
        return _bytecode(cursor, book, stream, cases, start)
    return _bytecode(cursor, book, _zlib(cursor, start), cases, None)


def _uncompressed(cursor: Cursor, start: int, elements: int, cases: int) -> int:
    """Uncompressed data: the cases the bytes after the dictionary hold (all whole)."""
    case_bytes = 8 * elements
    held, rest = divmod(cursor.size - start, case_bytes)
    if held < cases or (cases < 0 and rest):
        raise cursor.fail("the data stop in the middle of the file", at=cursor.size,
                          row=held + 1,
                          expected=f"{cases if cases >= 0 else held + 1} cases of "
                                   f"{case_bytes} bytes",
                          found=f"{held} complete cases"
                                + (f" and {rest} bytes of the next" if rest else ""))
    if cases >= 0 and (held > cases or rest):
        raise cursor.fail("the file holds more data than its case count says",
                          at=start + cases * case_bytes,
                          expected=f"{cases} cases (the header's count)",
                          found=f"{held} cases" + (f" and {rest} more bytes" if rest else ""))
    return held


def _zlib(cursor: Cursor, start: int) -> np.ndarray:
    """The bytecode of a .zsav: its ZLIB header, trailer and block table checked,
    every block inflated (its checksum verified) and joined."""
    cursor.pos = start
    cursor.need(24, "the ZLIB header")
    zheader, ztrailer, zlength = cursor.unpack("3q", start)
    if zheader != start or ztrailer < start + 24 or zlength < 24 \
            or (zlength - 24) % 24 or ztrailer + zlength != cursor.size:
        raise cursor.fail("the ZLIB header is damaged", at=start,
                          expected=f"offsets {start}, a trailer that ends the file "
                                   f"({cursor.size} bytes)",
                          found=f"{zheader}, trailer at {ztrailer} of {zlength} bytes")
    bias, zero, block_size, n_blocks = cursor.unpack("qqii", ztrailer)
    if bias != -100 or zero != 0 or block_size <= 0 or n_blocks != (zlength - 24) // 24:
        raise cursor.fail("the ZLIB trailer is damaged", at=ztrailer,
                          expected=f"bias -100, 0, a block size, {(zlength - 24) // 24} "
                                   "blocks",
                          found=f"{bias}, {zero}, {block_size}, {n_blocks}")
    chunks = []
    expect_u, expect_c = start, start + 24
    for number in range(n_blocks):
        at = ztrailer + 24 + 24 * number
        u_ofs, c_ofs, u_size, c_size = cursor.unpack("qqii", at)
        last = number == n_blocks - 1
        if u_ofs != expect_u or c_ofs != expect_c or c_size <= 0 or u_size <= 0 \
                or u_size > block_size or (not last and u_size != block_size) \
                or c_ofs + c_size > ztrailer or u_size % 8:
            raise cursor.fail(f"the ZLIB block table is damaged (block {number + 1} of "
                              f"{n_blocks})", at=at,
                              expected=f"block at {expect_c} (data offset {expect_u}), "
                                       f"at most {block_size} bytes",
                              found=f"block at {c_ofs} (data offset {u_ofs}), {c_size} "
                                    f"compressed, {u_size} bytes")
        inflater = zlib.decompressobj()
        try:
            chunk = inflater.decompress(cursor.data[c_ofs:c_ofs + c_size], u_size + 1)
        except zlib.error as error:
            raise cursor.fail(f"ZLIB block {number + 1} of {n_blocks} is damaged", at=c_ofs,
                              expected="a complete ZLIB stream with a matching checksum",
                              found=f"zlib: {error}") from None
        if not inflater.eof or inflater.unused_data or len(chunk) != u_size:
            raise cursor.fail(f"ZLIB block {number + 1} of {n_blocks} is damaged", at=c_ofs,
                              expected=f"{u_size} bytes from one complete ZLIB stream",
                              found=f"{len(chunk)} bytes" + ("" if inflater.eof
                                                             else ", stream cut short"))
        chunks.append(chunk)
        expect_u, expect_c = u_ofs + u_size, c_ofs + c_size
    if expect_c != ztrailer:
        raise cursor.fail("the ZLIB blocks do not reach the trailer", at=expect_c,
                          expected=f"the last block to end at byte {ztrailer}",
                          found=f"it ends at byte {expect_c}")
    return np.frombuffer(b"".join(chunks), dtype=np.uint8)


def _bytecode(cursor: Cursor, book: Dictionary, stream: np.ndarray, cases: int,
              start: int | None) -> int:
    """Decode compressed data: count the cases, check each code against its column."""
    elements = len(book.element_kind)
    where = "compressed data" if start is not None else "decompressed ZLIB data"
    at = (lambda offset: -1 if start is None else start + offset)
    if len(stream) % 8:
        raise cursor.fail(f"the {where} stop inside an 8-byte unit", at=cursor.size,
                          expected="a whole number of 8-byte units",
                          found=f"{len(stream) % 8} bytes over")
    decoded = decode(stream)
    if decoded.finish > decoded.blocks:
        raise cursor.fail(f"the {where} stop in the middle of a value", at=at(len(stream)),
                          expected=f"{8 * (decoded.finish - decoded.blocks)} more bytes of "
                                   "data", found="the end of the file")
    if decoded.finish < decoded.blocks:
        raise cursor.fail(f"the {where} go on after their end-of-data code",
                          at=at(8 * decoded.finish), expected="the end of the file",
                          found=f"{8 * (decoded.blocks - decoded.finish)} more bytes")
    if decoded.misplaced is not None:
        # Writers pad a block with code 0 only at its end (ReadStat at the end
        # of each case): a code after a 0 is 8 bytes of raw data read as codes
        # (a damaged 253), which could otherwise shift values and still add up.
        block = decoded.misplaced
        raise cursor.fail(f"the {where} hold a code after padding", at=at(8 * block),
                          expected="code 0 only at the end of a block",
                          found=f"codes {stream[8 * block:8 * block + 8].tolist()}")
    codes = decoded.codes
    rows, partial = divmod(len(codes), elements)
    if rows < cases or (cases < 0 and partial):
        raise cursor.fail(f"the {where} stop before the last case", at=at(len(stream)),
                          row=rows + 1,
                          expected=f"{cases if cases >= 0 else rows + 1} complete cases",
                          found=f"{rows} complete cases"
                                + (f" and {partial} values of the next" if partial else ""))
    if cases >= 0 and (rows > cases or partial):
        raise cursor.fail("the file holds more cases than its case count says", at=80,
                          expected=f"{cases} cases (the header's count)",
                          found=f"{rows} cases in the data" + (
                              f" and {partial} values" if partial else ""))
    if rows:
        _check_codes(cursor, book, codes[:rows * elements].reshape(rows, elements))
    return rows


def _check_codes(cursor: Cursor, book: Dictionary, table: np.ndarray) -> None:
    """Every code fits its column: text columns hold 8-byte text (253) or 8
    spaces (254), numeric columns never 254 (a chunk of cases at a time)."""
    text = np.flatnonzero([book.variables[k].width > 0 for k in book.element_kind])
    step = max(1, CHUNK * 8 // table.shape[1])
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
        variable = book.variables[book.element_kind[element]]
        found = int(part[row, element])
        raise cursor.fail(
            "a compressed value does not fit its column",
            at=-1, row=low + row + 1, column=variable.name,
            expected="8 bytes of text (codes 253, 254)" if variable.width else
                     "a number (codes 1-251, 253, 255)",
            found=f"code {found}" + (" (8 spaces)" if found == 254 else ""))

