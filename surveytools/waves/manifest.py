"""The tracker manifest: a TOML file that lists the waves, their files and design.

This module owns reading and checking a manifest into a frozen
:class:`Manifest`; :func:`surveytools.waves.tracker.read_waves` reads the
waves it lists.  The field checks are those of :mod:`surveytools.core.schema`.

The manifest (``data/tracker/waves.toml`` is an example)::

    [tracker]          name, description, shared_respondents (default false),
                       catalogue, breakdowns (files; default indicators.toml and
                       breakdowns.toml beside the manifest)
    [small_base]       suppress_below, flag_below (default 50, 100)
    [design]           Design fields for every wave: weight, strata, psu, fpc,
                       lonely_psu, nest (or replicate_weights, method, rho,
                       scale, rscales, mse for a ReplicateDesign)
    [missing]          non-answers the files do not declare (see
                       :mod:`surveytools.waves.missing`)
    [[waves]]          label (text), file (relative to the manifest's folder),
                       fieldwork_start, fieldwork_end (TOML dates), optional
                       codebook (CSV waves; default <name>.codebook.json) and
                       encoding; waves listed in time order;
                       comparable_with_previous = false with break_reason = "..."
                       when the wave cannot be compared with the one before
    [waves.design]     fields overriding [design] for this wave
    [waves.rename]     name in this wave's file = "harmonised name"
    [waves.recode.X]   "old code" = new code, for harmonised column X (after renames);
                       "old code" = { code = 98, to_missing = true } to recode answers
                       onto a user-missing code on purpose
    [waves.missing]    [missing] declarations for this wave only
    [waves.changed_questions]  question = "why it cannot be compared with the wave before"

Any other key is a ManifestError naming the manifest and the key, and so is
a value of the wrong type: a threshold of ``true`` or ``"50"``, a recode to
``nan``, ``inf`` or ``true``, a design ``rho`` in quotes; two waves reading
the same file (or identical copies of it) are refused.

Examples
--------
>>> spec = parse_manifest("data/tracker/waves.toml")
>>> [w.label for w in spec.waves], spec.small_base.suppress_below
(['2021', '2022', '2023', '2024'], 50)
>>> spec.waves[0].rename["trust_government"]
'trust_govt'
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..core.design import AnyDesign, Design, ReplicateDesign
from ..core.errors import DesignError, ManifestError
from ..core.schema import Source
from ..core.smallbase import DEFAULT_RULE, SmallBaseRule
from ..loading.codebook import codebook_path
from ..loading.read import file_format
from .missing import MissingRules, read_rules

_TOP = {"tracker", "small_base", "design", "missing", "waves"}
_TRACKER = {"name", "description", "shared_respondents", "catalogue", "breakdowns"}
_SMALL_BASE = {"suppress_below", "flag_below"}
_TAYLOR = {"weight", "strata", "psu", "fpc", "lonely_psu", "nest"}
_REPLICATE = {"weight", "replicate_weights", "method", "rho", "scale", "rscales", "mse"}
_WAVE = {"label", "file", "fieldwork_start", "fieldwork_end", "codebook", "encoding", "design",
         "rename", "recode", "missing", "comparable_with_previous", "break_reason",
         "changed_questions"}
GUIDE = "see data/tracker/waves.toml for the format"


@dataclass(frozen=True)
class WaveEntry:
    """One ``[[waves]]`` table of a manifest, checked (renames and recodes read-only)."""

    label: str
    file: Path
    design: AnyDesign
    fieldwork: tuple[dt.date | None, dt.date | None] = (None, None)
    codebook: Path | None = None
    encoding: str | None = None
    rename: Mapping[str, str] = field(default_factory=dict)
    recode: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    missing: MissingRules = field(default_factory=MissingRules)
    break_reason: str | None = None
    changed_questions: Mapping[str, str] = field(default_factory=dict)

    @property
    def comparable_with_previous(self) -> bool:
        """False when the manifest marks a series break before this wave."""
        return self.break_reason is None

    def __post_init__(self) -> None:
        object.__setattr__(self, "fieldwork", tuple(self.fieldwork))
        object.__setattr__(self, "changed_questions",
                           MappingProxyType(dict(self.changed_questions)))
        object.__setattr__(self, "rename", MappingProxyType(dict(self.rename)))
        object.__setattr__(self, "recode", MappingProxyType(
            {column: MappingProxyType(dict(codes)) for column, codes in self.recode.items()}))


@dataclass(frozen=True)
class Manifest:
    """A parsed tracker manifest."""

    path: Path
    waves: tuple[WaveEntry, ...]
    name: str | None = None
    description: str | None = None
    shared_respondents: bool = False
    small_base: SmallBaseRule = DEFAULT_RULE
    missing: MissingRules = field(default_factory=MissingRules)
    catalogue: Path | None = None
    breakdowns: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "waves", tuple(self.waves))


def parse_manifest(path) -> Manifest:
    """Read and check a tracker manifest (TOML).

    Raises
    ------
    ManifestError
        Every fault, naming the manifest and the key: a missing file, text
        that is not UTF-8 or not TOML, unknown keys, bad design fields,
        dates, labels or wave order, a file the manifest names that is absent.
    FileFormatError
        A wave file of an unknown format.
    """
    source = Source(path, what="manifest", guide=GUIDE)
    path = source.file
    doc = source.read(hint="check the path, e.g. data/tracker/waves.toml")
    source.check_keys(doc, _TOP, where="the top level")
    tracker = source.table(doc, "tracker", where="the manifest")
    source.check_keys(tracker, _TRACKER, where="[tracker]")
    small = source.table(doc, "small_base", where="the manifest")
    source.check_keys(small, _SMALL_BASE, where="[small_base]")
    try:
        rule = SmallBaseRule(**small)
    except ManifestError as error:
        raise source.fault(f"[small_base]: {error.message}", key=error.column,
                           expected=error.expected, found=error.found,
                           hint=error.hint) from None
    shared = tracker.get("shared_respondents", False)
    if not isinstance(shared, bool):
        raise source.fault("[tracker] shared_respondents must be true or false",
                           key="shared_respondents", expected="true or false", found=repr(shared),
                           hint="write true or false without quotes")
    default_design = source.table(doc, "design", where="the manifest")
    waves = doc.get("waves")
    if not isinstance(waves, list) or not waves:
        raise source.fault("the manifest lists no waves", key="waves",
                           expected="one [[waves]] table per wave, in time order",
                           found=repr(waves)[:40], hint='add [[waves]] label = "2024" file = ...')
    entries = tuple(_wave(source, i, w, default_design) for i, w in enumerate(waves, start=1))
    source.unique([e.label for e in entries], key="label", things="waves", each="wave")
    _check_order(source, entries)
    _check_files_once(source, entries)
    return Manifest(path=path, waves=entries, name=source.text(tracker, "name", where="[tracker]"),
                    description=source.text(tracker, "description", where="[tracker]"),
                    shared_respondents=shared, small_base=rule,
                    missing=read_rules(source, doc, where="the manifest"),
                    catalogue=source.path(tracker, "catalogue", where="[tracker]"),
                    breakdowns=source.path(tracker, "breakdowns", where="[tracker]"))


def _wave(source: Source, number: int, table, default_design: dict) -> WaveEntry:
    where = f"[[waves]] number {number}"
    if not isinstance(table, dict):
        raise source.fault(f"{where} must be a table", key="waves", expected="a [[waves]] table",
                           found=repr(table)[:40], hint="write each wave as a [[waves]] table")
    label = source.text(table, "label", where=where, required=True,
                        expected='label = "2024" (quoted)')
    where = f"wave {label!r} ({where})"
    source.check_keys(table, _WAVE, where=where)
    file = source.path(table, "file", where=where, required=True)
    file_format(file)  # an unknown extension fails here, naming the file
    codebook = source.path(table, "codebook", where=where)
    if codebook is None and file_format(file) == "csv":
        codebook = codebook_path(file)
        if not codebook.is_file():
            raise source.fault(f"{where}: the CSV's codebook is missing", key="codebook",
                               expected=f"{codebook}", found="no such file",
                               hint="add codebook = \"...\" to the wave, or write the codebook")
    fieldwork = tuple(source.date(table, key, where=where)
                      for key in ("fieldwork_start", "fieldwork_end"))
    if None not in fieldwork and fieldwork[1] < fieldwork[0]:
        raise source.fault(f"{where}: fieldwork ends before it starts", key="fieldwork_end",
                           expected="fieldwork_end >= fieldwork_start",
                           found=f"{fieldwork[0]} to {fieldwork[1]}",
                           hint="swap or correct the fieldwork dates")
    encoding = source.text(table, "encoding", where=where)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise source.fault(f"{where}: unknown text encoding", key="encoding",
                               expected="an encoding such as utf-8, cp1252 or latin-1",
                               found=repr(encoding),
                               hint="name the encoding the file was written in") from None
    rename = source.table(table, "rename", where=where)
    for old, new in rename.items():
        if not isinstance(new, str) or not new:
            raise source.fault(f"{where} [waves.rename]: the new name must be text", key=old,
                               expected=f'{old} = "harmonised_name"', found=repr(new),
                               hint="quote the harmonised name")
    if len(set(rename.values())) < len(rename):
        raise source.fault(f"{where} [waves.rename] gives two columns the same name",
                           key="rename", found=repr(rename),
                           hint="each harmonised name may appear once")
    recode = source.table(table, "recode", where=where)
    for column, mapping in recode.items():
        if not isinstance(mapping, dict) or not mapping:
            raise source.fault(f"{where} [waves.recode.{column}] must be a table of codes",
                               key=column, expected='"old code" = new code',
                               found=repr(mapping)[:40], hint="list one old code = new code a line")
        for old, new in mapping.items():
            _check_recode_value(source, f"{where} [waves.recode.{column}]", column, old, new)
    design = _design(source, {**default_design, **source.table(table, "design", where=where)},
                     where)
    return WaveEntry(label=label, file=file, design=design, fieldwork=fieldwork,
                     codebook=codebook, encoding=encoding, rename=rename, recode=recode,
                     missing=read_rules(source, table, where=where),
                     break_reason=_break(source, table, where, first=number == 1),
                     changed_questions=_changed(source, table, where))


def _break(source: Source, table: dict, where: str, *, first: bool) -> str | None:
    """The reason for a series break before this wave, or None (comparable)."""
    comparable = table.get("comparable_with_previous", True)
    if not isinstance(comparable, bool):
        raise source.fault(f"{where}: comparable_with_previous must be true or false",
                           key="comparable_with_previous", expected="true or false",
                           found=repr(comparable), hint="write false without quotes")
    reason = source.text(table, "break_reason", where=where)
    if comparable:
        if reason is not None:
            raise source.fault(f"{where}: break_reason without a break",
                               key="break_reason", expected="comparable_with_previous = false",
                               found="comparable_with_previous = true (the default)",
                               hint="add comparable_with_previous = false, or remove break_reason")
        return None
    if first:
        raise source.fault(f"{where}: the first wave has no previous wave",
                           key="comparable_with_previous", expected="a break on a later wave",
                           found="comparable_with_previous = false on the first wave",
                           hint="put the break on the wave that cannot be compared with the one "
                                "before it")
    if not reason:
        raise source.fault(f"{where}: a series break needs a reason", key="break_reason",
                           expected='break_reason = "moved from face-to-face to online"',
                           found="no break_reason",
                           hint="say why, in words that tables and dashboards can show")
    return reason


def _changed(source: Source, table: dict, where: str) -> dict[str, str]:
    changed = source.table(table, "changed_questions", where=where)
    for question, reason in changed.items():
        if not isinstance(reason, str) or not reason:
            raise source.fault(f"{where} [waves.changed_questions]: the reason must be text",
                               key=question, expected=f'{question} = "wording changed"',
                               found=repr(reason), hint="say why, as quoted text")
    return changed


def _check_recode_value(source: Source, where: str, column: str, old: str, new) -> None:
    """One ``"old" = new`` line of a recode, before any data is seen: the new code
    is a finite number, text, or ``{ code = 98, to_missing = true }``."""
    line = f'"{old}" = {new!r}'
    if isinstance(new, dict):
        if set(new) - {"code", "to_missing"} or "code" not in new:
            decimal = all(k.isdigit() for k in new)
            problem = "a decimal code must be quoted" if decimal else "a new code must be a code"
            raise source.fault(
                f"{where}: {problem}",
                key=column, expected='"1.5" = 2  or  "1" = { code = 98, to_missing = true }',
                found=line, hint=('TOML reads 1.5 = 2 as the dotted key 1 -> 5: write "1.5" = 2'
                                  if decimal else "give the new code as a number or text"))
        if not isinstance(new.get("to_missing", False), bool):
            raise source.fault(f"{where}: to_missing must be true or false", key=column,
                               expected="to_missing = true", found=line,
                               hint="write true without quotes")
        new = new["code"]
    if isinstance(new, bool) or not isinstance(new, (int, float, str)) \
            or (isinstance(new, float) and not math.isfinite(new)):
        raise source.fault(f"{where}: the new code must be a finite number or text", key=column,
                           expected='"old code" = new code (e.g. "1" = 2)', found=line,
                           hint="write the harmonised code as a number (no nan, inf, true or "
                                "false)")


def _check_files_once(source: Source, entries: tuple[WaveEntry, ...]) -> None:
    """Two waves reading one file (or two copies of it) would count its respondents twice."""
    seen: list = []
    for entry in entries:
        identity = entry.file.resolve()
        for other, other_identity in seen:
            same = identity == other_identity or (
                identity.stat().st_size == other_identity.stat().st_size
                and _digest(identity) == _digest(other_identity))
            if same:
                raise source.fault(
                    f"waves {other.label!r} and {entry.label!r} read the same data file",
                    key="file", expected="a different file for every wave",
                    found=f"{other.file.name} and {entry.file.name}"
                          + ("" if identity == other_identity else " hold identical bytes"),
                    hint="point each [[waves]] file at its own wave's data")
        seen.append((entry, identity))


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


#: Types of the design fields that Design/ReplicateDesign would coerce or
#: compare without checking (column names, lonely_psu, nest and method they check).
_DESIGN_TYPES = {"mse": "bool", "rho": "number", "scale": "number", "rscales": "numbers"}


def _design(source: Source, fields: dict, where: str) -> AnyDesign:
    replicate = "replicate_weights" in fields
    source.check_keys(fields, _REPLICATE if replicate else _TAYLOR, where=f"{where} [design]")
    for key, value in fields.items():
        kind = _DESIGN_TYPES.get(key)
        if kind is None:
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value)
        fine = {"bool": isinstance(value, bool), "number": number,
                "numbers": isinstance(value, list) and all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    for v in value)}[kind]
        if not fine:
            example = {"bool": f"{key} = true", "number": f"{key} = 0.5",
                       "numbers": f"{key} = [0.5, 0.5]"}[kind]
            raise source.fault(f"{where} [design]: {key} has the wrong type", key=key,
                               expected=example, found=repr(value)[:60],
                               hint="no quotes around true/false and numbers; quotes around "
                                    "column names")
    if "weight" not in fields:
        raise source.fault(f"{where}: the design has no weight", key="weight",
                           expected='weight = "column" in [design] or [waves.design]',
                           found="no weight", hint="name the final weight column")
    try:
        return ReplicateDesign(**fields) if replicate else Design(**fields)
    except DesignError as error:
        # Design names the field in its message ("design field 'strata' ...",
        # "unknown lonely_psu option"): name it as the key too
        key = error.column or next((k for k in sorted(fields, key=len, reverse=True)
                                    if k in error.message), None)
        raise source.fault(f"{where} [design]: {error.message}", key=key,
                           expected=error.expected, found=error.found, hint=error.hint) from None


def _check_order(source: Source, entries: tuple[WaveEntry, ...]) -> None:
    starts = [(e.label, e.fieldwork[0]) for e in entries if e.fieldwork[0] is not None]
    for (before, a), (after, b) in zip(starts, starts[1:]):
        if b < a:
            raise source.fault("the waves are not listed in time order", key="fieldwork_start",
                               expected=f"wave {after!r} to start after wave {before!r}",
                               found=f"{after} starts {b}, {before} starts {a}",
                               hint="list [[waves]] from the earliest to the latest")
