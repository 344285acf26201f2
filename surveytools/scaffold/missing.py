"""Missing-code declarations for the manifest, from the non-answer audit of each file.

This module owns turning :func:`surveytools.core.nonanswers.audit` findings
into the manifest's ``[missing]`` tables:

* a sentinel code (9999, -9 ...) flagged on 3 or more numeric items, that is
  a real value (or a labelled answer) of no other numeric item, goes in
  ``[missing] values`` with the items listed in a comment;
* every other finding becomes an explicit per-variable declaration,
  ``GovTrust = [8, 9]  # 8 "Don`t know" (312), 9 "Refusal" (4)``, in
  ``[missing.variables]`` when declaring those codes loses no answer in any
  wave that has the variable, else in each wave's ``[waves.missing.variables]``.

Names and codes are the harmonised ones, as the manifest reads them
(:mod:`surveytools.waves.missing`): after ``[waves.rename]`` and
``[waves.recode]``.  Weights, design columns and ids are not audited.

Examples
--------
>>> rows = [{"variable": "q", "code": 8, "label": "Don`t know", "count": 12,
...          "reason": "value label looks like a non-answer"}]
>>> describe(rows)
'8 "Don`t know" (12)'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd

from ..core.meta import Metadata, MissingSpec, code_text, plain_code
from ..core.nonanswers import audit, looks_like_non_answer
from .files import WaveFile

#: A sentinel flagged on at least this many items is declared once for every item.
SHARED_SENTINEL = 3


@dataclass(frozen=True)
class Declaration:
    """Codes of one variable to declare missing, and the evidence."""

    variable: str
    codes: tuple
    comment: str


@dataclass(frozen=True)
class Sentinel:
    """A code declared missing on every numeric item (``[missing] values``)."""

    code: Any
    items: tuple[str, ...]
    comment: str


@dataclass(frozen=True)
class MissingPlan:
    """All declarations: shared sentinels, shared per-variable, per-wave per-variable.

    ``findings`` is every audit row (with a ``wave`` column); ``not_shared``
    says which sentinels were declared variable by variable instead, and why.
    """

    values: tuple[Sentinel, ...] = ()
    variables: tuple[Declaration, ...] = ()
    waves: Mapping[str, tuple[Declaration, ...]] = field(default_factory=dict)
    findings: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False)
    not_shared: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "waves", MappingProxyType(dict(self.waves)))

    @property
    def count(self) -> int:
        return len(self.variables) + sum(len(d) for d in self.waves.values())

    def applied(self, wave: WaveFile, *, names: Mapping[str, str] | None = None,
                recodes: Mapping[str, Mapping] | None = None) -> Metadata:
        """The wave's metadata (its own names and codes) with every declaration of this plan.

        ``names`` and ``recodes`` are the wave's renames (file name -> harmonised) and
        recodes (harmonised column -> {file code: harmonised code}); declarations
        are translated back to the file's names and codes.
        """
        names, recodes = dict(names or {}), dict(recodes or {})
        back = {new: old for old, new in names.items()}
        added: dict[str, list] = {}
        for sentinel in self.values:
            for column in wave.numeric:
                if sentinel.code in wave.distinct(column):
                    added.setdefault(column, []).append(sentinel.code)
        for declaration in (*self.variables, *self.waves.get(wave.label, ())):
            harmonised = declaration.variable
            # the file's column of that harmonised name (None: renamed away, or absent)
            column = back.get(harmonised, None if harmonised in names else harmonised)
            if column in wave.kinds:
                inverse = {new: old for old, new in recodes.get(harmonised, {}).items()}
                added.setdefault(column, []).extend(inverse.get(c, c) for c in declaration.codes)
        specs = dict(wave.meta.missing)
        for column, codes in added.items():
            old = specs.get(column, MissingSpec())
            specs[column] = MissingSpec(values=tuple(dict.fromkeys([*old.values, *codes])),
                                        ranges=old.ranges)
        return wave.meta.replace(missing=specs)


def describe(rows: Iterable[Mapping], counts: Mapping | None = None) -> str:
    """``8 "Don`t know" (312), 9999 unlabelled (45): far above ...`` for one variable's rows."""
    parts = []
    for row in rows:
        count = counts[row["code"]] if counts else str(row["count"])
        if row["label"]:
            parts.append(f'{code_text(row["code"])} "{row["label"]}" ({count})')
        else:
            reason = row["reason"].replace("sentinel value ", "")
            parts.append(f"{code_text(row['code'])} unlabelled ({count}): {reason}")
    return ", ".join(parts)


def plan_missing(waves: list[WaveFile], *, skip: Mapping[str, set],
                 renames: Mapping[str, Mapping[str, str]],
                 recodes: Mapping[str, Mapping[str, Mapping]] | None = None) -> MissingPlan:
    """Declarations for ``waves`` (in time order), in harmonised names and codes.

    Parameters
    ----------
    waves : list of WaveFile
    skip : mapping wave label -> columns not to audit (weights, design, ids)
    renames : mapping wave label -> {name in the file: harmonised name}
    recodes : mapping wave label -> {harmonised column: {file code: harmonised code}}
    """
    recodes = recodes or {}
    frames = []
    for wave in waves:
        columns = [c for c in wave.numeric if c in wave.data.columns
                   and c not in skip.get(wave.label, set())]
        found = audit(wave.data, wave.meta, columns=columns)
        frames.append(found.assign(wave=wave.label))
    findings = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if findings.empty:
        return MissingPlan(findings=findings)
    shared, not_shared = _shared_sentinels(waves, findings, skip)
    rest = findings[~((findings["label"] == "") & findings["code"].isin([s.code for s in shared]))]
    common, own = _per_variable(waves, rest, renames, recodes)
    return MissingPlan(tuple(shared), tuple(common), own, findings, tuple(not_shared))


def _shared_sentinels(waves, findings: pd.DataFrame, skip) -> tuple[list[Sentinel], list[str]]:
    unlabelled = findings[findings["label"] == ""]
    shared, not_shared = [], []
    many = len(waves) > 1
    for code, rows in unlabelled.groupby("code", sort=True):
        code = plain_code(code)
        if len(rows) < SHARED_SENTINEL:
            continue
        flagged = {(w, v) for w, v in zip(rows["wave"], rows["variable"])}
        clash = _clashes(waves, code, flagged, skip)
        items = tuple(f"{v} ({w}: {c})" if many else f"{v} ({c})"
                      for w, v, c in zip(rows["wave"], rows["variable"], rows["count"]))
        if clash:
            not_shared.append(f"{code_text(code)} is flagged on {len(rows)} items but is a "
                              f"real value of {clash}: declared per variable instead")
            continue
        reason = rows["reason"].iloc[0].replace("sentinel value ", "")
        shared.append(Sentinel(code, items, (
            f"{code_text(code)} unlabelled, {reason}, on {len(rows)} numeric items, and a real "
            "value of no other numeric item (ids, weights and design columns aside)")))
    return shared, not_shared


def _clashes(waves, code, flagged: set, skip) -> str:
    """The first item on which ``code`` is an answer (a labelled answer, or a value
    the audit did not flag), as ``wave: variable``; "" when there is none."""
    for wave in waves:
        for column in wave.numeric:
            if (wave.label, column) in flagged or column in skip.get(wave.label, set()):
                continue
            label = wave.meta.value_labels.get(column, {}).get(code)
            spec = wave.meta.missing.get(column)
            if spec and code in spec:
                continue
            if label is not None and not looks_like_non_answer(label):
                return f"{column} in {wave.label} (labelled \"{label}\")"
            if column in wave.data.columns and label is None \
                    and (wave.data[column] == code).any():
                return f"{column} in {wave.label}"
    return ""


class _Harmonised:
    """One wave's column seen in harmonised names and codes."""

    def __init__(self, wave: WaveFile, column: str, recode: Mapping):
        self.wave, self.column, self.recode = wave, column, dict(recode)

    def code(self, code):
        return plain_code(self.recode.get(plain_code(code), code))

    def fits(self, codes: list, flagged: set) -> bool:
        """Declaring ``codes`` missing here loses no answer: each is flagged by the audit
        here, already user-missing, or neither taken nor labelled as an answer."""
        wave, column = self.wave, self.column
        spec = wave.meta.missing.get(column)
        declared = {self.code(c) for c in spec.values} if spec else set()
        labels = {self.code(c): t for c, t in wave.meta.value_labels.get(column, {}).items()}
        present = {self.code(v) for v in wave.distinct(column)}
        for code in codes:
            if code in flagged or code in declared:
                continue
            label = labels.get(code)
            if code in present or (label is not None and not looks_like_non_answer(label)):
                return False
        return True


def _per_variable(waves, rows: pd.DataFrame, renames, recodes) -> tuple[list[Declaration], dict]:
    order, held = {}, {}
    for wave in reversed(waves):  # the latest wave's column order first
        names = renames.get(wave.label, {})
        held[wave.label] = {names.get(c, c): _Harmonised(
            wave, c, recodes.get(wave.label, {}).get(names.get(c, c), {})) for c in wave.columns}
        for column in wave.columns:
            order.setdefault(names.get(column, column), len(order))
    groups: dict[str, dict[str, list[dict]]] = {}
    for row in rows.to_dict("records"):
        name = renames.get(row["wave"], {}).get(row["variable"], row["variable"])
        view = held[row["wave"]][name]
        row = dict(row, code=view.code(row["code"]))
        groups.setdefault(name, {}).setdefault(row["wave"], []).append(row)
    common, own = [], {}
    many = len(waves) > 1
    for name in sorted(groups, key=lambda n: order.get(n, len(order))):
        found = groups[name]
        codes = sorted({r["code"] for rs in found.values() for r in rs}, key=_code_key)
        holders = [w.label for w in waves if name in held[w.label]]
        if all(held[w][name].fits(codes, {r["code"] for r in found.get(w, [])})
               for w in holders):
            rows_all = [r for w in waves for r in found.get(w.label, [])]
            common.append(Declaration(name, tuple(codes), _comment(rows_all, many)))
            continue
        for label, wave_rows in found.items():
            wave_codes = tuple(sorted({r["code"] for r in wave_rows}, key=_code_key))
            own.setdefault(label, []).append(Declaration(name, wave_codes,
                                                         _comment(wave_rows, False)))
    return common, {w.label: tuple(own[w.label]) for w in waves if w.label in own}


def _comment(rows: list[dict], many: bool) -> str:
    if not many:
        return describe(sorted(rows, key=lambda r: _code_key(r["code"])))
    merged: dict = {}
    for row in rows:
        entry = merged.setdefault(plain_code(row["code"]), dict(row, counts=[]))
        entry["counts"].append(f"{row['wave']}: {row['count']}")
    ordered = [merged[c] for c in sorted(merged, key=_code_key)]
    return describe(ordered, {r["code"]: "; ".join(r["counts"]) for r in ordered})


def _code_key(code):
    return (0, code, "") if isinstance(code, (int, float)) else (1, 0, str(code))
