"""Renames between waves, suggested from matching variable labels.

This module owns one guess: a column of an earlier wave whose name is not in
the latest wave but whose variable label is, word for word (ignoring case,
spacing and punctuation), the label of exactly one latest-wave column that
the earlier wave lacks, is the same question renamed.  Harmonised names are
those of the latest wave, as in the example tracker.  Labels that occur
twice in a file prove nothing and are not used.

Examples
--------
>>> from surveytools.waves.harmonise import label_key
>>> label_key("How much do you trust the NHS?") == label_key("how much do you trust the NHS")
True
"""

from __future__ import annotations

from dataclasses import dataclass

from ..waves.harmonise import label_key
from .files import WaveFile


@dataclass(frozen=True)
class Rename:
    """``old`` in ``wave``'s file is ``new`` in the latest wave."""

    wave: str
    old: str
    new: str
    evidence: str


def suggest_renames(waves: list[WaveFile]) -> dict[str, tuple[Rename, ...]]:
    """Wave label -> renames onto the latest wave's names (the last of ``waves``)."""
    if len(waves) < 2:
        return {}
    latest = waves[-1]
    targets = _unique_labels(latest)
    found = {}
    for wave in waves[:-1]:
        own = _unique_labels(wave)
        renames = []
        for column in wave.columns:
            if column in latest.kinds:
                continue
            key = label_key(wave.label_of(column))
            new = targets.get(key)
            if not key or own.get(key) != column or new is None or new in wave.kinds \
                    or wave.kinds[column] != latest.kinds[new]:
                continue
            renames.append(Rename(wave.label, column, new, (
                f'label "{latest.label_of(new)}" in both {wave.path.name} and '
                f"{latest.path.name}")))
        if renames:
            found[wave.label] = tuple(renames)
    return found


def _unique_labels(wave: WaveFile) -> dict[str, str]:
    """label key -> column, for labels of two words or more that one column alone carries."""
    seen: dict[str, list[str]] = {}
    for column in wave.columns:
        key = label_key(wave.label_of(column))
        if key and len(wave.label_of(column).split()) >= 2:
            seen.setdefault(key, []).append(column)
    return {key: columns[0] for key, columns in seen.items() if len(columns) == 1}


def name_maps(renames: dict[str, tuple[Rename, ...]]) -> dict[str, dict[str, str]]:
    """Wave label -> {old: new}."""
    return {label: {r.old: r.new for r in items} for label, items in renames.items()}
