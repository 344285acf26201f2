"""The answers of a question: which codes are answers, their shares, what is left out.

This module owns what the published tables call *answers*:

* :func:`answer_codes`: the answers of a labelled question (its labelled codes
  that are not user-missing, and the whole numbers between them that occur);
  a question with fewer than two is a number, not a list of answers;
* :func:`answer_shares`: every answer's weighted share per breakdown group
  ("% of all asked" in the tables), with every user-missing code out of the
  base: the declared non-answers ("Don't know", "Refusal") and the codes of
  people who were not asked ("skip, version off route");
* :func:`excluded`: per question, the codes left out of its base, in words,
  for the note beside each table;
* :func:`tab_book`: the catalogue of a tracker that has none, one share per
  answer of every labelled question, so that a full tab book can be built
  with the same cube, letters and small-base rule as a catalogue's tables.

Examples
--------
>>> import pandas as pd
>>> from surveytools import Design, Survey
>>> from surveytools.core.meta import Metadata
>>> meta = Metadata(value_labels={"q": {0: "Not at all", 10: "Completely", 98: "Don't know"}},
...                 missing={"q": [98]})
>>> answer_codes(meta, "q", [0, 3, 10, 98])
(0, 3, 10)
>>> wave = Survey(pd.DataFrame({"w": [1.0, 1.0], "q": [3, 98]}), Design(weight="w"), meta)
>>> excluded([wave], ["q"])  # a tracker, or any sequence of waves
{'q': '98 "Don\\'t know"'}
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..core.meta import Metadata, code_text, plain_code
from .catalogue import Indicator, IndicatorCatalogue
from .cells import CELL

#: Fewer answers than this: the question is a number, not a list of answers.
MIN_ANSWERS = 2


def answer_codes(meta: Metadata, question: str, observed: Iterable = ()) -> tuple:
    """The answers of ``question``: labelled codes that are not user-missing, and the
    ``observed`` whole numbers between the lowest and highest of them (a 0-10 scale
    labelled at its ends only); empty when there are fewer than :data:`MIN_ANSWERS`.

    >>> answer_codes(Metadata(value_labels={"a": {999: "Refusal"}}), "a", [18, 40, 999])
    ()
    """
    spec = meta.missing.get(question)

    def answer(code) -> bool:
        return not (spec and code in spec)

    labelled = [plain_code(c) for c in meta.value_labels.get(question, {}) if answer(c)]
    numbers = [c for c in labelled if _is_number(c)]
    if len(numbers) >= MIN_ANSWERS:
        low, high = min(numbers), max(numbers)
        numbers += [plain_code(v) for v in observed if _is_number(v) and float(v).is_integer()
                    and low <= v <= high and answer(v)]
    codes = sorted(set(numbers)) + [c for c in labelled if not _is_number(c)]
    return tuple(codes) if len(codes) >= MIN_ANSWERS else ()


def _is_number(code) -> bool:
    return isinstance(code, (int, float, np.integer, np.floating)) and not isinstance(code, bool)


def _observed(values: pd.Series) -> list:
    return pd.unique(values.dropna()).tolist()


def answer_shares(wave: str, survey, questions, cells: dict, rule) -> pd.DataFrame:
    """Every answer's share per question x group of one wave's stacked cells
    (:func:`surveytools.indicators.cells.stacked_cells`), user-missing codes out of
    the base; questions with no answers (:func:`answer_codes`) are left out.

    Columns ``wave, question, breakdown, group, group_label, level, level_label,
    estimate, n, weighted_n`` and the small-base rule's ``base_flag``.
    """
    parts = []
    for question, _ in _with_answers(survey, questions):
        table = survey.distribution(question, by=CELL, user_missing="exclude").table
        groups = [cells[int(c)] for c in table[CELL]]
        parts.append(pd.DataFrame({
            "wave": wave, "question": question, "breakdown": [bd.name for bd, _ in groups],
            "group": [g.code for _, g in groups], "group_label": [g.label for _, g in groups],
            "level": table["level"].to_numpy(),
            "level_label": [survey.meta.value_label(question, v) for v in table["level"]],
            "estimate": table["estimate"].to_numpy(float), "n": table["n"].to_numpy(float),
            "weighted_n": table["weighted_n"].to_numpy(float),
        }))
    columns = ["wave", "question", "breakdown", "group", "group_label", "level", "level_label",
               "estimate", "n", "weighted_n"]
    return rule.apply(pd.concat(parts, ignore_index=True) if parts
                      else pd.DataFrame(columns=columns))


def _with_answers(survey, questions):
    """``(question, values)`` of the ``questions`` that ``survey`` asked and that have
    answers (:func:`answer_codes`)."""
    for question in questions:
        if question in survey.data.columns:
            values = survey.data[question]
            if values.notna().any() and answer_codes(survey.meta, question, _observed(values)):
                yield question, values


def answer_bases(wave: str, survey, questions, cells: dict, rule) -> pd.DataFrame:
    """The bases of :func:`answer_shares` without the shares: per question x group of
    one wave's stacked cells, the respondents with an answer (user-missing codes
    out) and their weighted sum; the rows are those of :func:`answer_shares`
    with one row per question x group and no ``level`` or ``estimate``.

    What the disclosure pattern needs of the answer shares when they are not
    published (:mod:`surveytools.indicators.disclosure`): the same cells are
    hidden whether a cube has the answer shares or not.
    """
    parts = []
    data = survey.data
    weights = np.asarray(survey.weights, dtype=float)
    codes, cell = np.unique(data[CELL].to_numpy(), return_inverse=True)
    groups = [cells[int(c)] for c in codes]
    for question, values in _with_answers(survey, questions):
        based = (values.notna() & ~survey.meta.missing_mask(question, values)).to_numpy()
        n = np.bincount(cell[based], minlength=len(codes))
        total = np.bincount(cell[based], weights=weights[based], minlength=len(codes))
        present = np.flatnonzero(n)
        parts.append(pd.DataFrame({
            "wave": wave, "question": question,
            "breakdown": [groups[i][0].name for i in present],
            "group": [groups[i][1].code for i in present], "n": n[present].astype(float),
            "weighted_n": total[present]}))
    columns = ["wave", "question", "breakdown", "group", "n", "weighted_n"]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return frame.assign(base_flag=rule.flags(frame["n"].to_numpy(float)))


def _missing_labels(meta: Metadata, question: str, observed: Iterable) -> dict:
    """User-missing code -> its label (or its code as text) among the labelled and
    ``observed`` codes of ``question``."""
    spec = meta.missing.get(question)
    if not spec:
        return {}
    codes = {plain_code(c) for c in [*meta.value_labels.get(question, {}), *observed]}
    return {c: meta.value_label(question, c) for c in codes if c in spec}


def _listed(labels: dict) -> str:
    ordered = sorted(labels, key=lambda c: (0, c, "") if _is_number(c) else (1, 0, str(c)))
    return ", ".join(code_text(c) + (f' "{labels[c]}"' if labels[c] != code_text(c) else "")
                     for c in ordered)


def excluded(tracker, questions) -> dict[str, str]:
    """Question -> the user-missing codes left out of its base in any wave (labelled or
    in the data), in words: ``8 "Don`t know", 9 "Refusal"`` (labels of the latest
    wave).  Questions with nothing left out are not listed."""
    out = {}
    for question in questions:
        labels: dict = {}
        for survey in tracker:
            if question in survey.data.columns:
                labels.update(_missing_labels(survey.meta, question,
                                              _observed(survey.data[question])))
        if labels:
            out[question] = _listed(labels)
    return out


def tab_book(tracker) -> IndicatorCatalogue:
    """One share per answer of every labelled question of ``tracker`` (design columns
    left out): the catalogue of a tracker that has none.

    Each indicator is named ``<question>_<code>``; its label is the answer's value
    label and its wording the question's variable label (from the latest wave
    that asks it).  User-missing codes are out of every base.
    """
    indicators = []
    for question in _questions(tracker):
        asked = [s for s in tracker if question in s.data.columns]
        meta = asked[-1].meta
        observed = [v for s in asked for v in _observed(s.data[question])]
        wording = meta.label(question)
        for code in answer_codes(meta, question, observed):
            label = meta.value_label(question, code)
            indicators.append(Indicator(
                name=f"{question}_{code_text(code)}", question=question, kind="share",
                codes=(code,), label=f"{wording}: {label}", short_label=label,
                row_label=label, topic=wording, wording=wording))
    return IndicatorCatalogue(tuple(indicators))


def _questions(tracker) -> list[str]:
    """Every column of the waves but for design columns, latest wave first."""
    surveys = list(tracker)[::-1]
    design = {c for s in surveys for c in s.design.columns}
    return [c for c in dict.fromkeys(c for s in surveys for c in s.data.columns)
            if c not in design]
