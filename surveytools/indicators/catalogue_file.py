"""The indicator catalogue and breakdowns files: reading and checking the TOML.

This module owns turning ``indicators.toml`` and ``breakdowns.toml`` (next
to a tracker's manifest) into the frozen model of
:mod:`surveytools.indicators.catalogue`, so that a project changes its
headline figures without touching code.  Field checks are those of
:mod:`surveytools.core.schema`; every fault is a ManifestError naming the
file, the entry and the key.

Indicators file::

    [[indicator]]
    name = "trust_nhs_high"          # unique key
    question = "trust_nhs"           # harmonised question name
    kind = "share"                   # "share" | "net" | "mean"
    codes = [7, 8, 9, 10]            # share: the answers counted as "yes"
    # plus = [4, 5], minus = [1, 2]  # net: plus share minus minus share
    dont_know = "exclude"            # or "include": Don't know in the base, counted as not-yes
                                     # (refusals, skips, not asked, not applicable stay out)
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

Examples
--------
>>> catalogue = load_indicators("data/tracker/indicators.toml")
>>> catalogue["trust_nhs_high"].codes
(7, 8, 9, 10)
>>> [g.label for g in load_breakdowns("data/tracker/breakdowns.toml")["age"].groups]
['18-34', '35-54', '55+']
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.errors import ManifestError
from ..core.schema import Source
from .catalogue import (DONT_KNOW, KINDS, Breakdown, Breakdowns, Group, Indicator,
                        IndicatorCatalogue)

INDICATORS_FILE = "indicators.toml"
BREAKDOWNS_FILE = "breakdowns.toml"
GUIDE = "the format is in the docstring of surveytools.indicators.catalogue_file"
_INDICATOR_KEYS = {"name", "question", "kind", "codes", "plus", "minus", "dont_know", "label",
                   "short_label", "row_label", "topic", "wording"}
_TEXTS = ("label", "short_label", "row_label", "topic", "wording")
_BREAKDOWN_KEYS = {"name", "variable", "label", "groups"}


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
    return IndicatorCatalogue(*_read(path, "catalogue file", "indicator", _indicator))


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
    return Breakdowns(*_read(path, "breakdowns file", "breakdown", _breakdown))


def default_file(manifest_dir: str | Path | None, name: str) -> Path:
    """``name`` in the manifest's folder, or a ManifestError saying where it looked.

    >>> default_file("data/tracker", INDICATORS_FILE).as_posix()
    'data/tracker/indicators.toml'
    """
    if manifest_dir is None:
        raise ManifestError(f"no {name} given and the tracker has no manifest folder",
                            expected=f"a path to {name}", found="none",
                            hint=f"pass catalogue=/breakdowns= or put {name} next to the manifest")
    return Path(manifest_dir) / name


# -- entries ---------------------------------------------------------------
def _read(path, what: str, table: str, parse) -> tuple[tuple, str]:
    """``(entries, file)``: every ``[[table]]`` of the file parsed, names checked unique."""
    source = Source(path, what=what, guide=GUIDE)
    entries = tuple(parse(source, entry, where) for where, entry in _entries(source, table))
    source.unique([e.name for e in entries], key="name", things=f"[[{table}]] tables",
                  each=f"[[{table}]]")
    return entries, str(source.file)


def _entries(source: Source, table: str) -> list[tuple[str, Mapping]]:
    """``(where, entry)`` of every ``[[table]]`` of the file, where like ``[[table]] #2``."""
    content = source.read(hint="check the path")
    source.check_keys(content, {table}, where="the top level",
                      expected=f"only [[{table}]] tables",
                      hint=f"check the spelling: the tables are [[{table}]]")
    entries = content.get(table)
    if not isinstance(entries, list) or not entries:
        raise source.fault(f"no [[{table}]] tables", key=table,
                           expected=f"at least one [[{table}]] table", found="none",
                           hint=f"add [[{table}]] entries")
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise source.fault(f"[[{table}]] #{position} must be a table", key=table,
                               expected=f"a [[{table}]] table", found=repr(entry)[:40],
                               hint=f"write each entry as a [[{table}]] table")
    return [(f"[[{table}]] #{position}", entry) for position, entry in enumerate(entries, start=1)]


def _indicator(source: Source, entry: Mapping[str, Any], where: str) -> Indicator:
    source.check_keys(entry, _INDICATOR_KEYS, where=where)
    name = source.text(entry, "name", where=where, required=True,
                       hint="give every entry a name")
    where = f"{where} ({name!r})"
    question = source.text(entry, "question", where=where, required=True,
                           hint="give every entry a question")
    kind = source.choice(entry, "kind", KINDS, where=where,
                         hint="set kind = \"share\", \"net\" or \"mean\"")
    dont_know = source.choice(entry, "dont_know", DONT_KNOW, where=where, default="exclude",
                              hint='"exclude" keeps Don\'t know out of the base (the default)')
    if kind == "mean" and dont_know == "include":
        raise source.fault(f"{where}: a mean cannot include Don't know in its base",
                           key="dont_know", expected='dont_know = "exclude" for kind = "mean"',
                           found='"include"',
                           hint="a Don't-know code has no place on the scale; use a share")
    wanted = {"share": ("codes",), "net": ("plus", "minus"), "mean": ()}[kind]
    for attribute in sorted({"codes", "plus", "minus"} - set(wanted)):
        if attribute in entry:
            raise source.fault(f"{where}: {attribute} does not apply to kind {kind!r}",
                               key=attribute,
                               expected=f"keys {', '.join(wanted) or 'none'} for a {kind}",
                               found=attribute, hint=f"remove {attribute}")
    lists = {a: source.codes(entry, a, where=where) for a in wanted}
    if kind == "net":
        both = sorted(set(lists["plus"]) & set(lists["minus"]))
        if both:
            raise source.fault(f"{where}: codes {both} are in both plus and minus", key="minus",
                               expected="disjoint plus and minus answers", found=str(both),
                               hint="each answer counts on one side of a net score at most")
    texts = {key: source.text(entry, key, where=where) for key in _TEXTS if key in entry}
    return Indicator(name=name, question=question, kind=kind,
                     codes=lists.get("codes", lists.get("plus", ())), minus=lists.get("minus", ()),
                     dont_know=dont_know, **texts)


def _breakdown(source: Source, entry: Mapping[str, Any], where: str) -> Breakdown:
    source.check_keys(entry, _BREAKDOWN_KEYS, where=where)
    name = source.text(entry, "name", where=where, required=True,
                       hint="give every entry a name")
    where = f"{where} ({name!r})"
    if name == "total":
        raise source.fault(f"{where}: the name 'total' is reserved for the whole sample",
                           key="name", expected="another name", found="total",
                           hint="rename the breakdown")
    variable = source.text(entry, "variable", where=where, required=True,
                           hint="name the harmonised demographic column")
    label = source.text(entry, "label", where=where) or ""
    return Breakdown(name=name, variable=variable, label=label,
                     groups=_groups(source, entry.get("groups", []), where))


def _groups(source: Source, raw, where: str) -> tuple[Group, ...]:
    if not isinstance(raw, list):
        raise source.fault(f"{where}: groups must be a list", key="groups",
                           expected='[{label = "...", codes = [...]}, ...]', found=repr(raw),
                           hint="write groups as an array of inline tables")
    groups, seen = [], {}
    for position, entry in enumerate(raw, start=1):
        group_where = f"{where} groups #{position}"
        if not isinstance(entry, Mapping):
            raise source.fault(f"{group_where}: a group must be a table", key="groups",
                               expected='{label = "...", codes = [...]}', found=repr(entry),
                               hint="write each group as an inline table")
        source.check_keys(entry, {"label", "codes"}, where=group_where)
        label = source.text(entry, "label", where=group_where, required=True,
                            hint="give every group a label")
        codes = source.codes(entry, "codes", where=group_where)
        for code in codes:
            if code in seen:
                raise source.fault(
                    f"{group_where}: code {code} is already in group {seen[code]!r}", key="codes",
                    expected="each code in at most one group", found=f"code {code} twice",
                    hint="remove the code from one of the groups")
            seen[code] = label
        groups.append(Group(code=str(position), label=label, codes=codes))
    return tuple(groups)
