"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Every file surveytools writes for later reading (the loading cache, the cube
store, codebooks, workbooks, exported pages) goes through :func:`atomic_write`:
the content is written to a temporary file in the target's folder and moved
into place with :func:`os.replace`, which is atomic on one file system.

Examples
--------
>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "sub" / "note.txt"
>>> atomic_write(target, b"hello") == target
True
>>> target.read_bytes()
b'hello'
>>> atomic_write(target, lambda path: path.write_text("by a writer")).read_text()
'by a writer'
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(target: str | os.PathLike, content: bytes | str | Callable[[Path], object],
                 *, encoding: str = "utf-8") -> Path:
    """Write ``content`` to ``target`` atomically and return the target's path.

    Parameters
    ----------
    target : path
        The file to create or replace; missing parent folders are created.
    content : bytes, str or callable
        Bytes or text to write, or a function that writes the file at the
        path it is given (e.g. ``lambda p: frame.to_parquet(p)``).
    encoding : str
        Used when ``content`` is text.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.",
                                     suffix=".tmp", delete=False) as handle:
        temporary = Path(handle.name)
        if isinstance(content, str):
            handle.write(content.encode(encoding))
        elif isinstance(content, (bytes, bytearray)):
            handle.write(content)
    try:
        if callable(content):
            content(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target
