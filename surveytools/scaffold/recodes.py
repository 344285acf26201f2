"""Codes that mean different things in two waves: a recode when labels match, else a split.

Harmonisation (:mod:`surveytools.waves.harmonise`) refuses a code labelled
with different meanings in two waves.  This module owns what the scaffold
writes instead, for each question and earlier wave, comparing labels as
harmonisation does (case, spacing and punctuation aside), the latest waves
first:

* the wave numbers the same answers differently (every labelled code and
  every value taken has a label that one code of the later waves carries):
  a ``[waves.recode.X]`` table mapping each of its codes onto theirs;
* otherwise (the answers themselves changed): the question is renamed in
  that wave to ``X_<wave>``, so the tracker loads with the two versions as
  separate questions; the comment says how to join them with a recode.

Examples
--------
>>> plan_recode({1: "Yes", 2: "No", 8: "Don't know"}, {1: "Yes", 2: "No", 98: "Don't know"},
...             present=[1, 2, 8])
{1: 1, 2: 2, 8: 98}
>>> plan_recode({1: "Risks outweigh benefits"}, {1: "Risks far outweigh benefits"}, present=[1])
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..core.meta import code_text
from ..waves.harmonise import label_key
from .files import WaveFile


@dataclass(frozen=True)
class Recode:
    """``[waves.recode.<column>]`` of ``wave``: ``{old code: new code}``."""

    wave: str
    column: str
    mapping: Mapping
    evidence: str


@dataclass(frozen=True)
class Split:
    """``old`` in ``wave`` becomes its own question ``new`` (its codes mean other things)."""

    wave: str
    old: str
    new: str
    evidence: str


def plan_recode(labels: Mapping, reference: Mapping, *, present: Iterable = ()) -> dict | None:
    """``{code: code in reference}`` matching labels one to one, or None when some code
    (labelled or taken) has no label the reference carries exactly once."""
    by_key: dict[str, list] = {}
    for code, text in reference.items():
        by_key.setdefault(label_key(str(text)), []).append(code)
    mapping = {}
    for code, text in labels.items():
        targets = by_key.get(label_key(str(text)), [])
        if len(targets) != 1:
            return None
        mapping[code] = targets[0]
    if any(code not in mapping for code in present):
        return None
    if len(set(mapping.values())) != len(mapping):
        return None
    return mapping


def reconcile(waves: list[WaveFile], names: Mapping[str, Mapping[str, str]]
              ) -> tuple[list[Recode], list[Split]]:
    """Recodes and splits that make every code mean one thing across ``waves`` (time order).

    ``names`` maps each wave's file names onto harmonised names (the renames).
    """
    recodes, splits = [], []
    harmonised = [{names.get(w.label, {}).get(c, c): c for c in w.columns} for w in waves]
    taken = {h for table in harmonised for h in table}
    columns = list(dict.fromkeys(h for table in reversed(harmonised) for h in table))
    for column in columns:
        seen: dict = {}  # code -> (label, wave label), latest waves first
        for wave, table in zip(reversed(waves), reversed(harmonised)):
            if column not in table:
                continue
            own = table[column]
            labels = dict(wave.meta.value_labels.get(own, {}))
            clash = [c for c, t in labels.items()
                     if c in seen and label_key(str(t)) != label_key(str(seen[c][0]))]
            if not clash:
                for code, text in labels.items():
                    seen.setdefault(code, (text, wave.label))
                continue
            spec = wave.meta.missing.get(own)
            present = [v for v in wave.distinct(own) if not (spec and v in spec)]
            mapping = plan_recode(labels, {c: t for c, (t, _) in seen.items()}, present=present)
            code = clash[0]
            where = (f'code {code_text(code)} is "{labels[code]}" in {wave.path.name} but '
                     f'"{seen[code][0]}" in wave {seen[code][1]}')
            if mapping is not None:
                mapping = dict(sorted(mapping.items(), key=lambda pair: str(pair[0]).zfill(12)))
                recodes.append(Recode(wave.label, column, mapping, (
                    f"{where}; every answer's label is found in the later waves under another "
                    "code, so the codes are renumbered by label")))
                continue
            new = _free(f"{column}_{re.sub(r'[^A-Za-z0-9_]', '_', wave.label)}", taken)
            taken.add(new)
            splits.append(Split(wave.label, own, new, (
                f"{where}, and the answers differ: kept as a separate question. To join the "
                f"series, map its codes in [waves.recode.{column}] of this wave and drop this "
                "line")))
    return recodes, splits


def _free(name: str, taken: set) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate
