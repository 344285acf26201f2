"""Trackers: several waves read through a TOML manifest and harmonised.

:func:`read_waves` parses the manifest, reads every wave with
:func:`surveytools.io.load` (so the parsed-file cache applies), harmonises
the waves (:mod:`surveytools.harmonise`) and returns a :class:`Tracker`.

The manifest (``data/tracker/waves.toml`` is an example)::

    [tracker]          name, description, shared_respondents (default false)
    [small_base]       suppress_below, flag_below (default 50, 100)
    [design]           Design fields for every wave: weight, strata, psu, fpc,
                       lonely_psu (or replicate_weights, method, rho, scale,
                       rscales, mse for a ReplicateDesign)
    [[waves]]          label (text), file (relative to the manifest's folder),
                       fieldwork_start, fieldwork_end (TOML dates), optional
                       codebook (CSV waves; default <name>.codebook.json) and
                       encoding; waves listed in time order
    [waves.design]     fields overriding [design] for this wave
    [waves.rename]     name in this wave's file = "harmonised name"
    [waves.recode.X]   "old code" = new code, for harmonised column X (after renames)

Any other key is a ManifestError naming the manifest and the key.

Examples
--------
>>> import surveytools as st
>>> waves = st.read_waves("data/tracker/waves.toml")    # doctest: +SKIP
>>> waves.names                                          # doctest: +SKIP
('2021', '2022', '2023', '2024')
>>> waves["2023"].mean("trust_nhs")                      # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..loading.codebook import codebook_path
from ..core.design import AnyDesign, Design, ReplicateDesign
from ..core.errors import DesignError, HarmonisationError, ManifestError
from .harmonise import REPORT_COLUMNS, WaveData, harmonise
from ..loading.read import file_format, load
from ..core.meta import Metadata, MissingSpec, code_text
from ..core.smallbase import DEFAULT_RULE, SmallBaseRule
from ..survey import Survey

_TOP = {"tracker", "small_base", "design", "waves"}
_TRACKER = {"name", "description", "shared_respondents"}
_SMALL_BASE = {"suppress_below", "flag_below"}
_TAYLOR = {"weight", "strata", "psu", "fpc", "lonely_psu"}
_REPLICATE = {"weight", "replicate_weights", "method", "rho", "scale", "rscales", "mse"}
_WAVE = {"label", "file", "fieldwork_start", "fieldwork_end", "codebook", "encoding", "design",
         "rename", "recode"}
#: Columns :meth:`Tracker.stacked` adds.
STACK_COLUMNS = {"wave": "wave", "strata": "wave_stratum", "psu": "wave_psu",
                 "weight": "wave_weight", "fpc": "wave_fpc"}


@dataclass(frozen=True)
class WaveEntry:
    """One ``[[waves]]`` table of a manifest, checked."""

    label: str
    file: Path
    design: AnyDesign
    fieldwork: tuple[dt.date | None, dt.date | None] = (None, None)
    codebook: Path | None = None
    encoding: str | None = None
    rename: Mapping[str, str] = field(default_factory=dict)
    recode: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Manifest:
    """A parsed tracker manifest."""

    path: Path
    waves: tuple[WaveEntry, ...]
    name: str | None = None
    description: str | None = None
    shared_respondents: bool = False
    small_base: SmallBaseRule = DEFAULT_RULE


def read_waves(manifest, *, cache: bool = True) -> "Tracker":
    """All waves of a tracker, harmonised as its manifest says.

    Parameters
    ----------
    manifest : str or Path
        The TOML manifest; wave files are relative to its folder.
    cache : bool
        Use the parsed-file cache (:mod:`surveytools.cache`).

    Returns
    -------
    Tracker

    Raises
    ------
    ManifestError
        Unknown keys, missing files, bad design fields or dates (the message
        names the manifest and the key).
    HarmonisationError
        A rename or recode naming a column a wave lacks, a recode that
        leaves answer codes unmapped, a code that means different things in
        two waves.
    FileFormatError, DataError, DesignError
        A wave file that cannot be read or whose design columns are unusable.
    """
    spec = parse_manifest(manifest)
    loaded = []
    for entry in spec.waves:
        frame, meta = load(entry.file, codebook=entry.codebook, encoding=entry.encoding,
                           cache=cache)
        loaded.append(WaveData(entry.label, entry.file, frame, meta, entry.rename, entry.recode))
    harmonised, report = harmonise(loaded, manifest=spec.path)
    surveys = {}
    for entry, wave in zip(spec.waves, harmonised):
        start, end = entry.fieldwork
        notes = {**wave.meta.notes, "manifest": str(spec.path),
                 "fieldwork_start": start and start.isoformat(),
                 "fieldwork_end": end and end.isoformat()}
        meta = wave.meta.replace(wave=entry.label, notes=notes)
        surveys[entry.label] = Survey(wave.frame, entry.design, meta, small_base=spec.small_base)
    return Tracker(surveys, shared_respondents=spec.shared_respondents,
                   fieldwork={w.label: w.fieldwork for w in spec.waves}, report=report,
                   name=spec.name, description=spec.description, manifest=spec.path)


class Tracker:
    """The waves of a tracker, in time order, harmonised.

    Parameters
    ----------
    waves : mapping of label -> Survey
        In time order.
    shared_respondents : bool
        True when the waves re-interview the same people (a panel); then
        wave-to-wave changes are not those of independent samples.
    fieldwork : mapping of label -> (start, end), optional
    report : DataFrame, optional
        The harmonisation report (``variable, wave, issue, detail``).
    name, description : str, optional
    manifest : Path, optional

    Examples
    --------
    >>> import pandas as pd, surveytools as st
    >>> a = st.Survey(pd.DataFrame({"w": [1.0, 1.0], "q": [1, 2]}), st.Design(weight="w"))
    >>> t = Tracker({"2023": a, "2024": a})
    >>> t.names, len(t), len(t.stacked())
    (('2023', '2024'), 2, 4)
    """

    def __init__(self, waves: Mapping[str, Survey], *, shared_respondents: bool = False,
                 fieldwork: Mapping | None = None, report: pd.DataFrame | None = None,
                 name: str | None = None, description: str | None = None,
                 manifest: Path | None = None) -> None:
        for label, survey in waves.items():
            if not isinstance(survey, Survey):
                raise TypeError(f"wave {label!r} must be a Survey, not {type(survey).__name__}")
        self._waves = MappingProxyType(dict(waves))
        self._shared = bool(shared_respondents)
        self._fieldwork = MappingProxyType(
            {label: tuple((fieldwork or {}).get(label, (None, None))) for label in self._waves})
        self._report = (report if report is not None
                        else pd.DataFrame(columns=list(REPORT_COLUMNS))).copy()
        self.name, self.description, self.manifest = name, description, manifest

    # -- the waves ------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """The wave labels in time order."""
        return tuple(self._waves)

    @property
    def shared_respondents(self) -> bool:
        return self._shared

    @property
    def fieldwork(self) -> Mapping[str, tuple[dt.date | None, dt.date | None]]:
        """Label -> (first day, last day) of fieldwork."""
        return self._fieldwork

    @property
    def report(self) -> pd.DataFrame:
        """The harmonisation report: ``variable, wave, issue, detail`` (a copy)."""
        return self._report.copy()

    def __getitem__(self, label: str) -> Survey:
        try:
            return self._waves[label]
        except (KeyError, TypeError):
            raise KeyError(f"no wave {label!r}; the waves are {', '.join(self.names)} "
                           "(labels are text, e.g. tracker['2023'])") from None

    def __contains__(self, label) -> bool:
        return label in self._waves

    def __len__(self) -> int:
        return len(self._waves)

    def __iter__(self) -> Iterator[Survey]:
        """The waves (Surveys) in time order; ``.names`` holds their labels."""
        return iter(self._waves.values())

    def __reversed__(self) -> Iterator[Survey]:
        return reversed(self._waves.values())

    def items(self):
        """``(label, Survey)`` pairs in time order."""
        return self._waves.items()

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}: {len(v)}" for k, v in self._waves.items())
        return f"<Tracker {self.name or ''!s}: {len(self)} waves ({sizes})>"

    # -- views ------------------------------------------------------------------
    def codebook(self) -> pd.DataFrame:
        """Which variable is in which wave: one row per variable, a label and a
        True/False column per wave."""
        columns = list(dict.fromkeys(c for s in reversed(self) for c in s.data.columns))
        table = pd.DataFrame(
            {label: [c in survey.data.columns for c in columns] for label, survey in self.items()},
            index=pd.Index(columns, name="variable"))
        labels = [next((s.meta.variable_labels[c] for s in reversed(self)
                        if c in s.meta.variable_labels), "") for c in columns]
        table.insert(0, "label", pd.Series(labels, index=table.index, dtype="str"))
        return table

    def stacked(self) -> Survey:
        """One Survey of all waves, with a ``wave`` column and each wave's design.

        Strata become wave x stratum (a wave without strata is one stratum),
        PSUs wave x PSU; fpc and weights carry over.  Only for independent
        samples: with ``shared_respondents`` the waves are not separate strata.

        Raises
        ------
        HarmonisationError
            Shared respondents, replicate designs, waves that disagree on
            ``lonely_psu`` or on having an fpc, a column already named like a
            stacking column.
        """
        if self._shared:
            raise HarmonisationError(
                "waves that share respondents cannot be stacked as independent samples",
                file=self.manifest, expected="shared_respondents = false",
                found="shared_respondents = true",
                hint="analyse the waves separately, or as a panel with respondent-level changes",
            )
        designs = {label: s.design for label, s in self.items()}
        if any(isinstance(d, ReplicateDesign) for d in designs.values()):
            raise HarmonisationError(
                "stacking waves with replicate-weight designs is not supported",
                file=self.manifest, expected="Design (Taylor linearisation) for every wave",
                found="a ReplicateDesign", hint="estimate wave by wave",
            )
        _check_same(designs, "lonely_psu", self.manifest)
        self._check_free_names()
        weights = {d.weight for d in designs.values()}
        fpcs = {d.fpc for d in designs.values()}
        if len(fpcs) > 1 and None in fpcs:
            raise HarmonisationError(
                "some waves have an fpc and others do not", file=self.manifest,
                expected="an fpc for every wave or for none",
                found=", ".join(f"{k}: {d.fpc}" for k, d in designs.items()),
                hint="give every wave's design an fpc, or drop it",
            )
        weight = weights.pop() if len(weights) == 1 else STACK_COLUMNS["weight"]
        fpc = None if fpcs == {None} else fpcs.pop() if len(fpcs) == 1 else STACK_COLUMNS["fpc"]
        psu = STACK_COLUMNS["psu"] if any(d.psu for d in designs.values()) else None
        unused = [STACK_COLUMNS[k] for k, used in (("weight", weight == STACK_COLUMNS["weight"]),
                                                   ("fpc", fpc == STACK_COLUMNS["fpc"]),
                                                   ("psu", psu is not None)) if not used]
        data = pd.concat([self._stack_part(label, survey) for label, survey in self.items()],
                         ignore_index=True).drop(columns=unused)
        design = Design(weight=weight, strata=STACK_COLUMNS["strata"], psu=psu, fpc=fpc,
                        lonely_psu=next(iter(designs.values())).lonely_psu)
        first = next(iter(self))
        return Survey(data, design, self._stacked_meta(), small_base=first.small_base)

    def _check_free_names(self) -> None:
        for label, survey in self.items():
            taken = sorted(set(STACK_COLUMNS.values()) & set(survey.data.columns))
            if taken:
                raise HarmonisationError(
                    "a wave already has a column that stacking adds", file=survey.meta.file,
                    column=taken[0], expected="none of " + ", ".join(STACK_COLUMNS.values()),
                    found=f"'{taken[0]}' in wave {label}",
                    hint="rename that column in the manifest's [waves.rename]",
                )

    @staticmethod
    def _stack_part(label: str, survey: Survey) -> pd.DataFrame:
        design, data = survey.design, survey.data
        rows = np.arange(1, len(data) + 1).astype(str)

        def text(values) -> pd.Series:
            return pd.Series(values, index=data.index, dtype="str")

        extra = pd.DataFrame({
            STACK_COLUMNS["wave"]: text(label),
            STACK_COLUMNS["strata"]: text(_prefixed(label, data[design.strata]) if design.strata
                                          else label),
            STACK_COLUMNS["psu"]: text(_prefixed(label, data[design.psu]) if design.psu
                                       else np.char.add(f"{label}:row", rows)),
            STACK_COLUMNS["weight"]: data[design.weight],
            STACK_COLUMNS["fpc"]: data[design.fpc] if design.fpc else np.nan,
        }, index=data.index)
        return pd.concat([extra, data], axis=1)

    def _stacked_meta(self) -> Metadata:
        parts: dict[str, dict] = {"variable_labels": {}, "value_labels": {}, "missing": {},
                                  "measure": {}}
        for survey in self:  # later waves take precedence
            meta = survey.meta
            parts["variable_labels"].update(meta.variable_labels)
            parts["measure"].update(meta.measure)
            for column, labels in meta.value_labels.items():
                parts["value_labels"][column] = {**parts["value_labels"].get(column, {}), **labels}
            for column, spec in meta.missing.items():
                old = parts["missing"].get(column, MissingSpec())
                parts["missing"][column] = MissingSpec(
                    values=tuple(dict.fromkeys(old.values + spec.values)),
                    ranges=tuple(dict.fromkeys(old.ranges + spec.ranges)))
        parts["variable_labels"][STACK_COLUMNS["wave"]] = "Wave"
        return Metadata(**parts, file=str(self.manifest) if self.manifest else None,
                        notes={"stacked_waves": list(self.names)})


def _prefixed(label: str, codes: pd.Series) -> pd.Series:
    return f"{label}:" + codes.map(code_text).astype("str")


def _check_same(designs: Mapping[str, AnyDesign], field_name: str, manifest) -> None:
    values = {getattr(d, field_name) for d in designs.values()}
    if len(values) > 1:
        raise HarmonisationError(
            f"the waves' designs disagree on {field_name}", file=manifest,
            expected=f"one {field_name} for every wave",
            found=", ".join(f"{k}: {getattr(d, field_name)}" for k, d in designs.items()),
            hint=f"set {field_name} in the manifest's [design] only",
        )


# -- the manifest ---------------------------------------------------------------
def parse_manifest(path) -> Manifest:
    """Read and check a tracker manifest (TOML).

    Every fault is a ManifestError naming the manifest and the key.
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError("manifest not found", file=path, expected="a TOML manifest",
                            found="a folder" if path.is_dir() else "no such file",
                            hint="check the path, e.g. data/tracker/waves.toml")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ManifestError("the manifest is not valid TOML", file=path, found=str(error),
                            hint="fix the TOML syntax at the line given") from None
    _keys(doc, _TOP, path, "the top level")
    tracker = _table(doc, "tracker", path)
    _keys(tracker, _TRACKER, path, "[tracker]")
    small = _table(doc, "small_base", path)
    _keys(small, _SMALL_BASE, path, "[small_base]")
    try:
        rule = SmallBaseRule(**small)
    except ManifestError as error:
        raise ManifestError(f"[small_base]: {error.message}", file=path, found=error.found,
                            hint=error.hint) from None
    shared = tracker.get("shared_respondents", False)
    if not isinstance(shared, bool):
        raise ManifestError("[tracker] shared_respondents must be true or false", file=path,
                            expected="true or false", found=repr(shared))
    default_design = _table(doc, "design", path)
    waves = doc.get("waves")
    if not isinstance(waves, list) or not waves:
        raise ManifestError("the manifest lists no waves", file=path,
                            expected="one [[waves]] table per wave, in time order",
                            found=repr(waves)[:40], hint='add [[waves]] label = "2024" file = ...')
    entries = tuple(_wave(i, w, default_design, path) for i, w in enumerate(waves, start=1))
    _check_labels_and_order(entries, path)
    return Manifest(path=path, waves=entries, name=tracker.get("name"),
                    description=tracker.get("description"), shared_respondents=shared,
                    small_base=rule)


def _wave(number: int, table, default_design: dict, path: Path) -> WaveEntry:
    where = f"[[waves]] number {number}"
    if not isinstance(table, dict):
        raise ManifestError(f"{where} must be a table", file=path, found=repr(table)[:40])
    label = table.get("label")
    if not isinstance(label, str) or not label:
        raise ManifestError(f"{where}: label must be text", file=path,
                            expected='label = "2024" (quoted)', found=repr(label))
    where = f"wave {label!r} ({where})"
    _keys(table, _WAVE, path, where)
    file = _path(table, "file", path, where, required=True)
    file_format(file)  # an unknown extension fails here, naming the file
    codebook = _path(table, "codebook", path, where, required=False)
    if codebook is None and file_format(file) == "csv":
        codebook = codebook_path(file)
        if not codebook.is_file():
            raise ManifestError(f"{where}: the CSV's codebook is missing", file=path,
                                expected=f"{codebook}", found="no such file",
                                hint="add codebook = \"...\" to the wave, or write the codebook")
    fieldwork = tuple(_date(table, key, path, where) for key in ("fieldwork_start",
                                                                   "fieldwork_end"))
    if None not in fieldwork and fieldwork[1] < fieldwork[0]:
        raise ManifestError(f"{where}: fieldwork ends before it starts", file=path,
                            expected="fieldwork_end >= fieldwork_start",
                            found=f"{fieldwork[0]} to {fieldwork[1]}")
    encoding = table.get("encoding")
    if encoding is not None and not isinstance(encoding, str):
        raise ManifestError(f"{where}: encoding must be text", file=path, found=repr(encoding))
    rename = _table(table, "rename", path, where)
    for old, new in rename.items():
        if not isinstance(new, str) or not new:
            raise ManifestError(f"{where} [waves.rename]: the new name must be text", file=path,
                                column=old, expected=f'{old} = "harmonised_name"',
                                found=repr(new))
    if len(set(rename.values())) < len(rename):
        raise ManifestError(f"{where} [waves.rename] gives two columns the same name", file=path,
                            found=repr(rename), hint="each harmonised name may appear once")
    recode = _table(table, "recode", path, where)
    for column, mapping in recode.items():
        if not isinstance(mapping, dict) or not mapping:
            raise ManifestError(f"{where} [waves.recode.{column}] must be a table of codes",
                                file=path, column=column, expected='"old code" = new code',
                                found=repr(mapping)[:40])
    design = _design({**default_design, **_table(table, "design", path, where)}, path, where)
    return WaveEntry(label=label, file=file, design=design, fieldwork=fieldwork,
                     codebook=codebook, encoding=encoding, rename=rename, recode=recode)


def _design(fields: dict, path: Path, where: str) -> AnyDesign:
    replicate = "replicate_weights" in fields
    allowed = _REPLICATE if replicate else _TAYLOR
    _keys(fields, allowed, path, f"{where} [design]")
    if "weight" not in fields:
        raise ManifestError(f"{where}: the design has no weight", file=path,
                            expected='weight = "column" in [design] or [waves.design]',
                            found="no weight", hint="name the final weight column")
    try:
        return ReplicateDesign(**fields) if replicate else Design(**fields)
    except DesignError as error:
        raise ManifestError(f"{where} [design]: {error.message}", file=path,
                            expected=error.expected, found=error.found, hint=error.hint) from None


def _check_labels_and_order(entries: tuple[WaveEntry, ...], path: Path) -> None:
    labels = [e.label for e in entries]
    duplicated = sorted({x for x in labels if labels.count(x) > 1})
    if duplicated:
        raise ManifestError("two waves have the same label", file=path,
                            expected="a different label for every wave",
                            found=", ".join(duplicated))
    starts = [(e.label, e.fieldwork[0]) for e in entries if e.fieldwork[0] is not None]
    for (before, a), (after, b) in zip(starts, starts[1:]):
        if b < a:
            raise ManifestError("the waves are not listed in time order", file=path,
                                expected=f"wave {after!r} to start after wave {before!r}",
                                found=f"{after} starts {b}, {before} starts {a}",
                                hint="list [[waves]] from the earliest to the latest")


def _keys(table: dict, allowed: set, path: Path, where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ManifestError(
            f"unknown key in {where}", file=path, column=None,
            expected="one of " + ", ".join(sorted(allowed)), found=", ".join(unknown),
            hint="check the spelling (see data/tracker/waves.toml for the format)",
        )


def _table(parent: dict, key: str, path: Path, where: str = "the manifest") -> dict:
    value = parent.get(key, {})
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: {key} must be a table", file=path,
                            expected=f"[{key}] with key = value lines", found=repr(value)[:40])
    return value


def _path(table: dict, key: str, path: Path, where: str, *, required: bool) -> Path | None:
    value = table.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}: {key} must be a file name", file=path,
                            expected=f'{key} = "file name" (relative to {path.parent})',
                            found=repr(value))
    resolved = path.parent / value
    if not resolved.is_file():
        raise ManifestError(f"{where}: the {key} named in the manifest does not exist",
                            file=path, expected=f"a file at {resolved}", found="no such file",
                            hint=f"file names are relative to the manifest's folder {path.parent}")
    return resolved


def _date(table: dict, key: str, path: Path, where: str) -> dt.date | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ManifestError(f"{where}: {key} must be a date", file=path,
                            expected=f"{key} = 2024-05-13 (a TOML date, without quotes)",
                            found=repr(value))
    return value
