"""What a dashboard view cannot show, and why, in words.

This module owns the presentation layer's explanations.  :func:`why_empty`
says why a view has nothing to show: the page has no indicators, no wave is
chosen, nobody in the chosen waves was asked the question, the breakdown has
no groups there, or every group is suppressed by the small-base rule.
:func:`series_breaks` finds where a trend crosses a series break (from the
cube's ``change_note``: ``"not comparable (REASON)"``), so that charts draw
the break and notes name it; :func:`notes` turns both into the sentences
printed under a view.  The live apps
(:mod:`surveytools.presentation.dashboard`) and the static export
(:mod:`surveytools.presentation.export`) show these sentences, never an
error or a silently empty page.

Examples
--------
>>> waves_text(["2023"]), waves_text(["2021", "2022", "2024"])
('wave 2023', 'waves 2021, 2022 and 2024')
>>> Empty("suppressed", "Every group is suppressed.").kind
'suppressed'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..core.smallbase import SUPPRESSED
from ..indicators.cube import NOT_COMPARABLE
from ..indicators.disclosure import COMPLEMENTARY

#: What each kind of empty view means, for the export's summary.
KINDS = {
    "no indicator": "no indicators on the page's topics",
    "no wave": "no wave chosen",
    "not asked": "question not asked in the wave",
    "no groups": "breakdown has no groups in the wave",
    "suppressed": "every group suppressed",
}


@dataclass(frozen=True)
class Empty:
    """Why a view has nothing to show: its kind (a key of :data:`KINDS`) and the sentence."""

    kind: str
    text: str


def waves_text(waves: Sequence[str]) -> str:
    """``"wave 2023"``, ``"waves 2023 and 2024"``."""
    return ("wave " if len(waves) == 1 else "waves ") + _listed(waves)


def _listed(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def asked_waves(cube, indicators: Sequence[str]) -> list[str]:
    """The waves (in time order) that asked any of ``indicators``' questions."""
    present = set(cube.frame.loc[cube.frame["indicator"].isin(list(indicators)), "wave"])
    return [w for w in cube.waves if w in present]


def why_empty(cube, rows: pd.DataFrame, *, indicators: Sequence[str], breakdown: str,
              waves: Sequence[str], missing: str) -> Empty | None:
    """Why the cube ``rows`` of a view have nothing to show, or None when they have.

    Parameters
    ----------
    cube : IndicatorCube
    rows : DataFrame
        The view's rows: ``indicators`` x ``breakdown`` x ``waves``.
    missing : str
        The sentence when ``indicators`` is empty (the page has nothing at all).
    """
    if not indicators:
        return Empty("no indicator", missing)
    if not waves:
        return Empty("no wave", "No wave is chosen: choose at least one wave.")
    asked = asked_waves(cube, indicators)
    if not set(asked) & set(waves):
        where = (f"It was asked in {_listed(asked)}." if asked
                 else "No wave of this tracker asked it.")
        subject = (f"this question ({cube.catalogue[indicators[0]].question})"
                   if len(indicators) == 1 else "the questions of this topic")
        return Empty("not asked", f"Nobody in {waves_text(waves)} was asked {subject}. {where}")
    waves = [w for w in waves if w in asked]  # say no more about waves that did not ask
    if rows.empty:
        label = cube.breakdowns[breakdown].label
        return Empty("no groups", f"Nobody in {waves_text(waves)} is in a group of the breakdown "
                                  f"“{label}”: its question was not asked there, or nobody "
                                  "answered it. Choose another breakdown.")
    if (rows["base_flag"] == SUPPRESSED).all():
        fewer = f"fewer than {cube.small_base.suppress_below} respondents"
        if breakdown == "total":
            return Empty("suppressed", f"Too few people answered in {waves_text(waves)} "
                                       f"({fewer}): the estimate is suppressed.")
        protecting = "suppression" in rows.columns and (rows["suppression"] == COMPLEMENTARY).any()
        why = (f"{fewer} in some; the others are hidden so that those cannot be worked out "
               "from them and the total" if protecting else f"{fewer} in each")
        return Empty("suppressed", f"Every group of this breakdown is suppressed in "
                                   f"{waves_text(waves)} ({why}). "
                                   "Choose a breakdown with larger groups, or all adults.")
    return None


def series_breaks(cube, indicators: Sequence[str], waves: Sequence[str]) -> dict[str, str]:
    """Shown wave -> why it is not comparable with the shown wave before it.

    A trend line from one shown wave to the next crosses a series break when
    any wave after the first, up to the second, that asked the questions of
    ``indicators`` carries a ``change_note`` (the cube's "not comparable (REASON)").
    """
    rows = cube.frame[cube.frame["indicator"].isin(list(indicators))]
    notes = {wave: next((n for n in group if isinstance(n, str) and n.startswith(NOT_COMPARABLE)),
                        "")
             for wave, group in rows.groupby("wave")["change_note"]}
    asked = [w for w in cube.waves if w in notes]
    shown = [w for w in asked if w in set(waves)]
    out = {}
    for before, after in zip(shown, shown[1:]):
        crossed = [notes[w] for w in asked[asked.index(before) + 1:asked.index(after) + 1]
                   if notes[w]]
        if crossed:
            out[after] = "; ".join(dict.fromkeys(crossed))
    return out


def notes(cube, *, indicators: Sequence[str], waves: Sequence[str],
          breaks: dict[str, str]) -> list[str]:
    """Sentences under a view: the chosen waves that did not ask, and the series breaks."""
    asked = set(asked_waves(cube, indicators))
    skipped = [w for w in waves if w not in asked]
    out = [f"Not asked in {waves_text(skipped)}."] if skipped and len(skipped) < len(waves) else []
    out += [f"Series break before {wave}: {note}; no change is tested across it."
            for wave, note in breaks.items()]
    return out
