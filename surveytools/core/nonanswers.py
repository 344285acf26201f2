"""Codes that look like non-answers: label patterns, sentinel values and the audit.

Real files rarely declare all their non-answers as user-missing: "Don`t know"
is left as an ordinary code 8, "Refusal" as 9, a 0-10 item codes Don't know
as 9999 with no label at all.  Counted as answers, such codes move means and
shares without a word.  This module finds them:

* :data:`DEFAULT_PATTERNS` match value labels that mean "no substantive
  answer" (Don't know, DK, Refused, Prefer not to say, Not applicable, skip,
  Not asked, No answer, ISSP's Can't choose ...), case-insensitive and with
  any apostrophe;
* :func:`sentinel_codes` flags unlabelled values that are codes, not
  measurements: 9, 99, 999, 9999 (and 96-98 style neighbours) far above the
  rest of an item's values, and small negative codes on a non-negative item;
* :func:`audit` lists every such code that occurs in the data and is neither
  declared missing nor counted as an answer (see
  :meth:`surveytools.Metadata.with_missing` and
  :meth:`surveytools.Metadata.count_as_answer`);
* :func:`dont_know_kind` tells the two kinds of non-answer apart: a don't
  know (:data:`DONT_KNOW_PATTERNS`: asked, and could not choose) from a
  refusal, skip, not asked, not applicable or system missing
  (:data:`OUT_OF_BASE_PATTERNS`), which ``dont_know = "include"`` indicators
  keep in and out of their base (:mod:`surveytools.indicators.cells`).

Nothing here changes data or metadata: it only reports.

Examples
--------
>>> looks_like_non_answer("Don`t know"), looks_like_non_answer("DK/Refused")
(True, True)
>>> looks_like_non_answer("Strongly agree")
False
>>> sentinel_codes([0, 1, 5, 10, 9999])
{9999: 'sentinel value far above the other answers'}
>>> dont_know_kind(9, "Don't know"), dont_know_kind(8, "Refused"), dont_know_kind(-1, None)
('dont_know', 'out', 'out')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .meta import Metadata, plain_code

#: Apostrophes seen in real labels: straight, curly, backtick, acute.
APOSTROPHES = "'\u2019\u2018`\u00b4"
_A = f"[{APOSTROPHES}]?"

#: The non-answers of a respondent who was asked and could not choose (Don't
#: know, DK, Can't say, No opinion, Don't remember, Not sure, Can't choose): in
#: the base of a ``dont_know = "include"`` indicator, counted as not-yes.
DONT_KNOW_PATTERNS: tuple[str, ...] = (
    rf"\bdon{_A}t know", r"\bdo not know", r"\bdk\b", rf"\bcan{_A}t say", r"\bcannot say",
    r"\bno opinion", rf"\bdon{_A}t remember", r"\bnot sure", rf"\bcan{_A}t choose",
    r"\bcannot choose",
)
#: The non-answers of a respondent who declined (Refused, Prefer not to say) or
#: was not asked (skip, Not asked, Not applicable, No answer, Not stated).
_DECLINED_OR_NOT_ASKED: tuple[str, ...] = (
    r"\brefus", r"\bprefer not", r"\bnot applicable", r"\bn/a\b", r"\bskip", r"\bnot asked",
    r"\bnot answered", r"\bno answer", r"\bnot stated", r"\binapplicable",
)

#: Value-label patterns that mean "no substantive answer" (regular expressions,
#: matched case-insensitively anywhere in the label): both kinds.
DEFAULT_PATTERNS: tuple[str, ...] = DONT_KNOW_PATTERNS + _DECLINED_OR_NOT_ASKED

#: Every non-answer that is not a don't know, and system missing: out of every
#: base (a refusal is not a "not yes").
OUT_OF_BASE_PATTERNS: tuple[str, ...] = (
    *_DECLINED_OR_NOT_ASKED, r"\bsystem\W*missing", r"\bsysmis", r"\bmissing\b",
)


def _any_of(patterns: Sequence[str]) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


NON_ANSWER = _any_of(DEFAULT_PATTERNS)
_DONT_KNOW = _any_of(DONT_KNOW_PATTERNS)
_OUT_OF_BASE = _any_of(OUT_OF_BASE_PATTERNS)

AUDIT_COLUMNS = ("variable", "code", "label", "count", "reason")

_NINES = re.compile(r"^9+[6-9]?$")
_NEGATIVE_CODES = {-1, -2, -3, -4, -5, -6, -7, -8, -9, -96, -97, -98, -99, -996, -997, -998,
                   -999, -9999}


def looks_like_non_answer(label: str, patterns: Sequence[str] | None = None) -> bool:
    """Whether a value label means "no substantive answer".

    ``patterns`` replaces :data:`DEFAULT_PATTERNS` (regular expressions,
    case-insensitive).
    """
    if not isinstance(label, str):
        return False
    if patterns is None:
        return NON_ANSWER.search(label) is not None
    return any(re.search(p, label, re.IGNORECASE) for p in patterns)


def dont_know_kind(code, label: str | None) -> str | None:
    """The kind of a user-missing ``code``: ``"dont_know"`` (in the base of a
    ``dont_know = "include"`` indicator), ``"out"`` (out of every base) or None
    (unknown: the manifest must say what it is).

    By its label (:data:`DONT_KNOW_PATTERNS` first, so that "Don't know /
    Refused", which cannot be split, is a don't know; then
    :data:`OUT_OF_BASE_PATTERNS`); else a negative code is out (routing and
    system codes) and any other is unknown.

    Examples
    --------
    >>> dont_know_kind(8, "Can`t choose"), dont_know_kind(-9, "Proxy interview")
    ('dont_know', 'out')
    >>> dont_know_kind(97, None) is None, dont_know_kind(7, "Other") is None
    (True, True)
    """
    text = label.strip() if isinstance(label, str) else ""
    if text and _DONT_KNOW.search(text):
        return "dont_know"
    if text and _OUT_OF_BASE.search(text):
        return "out"
    return "out" if _negative(code) else None


def _negative(code) -> bool:
    """Whether ``code`` is a negative number (not a bool, not text).

    >>> _negative(-8), _negative(8), _negative("-8"), _negative(True)
    (True, False, False, False)
    """
    return isinstance(code, (int, float, np.number)) and not isinstance(code, bool) and code < 0


def sentinel_codes(values: Iterable, labelled: Iterable = ()) -> dict:
    """Unlabelled values of a numeric item that are codes rather than answers.

    Parameters
    ----------
    values : iterable of numbers
        The distinct values an item takes (missing values ignored).
    labelled : iterable
        Codes that carry a value label: these are the file's own answers (or
        are judged by their label) and are never flagged here.

    Returns
    -------
    dict
        value -> reason. A value is a sentinel when it is all nines (9, 99,
        999, 9999, or 96-98, 996-998 ...) and lies beyond the values below it
        (more than 1.5 times and at least 2 above the largest value taken as
        an answer: 9 on a 1-5 scale, 99 on 0-10, not 99 among ages up to 95),
        or a small negative code (-1..-9, -97..-99, -999 ...) on an item whose
        other values are all non-negative (unless the negatives mirror the
        positives, as on a -2..2 scale).

    Examples
    --------
    >>> sentinel_codes([1, 2, 3, 4, 5, 9])
    {9: 'sentinel value far above the other answers'}
    >>> sentinel_codes(range(16, 100))  # ages: 96-99 continue the answers
    {}
    >>> sentinel_codes([-9, 0, 1, 2])
    {-9: 'negative code on an item whose answers are not negative'}
    """
    numbers = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce")
    distinct = sorted({plain_code(v) for v in numbers.dropna().tolist() if np.isfinite(v)})
    skip = {plain_code(c) for c in labelled}
    candidates = {v for v in distinct if isinstance(v, int) and v not in skip}
    negatives = {v for v in candidates if v in _NEGATIVE_CODES}
    found = {}
    top = None  # the largest value taken as an answer so far
    for v in distinct:
        if v in negatives:
            continue
        if v in candidates and v > 0 and _NINES.match(str(v)) and top is not None and top > 0 \
                and v > 1.5 * top and v - top >= 2:
            found[v] = "sentinel value far above the other answers"
        else:
            top = v
    answers = [v for v in distinct if v not in negatives and v not in found]
    mirrored = negatives == {-v for v in answers if v > 0}  # a -2..2 scale, not skip codes
    if answers and min(answers) >= 0 and not mirrored:
        for v in negatives:
            found[v] = "negative code on an item whose answers are not negative"
    return dict(sorted(found.items()))


def audit(data: pd.DataFrame, meta: Metadata, *, columns: Iterable[str] | None = None,
          patterns: Sequence[str] | None = None) -> pd.DataFrame:
    """Every code in ``data`` that looks like a non-answer and is still counted as an answer.

    A code is listed when it occurs in the data, is not user-missing in
    ``meta``, is not in ``meta.counted_as_answers`` and either its value
    label looks like a non-answer (:func:`looks_like_non_answer`) or it is an
    unlabelled sentinel of a numeric item (:func:`sentinel_codes`).

    Parameters
    ----------
    data : DataFrame
    meta : Metadata
    columns : iterable of str, optional
        The columns to check (default: every column).
    patterns : sequence of str, optional
        Label patterns in place of :data:`DEFAULT_PATTERNS`.

    Returns
    -------
    DataFrame
        ``variable, code, label, count, reason``, one row per code; empty
        when nothing is left to declare.

    Examples
    --------
    >>> data = pd.DataFrame({"q": [1, 2, 8, 8], "s": [0, 10, 9999, 5]})
    >>> meta = Metadata(value_labels={"q": {1: "Yes", 2: "No", 8: "Don`t know"}})
    >>> audit(data, meta)[["variable", "code", "label", "count"]].to_dict("records")
    [{'variable': 'q', 'code': 8, 'label': 'Don`t know', 'count': 2}, {'variable': 's', 'code': 9999, 'label': '', 'count': 1}]
    >>> audit(data, meta.with_missing("q", [8]).count_as_answer("s", [9999])).empty
    True
    """
    rows = []
    for column in (data.columns if columns is None else columns):
        if column not in data.columns:
            continue
        values = data[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        rows += suspects(column, values.value_counts(dropna=True), meta, numeric=numeric,
                         patterns=patterns)
    return pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))


def suspects(column: str, counts: pd.Series, meta: Metadata, *, numeric: bool,
             patterns: Sequence[str] | None = None) -> list[dict]:
    """The audit rows of one column from its value counts (``code -> count``).

    Used by :func:`audit` and by the estimators, which already hold each
    column's distinct values and counts.
    """
    spec = meta.missing.get(column)
    answers = {plain_code(c) for c in meta.counted_as_answers.get(column, ())}
    labels = {plain_code(k): v for k, v in meta.value_labels.get(column, {}).items()}
    tally: dict = {}
    for code, count in counts.items():
        if count > 0 and not pd.isna(code):
            tally[plain_code(code)] = tally.get(plain_code(code), 0) + int(count)

    def keep(code) -> bool:
        return code not in answers and not (spec and code in spec)

    rows = [{"variable": column, "code": code, "label": labels[code], "count": count,
             "reason": "value label looks like a non-answer"}
            for code, count in tally.items()
            if code in labels and looks_like_non_answer(labels[code], patterns) and keep(code)]
    if numeric:
        rows += [{"variable": column, "code": code, "label": "", "count": tally[code],
                  "reason": reason}
                 for code, reason in sentinel_codes(tally, labelled=labels).items() if keep(code)]
    return sorted(rows, key=lambda r: (0, r["code"], "") if isinstance(r["code"], (int, float))
                  else (1, 0, str(r["code"])))
