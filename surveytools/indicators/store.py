"""The cube store: indicator cubes built once and kept on disk, keyed by their inputs.

Building the cube of a tracker takes seconds; reading a stored one, a
fraction of one.  Every output that needs a tracker's cube (dashboards,
tables, the static export) asks :func:`cached_cube` for it, which returns
the stored cube when there is one and otherwise builds it
(:func:`surveytools.indicators.cube.cube`) and stores it.

An entry is one file written by :meth:`IndicatorCube.save` (atomically)
in the surveytools cache folder (:func:`surveytools.loading.cache.cache_dir`).
Its key (:func:`cube_key`) covers the content of the manifest, of every
file it names, of the catalogue and breakdowns beside it, of the package's
code that computes the cube, and the cube's options; a changed input is
never served from a stale entry.  An entry that cannot be read (damaged,
truncated, from another version) is a miss: the cube is built again.

:class:`CubeCache` holds the cubes of one tracker by confidence-interval
method for the dashboards.  ``python -m surveytools.indicators.store
[MANIFEST]`` builds and stores the cube before the dashboards are served.

Examples
--------
>>> cube = cached_cube("data/tracker/waves.toml")               # doctest: +SKIP
>>> cube.method_note.splitlines()[0][:18]                       # doctest: +SKIP
'Weighted estimates'
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from ..core.errors import FileFormatError, ManifestError, SurveyWarning
from ..estimation.intervals import check_ci
from ..loading import cache
from ..waves.manifest import parse_manifest
from ..waves.tracker import read_waves
from .catalogue_file import BREAKDOWNS_FILE, INDICATORS_FILE, default_file
from .cube import IndicatorCube, cube

#: Environment variable naming the manifest the dashboards show.
MANIFEST_ENV = "SURVEYTOOLS_MANIFEST"
#: Where :func:`find_manifest` looks, from the current folder up.
DEFAULT_MANIFEST = Path("data") / "tracker" / "waves.toml"
_PACKAGE = Path(__file__).resolve().parents[1]


def cube_key(manifest, **options) -> str:
    """The store key of the cube of ``manifest`` built with ``options`` (of :func:`cube`).

    It changes with the manifest, the files it names, the catalogue, the
    breakdowns, the code that computes the cube (not the presentation's) and
    the options; it does not depend on where the files are.
    """
    spec = parse_manifest(manifest)
    folder = Path(manifest).parent
    files = [Path(manifest), default_file(folder, INDICATORS_FILE),
             default_file(folder, BREAKDOWNS_FILE)]
    for wave in spec.waves:
        files += [wave.file] + ([wave.codebook] if wave.codebook is not None else [])
    return cache.entry_key(
        kind="indicator-cube", options=options,
        inputs=[cache.file_digest(f) for f in files if f.is_file()],
        code=[cache.file_digest(f) for f in _cube_code()],
    )


def _cube_code() -> list[Path]:
    """The package's source files but for the presentation layer (it draws a cube)."""
    return sorted(p for p in _PACKAGE.rglob("*.py") if "presentation" not in p.parent.parts)


def entry_path(key: str) -> Path:
    """The file of the stored cube under ``key``."""
    return cache.cache_dir() / "cubes" / f"{key}.cube"


def cached_cube(manifest, **options) -> IndicatorCube:
    """The cube of the tracker ``manifest`` describes, built with ``options``.

    From the store when it holds one (and readable), else built from the
    waves (catalogue and breakdowns beside the manifest) and stored.  A
    store that cannot be written only warns: the cube is returned anyway.

    Parameters
    ----------
    manifest : str or path
    **options
        Keywords of :func:`surveytools.indicators.cube.cube` (``answers``,
        ``ci``, ``correction`` ...).
    """
    manifest = Path(manifest)
    path = entry_path(cube_key(manifest, **options))
    try:
        return _placed(IndicatorCube.load(path), manifest)
    except FileFormatError:  # absent, damaged or foreign: build it again
        pass
    built = cube(read_waves(manifest), **options)
    try:
        built.save(path)
    except OSError as error:  # the store only saves time
        warnings.warn(f"could not store the indicator cube in {path.parent}: {error}",
                      SurveyWarning, stacklevel=2)
    return built


def _placed(stored: IndicatorCube, manifest: Path) -> IndicatorCube:
    """The key covers file contents, not places: name the catalogue and breakdown
    files as they are beside ``manifest``."""
    def here(thing):
        file = None if thing.file is None else str(manifest.parent / Path(thing.file).name)
        return dataclasses.replace(thing, file=file)

    return stored.replace(catalogue=here(stored.catalogue), breakdowns=here(stored.breakdowns))


class CubeCache:
    """The cubes of one tracker, one per confidence-interval method, each made on first use.

    Only the shares' interval ends depend on the method, so when the first
    cube says :attr:`IndicatorCube.exact_with_ci`, another method's cube is
    that cube with the intervals recomputed (:meth:`IndicatorCube.with_ci`):
    milliseconds instead of estimating everything again.  Otherwise
    ``build(ci)`` makes it.

    Parameters
    ----------
    first : IndicatorCube
        The cube of the default method.
    build : callable
        ``build(ci) -> IndicatorCube``, for methods ``first`` cannot give exactly.

    Examples
    --------
    >>> cubes = CubeCache.from_manifest("data/tracker/waves.toml")   # doctest: +SKIP
    >>> cubes("beta").ci, cubes.first.ci                             # doctest: +SKIP
    ('beta', 'logit')
    """

    def __init__(self, first: IndicatorCube, build: Callable[[str], IndicatorCube]) -> None:
        self.first = first
        self._build = build
        self._cubes = {first.ci: first}
        self._lock = threading.Lock()

    @classmethod
    def from_manifest(cls, manifest) -> "CubeCache":
        """The cubes of the tracker a manifest describes, from the store
        (see :func:`cached_cube`)."""
        manifest = Path(manifest)
        return cls(cached_cube(manifest), lambda ci: cached_cube(manifest, ci=ci))

    def __call__(self, ci: str) -> IndicatorCube:
        """The cube whose shares have ``ci`` intervals.

        Raises
        ------
        DataError
            ``ci`` is not one of :data:`surveytools.estimation.intervals.CI_METHODS`.
        """
        check_ci(ci, self.first.conf_level)
        with self._lock:
            if ci not in self._cubes:
                self._cubes[ci] = (self.first.with_ci(ci) if self.first.exact_with_ci
                                   else self._build(ci))
            return self._cubes[ci]


def find_manifest(start=None) -> Path:
    """``$SURVEYTOOLS_MANIFEST``, or ``data/tracker/waves.toml`` in ``start`` or a parent folder.

    Raises
    ------
    ManifestError
        Neither is there.
    """
    configured = os.environ.get(MANIFEST_ENV)
    if configured:
        return Path(configured)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_MANIFEST).is_file():
            return folder / DEFAULT_MANIFEST
    raise ManifestError("no tracker manifest found", file=here / DEFAULT_MANIFEST,
                        expected=f"{DEFAULT_MANIFEST} in this folder or a parent", found="none",
                        hint=f"set {MANIFEST_ENV}=/path/to/waves.toml")


def warm(manifest=None) -> float:
    """Build and store the cube of ``manifest`` (default: :func:`find_manifest`) if needed;
    seconds taken.  Run before serving the dashboards, so each starts in about a second."""
    start = time.perf_counter()
    cached_cube(manifest or find_manifest())
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """``python -m surveytools.indicators.store [MANIFEST]``: warm the store."""
    args = sys.argv[1:] if argv is None else argv
    print(f"indicator cube ready in {warm(args[0] if args else None):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
