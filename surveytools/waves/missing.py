"""The manifest's ``[missing]`` declarations: non-answers the files do not declare.

This module owns the model (:class:`MissingRules`), reading it from a
manifest table, and applying it to a wave's metadata.  The format, tracker
wide in ``[missing]`` and for one wave in ``[waves.missing]``::

    [missing]
    labels = true            # every labelled code whose label looks like a
                             # non-answer (surveytools.core.nonanswers) is missing;
                             # or a list of regular expressions in place of the defaults
    values = [9999, -99]     # missing on every numeric item where they occur
    [missing.variables]      # codes (or {values = [...], ranges = [[lo, hi]]}) per variable
    GovTrust = [8, 9]
    [missing.count_as_answer]
    q5 = [8]                 # a Don't know that is an answer on purpose

Names and codes are the harmonised ones (after ``[waves.rename]`` and
``[waves.recode]``).  Declarations are added to the file's own (nothing the
file declares is undone) and every addition is listed in the harmonisation
report.

Examples
--------
>>> import pandas as pd
>>> from surveytools.core.meta import Metadata
>>> rules = MissingRules(values=(9999,), variables={"q": ((8,), ())})
>>> meta = Metadata(value_labels={"q": {1: "Yes", 8: "Don`t know"}})
>>> data = pd.DataFrame({"q": [1, 8], "s": [3, 9999]})
>>> new, rows = rules.apply(meta, data, wave="2024")
>>> 8 in new.missing["q"], 9999 in new.missing["s"]
(True, True)
>>> [r[2] for r in rows]
['declared missing', 'declared missing']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..core.meta import Metadata, code_text, plain_code
from ..core.nonanswers import looks_like_non_answer
from ..core.schema import Source

KEYS = {"labels", "values", "variables", "count_as_answer"}


@dataclass(frozen=True)
class MissingRules:
    """Missing-code declarations of a manifest (tracker-wide or for one wave).

    Attributes
    ----------
    labels : bool or tuple of str
        True: declare every labelled code whose label looks like a non-answer
        (the default patterns); a tuple: the same with these patterns.
    values : tuple
        Codes that are missing on every numeric item where they occur.
    variables : mapping of column -> (values, ranges)
    count_as_answer : mapping of column -> codes
        Codes that stay answers (never declared missing by ``labels`` or
        ``values``) and that the non-answer audit accepts.
    source : str
        Where the rules come from, for the report (``"[missing]"``).
    """

    labels: bool | tuple[str, ...] = False
    values: tuple = ()
    variables: Mapping[str, tuple[tuple, tuple]] = field(default_factory=dict)
    count_as_answer: Mapping[str, tuple] = field(default_factory=dict)
    source: str = "[missing]"

    def __post_init__(self) -> None:
        object.__setattr__(self, "variables", MappingProxyType(dict(self.variables)))
        object.__setattr__(self, "count_as_answer", MappingProxyType(dict(self.count_as_answer)))

    def __bool__(self) -> bool:
        return bool(self.labels or self.values or self.variables or self.count_as_answer)

    def apply(self, meta: Metadata, data: pd.DataFrame, *, wave: str,
              skip: tuple[str, ...] = ()) -> tuple[Metadata, list[tuple]]:
        """``meta`` with these declarations added, and the report rows
        (``variable, wave, issue, detail``) saying what was added.

        ``skip`` names columns never touched (the design's weights, strata, PSUs).
        """
        rows: list[tuple] = []
        for column, codes in self.count_as_answer.items():
            if column in data.columns:
                meta = meta.count_as_answer(column, codes)
                rows.append((column, wave, "counted as answer",
                             f"codes {_listed(meta, column, codes)} by {self.source}"))
        for column in data.columns:
            if column in skip:
                continue
            keep = set(meta.counted_as_answers.get(column, ()))
            found = [c for c in self._codes_for(column, meta, data[column]) if c not in keep]
            values, ranges = self.variables.get(column, ((), ()))
            spec = meta.missing.get(column)
            new = [c for c in dict.fromkeys([*found, *values]) if not (spec and c in spec)]
            new_ranges = [r for r in ranges if not (spec and r in spec.ranges)]
            if new or new_ranges:
                meta = meta.with_missing(column, new, ranges=new_ranges)
                shown = [_listed(meta, column, new)] if new else []
                shown += [f"{code_text(lo)} to {code_text(hi)}" for lo, hi in new_ranges]
                rows.append((column, wave, "declared missing",
                             f"codes {', '.join(shown)} by {self.source}"))
        return meta, rows

    def _codes_for(self, column: str, meta: Metadata, values: pd.Series) -> list:
        codes = []
        if self.labels:
            patterns = None if self.labels is True else self.labels
            codes += [plain_code(c) for c, label in meta.value_labels.get(column, {}).items()
                      if looks_like_non_answer(label, patterns)]
        if self.values and pd.api.types.is_numeric_dtype(values) \
                and not pd.api.types.is_bool_dtype(values):
            present = pd.unique(values.dropna())
            codes += [plain_code(v) for v in self.values if np.isin(v, present)]
        return codes


def _listed(meta: Metadata, column: str, codes) -> str:
    labels = meta.value_labels.get(column, {})
    return ", ".join(code_text(c) + (f" ({labels[c]})" if c in labels else "") for c in codes)


def read_rules(source: Source, parent: Mapping, *, where: str) -> MissingRules:
    """The ``missing`` table of ``parent`` (the manifest, or one ``[[waves]]``) checked.

    Every fault names the manifest and the key, with a line that works.
    """
    table = source.table(parent, "missing", where=where)
    place = "[missing]" if where == "the manifest" else f"[waves.missing] of {where}"
    if not table:
        return MissingRules(source=place)
    source.check_keys(table, KEYS, where=place)
    labels = table.get("labels", False)
    if isinstance(labels, list) and labels and all(isinstance(p, str) and p for p in labels):
        labels = tuple(labels)
    elif not isinstance(labels, bool):
        raise source.fault(f"{place}: labels must be true, false or a list of patterns",
                           key="labels", expected='labels = true  or  labels = ["don.t know"]',
                           found=repr(labels), hint="write true without quotes")
    values = source.codes(table, "values", where=place) if "values" in table else ()
    variables = {}
    for column, entry in source.table(table, "variables", where=place).items():
        variables[column] = _variable(source, column, entry, place)
    answers = {column: source.codes({"codes": codes}, "codes", where=f"{place} count_as_answer"
                                                                      f" {column}")
               for column, codes in source.table(table, "count_as_answer", where=place).items()}
    return MissingRules(labels=labels, values=tuple(plain_code(v) for v in values),
                        variables=variables, count_as_answer=answers, source=place)


def _variable(source: Source, column: str, entry, place: str) -> tuple[tuple, tuple]:
    where = f"{place}.variables {column}"
    if isinstance(entry, list):
        entry = {"values": entry}
    if not isinstance(entry, dict):
        raise source.fault(f"{where} must list codes", key=column,
                           expected=f"{column} = [8, 9]  or  {column} = {{ ranges = [[-9, -1]] }}",
                           found=repr(entry)[:60], hint="list the codes in square brackets")
    source.check_keys(entry, {"values", "ranges"}, where=where)
    values = source.codes(entry, "values", where=where) if "values" in entry else ()
    ranges = []
    for pair in entry.get("ranges", []):
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)
                or pair[0] > pair[1]):
            raise source.fault(f"{where}: a range must be [low, high]", key=column,
                               expected=f"{column} = {{ ranges = [[-9, -1]] }}",
                               found=repr(pair), hint="give two numbers, the lower first")
        ranges.append((pair[0], pair[1]))
    if not values and not ranges:
        raise source.fault(f"{where} declares nothing", key=column,
                           expected=f"{column} = [8, 9]", found=repr(entry),
                           hint="list the codes, or remove the line")
    return tuple(plain_code(v) for v in values), tuple(ranges)


def fix_lines(audit: pd.DataFrame) -> str:
    """The manifest lines that declare every code of a non-answer ``audit`` missing.

    Examples
    --------
    >>> frame = pd.DataFrame({"variable": ["GovTrust", "GovTrust"], "code": [8, 9],
    ...                       "label": ["Don`t know", "Refusal"]})
    >>> print(fix_lines(frame))
    [missing.variables]
    GovTrust = [8, 9]  # 8 "Don`t know", 9 "Refusal"
    """
    lines = ["[missing.variables]"]
    for column, rows in audit.groupby("variable", sort=False):
        codes = list(dict.fromkeys(plain_code(c) for c in rows["code"]))
        labels = dict(zip(rows["code"].map(plain_code), rows["label"]))
        notes = ", ".join(f'{code_text(c)} "{labels[c]}"' if labels.get(c) else code_text(c)
                          for c in codes)
        key = column if column.replace("_", "").isalnum() else f'"{column}"'
        lines.append(f"{key} = [{', '.join(map(code_text, codes))}]  # {notes}")
    return "\n".join(lines)
