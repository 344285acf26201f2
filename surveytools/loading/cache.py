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

Nothing in the cache is trusted without a check (the folder can be damaged
or edited like any other):

* an entry's record carries its own checksum, its key, the content hash and
  the :func:`fingerprint` of the raw file it was made from, and the size and
  SHA-256 of its Parquet file; :func:`load` verifies all of them before it
  returns anything (hashing the Parquet bytes it then parses, about 1 GB/s).
  A damaged entry is a miss that the caller rebuilds, silently: it is never
  served;
* a remembered content hash is only a hint: an entry found through it must
  have been made from a file with the fingerprint of the file being read,
  and a miss found through it is re-hashed before anything is stored, so an
  edited stat index can neither serve nor store one file's data as
  another's.

Examples
--------
>>> a = entry_key(content="ab12", kind="sav", encoding=None)
>>> a == entry_key(kind="sav", encoding=None, content="ab12"), a == entry_key(content="ab13",
...     kind="sav", encoding=None)
(True, False)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import warnings
from pathlib import Path

import pandas as pd

from ..core.errors import SurveyWarning
from ..core.files import atomic_write
from ..core.meta import Metadata

#: Bumped whenever the readers' output or the entry format changes, which
#: retires every entry.
FORMAT_VERSION = 2
ENV_VAR = "SURVEYTOOLS_CACHE_DIR"
#: A file's hash is remembered only when its ctime is at least this old.
SETTLE_SECONDS = 2.0
_CHUNK = 8 << 20
#: :func:`fingerprint`: files up to this size are hashed whole; larger ones are
#: sampled at SAMPLES blocks of BLOCK_BYTES.
WHOLE_BYTES = 1 << 20
SAMPLES, BLOCK_BYTES = 32, 4096


def cache_dir() -> Path:
    """The folder of cache entries (``$SURVEYTOOLS_CACHE_DIR`` or the user cache)."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        root = Path(configured)
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "surveytools"
    return root / f"v{FORMAT_VERSION}"


def file_digest(path: Path, *, remembered: bool = True) -> str:
    """SHA-256 (hex) of the bytes of ``path``, remembered against its stat.

    ``remembered=False`` hashes the file whatever the stat index says (and
    rewrites the index).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_digest(p)[:16]
    'ba7816bf8f01cfea'
    """
    return digest_of(path, remembered=remembered)[0]


def digest_of(path: Path, *, remembered: bool = True) -> tuple[str, bool]:
    """:func:`file_digest` and whether it came from the stat index (not hashed now)."""
    path = Path(path).resolve()
    before = _stamp(path)
    index = cache_dir() / "stat" / (hashlib.sha256(str(path).encode()).hexdigest() + ".json")
    if remembered:
        try:
            known = json.loads(index.read_text())
            if known["stamp"] == before and isinstance(known["sha256"], str):
                return known["sha256"], True
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
    return sha, False


def entry_key(**parts) -> str:
    """One key for the content hashes and reader options in ``parts``."""
    text = json.dumps({"format_version": FORMAT_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(path) -> str:
    """A cheap identity of a file's content: its size and the SHA-256 of sampled blocks.

    A file of at most :data:`WHOLE_BYTES` is hashed whole; a larger one is
    sampled at :data:`SAMPLES` evenly spaced blocks of :data:`BLOCK_BYTES`
    (the first and the last included), a few milliseconds however large.
    An entry records the fingerprint of the file it was parsed from, so an
    entry found through a remembered hash that is wrong (an edited stat
    index) is never served for another file.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> fingerprint(p) == fingerprint(p), len(fingerprint(p))
    (True, 64)
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        digest = hashlib.sha256(f"{size}:".encode())
        if size <= WHOLE_BYTES:
            digest.update(handle.read())
        else:
            for number in range(SAMPLES):
                handle.seek((size - BLOCK_BYTES) * number // (SAMPLES - 1))
                digest.update(handle.read(BLOCK_BYTES))
    return digest.hexdigest()


class _Other:
    """Returned by :func:`load` for an intact entry made from another file."""

    def __repr__(self) -> str:
        return "OTHER_FILE"


#: An entry that is intact but was parsed from a file with another fingerprint:
#: the content hash that led to it is wrong (an edited or stale stat index).
OTHER_FILE = _Other()


def load(key: str, *, content: str | None = None, source=None):
    """The data and metadata stored under ``key``, verified, or None.

    Every part is checked before anything is returned: the entry's record
    (its own checksum, its key, the content hash it was made from), the
    Parquet file's size and SHA-256, and, with ``source``, the fingerprint
    of the file it was made from.  A missing, partial, damaged or foreign
    entry is a miss (removed, so that the caller's store replaces it),
    without a warning; an intact entry made from another file than
    ``source`` is :data:`OTHER_FILE`.

    Parameters
    ----------
    key : str
    content : str, optional
        The SHA-256 of the raw file the caller means (part of ``key``).
    source : path, optional
        The raw file; its fingerprint must be the entry's.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = cache_dir()
    record_path, data_path = folder / f"{key}.json", folder / f"{key}.parquet"
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        check = record.pop("check")
        if check != _checksum(record) or record.get("key") != key \
                or (content is not None and record["source"]["sha256"] != content):
            raise ValueError("a damaged or foreign record")
        payload = data_path.read_bytes()
        if len(payload) != record["parquet"]["size"] \
                or hashlib.sha256(payload).hexdigest() != record["parquet"]["sha256"]:
            raise ValueError("a damaged Parquet file")
        if source is not None and record["source"]["fingerprint"] != fingerprint(source):
            return OTHER_FILE
        meta = Metadata.from_json(record["meta"])
        frame = pq.read_table(pa.BufferReader(payload)).to_pandas()
    except FileNotFoundError:
        return None
    except Exception:  # damaged in any way: a miss, and never served
        _discard(record_path, data_path)
        return None
    return frame, meta


def store(key: str, frame: pd.DataFrame, meta: Metadata, *, content: str | None = None,
          source=None) -> None:
    """Store ``frame`` and ``meta`` under ``key`` with the checksums :func:`load` verifies;
    warn (not fail) when that is impossible.

    Frames with object columns (Stata's lettered missing codes among numbers)
    do not fit Parquet and are not cached.
    """
    if (frame.dtypes == object).any():
        return
    folder = cache_dir()
    try:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        payload = buffer.getbuffer()         # no copy of the (possibly large) bytes
        record = {"key": key, "meta": meta.to_json(),
                  "parquet": {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()},
                  "source": {"sha256": content,
                             "fingerprint": None if source is None else fingerprint(source)}}
        record["check"] = _checksum(record)
        atomic_write(folder / f"{key}.parquet", lambda path: path.write_bytes(payload))
        # The record is written last: its presence marks a complete entry.
        atomic_write(folder / f"{key}.json", json.dumps(record))
    except Exception as error:  # the cache only saves time; reading must go on
        warnings.warn(
            f"surveytools could not write its cache in {folder} ({type(error).__name__}: "
            f"{error}); the file was read normally. Set {ENV_VAR} to a writable folder "
            "or pass cache=False.",
            SurveyWarning, stacklevel=3,
        )


def _checksum(record: dict) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def _discard(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def _stamp(path: Path) -> list[int]:
    info = os.stat(path)
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
