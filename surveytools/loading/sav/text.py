"""Names and text codes of a system file: which codec ReadStat will use, and that they decode.

ReadStat converts names, labels and text codes from the file's encoding: a
text code of a value label that does not convert crashes it, and a long
name that does not convert is cut short without a word.  The codec is the
one the reader is told to use, else the character code of the integer-info
record (:data:`~surveytools.loading.sav.format.CHARSETS`), else the encoding
record, else UTF-8.

Examples
--------
>>> short_name(b"Q1      "), short_name(b"1Q      ")
('Q1', None)
>>> decoded(b"caf\\xc3", "utf-8"), decoded(b"caf\\xc3", "utf-8", partial_end=True)
(None, 'caf')
"""

from __future__ import annotations

import codecs

from .cursor import Cursor
from .dictionary import Dictionary
from .format import CHARSETS, NAME

__all__ = ["codec", "decode_texts", "decoded", "short_name"]


def codec(book: Dictionary, forced: str | None = None) -> str | None:
    """The Python codec of the text ReadStat will convert (None: unknown)."""
    name = forced
    if name is None and book.charset_code is not None:
        name = CHARSETS.get(book.charset_code)
    if name is None:
        name = book.encoding or ("utf-8" if book.charset_code is None else None)
    if name is None:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_texts(cursor: Cursor, book: Dictionary, forced: str | None = None) -> None:
    """Long names and text codes of value labels must decode; long names are decoded.

    A file whose codec is unknown but that holds text codes is read in a
    child process (``book.isolate``).
    """
    name = codec(book, forced)
    for body, raw, owner in book.long_names:
        text = decoded(raw, name) if name else raw.decode("latin-1")
        if text is None:
            raise cursor.fail("a long variable name does not decode", at=body,
                              column=owner.short, expected=f"a name in {name}",
                              found=repr(raw))
        owner.long = text
    for start, raw, owner in book.text_codes:
        if name is None:
            book.isolate = True
        elif decoded(raw, name, partial_end=True) is None:
            raise cursor.fail("a text code of a value label does not decode", at=start,
                              column=owner, expected=f"text in {name}", found=repr(raw))


def decoded(raw: bytes, name: str, *, partial_end: bool = False) -> str | None:
    """``raw`` decoded with codec ``name``, or None; ``partial_end`` forgives a
    character cut at the end of a fixed-width field (some SPSS versions write them)."""
    try:
        return raw.decode(name)
    except UnicodeDecodeError as error:
        if partial_end and error.reason == "unexpected end of data":
            return raw[:error.start].decode(name, errors="strict")
        return None


def short_name(raw: bytes) -> str | None:
    """The name of a variable record (without its padding), or None when damaged."""
    name = raw.rstrip(b" \x00")
    if not NAME.match(name):
        return None
    return name.decode("latin-1")
