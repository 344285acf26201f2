"""Text encodings of survey files: checking names, explaining decode failures.

Examples
--------
>>> encoding_name("UTF8", file="w.csv")
'utf-8'
>>> encoding_name("WINDOWS-1252", file="w.sav")
'cp1252'
"""

from __future__ import annotations

import codecs

from ..core.errors import FileFormatError

DEFAULT = "utf-8"


def encoding_name(name: str, *, file, strict: bool = True) -> str:
    """Python's canonical name of ``name``.

    An unknown name is a FileFormatError naming ``file`` (``strict``) or is
    returned in lower case (a name a file declares that only iconv knows).
    """
    try:
        return codecs.lookup(name).name
    except (LookupError, TypeError):
        if not strict and isinstance(name, str):
            return name.lower()
        raise FileFormatError(
            "unknown text encoding",
            file=file,
            expected="an encoding such as 'utf-8', 'cp1252' or 'latin-1'",
            found=repr(name),
            hint="pass encoding= with a name Python knows (see the codecs module)",
        ) from None


def undecodable(file, encoding: str, *, row: int | None = None, column: str | None = None,
                found=None) -> FileFormatError:
    """The error for text in ``file`` that does not decode as ``encoding``."""
    return FileFormatError(
        f"text in the file does not decode as {encoding}",
        file=file, column=column, row=row,
        expected=f"text encoded as {encoding}",
        found=found if found is not None else "bytes of another encoding",
        hint="pass encoding= with the encoding the file was written in, "
        "e.g. read_wave(path, ..., encoding='cp1252') for Windows files",
    )
