"""A cache of parsed survey files: Parquet data + metadata JSON.

This module owns where parsed copies live, how they are keyed and how they
are stored (every write through :func:`surveytools.core.files.atomic_write`,
so a reader never sees half an entry).

Parsing a large SPSS file takes seconds; reading its Parquet copy takes a
fraction of that.  An entry is keyed by the SHA-256 of the raw file's bytes
(plus the reader options and :data:`FORMAT_VERSION`), so a changed file can
never be served from a stale entry.  The cache lives in
``$SURVEYTOOLS_CACHE_DIR`` or else the user cache directory
(``$XDG_CACHE_HOME/surveytools``, default ``~/.cache/surveytools``), never
beside the raw file.

Hashing costs about 0.35 s for a 480 MB file (1.4 GB/s, measured by
``benchmarks/bench_io.py``): as long as the whole warm read of that file
from the cache (0.32 s).  To spare it on every warm read, the content hash
of a file is remembered against its ``(device, inode, size, mtime_ns,
ctime_ns)``.  Any write to a file moves its ctime, which no program can set
back, so a changed file is always re-hashed.  A hash is only remembered when
the file's ctime is at least :data:`SETTLE_SECONDS` old: a file written
within the filesystem's timestamp granularity of the hashing could otherwise
change without its stamp moving.

Examples
--------
>>> a = entry_key(content="ab12", kind="sav", encoding=None)
>>> a == entry_key(kind="sav", encoding=None, content="ab12"), a == entry_key(content="ab13",
...     kind="sav", encoding=None)
(True, False)
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from pathlib import Path

import pandas as pd

from ..core.errors import SurveyWarning
from ..core.files import atomic_write
from ..core.meta import Metadata

#: Bumped whenever the readers' output changes, which retires every entry.
FORMAT_VERSION = 1
ENV_VAR = "SURVEYTOOLS_CACHE_DIR"
#: A file's hash is remembered only when its ctime is at least this old.
SETTLE_SECONDS = 2.0
_CHUNK = 8 << 20


def cache_dir() -> Path:
    """The folder of cache entries (``$SURVEYTOOLS_CACHE_DIR`` or the user cache)."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        root = Path(configured)
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "surveytools"
    return root / f"v{FORMAT_VERSION}"


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of the bytes of ``path``, remembered against its stat.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_digest(p)[:16]
    'ba7816bf8f01cfea'
    """
    path = Path(path).resolve()
    before = _stamp(path)
    index = cache_dir() / "stat" / (hashlib.sha256(str(path).encode()).hexdigest() + ".json")
    try:
        remembered = json.loads(index.read_text())
        if remembered["stamp"] == before:
            return remembered["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    started = time.time_ns()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    sha = digest.hexdigest()
    settled = started - os.stat(path).st_ctime_ns > SETTLE_SECONDS * 1e9
    if settled and _stamp(path) == before:
        try:
            atomic_write(index, json.dumps({"stamp": before, "sha256": sha}))
        except OSError:  # an unwritable cache only costs a re-hash next time
            pass
    return sha


def entry_key(**parts) -> str:
    """One key for the content hashes and reader options in ``parts``."""
    text = json.dumps({"format_version": FORMAT_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def load(key: str) -> tuple[pd.DataFrame, Metadata] | None:
    """The data and metadata stored under ``key``, or None when absent or unreadable."""
    folder = cache_dir()
    try:
        meta = Metadata.from_json((folder / f"{key}.json").read_text(encoding="utf-8"))
        frame = pd.read_parquet(folder / f"{key}.parquet")
    except Exception:  # a missing, partial or foreign entry is a miss
        return None
    return frame, meta


def store(key: str, frame: pd.DataFrame, meta: Metadata) -> None:
    """Store ``frame`` and ``meta`` under ``key``; warn (not fail) when that is impossible.

    Frames with object columns (Stata's lettered missing codes among numbers)
    do not fit Parquet and are not cached.
    """
    if (frame.dtypes == object).any():
        return
    folder = cache_dir()
    try:
        atomic_write(folder / f"{key}.parquet", lambda path: frame.to_parquet(path, index=False))
        # The JSON is written last: its presence marks a complete entry.
        atomic_write(folder / f"{key}.json", meta.to_json())
    except Exception as error:  # the cache only saves time; reading must go on
        warnings.warn(
            f"surveytools could not write its cache in {folder} ({type(error).__name__}: "
            f"{error}); the file was read normally. Set {ENV_VAR} to a writable folder "
            "or pass cache=False.",
            SurveyWarning, stacklevel=3,
        )


def _stamp(path: Path) -> list[int]:
    info = os.stat(path)
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
