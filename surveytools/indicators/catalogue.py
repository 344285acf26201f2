"""Indicator catalogue and breakdowns, as data in TOML files.

An *indicator* turns one question into one headline number: a ``share``
(the answers that count, e.g. trust 7-10 on a 0-10 scale), a ``net`` score
(share of one set of answers minus share of another) or a ``mean`` score.
A *breakdown* names a demographic variable, optionally regrouped (age bands
into 18-34 / 35-54 / 55+).  Both live in TOML files next to the manifest
(``indicators.toml``, ``breakdowns.toml``) so that a project changes its
headline figures without touching code.

Indicators file::

    [[indicator]]
    name = "trust_nhs_high"          # unique key
    question = "trust_nhs"           # harmonised question name
    kind = "share"                   # "share" | "net" | "mean"
    codes = [7, 8, 9, 10]            # share: the answers counted as "yes"
    # plus = [4, 5], minus = [1, 2]  # net: plus share minus minus share
    dont_know = "exclude"            # or "include": in the base, counted as not-yes
    topic = "Trust to use data"
    label = "Trust the NHS to use their data (7-10)"
    short_label = "NHS"
    row_label = "Trust (7-10)"       # the row in published tables
    # wording = "..."                # default: the question's variable label

Breakdowns file::

    [[breakdown]]
    name = "age"
    variable = "age_band"
    label = "Age"
    groups = [{label = "18-34", codes = [1, 2]}, {label = "35-54", codes = [3, 4]},
              {label = "55+", codes = [5, 6, 7]}]

Without ``groups`` a breakdown's groups are the variable's labelled answers
that are not user-missing (so "Prefer not to say" is no group).

Examples
--------
>>> cat = IndicatorCatalogue((Indicator(name="nhs", question="trust_nhs", kind="share",
...                                     codes=(7, 8, 9, 10), label="Trust NHS"),))
>>> cat["nhs"].codes
(7, 8, 9, 10)
>>> cat.names
('nhs',)
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import ManifestError
from ..core.meta import Metadata

KINDS = ("share", "net", "mean")
DONT_KNOW = ("exclude", "include")
DONT_KNOW_TEXT = {"exclude": "excluded from base", "include": "included in base"}
INDICATORS_FILE = "indicators.toml"
BREAKDOWNS_FILE = "breakdowns.toml"


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
        User-missing answers ("Don't know") out of the base, or in the base
        and counted as not-yes.
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
                return ", ".join(map(str, values))
            return ", ".join(_labelled(meta, self.question, c) for c in values)

        if self.kind == "share":
            return f"share answering {codes(self.codes)}"
        if self.kind == "net":
            return f"share answering {codes(self.codes)} minus share answering {codes(self.minus)}"
        return "mean score"


def _labelled(meta: Metadata, question: str, code) -> str:
    label = meta.value_labels.get(question, {}).get(code)
    return f"{code} ({label})" if label and label != str(code) else str(code)


@dataclass(frozen=True)
class IndicatorCatalogue:
    """An ordered, immutable set of :class:`Indicator` with unique names.

    Examples
    --------
    >>> cat = IndicatorCatalogue((Indicator(name="m", question="q", kind="mean"),))
    >>> len(cat), "m" in cat
    (1, True)
    """

    indicators: tuple[Indicator, ...]
    file: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "indicators", tuple(self.indicators))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.indicators)

    @property
    def questions(self) -> tuple[str, ...]:
        """The questions used, each once, in catalogue order."""
        return tuple(dict.fromkeys(i.question for i in self.indicators))

    def __len__(self) -> int:
        return len(self.indicators)

    def __iter__(self):
        return iter(self.indicators)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __getitem__(self, name: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.name == name:
                return indicator
        raise KeyError(f"no indicator {name!r}; the catalogue has {', '.join(self.names)}")

    def select(self, names: Iterable[str]) -> "IndicatorCatalogue":
        """A catalogue of ``names`` only, in the order given."""
        return dataclasses.replace(self, indicators=tuple(self[n] for n in names))

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
    answers = [f"{c}={v}" for c, v in labels.items() if not (missing and c in missing)]
    return "answers " + "; ".join(answers) if answers else "no value labels"


def _closest_hint(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=3)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "use a harmonised column name from the manifest's waves"


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
            groups = tuple(Group(code=_code_str(c), label=str(text), codes=(c,))
                           for c, text in labels.items() if not (missing and c in missing))
        return dataclasses.replace(self, label=self.label or meta.label(self.variable),
                                   groups=groups)

    def mapping(self) -> dict:
        """Answer code -> group position (1-based) for the groups of this breakdown."""
        return {code: position for position, group in enumerate(self.groups, start=1)
                for code in group.codes}


def _code_str(code) -> str:
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    return str(code)


@dataclass(frozen=True)
class Breakdowns:
    """An ordered, immutable set of :class:`Breakdown` with unique names."""

    breakdowns: tuple[Breakdown, ...]
    file: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "breakdowns", tuple(self.breakdowns))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.breakdowns)

    def __len__(self) -> int:
        return len(self.breakdowns)

    def __iter__(self):
        return iter(self.breakdowns)

    def __getitem__(self, name: str) -> Breakdown:
        for breakdown in self.breakdowns:
            if breakdown.name == name:
                return breakdown
        raise KeyError(f"no breakdown {name!r}; there are {', '.join(self.names)}")

    def select(self, names: Iterable[str]) -> "Breakdowns":
        return dataclasses.replace(self, breakdowns=tuple(self[n] for n in names))

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


# -- loading ---------------------------------------------------------------
def load_indicators(path: str | Path) -> IndicatorCatalogue:
    """Read an indicator catalogue from TOML.

    Parameters
    ----------
    path : str or Path
        The catalogue (see the module docstring for the format).

    Returns
    -------
    IndicatorCatalogue

    Raises
    ------
    ManifestError
        Unreadable TOML, a missing or unknown key, a bad kind or Don't-know
        treatment, duplicate names, codes missing or listed twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "i.toml"
    >>> _ = p.write_text('[[indicator]]\\nname="m"\\nquestion="q"\\nkind="mean"\\n')
    >>> load_indicators(p)["m"].kind
    'mean'
    """
    path = Path(path)
    indicators = [_indicator(entry, key, path) for key, entry in _entries(path, "indicator")]
    _check_unique([i.name for i in indicators], "indicator", path)
    return IndicatorCatalogue(tuple(indicators), file=str(path))


_INDICATOR_KEYS = {"name", "question", "kind", "codes", "plus", "minus", "dont_know", "label",
                   "short_label", "row_label", "topic", "wording"}


def _indicator(entry: Mapping[str, Any], key: str, path: Path) -> Indicator:
    _no_unknown_keys(entry, _INDICATOR_KEYS, key, path)
    name = _required_str(entry, "name", key, path)
    key = f"{key} ({name!r})"
    question = _required_str(entry, "question", key, path)
    kind = entry.get("kind")
    if kind not in KINDS:
        raise ManifestError(f"{key}: unknown kind", file=path, expected=" or ".join(KINDS),
                            found=repr(kind), hint="set kind = \"share\", \"net\" or \"mean\"")
    dont_know = entry.get("dont_know", "exclude")
    if dont_know not in DONT_KNOW:
        raise ManifestError(f"{key}: unknown dont_know", file=path,
                            expected='"exclude" or "include"', found=repr(dont_know),
                            hint='"exclude" keeps Don\'t know out of the base (the default)')
    if kind == "mean" and dont_know == "include":
        raise ManifestError(f"{key}: a mean cannot include Don't know in its base", file=path,
                            expected='dont_know = "exclude" for kind = "mean"', found='"include"',
                            hint="a Don't-know code has no place on the scale; use a share")
    wanted = {"share": ("codes",), "net": ("plus", "minus"), "mean": ()}[kind]
    for attribute in {"codes", "plus", "minus"} - set(wanted):
        if attribute in entry:
            raise ManifestError(f"{key}: '{attribute}' does not apply to kind {kind!r}", file=path,
                                expected=f"keys {', '.join(wanted) or 'none'} for a {kind}",
                                found=attribute, hint=f"remove '{attribute}'")
    lists = {a: _codes(entry, a, key, path) for a in wanted}
    if kind == "net":
        both = sorted(set(lists["plus"]) & set(lists["minus"]))
        if both:
            raise ManifestError(f"{key}: codes {both} are in both 'plus' and 'minus'", file=path,
                                expected="disjoint plus and minus answers", found=str(both),
                                hint="each answer counts on one side of a net score at most")
    texts = {k: entry[k] for k in ("label", "short_label", "row_label", "topic", "wording")
             if k in entry}
    for text_key, value in texts.items():
        if not isinstance(value, str):
            raise ManifestError(f"{key}: '{text_key}' must be text", file=path,
                                expected="a string", found=repr(value), hint="quote the value")
    return Indicator(name=name, question=question, kind=kind,
                     codes=lists.get("codes", lists.get("plus", ())), minus=lists.get("minus", ()),
                     dont_know=dont_know, **texts)


def load_breakdowns(path: str | Path) -> Breakdowns:
    """Read breakdowns from TOML (see the module docstring for the format).

    Raises
    ------
    ManifestError
        Unreadable TOML, a missing or unknown key, duplicate names, the
        reserved name "total", a regroup that lists a code twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "b.toml"
    >>> _ = p.write_text('[[breakdown]]\\nname="g"\\nvariable="gender"\\n')
    >>> load_breakdowns(p)["g"].variable
    'gender'
    """
    path = Path(path)
    breakdowns = [_breakdown(entry, key, path) for key, entry in _entries(path, "breakdown")]
    _check_unique([b.name for b in breakdowns], "breakdown", path)
    return Breakdowns(tuple(breakdowns), file=str(path))


def _breakdown(entry: Mapping[str, Any], key: str, path: Path) -> Breakdown:
    _no_unknown_keys(entry, {"name", "variable", "label", "groups"}, key, path)
    name = _required_str(entry, "name", key, path)
    key = f"{key} ({name!r})"
    if name == "total":
        raise ManifestError(f"{key}: the name 'total' is reserved for the whole sample",
                            file=path, expected="another name", found="total",
                            hint="rename the breakdown")
    variable = _required_str(entry, "variable", key, path)
    label = entry.get("label", "")
    groups = _groups(entry.get("groups", []), key, path)
    return Breakdown(name=name, variable=variable, label=label, groups=groups)


def _groups(raw, key: str, path: Path) -> tuple[Group, ...]:
    if not isinstance(raw, list):
        raise ManifestError(f"{key}: 'groups' must be a list", file=path,
                            expected='[{label = "...", codes = [...]}, ...]', found=repr(raw),
                            hint="write groups as an array of inline tables")
    groups, seen = [], {}
    for position, entry in enumerate(raw, start=1):
        gkey = f"{key} groups #{position}"
        if not isinstance(entry, Mapping):
            raise ManifestError(f"{gkey}: a group must be a table", file=path,
                                expected='{label = "...", codes = [...]}', found=repr(entry),
                                hint="write each group as an inline table")
        _no_unknown_keys(entry, {"label", "codes"}, gkey, path)
        label = _required_str(entry, "label", gkey, path)
        codes = _codes(entry, "codes", gkey, path)
        for code in codes:
            if code in seen:
                raise ManifestError(
                    f"{gkey}: code {code} is already in group {seen[code]!r}", file=path,
                    expected="each code in at most one group", found=f"code {code} twice",
                    hint="remove the code from one of the groups")
            seen[code] = label
        groups.append(Group(code=str(position), label=label, codes=codes))
    return tuple(groups)


def _entries(path: Path, table: str) -> list[tuple[str, Mapping]]:
    """``(key, entry)`` of every ``[[table]]`` of the file, keys like ``[[table]] #2``."""
    return [(f"[[{table}]] #{position}", entry)
            for position, entry in enumerate(_read_toml(path, table), start=1)]


def _read_toml(path: Path, table: str) -> list:
    try:
        with open(path, "rb") as handle:
            content = tomllib.load(handle)
    except FileNotFoundError:
        raise ManifestError("file not found", file=path, expected=f"a TOML file of [[{table}]]",
                            found="no such file", hint="check the path") from None
    except tomllib.TOMLDecodeError as err:
        raise ManifestError(f"not valid TOML ({err})", file=path, expected="valid TOML",
                            found="a syntax error", hint="fix the line named above") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ManifestError(f"cannot read the file ({err})", file=path, expected="a TOML file",
                            found=type(err).__name__, hint="check the path and the encoding") from None
    unknown = set(content) - {table}
    if unknown:
        raise ManifestError(f"unknown top-level keys {sorted(unknown)}", file=path,
                            expected=f"only [[{table}]] tables", found=", ".join(sorted(unknown)),
                            hint=f"check the spelling: the tables are [[{table}]]")
    entries = content.get(table)
    if not isinstance(entries, list) or not entries:
        raise ManifestError(f"no [[{table}]] tables", file=path,
                            expected=f"at least one [[{table}]] table", found="none",
                            hint=f"add [[{table}]] entries")
    return entries


def _no_unknown_keys(entry: Mapping, allowed: set, key: str, path: Path) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ManifestError(f"{key}: unknown keys {unknown}", file=path,
                            expected="keys " + ", ".join(sorted(allowed)), found=", ".join(unknown),
                            hint="check the spelling")


def _required_str(entry: Mapping, name: str, key: str, path: Path) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{key}: '{name}' is missing or not text", file=path,
                            expected=f'{name} = "..."', found=repr(value),
                            hint=f"give every entry a {name}")
    return value


def _codes(entry: Mapping, name: str, key: str, path: Path) -> tuple:
    value = entry.get(name)
    if (not isinstance(value, list) or not value
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in value)):
        raise ManifestError(f"{key}: '{name}' must be a non-empty list of numeric codes",
                            file=path, expected=f"{name} = [4, 5]", found=repr(value),
                            hint="list the answer codes as numbers")
    if len(set(value)) != len(value):
        raise ManifestError(f"{key}: '{name}' lists a code twice", file=path,
                            expected="each code once", found=repr(value), hint="remove the repeat")
    return tuple(value)


def _check_unique(names: list[str], table: str, path: Path) -> None:
    seen = set()
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise ManifestError(f"[[{table}]] #{position}: duplicate name {name!r}", file=path,
                                expected="unique names", found=name, hint="rename one of them")
        seen.add(name)


def default_file(manifest_dir: str | Path | None, name: str) -> Path:
    """``name`` in the manifest's folder, or a ManifestError saying where it looked."""
    if manifest_dir is None:
        raise ManifestError(f"no {name} given and the tracker has no manifest folder",
                            expected=f"a path to {name}", found="none",
                            hint=f"pass catalogue=/breakdowns= or put {name} next to the manifest")
    return Path(manifest_dir) / name
