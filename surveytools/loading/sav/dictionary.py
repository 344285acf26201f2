"""What the walk of a system file's dictionary learns: variables, elements, declarations.

A :class:`Dictionary` is filled record by record
(:mod:`~surveytools.loading.sav.records`,
:mod:`~surveytools.loading.sav.extensions`) and then read by the data check
(:mod:`~surveytools.loading.sav.data`).  It lives only while one file is
checked; what the check returns is the frozen
:class:`~surveytools.loading.savcheck.SavLayout`.

Examples
--------
>>> book = Dictionary()
>>> book.add(Variable(short="Q1", element=0, width=0, elements=1, record=176))
>>> book.element_kind, book.by_short()["Q1"].width
([0], 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Variable", "Dictionary"]


@dataclass
class Variable:
    """One variable record that is not a continuation."""

    short: str
    element: int            # 0-based index of its first 8-byte element
    width: int              # 0 numeric, 1-255 text (one segment)
    elements: int           # 8-byte elements it spans
    record: int             # byte offset of its record
    long: str | None = None
    ghost: bool = False     # a later segment of a very long string
    segments: int = 1

    @property
    def name(self) -> str:
        """The long name where the file has one, else the short one."""
        return self.long or self.short


@dataclass
class Dictionary:
    """The dictionary of one file as far as it has been walked."""

    variables: list[Variable] = field(default_factory=list)
    element_kind: list[int] = field(default_factory=list)   # per element: index into variables
    labelled: dict[int, int] = field(default_factory=dict)  # variable -> offset of its label set
    text_codes: list[tuple[int, bytes, str]] = field(default_factory=list)  # (offset, code, var)
    long_names: list[tuple[int, bytes, Variable]] = field(default_factory=list)
    encoding: str | None = None         # the name of subtype 20
    charset_code: int | None = None     # the character code of subtype 3
    display: tuple[int, int, int] | None = None   # subtype 11: (offset, size, count)
    extended_cases: int | None = None   # subtype 16
    isolate: bool = False   # parts ReadStat may not read safely: read in a child
    seen_subtypes: dict[int, int] = field(default_factory=dict)   # subtype -> first offset

    def add(self, variable: Variable) -> None:
        """A new variable (not a continuation) and its first element."""
        self.variables.append(variable)
        self.element_kind.append(len(self.variables) - 1)

    def variable_at(self, index: int) -> Variable | None:
        """The variable whose first element is ``index`` (1-based, as records count), or None."""
        if not 1 <= index <= len(self.element_kind):
            return None
        variable = self.variables[self.element_kind[index - 1]]
        return variable if variable.element == index - 1 else None

    def by_short(self) -> dict[str, Variable]:
        return {v.short.upper(): v for v in self.variables}

    def by_long(self) -> dict[str, Variable]:
        return {v.name: v for v in self.variables}
