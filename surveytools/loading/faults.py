"""The wording of a damaged file: one sentence shape and one fix for every structure check.

This module owns how the structure checks (:mod:`surveytools.loading.sav`,
:mod:`surveytools.loading.dtacheck`) and the readers after them
(:mod:`surveytools.loading.read`) say that a file is corrupt: "the SPSS file
is corrupt or truncated: <what>; expected <...>, found <...> at byte <N>",
with the file, the column and row where there is one, and the fix of
:data:`SPSS_HINT` or :data:`STATA_HINT`.

Examples
--------
>>> error = corrupt("SPSS", "w.sav", "the case count is damaged", at=80,
...                 expected="the number of cases (or -1 when unknown)", found=-7)
>>> print(error)   # doctest: +ELLIPSIS
w.sav: the SPSS file is corrupt or truncated: the case count is damaged; expected the number of cases (or -1 when unknown), found -7 at byte 80. Fix: copy or export the file again ...
"""

from __future__ import annotations

from ..core.errors import FileFormatError

__all__ = ["SPSS_HINT", "STATA_HINT", "corrupt", "other_case_count"]

_AGAIN = "copy or export the file again (compare its size or checksum with the original)"
#: The fix of a damaged SPSS file (.sav, .zsav, .por).
SPSS_HINT = f"{_AGAIN}; if it opens in SPSS, re-save it from there"
#: The fix of a damaged Stata file.
STATA_HINT = f"{_AGAIN}; if it opens in Stata, save it again from there"
_HINTS = {"SPSS": SPSS_HINT, "Stata": STATA_HINT}


def corrupt(kind: str, path, detail: str, *, expected: str, found, at: int | None = None,
            column: str | None = None, row: int | None = None,
            hint: str | None = None) -> FileFormatError:
    """The error for a fault in the structure of a ``kind`` ("SPSS", "Stata") file.

    Parameters
    ----------
    kind : {"SPSS", "Stata"}
    path : str or Path
    detail : str
        What is wrong, in words ("the case count is damaged").
    expected, found
        What the format requires and what the file holds.
    at : int, optional
        The byte offset of the fault (None or negative: not shown).
    column, row : optional
        The variable (as the file names it) and the 1-based case.
    hint : str, optional
        The fix (default: the kind's :data:`SPSS_HINT` or :data:`STATA_HINT`).
    """
    if at is not None and at >= 0:
        found = f"{found} at byte {at}"
    return FileFormatError(f"the {kind} file is corrupt or truncated: {detail}", file=path,
                           column=column, row=row, expected=expected, found=found,
                           hint=_HINTS[kind] if hint is None else hint)


def other_case_count(path, *, expected: int, found: int, hint: str = SPSS_HINT
                     ) -> FileFormatError:
    """The error when a reader returns another number of cases than the checked
    structure holds (a damaged file that the C reader cut short or ran past)."""
    return FileFormatError(
        "the file is corrupt or truncated: the reader returned another number of cases "
        "than the file holds", file=path, expected=f"{expected} cases",
        found=f"{found} cases", hint=hint)
