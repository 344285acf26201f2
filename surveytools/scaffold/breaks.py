"""Series breaks between consecutive waves, and questions whose wording changed.

This module owns two guesses about comparability over time:

* a wave is *not comparable with the previous one* (``comparable_with_previous
  = false``) when the mode of interview changed: the mode variable takes no
  value in common between the two waves (face-to-face only, then web and
  telephone), or the files' labels name different modes.  A change of sample
  design (clustered, then not) is added to the evidence, but alone it does
  not break the series;
* a question is *changed* when its variable label (the wording) differs
  between two consecutive waves, ignoring case, spacing and punctuation.
  The manifest has no key for a changed question yet, so it is reported
  (and written as a comment) only.

Examples
--------
>>> sorted(modes("BSA 2019 (face-to-face)")), sorted(modes("push-to-web survey 2023"))
(['face-to-face'], ['web'])
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..core.meta import code_text
from ..waves.harmonise import label_key
from .detect import DesignFound
from .files import WaveFile

_MODES = {"face-to-face": r"face[- ]to[- ]face|\bcapi\b|\bf2f\b|in[- ]person",
          "web": r"\bweb\b|\bonline\b|\bcawi\b|internet panel",
          "telephone": r"telephone|\bphone\b|\bcati\b",
          "paper": r"\bpostal\b|\bpaper\b|\bpapi\b|self-completion"}


@dataclass(frozen=True)
class Break:
    """``wave`` is not comparable with ``previous``, and why."""

    wave: str
    previous: str
    evidence: str
    reason: str = ""


@dataclass(frozen=True)
class Changed:
    """``column`` (harmonised name) is worded differently in ``wave`` than in ``previous``."""

    wave: str
    previous: str
    column: str
    evidence: str
    reason: str = ""


def modes(text: str) -> set[str]:
    """The modes of interview a text names."""
    return {mode for mode, pattern in _MODES.items() if re.search(pattern, text or "", re.I)}


def find_breaks(waves: list[WaveFile], names: Mapping[str, Mapping[str, str]],
                designs: Mapping[str, DesignFound], mode_columns: set[str]
                ) -> tuple[list[Break], list[Changed]]:
    """Breaks and changed questions between consecutive ``waves`` (time order).

    ``mode_columns`` are harmonised names of mode-of-interview variables.
    """
    breaks, changed = [], []
    for previous, wave in zip(waves, waves[1:]):
        before = {names.get(previous.label, {}).get(c, c): c for c in previous.columns}
        now = {names.get(wave.label, {}).get(c, c): c for c in wave.columns}
        evidence, reasons = [], []
        for column in sorted(mode_columns & set(before) & set(now)):
            old, new = _taken(previous, before[column]), _taken(wave, now[column])
            if old and new and not set(old) & set(new):
                evidence.append(f"{column} is {_codes(previous, before[column], old)} in "
                                f"{previous.label} but {_codes(wave, now[column], new)} here")
                reasons.append(f"mode of interview changed from "
                               f"{_named(previous, before[column], old)} ({previous.label}) "
                               f"to {_named(wave, now[column], new)}")
        old_modes, new_modes = modes(previous.file_label), modes(wave.file_label)
        if old_modes and new_modes and not old_modes & new_modes:
            evidence.append(f'the files\' labels name {", ".join(sorted(old_modes))} '
                            f'("{previous.file_label}") then {", ".join(sorted(new_modes))} '
                            f'("{wave.file_label}")')
            reasons.append(f"mode of interview changed from {' and '.join(sorted(old_modes))} "
                           f"({previous.label}) to {' and '.join(sorted(new_modes))}")
        if evidence:
            was, is_ = (designs[previous.label].psu.column, designs[wave.label].psu.column)
            if bool(was) != bool(is_):
                evidence.append(f"the sample design changed: {_clustered(was)} then "
                                f"{_clustered(is_)}")
            breaks.append(Break(wave.label, previous.label, "; ".join(evidence), reasons[0]))
        for column in now:
            if column not in before:
                continue
            old, new = previous.label_of(before[column]), wave.label_of(now[column])
            if old and new and label_key(old) != label_key(new):
                changed.append(Changed(wave.label, previous.label, column,
                                       f'worded "{old}" in {previous.label}, "{new}" here',
                                       f'question reworded (was "{old}" in {previous.label})'))
    return breaks, changed


def _clustered(psu: str | None) -> str:
    return f"clustered ({psu})" if psu else "unclustered"


def _taken(wave: WaveFile, column: str) -> list:
    spec = wave.meta.missing.get(column)
    return [v for v in wave.distinct(column) if not (spec and v in spec)]


def _named(wave: WaveFile, column: str, codes: list) -> str:
    """The answers' labels, without codes: ``face-to-face interview (CAPI)``."""
    labels = wave.meta.value_labels.get(column, {})
    return " and ".join(str(labels.get(c, code_text(c))) for c in codes[:4])


def _codes(wave: WaveFile, column: str, codes: list) -> str:
    labels = wave.meta.value_labels.get(column, {})
    return " or ".join(f'"{labels[c]}" ({code_text(c)})' if c in labels else code_text(c)
                       for c in codes[:4]) + (" ..." if len(codes) > 4 else "")
