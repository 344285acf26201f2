"""Indicators and breakdowns: what a headline number counts, and for which groups.

This module owns the model: frozen :class:`Indicator` and
:class:`IndicatorCatalogue`, :class:`Breakdown` (with its :class:`Group`)
and :class:`Breakdowns`, and their checks against a wave's metadata.  They
are read from TOML files by :mod:`surveytools.indicators.catalogue_file`.

An *indicator* turns one question into one headline number: a ``share``
(the answers that count, e.g. trust 7-10 on a 0-10 scale), a ``net`` score
(share of one set of answers minus share of another) or a ``mean`` score.
A *breakdown* names a demographic variable, optionally regrouped (age bands
into 18-34 / 35-54 / 55+).  Without groups a breakdown's groups are the
variable's labelled answers that are not user-missing (so "Prefer not to
say" is no group).

Examples
--------
>>> cat = IndicatorCatalogue((Indicator(name="nhs", question="trust_nhs", kind="share",
...                                     codes=(7, 8, 9, 10), label="Trust NHS"),))
>>> cat["nhs"].codes
(7, 8, 9, 10)
>>> cat.names
('nhs',)
>>> cat["nhs"].describe()
'share answering 7, 8, 9, 10'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType

from ..core.errors import ManifestError
from ..core.meta import Metadata, code_text
from ..core.schema import did_you_mean

KINDS = ("share", "net", "mean")
DONT_KNOW = ("exclude", "include")
DONT_KNOW_TEXT = MappingProxyType({"exclude": "excluded from base",
                                   "include": "included in base"})


# -- indicators ------------------------------------------------------------
@dataclass(frozen=True)
class Indicator:
    """One headline number computed from one question.

    Parameters
    ----------
    name : str
        Unique key (used in the cube and in file names).
    question : str
        The harmonised question name.
    kind : {"share", "net", "mean"}
    codes : tuple
        ``share``: the answers counted as "yes"; ``net``: the "plus" answers.
    minus : tuple
        ``net`` only: the answers subtracted.
    dont_know : {"exclude", "include"}
        Every declared (user-missing) non-answer out of the base, or
        (``"include"``) the don't-know answers (Don't know, Can't choose, Not
        sure ...) in the base, counted as not-yes; refusals, skips, not asked,
        not applicable and negative codes not labelled as a don't know stay
        out.  Which kind a code is: :func:`surveytools.core.nonanswers.dont_know_kind` (a
        user-missing code of no known kind is a DataError when the base is
        built, in :mod:`surveytools.indicators.cells`).
    label, short_label, row_label, topic, wording : str
        Texts for tables and dashboards; ``wording`` defaults to the
        question's variable label.
    """

    name: str
    question: str
    kind: str
    codes: tuple = ()
    minus: tuple = ()
    dont_know: str = "exclude"
    label: str = ""
    short_label: str = ""
    row_label: str = ""
    topic: str = ""
    wording: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", tuple(self.codes))
        object.__setattr__(self, "minus", tuple(self.minus))
        for name in ("label", "short_label", "row_label"):
            if not getattr(self, name):
                object.__setattr__(self, name, self.label or self.name)

    def replace(self, **changes) -> "Indicator":
        return dataclasses.replace(self, **changes)

    @property
    def dont_know_text(self) -> str:
        """``"excluded from base"`` or ``"included in base"``."""
        return DONT_KNOW_TEXT[self.dont_know]

    def describe(self, meta: Metadata | None = None) -> str:
        """What counts, in words: ``"share answering 7, 8, 9, 10"``."""
        def codes(values):
            if meta is None:
                return ", ".join(map(code_text, values))
            return ", ".join(_labelled(meta, self.question, c) for c in values)

        if self.kind == "share":
            return f"share answering {codes(self.codes)}"
        if self.kind == "net":
            return f"share answering {codes(self.codes)} minus share answering {codes(self.minus)}"
        return "mean score"


def _labelled(meta: Metadata, question: str, code) -> str:
    label = meta.value_labels.get(question, {}).get(code)
    text = code_text(code)
    return f"{text} ({label})" if label and label != text else text


class _NamedSet:
    """Look-up by name over the ordered, unique-named tuple a frozen dataclass
    holds as its first field (``indicators`` or ``breakdowns``)."""

    _noun = "entry"

    @property
    def _entries(self) -> tuple:
        return getattr(self, dataclasses.fields(self)[0].name)

    def __post_init__(self) -> None:
        object.__setattr__(self, dataclasses.fields(self)[0].name, tuple(self._entries))

    @property
    def names(self) -> tuple[str, ...]:
        """The names, in order."""
        return tuple(entry.name for entry in self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self):
        return iter(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __getitem__(self, name: str):
        for entry in self._entries:
            if entry.name == name:
                return entry
        raise KeyError(f"no {self._noun} {name!r}; there are {', '.join(self.names)}")

    def select(self, names: Iterable[str]):
        """A copy with ``names`` only, in the order given (the original is unchanged)."""
        return dataclasses.replace(self, **{dataclasses.fields(self)[0].name:
                                            tuple(self[n] for n in names)})


@dataclass(frozen=True)
class IndicatorCatalogue(_NamedSet):
    """An ordered, immutable set of :class:`Indicator` with unique names.

    Examples
    --------
    >>> cat = IndicatorCatalogue((Indicator(name="m", question="q", kind="mean"),))
    >>> len(cat), "m" in cat, cat.select([]).names, cat.names
    (1, True, (), ('m',))
    """

    indicators: tuple[Indicator, ...]
    file: str | None = None
    _noun = "indicator"

    @property
    def questions(self) -> tuple[str, ...]:
        """The questions used, each once, in catalogue order."""
        return tuple(dict.fromkeys(i.question for i in self.indicators))

    def for_question(self, question: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.question == question)

    def check(self, meta: Metadata, *, columns: Iterable[str] | None = None) -> "IndicatorCatalogue":
        """Check every indicator against a wave's (harmonised) metadata.

        Parameters
        ----------
        meta : Metadata
            Labels and user-missing codes of the harmonised questions.
        columns : iterable of str, optional
            The harmonised columns available (default: those ``meta`` labels).

        Returns
        -------
        IndicatorCatalogue
            ``self``, so that ``load_indicators(p).check(meta)`` chains.

        Raises
        ------
        ManifestError
            An unknown question, or codes that are not answers of the question.
        """
        known = set(columns) if columns is not None else set(meta.variable_labels)
        for position, ind in enumerate(self.indicators, start=1):
            key = f"[[indicator]] #{position} ({ind.name!r})"
            if ind.question not in known:
                raise ManifestError(
                    f"{key}: question {ind.question!r} is not in the data",
                    file=self.file, expected="a harmonised question name",
                    found=ind.question, hint=_closest_hint(ind.question, known),
                )
            for attribute in ("codes", "minus"):
                bad = [c for c in getattr(ind, attribute) if not _is_answer(meta, ind.question, c)]
                if bad:
                    raise ManifestError(
                        f"{key}: {attribute} {bad} are not answers of {ind.question!r}",
                        file=self.file,
                        expected="codes from the question's value labels (not user-missing)",
                        found=_answers_text(meta, ind.question),
                        hint=f"fix '{attribute}' of indicator {ind.name!r}",
                    )
        return self


def _is_answer(meta: Metadata, question: str, code) -> bool:
    """A labelled code that is not user-missing, or (for a numeric scale that
    labels only its end points, like 0-10) a whole number between them."""
    labels = meta.value_labels.get(question, {})
    missing = meta.missing.get(question)
    if missing is not None and code in missing:
        return False
    if code in labels:
        return True
    answers = [c for c in labels if isinstance(c, (int, float)) and not (missing and c in missing)]
    return (isinstance(code, (int, float)) and len(answers) >= 2 and float(code).is_integer()
            and min(answers) <= code <= max(answers))


def _answers_text(meta: Metadata, question: str) -> str:
    labels = meta.value_labels.get(question, {})
    missing = meta.missing.get(question)
    answers = [f"{code_text(c)}={v}" for c, v in labels.items() if not (missing and c in missing)]
    return "answers " + "; ".join(answers) if answers else "no value labels"


def _closest_hint(name: str, known: Iterable[str]) -> str:
    return did_you_mean(name, known) or "use a harmonised column name from the manifest's waves"


# -- breakdowns ------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """One group of a breakdown: a label and the codes that belong to it."""

    code: str
    label: str
    codes: tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", tuple(self.codes))


@dataclass(frozen=True)
class Breakdown:
    """A demographic variable, optionally regrouped.

    Parameters
    ----------
    name : str
        Unique key (``"total"`` is reserved for the whole sample).
    variable : str
        The harmonised demographic column.
    label : str
        Heading in tables (default: the variable label).
    groups : tuple of Group
        Empty: one group per labelled, non-missing answer of ``variable``.
    """

    name: str
    variable: str
    label: str = ""
    groups: tuple[Group, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(self.groups))

    @property
    def regrouped(self) -> bool:
        return bool(self.groups)

    def resolve(self, meta: Metadata) -> "Breakdown":
        """A copy with the label and groups filled in from ``meta``."""
        groups = self.groups
        if not groups:
            labels = meta.value_labels.get(self.variable, {})
            missing = meta.missing.get(self.variable)
            groups = tuple(Group(code=code_text(c), label=str(text), codes=(c,))
                           for c, text in labels.items() if not (missing and c in missing))
        return dataclasses.replace(self, label=self.label or meta.label(self.variable),
                                   groups=groups)

    def mapping(self) -> dict:
        """Answer code -> group position (1-based) for the groups of this breakdown."""
        return {code: position for position, group in enumerate(self.groups, start=1)
                for code in group.codes}


@dataclass(frozen=True)
class Breakdowns(_NamedSet):
    """An ordered, immutable set of :class:`Breakdown` with unique names.

    Examples
    --------
    >>> bds = Breakdowns((Breakdown(name="age", variable="age_band"),))
    >>> bds["age"].variable, "age" in bds
    ('age_band', True)
    """

    breakdowns: tuple[Breakdown, ...]
    file: str | None = None
    _noun = "breakdown"

    def check(self, meta: Metadata, *, columns: Iterable[str] | None = None) -> "Breakdowns":
        """Check variables and regrouped codes against ``meta``; resolve labels.

        Returns
        -------
        Breakdowns
            A copy whose breakdowns have labels and groups filled in.

        Raises
        ------
        ManifestError
            An unknown variable, a regroup code that is not an answer, or a
            variable without value labels and without ``groups``.
        """
        known = set(columns) if columns is not None else set(meta.variable_labels)
        resolved = []
        for position, bd in enumerate(self.breakdowns, start=1):
            key = f"[[breakdown]] #{position} ({bd.name!r})"
            if bd.variable not in known:
                raise ManifestError(
                    f"{key}: variable {bd.variable!r} is not in the data", file=self.file,
                    expected="a harmonised demographic column", found=bd.variable,
                    hint=_closest_hint(bd.variable, known),
                )
            for group in bd.groups:
                bad = [c for c in group.codes if not _is_answer(meta, bd.variable, c)]
                if bad:
                    raise ManifestError(
                        f"{key}: group {group.label!r} lists codes {bad} that are not answers "
                        f"of {bd.variable!r}", file=self.file,
                        expected="codes from the variable's value labels (not user-missing)",
                        found=_answers_text(meta, bd.variable),
                        hint=f"fix the codes of group {group.label!r}",
                    )
            full = bd.resolve(meta)
            if not full.groups:
                raise ManifestError(
                    f"{key}: variable {bd.variable!r} has no value labels to form groups",
                    file=self.file, expected="value labels, or 'groups' in the breakdown",
                    found="no value labels",
                    hint='add groups = [{label = "...", codes = [...]}, ...]',
                )
            resolved.append(full)
        return dataclasses.replace(self, breakdowns=tuple(resolved))
