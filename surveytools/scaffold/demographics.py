"""Breakdowns: the demographic variables to split every indicator by.

This module owns finding demographics by name and label (age bands,
sex/gender, region, country, ethnicity, education, social grade or class,
disability, income, tenure, marital status, mode of interview, digital use), one breakdown
per variable found (the best of each kind named after the kind, in the order of
:data:`KINDS`), and its groups:

* groups are the variable's labelled answers; codes that are non-answers
  (labelled like "Prefer not to say", or declared missing by the file or the
  scaffold) are never in a group.  When only the scaffold's declarations keep
  such a code out, the groups are written out so that they hold even before
  the manifest's ``[missing]`` applies;
* age bands whose labels read as ranges ("18-24", "75+") and break at 35 and
  55 are regrouped into three bands (18-34, 35-54, 55+);
* a numeric age without value labels cannot be banded: the breakdowns format
  lists codes, each of which must be a labelled answer (see
  :meth:`surveytools.indicators.catalogue.Breakdowns.check`), so it is
  skipped with a comment.

A label alone makes a candidate only when it is short (8 words or fewer),
so a question that mentions "your region" is not taken for a demographic,
and when the variable is no attitude question (an agree-disagree scale, or
one of a battery of items sharing a name prefix and value labels).

Examples
--------
>>> kind_of("RAgeCat", ""), kind_of("GOR_ID", ""), kind_of("q7", "Highest qualification")
('age', 'region', 'education')
>>> age_range("25-34"), age_range("75+"), age_range("Under 18")
((25, 34), (75, None), (None, 17))
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.meta import Metadata, code_text
from ..core.nonanswers import looks_like_non_answer
from .batteries import name_prefix
from .scales import classify

#: (kind, breakdown label, name pattern, label pattern), in the order written.
KINDS = (
    ("age", "Age", r"^(r|dv|hr|resp|p_)?_?age(_?(cat|band|grp|group|gp|bnd|br)\d*|\d+)?$"
     r"|agecat|ageband|age_band|agegr|agegp", r"\bage\b"),
    ("gender", "Sex or gender", r"^(r|p_|resp)?_?(sex|gender)\d*$|^rsex|gender",
     r"\bsex\b|\bgender\b"),
    ("region", "Region", r"region|^gor|gor_?id$|^govreg|^rgn\d*$", r"\bregion\b|government office"),
    ("country", "Country", r"^country|^nation|^ctry", r"\bcountry\b|\bnation\b"),
    ("ethnicity", "Ethnic group", r"ethn|^race|raceori|^p_eth", r"\bethnic|\brace\b"),
    ("education", "Highest qualification", r"^(r|p_|hh|dv)?_?educ(ation)?(_?(level|lev|cat|grp|gp"
     r"|qual))?\d*$|hedqual|highqual|^qual|edlev|^degree$", r"qualification|\beducation"),
    ("social_grade", "Social grade or class", r"socgrade|social_?grade|^sg$|^grade$|nssec|ns_sec"
     r"|class(gp|grp)?\d*$", r"social grade|social class|ns-?sec|socio-?economic"),
    ("disability", "Disability", r"disab|disnew|^lltc|^limitill", r"disab|long-?standing illness"
     r"|limiting"),
    ("income", "Income", r"income|hhinc|^inc_?(q|quint|band|grp|gp)|incq", r"\bincome\b"),
    ("tenure", "Tenure", r"tenure", r"\btenure\b|own or rent"),
    ("marital", "Marital status", r"marstat|marital|^mstat|^marsta|^(r|p_)?_?marst",
     r"\bmarital\b|civil partnership"),
    ("mode", "Mode of interview", r"^mode$|^(int|surv|interview)_?mode|^mode_|mode$",
     r"\bmode\b"),
    ("digital", "Digital use", r"digital|internet|^online|webuse|intuse|netuse|ictuse",
     r"\bdigital\b|\binternet\b|\bonline\b"),
)
_NAME = {kind: re.compile(name, re.IGNORECASE) for kind, _, name, _ in KINDS}
_LABEL = {kind: re.compile(label, re.IGNORECASE) for kind, _, _, label in KINDS}
TITLES = {kind: title for kind, title, _, _ in KINDS}
MAX_GROUPS = 20
_RANGE = re.compile(r"(\d+)\s*(?:-|\u2013|to)\s*(\d+)")
_OVER = re.compile(r"(\d+)\s*(?:\+|or over|and over|or older|and older|plus)", re.IGNORECASE)
_UNDER = re.compile(r"(?:under|less than|below)\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Group:
    label: str
    codes: tuple


@dataclass(frozen=True)
class BreakdownSpec:
    """One breakdown to write, with the evidence for it."""

    name: str
    variable: str
    label: str
    evidence: str
    groups: tuple[Group, ...] = ()
    groups_why: str = ""


@dataclass(frozen=True)
class Unusable:
    """A demographic that cannot be a breakdown, and why (a comment in the file)."""

    kind: str
    variable: str
    reason: str


def kind_of(name: str, label: str) -> str | None:
    """The demographic kind a variable's name (or short label) says it is, or None."""
    for kind, *_ in KINDS:
        if _NAME[kind].search(name):
            return kind
    if label and len(label.split()) <= 8:
        for kind, *_ in KINDS:
            if _LABEL[kind].search(label):
                return kind
    return None


def age_range(label: str) -> tuple[int | None, int | None] | None:
    """``(low, high)`` of an age band label, None ends open; None if it is no band."""
    if (match := _RANGE.search(label)) is not None:
        return int(match.group(1)), int(match.group(2))
    if (match := _OVER.search(label)) is not None:
        return int(match.group(1)), None
    if (match := _UNDER.search(label)) is not None:
        return None, int(match.group(1)) - 1
    return None


def find_breakdowns(columns: list[str], meta: Metadata, file_meta: Metadata, *,
                    everywhere: set[str], numeric: set[str], excluded: set[str]
                    ) -> tuple[list[BreakdownSpec], list[Unusable], set[str]]:
    """The breakdowns among ``columns`` (file order of the latest wave).

    Parameters
    ----------
    meta : Metadata
        The latest wave's harmonised metadata with the scaffold's declarations.
    file_meta : Metadata
        The same before the scaffold's declarations (what the file declares).
    everywhere : set of str
        Columns present in every wave (a breakdown must be).
    numeric : set of str
        Numeric columns.
    excluded : set of str
        Weight, design and id columns.

    Returns
    -------
    (breakdowns, unusable, demographic columns)
    """
    by_kind: dict[str, list[tuple[str, int]]] = {}
    for column in columns:
        if column in excluded:
            continue
        label = meta.variable_labels.get(column, "")
        kind = kind_of(column, label)
        if kind is None:
            continue
        by_name = _NAME[kind].search(column) is not None
        by_label = _LABEL[kind].search(label) is not None
        if not by_name and _attitude(column, columns, meta):
            continue
        by_kind.setdefault(kind, []).append((column, 2 * by_name + by_label))
    chosen, unusable, demographic = [], [], set()
    for kind, *_ in KINDS:
        usable = []
        for column, strength in by_kind.get(kind, []):
            demographic.add(column)
            answers = _answers(meta, column)
            if column not in numeric:
                unusable.append(Unusable(kind, column, "not numeric (text or date)"))
            elif not answers:
                unusable.append(Unusable(kind, column, (
                    "a number without value labels: the breakdowns format lists labelled codes, "
                    "not ranges, so it cannot be banded here; add a banded variable with value "
                    "labels to the file to use it" if kind == "age" else "no value labels")))
            elif len(answers) < 2 or len(answers) > MAX_GROUPS:
                unusable.append(Unusable(kind, column, f"{len(answers)} labelled answers"))
            elif column not in everywhere:
                unusable.append(Unusable(kind, column, "not in every wave"))
            else:
                usable.append((-strength, len(answers) > 12, column))
        usable.sort(key=lambda u: u[:2])  # stable: file order among equals
        for position, (strength, _, column) in enumerate(usable):
            name = kind if position == 0 else f"{kind}_{_slug(column)}"
            chosen.append(_spec(kind, name, column, -strength, meta, file_meta,
                                position > 0 and usable[0][2]))
    return chosen, unusable, demographic


def _attitude(column: str, columns: list[str], meta: Metadata) -> bool:
    """A question rather than a demographic: its answers run from agree to disagree (or
    another pole to its opposite), or it belongs to a battery (two or more other
    columns share its name prefix and its value labels)."""
    answers = _answers(meta, column)
    if answers and getattr(classify(answers, values=list(answers)), "kind", "") == "polar":
        return True
    prefix = name_prefix(column)
    labels = dict(meta.value_labels.get(column, {}))
    siblings = [c for c in columns if c != column and prefix and name_prefix(c) == prefix
                and dict(meta.value_labels.get(c, {})) == labels]
    return len(siblings) >= 2


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "x"


def _answers(meta: Metadata, column: str) -> dict:
    """Labelled codes that are answers: not declared missing, not labelled as non-answers."""
    spec = meta.missing.get(column)
    return {c: t for c, t in meta.value_labels.get(column, {}).items()
            if not (spec and c in spec) and not looks_like_non_answer(str(t))}


def _spec(kind: str, name: str, column: str, strength: int, meta: Metadata,
          file_meta: Metadata, first) -> BreakdownSpec:
    answers = _answers(meta, column)
    label = meta.variable_labels.get(column, "")
    how = {3: "name and label fit", 2: "name fits", 1: "label fits"}[strength]
    evidence = (f'{column}: {how} {kind}{f" (label: {label})" if label else ""}; '
                f"{len(answers)} groups: " + ", ".join(
                    f"{code_text(c)} {t}" for c, t in list(answers.items())[:12])
                + (" ..." if len(answers) > 12 else ""))
    if first:
        evidence += f"; another {kind} variable besides {first}: keep the one you publish"
    groups, why = (), ""
    if kind == "age":
        groups, why = _age_groups(answers)
    if not groups:
        spec = file_meta.missing.get(column)
        kept_out = [(c, t) for c, t in meta.value_labels.get(column, {}).items()
                    if c not in answers and not (spec and c in spec)]
        if kept_out:
            groups = tuple(Group(str(t), (c,)) for c, t in answers.items())
            shown = ", ".join(f'{code_text(c)} "{t}"' for c, t in kept_out)
            why = (f"groups listed so that {shown} is no group even before the manifest's "
                   "[missing] applies")
    title = TITLES[kind]
    if kind == "gender":
        title = "Gender" if "gender" in (column + label).lower() else "Sex"
    if first:
        title = f"{title} ({label or column})"
    return BreakdownSpec(name, column, title, evidence, groups, why)


def _age_groups(answers: dict) -> tuple[tuple[Group, ...], str]:
    """18-34 / 35-54 / 55+ from bands whose labels are ranges breaking at 35 and 55."""
    bands = {c: age_range(str(t)) for c, t in answers.items()}
    if len(bands) <= 3 or any(b is None for b in bands.values()):
        return (), ""
    starts = {b[0] for b in bands.values() if b[0] is not None}
    if not {35, 55} <= starts:
        return (), ""
    parts = {"young": [], "middle": [], "old": []}
    for code, (low, high) in bands.items():
        top = high if high is not None else 200
        bottom = low if low is not None else 0
        if top < 35:
            parts["young"].append(code)
        elif bottom >= 35 and top < 55:
            parts["middle"].append(code)
        elif bottom >= 55:
            parts["old"].append(code)
        else:
            return (), ""
    if not all(parts.values()):
        return (), ""
    lows = [bands[c][0] for c in parts["young"]]
    young = f"{min(lows)}-34" if None not in lows else "Under 35"
    highs = [bands[c][1] for c in parts["old"]]
    old = "55+" if None in highs else f"55-{max(highs)}"
    groups = (Group(young, tuple(parts["young"])), Group("35-54", tuple(parts["middle"])),
              Group(old, tuple(parts["old"])))
    return groups, (f"{len(bands)} bands regrouped into three (the labels read as ranges and "
                    "break at 35 and 55); drop groups to keep every band")
