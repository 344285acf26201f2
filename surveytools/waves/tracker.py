"""Trackers: the harmonised waves of one manifest, as an immutable :class:`Tracker`.

This module owns the multi-wave object and stacking.  :func:`read_waves`
parses the manifest (:mod:`surveytools.waves.manifest`), reads every wave
with :func:`surveytools.loading.read.load` (so the parsed-file cache
applies), harmonises the waves (:mod:`surveytools.waves.harmonise`), checks
each wave's weights as :func:`~surveytools.loading.read.read_wave` does
(:func:`~surveytools.loading.read.check_weight_range`: the same named
errors) and returns a :class:`Tracker`.  A Tracker cannot be changed after
it is made: its properties are read-only and its mappings are read-only views.

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
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..core.design import AnyDesign, Design, ReplicateDesign
from ..core.errors import HarmonisationError, ManifestError
from ..core.nonanswers import AUDIT_COLUMNS, audit
from ..core.schema import did_you_mean
from ..core.meta import Metadata, MissingSpec, code_text
from ..loading.read import check_weight_range, load
from ..survey import Survey
from .harmonise import REPORT_COLUMNS, WaveData, harmonise
from .manifest import parse_manifest
from .missing import fix_lines

#: Columns :meth:`Tracker.stacked` adds.
STACK_COLUMNS = MappingProxyType({"wave": "wave", "strata": "wave_stratum", "psu": "wave_psu",
                                  "weight": "wave_weight", "fpc": "wave_fpc"})


def read_waves(manifest, *, cache: bool = True) -> "Tracker":
    """All waves of a tracker, harmonised as its manifest says.

    Parameters
    ----------
    manifest : str or Path
        The TOML manifest; wave files are relative to its folder.
    cache : bool
        Use the parsed-file cache (:mod:`surveytools.loading.cache`).

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
        A wave file that cannot be read or whose design columns are unusable,
        or weights no estimate survives (-0, subnormal, squares that overflow),
        as :func:`~surveytools.loading.read.read_wave` says them.
    """
    spec = parse_manifest(manifest)
    loaded = []
    for entry in spec.waves:
        frame, meta = load(entry.file, codebook=entry.codebook, encoding=entry.encoding,
                           cache=cache)
        loaded.append(WaveData(entry.label, entry.file, frame, meta, entry.rename, entry.recode))
    harmonised, report = harmonise(loaded, manifest=spec.path)
    declared = []
    surveys = {}
    for entry, wave in zip(spec.waves, harmonised):
        start, end = entry.fieldwork
        notes = {**wave.meta.notes, "manifest": str(spec.path),
                 "fieldwork_start": start and start.isoformat(),
                 "fieldwork_end": end and end.isoformat()}
        meta = wave.meta.replace(wave=entry.label, notes=notes)
        for rules in (spec.missing, entry.missing):
            meta, rows = rules.apply(meta, wave.frame, wave=entry.label, skip=entry.design.columns)
            declared += rows
        survey = Survey(wave.frame, entry.design, meta, small_base=spec.small_base)
        # the checks read_wave makes beyond Survey's (-0, subnormal, squares that overflow)
        check_weight_range(survey.data, entry.design, file=entry.file)
        surveys[entry.label] = survey
    _check_declared_columns(spec, surveys)
    if declared:
        report = pd.concat([report, pd.DataFrame(declared, columns=list(REPORT_COLUMNS))],
                           ignore_index=True)
    return Tracker(surveys, shared_respondents=spec.shared_respondents,
                   fieldwork={w.label: w.fieldwork for w in spec.waves}, report=report,
                   name=spec.name, description=spec.description, manifest=spec.path,
                   breaks={w.label: w.break_reason for w in spec.waves if w.break_reason},
                   changed_questions={w.label: w.changed_questions for w in spec.waves
                                      if w.changed_questions},
                   catalogue=spec.catalogue, breakdowns=spec.breakdowns)


def _check_declared_columns(spec, surveys: Mapping[str, Survey]) -> None:
    """A [missing] or [waves.changed_questions] entry naming no column of any wave is
    a typo: an error, not a declaration silently ignored."""
    columns = set().union(*(s.data.columns for s in surveys.values()))
    named = [(rules.source, column) for rules in (spec.missing, *(w.missing for w in spec.waves))
             for column in (*rules.variables, *rules.count_as_answer)]
    named += [(f"[waves.changed_questions] of wave {w.label!r}", q)
              for w in spec.waves for q in w.changed_questions]
    for where, column in named:
        if column not in columns:
            hint = did_you_mean(column, columns)
            raise ManifestError(
                f"{where} names a variable that no wave has", file=spec.path, column=column,
                expected="a harmonised column name (after [waves.rename])",
                found=f"no column {column!r} in any wave",
                hint=(hint + " " if hint else "") + "check the spelling, or remove the line")


class Tracker:
    """The waves of a tracker, in time order, harmonised; immutable.

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
    breaks : mapping of label -> reason, optional
        Waves that cannot be compared with the wave before them, and why
        (``comparable_with_previous = false`` in the manifest).
    changed_questions : mapping of label -> {question: reason}, optional
        Questions that cannot be compared with the wave before (a wording change).
    catalogue, breakdowns : Path, optional
        The indicator catalogue and breakdowns the manifest names (default:
        ``indicators.toml`` and ``breakdowns.toml`` beside it).

    Every attribute is a read-only property; mappings are read-only views and
    the report is handed out as a copy.  :meth:`replace` returns a changed copy.

    Examples
    --------
    >>> import pandas as pd, surveytools as st
    >>> a = st.Survey(pd.DataFrame({"w": [1.0, 1.0], "q": [1, 2]}), st.Design(weight="w"))
    >>> t = Tracker({"2023": a, "2024": a})
    >>> t.names, len(t), len(t.stacked())
    (('2023', '2024'), 2, 4)
    >>> t.replace(name="Pilot").name, t.name
    ('Pilot', None)
    """

    __slots__ = ("_waves", "_shared", "_fieldwork", "_report", "_name", "_description",
                 "_manifest", "_breaks", "_changed", "_catalogue", "_breakdowns")

    def __init__(self, waves: Mapping[str, Survey], *, shared_respondents: bool = False,
                 fieldwork: Mapping | None = None, report: pd.DataFrame | None = None,
                 name: str | None = None, description: str | None = None,
                 manifest: Path | None = None, breaks: Mapping[str, str] | None = None,
                 changed_questions: Mapping[str, Mapping[str, str]] | None = None,
                 catalogue: Path | None = None, breakdowns: Path | None = None) -> None:
        for label, survey in waves.items():
            if not isinstance(survey, Survey):
                raise TypeError(f"wave {label!r} must be a Survey, not {type(survey).__name__}")
        state = {
            "_waves": MappingProxyType(dict(waves)),
            "_shared": bool(shared_respondents),
            "_fieldwork": MappingProxyType(
                {label: tuple((fieldwork or {}).get(label, (None, None))) for label in waves}),
            "_report": (report if report is not None
                        else pd.DataFrame(columns=list(REPORT_COLUMNS))).copy(),
            "_name": name, "_description": description, "_manifest": manifest,
            "_breaks": MappingProxyType(dict(breaks or {})),
            "_changed": MappingProxyType({label: MappingProxyType(dict(questions))
                                          for label, questions in (changed_questions or {}).items()}),
            "_catalogue": catalogue, "_breakdowns": breakdowns,
        }
        for slot, value in state.items():
            object.__setattr__(self, slot, value)

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"a Tracker cannot be changed (setting {name!r}); "
                             "use tracker.replace(...) for a changed copy")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Tracker cannot be changed (deleting {name!r})")

    def replace(self, **changes) -> "Tracker":
        """A copy with ``changes`` (any constructor argument); the original is unchanged.

        Fieldwork dates follow the wave labels of the new ``waves``.
        """
        current = {"waves": self._waves, "shared_respondents": self._shared,
                   "fieldwork": self._fieldwork, "report": self._report, "name": self._name,
                   "description": self._description, "manifest": self._manifest,
                   "breaks": self._breaks, "changed_questions": self._changed,
                   "catalogue": self._catalogue, "breakdowns": self._breakdowns}
        unknown = sorted(set(changes) - set(current))
        if unknown:
            raise TypeError(f"Tracker.replace() got unknown fields {unknown}; "
                            f"the fields are {', '.join(current)}")
        return Tracker(**{**current, **changes})

    # -- the waves ------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """The wave labels in time order."""
        return tuple(self._waves)

    @property
    def shared_respondents(self) -> bool:
        """True when the waves re-interview the same people (a panel)."""
        return self._shared

    @property
    def fieldwork(self) -> Mapping[str, tuple[dt.date | None, dt.date | None]]:
        """Label -> (first day, last day) of fieldwork (a read-only mapping)."""
        return self._fieldwork

    @property
    def report(self) -> pd.DataFrame:
        """The harmonisation report: ``variable, wave, issue, detail`` (a copy)."""
        return self._report.copy()

    @property
    def name(self) -> str | None:
        """The tracker's name (``[tracker] name`` of the manifest)."""
        return self._name

    @property
    def description(self) -> str | None:
        """The tracker's description (``[tracker] description`` of the manifest)."""
        return self._description

    @property
    def manifest(self) -> Path | None:
        """The manifest the waves were read through (its folder holds the catalogue)."""
        return self._manifest

    @property
    def catalogue(self) -> Path | None:
        """The indicator catalogue file: ``[tracker] catalogue`` of the manifest, else
        ``indicators.toml`` beside it when that exists, else None."""
        return self._catalogue or self._beside_manifest("indicators.toml")

    @property
    def breakdowns(self) -> Path | None:
        """The breakdowns file: ``[tracker] breakdowns``, else ``breakdowns.toml``
        beside the manifest when that exists, else None."""
        return self._breakdowns or self._beside_manifest("breakdowns.toml")

    def _beside_manifest(self, name: str) -> Path | None:
        if self._manifest is None:
            return None
        path = Path(self._manifest).parent / name
        return path if path.is_file() else None

    @property
    def breaks(self) -> Mapping[str, str]:
        """Wave label -> why it cannot be compared with the wave before (read-only)."""
        return self._breaks

    def not_comparable(self, before: str, after: str, question: str | None = None) -> str | None:
        """Why wave ``after`` cannot be compared with the earlier wave ``before`` (for
        ``question``), or None when it can: a series break at any wave after
        ``before`` up to ``after``, or a change to the question there.

        Examples
        --------
        >>> import pandas as pd, surveytools as st
        >>> a = st.Survey(pd.DataFrame({"w": [1.0], "q": [1]}), st.Design(weight="w"))
        >>> t = Tracker({"2019": a, "2023": a}, breaks={"2023": "moved online"})
        >>> t.not_comparable("2019", "2023"), t.not_comparable("2023", "2023")
        ('moved online', None)
        """
        names = self.names
        for label in names[names.index(before) + 1: names.index(after) + 1]:
            if label in self._breaks:
                return self._breaks[label]
            if question is not None and question in self._changed.get(label, {}):
                return self._changed[label][question]
        return None

    def missing_audit(self) -> pd.DataFrame:
        """Every code, in every wave, that looks like a non-answer but is counted as an
        answer (:func:`surveytools.core.nonanswers.audit`; design columns left out).

        Columns ``wave, variable, code, label, count, reason``; empty when every
        non-answer is declared. :func:`missing_fix` gives the manifest lines.
        """
        parts = []
        for label, survey in self.items():
            columns = [c for c in survey.data.columns if c not in survey.design.columns]
            found = audit(survey.data, survey.meta, columns=columns)
            parts.append(found.assign(wave=label))
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        return frame.reindex(columns=["wave", *AUDIT_COLUMNS])

    def missing_fix(self) -> str:
        """The manifest lines that declare every code of :meth:`missing_audit` missing
        (tracker-wide: codes are harmonised), for the analyst to check and paste."""
        found = self.missing_audit()
        return fix_lines(found.drop_duplicates(["variable", "code"])) if len(found) else ""

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
