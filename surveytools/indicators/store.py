"""The cube store: indicator cubes built once and kept on disk, keyed by their inputs.

Building the cube of a tracker takes seconds; reading a stored one, a
fraction of one.  Every output that needs a tracker's cube (dashboards,
tables, the static export) asks :func:`cached_cube` for it, which returns
the stored cube when there is one and otherwise builds it
(:func:`surveytools.indicators.cube.cube`) and stores it.

Nothing is published from data the tracker does not understand:
:func:`cached_cube` refuses (a ManifestError listing each wave, variable
and code, and the manifest lines that declare them) while the tracker's
non-answer audit (``Tracker.missing_audit()``) is not empty, unless
``allow_undeclared=True`` or ``$SURVEYTOOLS_ALLOW_UNDECLARED=1`` (how the
command line's ``--allow-undeclared`` reaches the dashboards' kernels).

An entry is one file written by :meth:`IndicatorCube.save` (atomically)
in the surveytools cache folder (:func:`surveytools.loading.cache.cache_dir`).
Its key (:func:`cube_key`) covers the content of the manifest, of every
file it names, of the catalogue and breakdowns it uses (:func:`inputs`),
of the package's code that computes the cube, and the cube's options; a changed input is
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

import pandas as pd

from ..core.errors import FileFormatError, ManifestError, SurveyError, SurveyWarning
from ..core.meta import code_text
from ..estimation.intervals import check_ci
from ..loading import cache
from ..waves.manifest import parse_manifest
from ..waves.missing import fix_lines
from ..waves.tracker import read_waves
from .catalogue_file import BREAKDOWNS_FILE, INDICATORS_FILE
from .cube import IndicatorCube, cube

#: Environment variable naming the manifest the dashboards show.
MANIFEST_ENV = "SURVEYTOOLS_MANIFEST"
#: Environment variable that lets the store publish with undeclared non-answers
#: ("1"); the command line's ``--allow-undeclared`` sets it for the dashboards.
ALLOW_UNDECLARED_ENV = "SURVEYTOOLS_ALLOW_UNDECLARED"
#: Where :func:`find_manifest` looks, from the current folder up.
DEFAULT_MANIFEST = Path("data") / "tracker" / "waves.toml"
_PACKAGE = Path(__file__).resolve().parents[1]


def inputs(manifest, catalogue=None, breakdowns=None) -> dict:
    """The catalogue and breakdowns files the cube of ``manifest`` is built from.

    Each is the path given, else the manifest's (``[tracker] catalogue`` /
    ``breakdowns``), else ``indicators.toml`` / ``breakdowns.toml`` beside the
    manifest when it exists, else None (the full tab book; the total only).

    Returns
    -------
    dict
        ``{"catalogue": Path or None, "breakdowns": Path or None}``

    Raises
    ------
    ManifestError
        A file given (or named in the manifest) that does not exist.

    Examples
    --------
    >>> {k: v.name for k, v in inputs("data/tracker/waves.toml").items()}
    {'catalogue': 'indicators.toml', 'breakdowns': 'breakdowns.toml'}
    """
    spec = parse_manifest(manifest)
    given = {"catalogue": catalogue, "breakdowns": breakdowns}
    named = {"catalogue": spec.catalogue, "breakdowns": spec.breakdowns}
    beside = {"catalogue": INDICATORS_FILE, "breakdowns": BREAKDOWNS_FILE}
    out = {}
    for key in given:
        if given[key] is not None:
            path = Path(given[key])
            if not path.is_file():
                raise ManifestError(
                    f"the {key} file given does not exist", file=path,
                    expected=f"an existing {beside[key]}-style file (TOML)",
                    found="no such file",
                    hint=f"check the path; or leave --{key} out to use the manifest's "
                         f"[tracker] {key}, {beside[key]} beside the manifest, or "
                         + ("the full tab book" if key == "catalogue" else "the total only"))
            out[key] = path
        else:
            default = Path(manifest).parent / beside[key]
            out[key] = named[key] or (default if default.is_file() else None)
    return out


def cube_key(manifest, *, catalogue=None, breakdowns=None, **options) -> str:
    """The store key of the cube of ``manifest`` built with ``options`` (of :func:`cube`).

    It changes with the manifest, the files it names, the catalogue and the
    breakdowns used (:func:`inputs`), the code that computes the cube (not
    the presentation's) and the options; it does not depend on where the
    files are.
    """
    spec = parse_manifest(manifest)
    files = {"manifest": Path(manifest),
             **{k: v for k, v in inputs(manifest, catalogue, breakdowns).items() if v}}
    for wave in spec.waves:
        files[f"wave {wave.label}"] = wave.file
        if wave.codebook is not None and wave.codebook.is_file():
            files[f"codebook {wave.label}"] = wave.codebook
    return cache.entry_key(
        kind="indicator-cube", options=options,
        inputs={role: cache.file_digest(f) for role, f in files.items() if f.is_file()},
        code=[cache.file_digest(f) for f in _cube_code()],
    )


def _cube_code() -> list[Path]:
    """The package's source files but for the presentation layer (it draws a cube)."""
    return sorted(p for p in _PACKAGE.rglob("*.py") if "presentation" not in p.parent.parts)


def entry_path(key: str) -> Path:
    """The file of the stored cube under ``key``."""
    return cache.cache_dir() / "cubes" / f"{key}.cube"


def cached_cube(manifest, *, catalogue=None, breakdowns=None,
                allow_undeclared: bool | None = None, **options) -> IndicatorCube:
    """The cube of the tracker ``manifest`` describes, built with ``options``, for publishing.

    From the store when it holds one (and readable), else built from the
    waves and stored.  A store that cannot be written only warns: the cube
    is returned anyway.

    Parameters
    ----------
    manifest : str or path
    catalogue, breakdowns : str or path, optional
        Files in place of the manifest's (see :func:`inputs`).
    allow_undeclared : bool, optional
        Publish even though codes that look like non-answers are counted as
        answers (the cube's ``undeclared`` then lists them, for the notes).
        Default: ``$SURVEYTOOLS_ALLOW_UNDECLARED`` is ``1``.
    **options
        Keywords of :func:`surveytools.indicators.cube.cube` (``answers``,
        ``ci``, ``correction`` ...).

    Raises
    ------
    ManifestError
        The tracker's non-answer audit is not empty (and not allowed): the
        message lists each wave, variable and code, with the manifest lines
        that declare them.  Or a catalogue or breakdowns file that does not exist.
    """
    manifest = Path(manifest)
    if allow_undeclared is None:
        allow_undeclared = os.environ.get(ALLOW_UNDECLARED_ENV, "") == "1"
    files = inputs(manifest, catalogue, breakdowns)
    path = entry_path(cube_key(manifest, **files, **options))
    try:
        stored = _placed(IndicatorCube.load(path), files)
    except FileFormatError:  # absent, damaged or foreign: build it again
        stored = None
    if stored is not None:
        if not allow_undeclared:
            check_declared(stored.undeclared_frame, manifest)
        return stored
    tracker = read_waves(manifest)
    if not allow_undeclared:  # refuse before the work
        check_declared(tracker.missing_audit(), manifest)
    built = cube(tracker, **files, **options)
    try:
        built.save(path)
    except OSError as error:  # the store only saves time
        warnings.warn(f"could not store the indicator cube in {path.parent}: {error}",
                      SurveyWarning, stacklevel=2)
    return built


def check_declared(audit: pd.DataFrame, manifest) -> None:
    """Refuse to publish while ``audit`` (``Tracker.missing_audit()``) lists codes.

    Raises
    ------
    ManifestError
        Listing each wave, variable and code (label and count) and the
        manifest lines that declare them (as ``Tracker.missing_fix()``).

    Examples
    --------
    >>> audit = pd.DataFrame({"wave": ["2023"], "variable": ["GovTrust"], "code": [8],
    ...                       "label": ["Don`t know"], "count": [45], "reason": ["label"]})
    >>> check_declared(audit, "waves.toml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    surveytools.core.errors.ManifestError: waves.toml: 1 code that looks like a non-answer ...
    """
    if audit.empty:
        return
    listed = []
    for (wave, variable), rows in audit.groupby(["wave", "variable"], sort=False):
        codes = ", ".join(code_text(r.code) + (f' "{r.label}"' if r.label else f" ({r.reason})")
                          + f" (n={r.count})" for r in rows.itertuples(index=False))
        listed.append(f"  wave {wave}, {variable}: {codes}")
    what = ("1 code that looks like a non-answer is counted as an answer" if len(audit) == 1
            else f"{len(audit)} codes that look like non-answers are counted as answers")
    raise ManifestError(
        f"{what}; nothing is published until each is declared", file=manifest,
        expected="every non-answer declared missing in the manifest's [missing], or kept as "
                 "an answer in [missing.count_as_answer]",
        found="\n" + "\n".join(listed),
        hint="check each code, then add these lines to the manifest:\n"
             + fix_lines(audit.drop_duplicates(["variable", "code"]))
             + "\nor publish with these codes counted as answers (the notes then list them): "
               "--allow-undeclared on the command line, allow_undeclared=True in Python")


def _placed(stored: IndicatorCube, files: dict) -> IndicatorCube:
    """The key covers file contents, not places: name the catalogue and breakdowns
    ``files`` (:func:`inputs`) the cube was asked from."""
    def here(thing, file):
        return dataclasses.replace(thing, file=None if file is None else str(file))

    return stored.replace(catalogue=here(stored.catalogue, files["catalogue"]),
                          breakdowns=here(stored.breakdowns, files["breakdowns"]))


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


def warm(manifest=None, *, allow_undeclared: bool | None = None) -> float:
    """Build and store the cube of ``manifest`` (default: :func:`find_manifest`) if needed;
    seconds taken.  Run before serving the dashboards, so each starts in about a second.

    Raises the ManifestError of :func:`cached_cube` while non-answers are undeclared
    (unless ``allow_undeclared``; default ``$SURVEYTOOLS_ALLOW_UNDECLARED``).
    """
    start = time.perf_counter()
    cached_cube(manifest or find_manifest(), allow_undeclared=allow_undeclared)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """``python -m surveytools.indicators.store [MANIFEST]``: warm the store
    (exit code 2 and one message, no traceback, when the tracker cannot be published)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        seconds = warm(args[0] if args else None)
    except SurveyError as error:
        print(f"surveytools: error: {error}", file=sys.stderr)
        return 2
    print(f"indicator cube ready in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
