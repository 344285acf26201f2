"""Errors and warnings raised by surveytools.

Every rejection of input says *where* (file, column, row), *what was
expected*, *what was found* and *how to fix it*.  The structured fields are
kept on the exception so that callers (the CLI, the dashboards) can show
them without parsing the message.

Examples
--------
>>> err = DataError("weights must be non-negative", file="wave1.sav",
...                 column="wt", row=17, expected="a weight >= 0",
...                 found="-1.5", hint="fix the weight or drop the row")
>>> print(err)
wave1.sav, column 'wt', row 17: weights must be non-negative; expected a weight >= 0, found -1.5. Fix: fix the weight or drop the row
"""

from __future__ import annotations

from typing import Any


class SurveyError(Exception):
    """Base class of every error surveytools raises on purpose.

    Parameters
    ----------
    message : str
        What went wrong, in one sentence.
    file, column, row
        Where it went wrong. ``row`` is the 1-based data row as a person
        counts it in the file (the first respondent is row 1).
    expected, found : str
        What the code expected and what it found instead.
    hint : str
        How to fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Any = None,
        column: str | None = None,
        row: int | None = None,
        expected: str | None = None,
        found: Any = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.column = column
        self.row = row
        self.expected = expected
        self.found = found
        self.hint = hint
        super().__init__(self._render())

    def __reduce__(self):
        # keep the structured fields across pickling (worker processes)
        fields = {k: getattr(self, k) for k in ("file", "column", "row", "expected", "found", "hint")}
        return (_rebuild, (type(self), self.message, fields))

    @property
    def location(self) -> str:
        """``file, column 'x', row 3`` (the parts that are known)."""
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        return ", ".join(parts)

    def _render(self) -> str:
        text = self.message
        if self.location:
            text = f"{self.location}: {text}"
        detail = []
        if self.expected is not None:
            detail.append(f"expected {self.expected}")
        if self.found is not None:
            detail.append(f"found {self.found}")
        if detail:
            text += "; " + ", ".join(detail)
        if self.hint:
            text += f". Fix: {self.hint}"
        return text


class DataError(SurveyError, ValueError):
    """A value in the data that cannot be analysed (weights, codes, types)."""


class DesignError(SurveyError, ValueError):
    """A design that cannot be used with the data (columns, lonely PSUs)."""


class FileFormatError(SurveyError, ValueError):
    """A file that is missing, of an unknown format, corrupt or mis-encoded."""


class ManifestError(SurveyError, ValueError):
    """A tracker manifest, indicator catalogue or target file that is wrong."""


class HarmonisationError(SurveyError, ValueError):
    """Waves that cannot be put side by side as the manifest asks."""


class WeightingError(SurveyError, ValueError):
    """Raking targets that do not fit the data, or raking that did not converge."""


class SurveyWarning(UserWarning):
    """Base class of surveytools' warnings."""


class UndeclaredMissingWarning(SurveyWarning):
    """A mean or total includes codes labelled like "Don't know" that the
    file does not declare as user-missing."""


class LowBaseWarning(SurveyWarning):
    """An estimate rests on fewer respondents than the small-base rule allows."""


def _rebuild(cls, message, fields):
    return cls(message, **fields)


def row_number(index_position: int) -> int:
    """The 1-based row a person sees for a 0-based position in the data."""
    return int(index_position) + 1
