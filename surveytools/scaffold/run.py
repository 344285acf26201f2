"""``surveytools init``: scaffold a tracker's manifest, catalogue and breakdowns from its files.

This module owns the order of the steps and the writing of the files:

1. read each file's metadata and the columns worth inspecting
   (:mod:`~surveytools.scaffold.files`), name the waves and order them;
2. suggest renames between waves (:mod:`~surveytools.scaffold.renames`);
3. find each wave's weight and design columns (:mod:`~surveytools.scaffold.detect`);
4. audit the non-answers and plan the ``[missing]`` declarations
   (:mod:`~surveytools.scaffold.missing`);
5. find breakdowns (:mod:`~surveytools.scaffold.demographics`), classify the
   other questions (:mod:`~surveytools.scaffold.scales`), group them into
   topics and write their indicators (:mod:`~surveytools.scaffold.batteries`);
6. write the texts (:mod:`~surveytools.scaffold.write`), parse them back
   and check the catalogue and breakdowns against the latest wave's metadata
   (with the declarations applied) before anything is written.

Existing files are never overwritten unless ``force=True``; ``dry_run=True``
writes nothing.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import tomllib
from pathlib import Path

from ..core.errors import ManifestError
from ..core.files import atomic_write
from ..core.meta import Metadata
from ..core.nonanswers import looks_like_non_answer
from ..indicators.catalogue_file import load_breakdowns, load_indicators
from .batteries import Item, group_batteries, indicators
from .breaks import find_breaks
from .demographics import find_breakdowns, kind_of
from .detect import (FPC_LABEL, FPC_NAME, PSU_LABEL, PSU_NAME, STRATA_LABEL, STRATA_NAME,
                     detect_design)
from .files import WaveFile, in_time_order, read_file, wave_labels
from .missing import plan_missing
from .recodes import reconcile
from .model import FILES, Scaffold, WaveInfo
from .renames import name_maps, suggest_renames
from .scales import classify, why_not
from .write import summary, texts


def scaffold_tracker(files, out_dir, *, dry_run: bool = False, force: bool = False) -> Scaffold:
    """Scaffold ``waves.toml``, ``indicators.toml``, ``breakdowns.toml`` and ``README.md``.

    Parameters
    ----------
    files : iterable of str or Path
        One survey file per wave (``.sav``, ``.zsav``, ``.csv`` with its
        codebook, ``.dta``, ``.por``, ``.parquet``).
    out_dir : str or Path
        The folder to write to (created if needed).
    dry_run : bool
        Find everything and return it, writing nothing.
    force : bool
        Overwrite files of the same names in ``out_dir``.

    Returns
    -------
    Scaffold
        What was found, the text of every file, and the paths written.

    Raises
    ------
    ManifestError
        No files given, or a file to write exists already (without ``force``).
    FileFormatError
        A file that is missing, of an unknown format or unreadable.

    Examples
    --------
    >>> found = scaffold_tracker(["data/tracker/wave2023.sav"], "/tmp/unused", dry_run=True)
    >>> found.weight.column, found.written
    ('weight', ())
    """
    paths = [Path(f) for f in files]
    out_dir = Path(out_dir)
    if not paths:
        raise ManifestError("no files to scaffold a tracker from", expected="one file per wave",
                            found="none", hint="surveytools init FILE [FILE ...] --out DIR")
    existing = tuple(name for name in FILES if (out_dir / name).exists())
    if existing and not dry_run and not force:
        raise _exists(out_dir / existing[0], existing)
    loaded = [read_file(p, text_columns=_design_like) for p in paths]
    labels = wave_labels(paths, [w.file_label for w in loaded])
    waves, order = in_time_order([w.with_label(*le) for w, le in zip(loaded, labels)])
    renames = suggest_renames(waves)
    recodes, splits = reconcile(waves, name_maps(renames))
    names = name_maps(renames)
    for split in splits:
        names.setdefault(split.wave, {})[split.old] = split.new
    designs = {w.label: detect_design(w) for w in waves}
    skip = {label: set(d.columns) | set(d.ids) | set(d.weight_like) for label, d in designs.items()}
    recoded: dict[str, dict] = {}
    for recode in recodes:
        recoded.setdefault(recode.wave, {})[recode.column] = dict(recode.mapping)
    plan = plan_missing(waves, skip=skip, renames=names, recodes=recoded)
    meta = plan.applied(waves[-1])
    modes = {names.get(w.label, {}).get(c, c) for w in waves for c in w.columns
             if kind_of(c, w.label_of(c)) == "mode"}
    breaks, changed = find_breaks(waves, names, designs, modes)
    found = _questions(waves, meta, designs, names, plan, out_dir, order, dry_run, existing,
                       renames=renames, splits=splits, recodes=recodes, breaks=breaks,
                       changed=changed)
    contents = texts(found)
    _check(contents, meta, _columns(waves, names))
    written = ()
    if not dry_run:
        written = tuple(atomic_write(out_dir / name, text) for name, text in contents.items())
    return found.replace(files=contents, written=written)


def print_summary(found: Scaffold, file=None) -> None:
    """Print what :func:`scaffold_tracker` found (the ``--dry-run`` output)."""
    print(summary(found), file=file or sys.stdout)


def _exists(path: Path, existing: tuple[str, ...]) -> ManifestError:
    return ManifestError(
        f"{path.name} already exists and init never overwrites it", file=path,
        expected=f"a folder without {', '.join(FILES)}",
        found="existing " + ", ".join(existing),
        hint="pass --force (force=True) to overwrite them, or choose another --out folder")


def _design_like(name: str, label: str) -> bool:
    """Text columns worth reading: those that may be strata, PSUs or fpc."""
    return any(p.search(name) for p in (STRATA_NAME, PSU_NAME, FPC_NAME)) or any(
        p.search(label) for p in (STRATA_LABEL, PSU_LABEL, FPC_LABEL))


def _columns(waves: list[WaveFile], names: dict) -> set[str]:
    return {names.get(w.label, {}).get(c, c) for w in waves for c in w.columns}


def _questions(waves, meta, designs, names, plan, out_dir, order, dry_run, existing, *,
               renames, splits, recodes, breaks, changed) -> Scaffold:
    """The Scaffold without file texts: breakdowns, items, batteries and indicators.

    ``meta`` is the latest wave's metadata with the plan's declarations.
    """
    latest = waves[-1]
    harmonised = [{names.get(w.label, {}).get(c, c) for c in w.columns} for w in waves]
    everywhere = set.intersection(*harmonised)
    excluded = {names.get(label, {}).get(c, c) for label, d in designs.items()
                for c in (*d.columns, *d.ids, *d.weight_like)}
    numeric = set(latest.numeric)
    breakdowns, unusable, demographic = find_breakdowns(
        list(latest.columns), meta, latest.meta, everywhere=everywhere, numeric=numeric,
        excluded=excluded)
    items, skipped = [], []
    for column, kind in latest.kinds.items():
        reason = _skip_reason(column, kind, designs[latest.label], excluded, demographic,
                              meta.variable_labels.get(column, ""))
        if reason is None:
            labels, values = _answers(latest, meta, column)
            scale = classify(labels, values=values, measure=meta.measure.get(column, ""))
            if scale is None:
                reason = why_not(labels, values)
            else:
                items.append(Item(column, meta.variable_labels.get(column, ""), scale))
                continue
        skipped.append((column, reason))
    for wave, columns in zip(waves[:-1], harmonised[:-1]):
        for column in sorted(columns - harmonised[-1], key=lambda c: _position(wave, names, c)):
            if column not in excluded:
                skipped.append((column, "not in the latest wave (the catalogue is checked "
                                        "against it)"))
    batteries = group_batteries(items)
    specs = [spec for battery in batteries for spec in indicators(battery)]
    infos = tuple(WaveInfo(w.label, w.label_evidence, w.path, _relative(w.path, out_dir), w.rows,
                           len(w.columns), designs[w.label].renamed(names.get(w.label, {})),
                           renames.get(w.label, ()),
                           tuple(s for s in splits if s.wave == w.label),
                           tuple(r for r in recodes if r.wave == w.label),
                           next((b for b in breaks if b.wave == w.label), None),
                           tuple(c for c in changed if c.wave == w.label)) for w in waves)
    return Scaffold(out_dir, infos, order, _name(waves), plan, tuple(batteries), tuple(specs),
                    tuple(breakdowns), tuple(unusable), tuple(dict.fromkeys(skipped)),
                    dry_run=dry_run, existing=existing)


def _position(wave: WaveFile, names: dict, harmonised: str) -> int:
    back = {new: old for old, new in names.get(wave.label, {}).items()}
    return wave.order.get(back.get(harmonised, harmonised), 0)


#: Survey administration, not attitudes: questionnaire versions, interviewers, fieldwork.
_ADMIN_LABEL = re.compile(r"\bquestionnaire version\b|\bversion of (the )?questionnaire\b"
                          r"|\binterviewer\b|\b(date|time|length|duration) of (the )?interview\b"
                          r"|\bsplit ballot\b|\bsample (type|source|batch)\b|\bfieldwork\b"
                          r"|\bquestionnaire (form|type)\b", re.IGNORECASE)
_ADMIN_NAME = re.compile(r"^(abcver|q?version|ver|form|intnum|intid|interviewer|splitbal|batch"
                         r"|sampletype|samptype)$", re.IGNORECASE)


def _skip_reason(column, kind, design, excluded, demographic, label="") -> str | None:
    if column in design.columns:
        return "weight or design column"
    if column in design.ids:
        return "an id (one value per row)"
    if column in excluded:
        return "a weight candidate (see waves.toml) or another wave's design column"
    if kind == "string":
        return "text variable"
    if kind == "date":
        return "date or time variable"
    if column in demographic:
        return "demographic (see breakdowns.toml)"
    if _ADMIN_NAME.match(column) or _ADMIN_LABEL.search(label):
        return "survey administration (questionnaire version, interviewer, fieldwork)"
    return None


def _answers(wave: WaveFile, meta: Metadata, column: str) -> tuple[dict, list]:
    """Labelled answers (no non-answers, nothing declared missing) and the values taken."""
    spec = meta.missing.get(column)
    labels = {c: t for c, t in meta.value_labels.get(column, {}).items()
              if not (spec and c in spec) and not looks_like_non_answer(str(t))}
    values = [v for v in wave.distinct(column) if not (spec and v in spec)]
    return labels, values


def _relative(path: Path, out_dir: Path) -> str:
    """The file as the manifest names it: relative to the manifest's folder when near it
    (at most two folders up), else absolute."""
    try:
        relative = Path(os.path.relpath(path.resolve(), out_dir.resolve()))
    except ValueError:  # another drive on Windows
        return path.resolve().as_posix()
    if relative.parts[:3] == ("..", "..", ".."):
        return path.resolve().as_posix()
    return relative.as_posix()


def _name(waves: list[WaveFile]) -> str:
    stems = [re.sub(r"[\W_]*(19|20)\d\d[\W_]*", " ", w.path.stem).strip(" _-") for w in waves]
    common = os.path.commonprefix(stems).strip(" _-")
    return common or "Survey tracker"


def _check(contents: dict[str, str], meta: Metadata, columns: set[str]) -> None:
    """Parse the texts back; load the catalogue and breakdowns and check them against ``meta``."""
    tomllib.loads(contents["waves.toml"])
    with tempfile.TemporaryDirectory(prefix="surveytools-init-") as folder:
        for name, loader, table in (("indicators.toml", load_indicators, "indicator"),
                                    ("breakdowns.toml", load_breakdowns, "breakdown")):
            if not re.search(rf"^\[\[{table}\]\]", contents[name], re.MULTILINE):
                tomllib.loads(contents[name])
                continue
            path = Path(folder) / name
            path.write_text(contents[name], encoding="utf-8")
            try:
                loader(path).check(meta, columns=columns)
            except ManifestError as error:  # the scaffold wrote something it cannot read
                raise ManifestError(
                    f"init wrote a {name} that does not check against the latest wave: "
                    f"{error.message}", file=name, expected=error.expected, found=error.found,
                    hint="a bug in surveytools.scaffold: please report it with the files' "
                    "metadata; run with dry_run=True to see what was found") from error
