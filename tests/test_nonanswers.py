"""Non-answer detection: label patterns, sentinel values, the audit and the estimator warning."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools.core.nonanswers import (DEFAULT_PATTERNS, DONT_KNOW_PATTERNS,
                                       OUT_OF_BASE_PATTERNS, audit, dont_know_kind,
                                       looks_like_non_answer, sentinel_codes)

NON_ANSWERS = ["Don't know", "Don`t know", "Don\u2019t know", "Dont know", "DON'T KNOW", "DK",
               "(DK)", "Refused", "Refusal", "Prefer not to say", "Not applicable",
               "Item not applicable", "skip, version off route", "Skipped", "Not asked",
               "Not answered", "No answer", "DK/Refused", "Can't say"]
ANSWERS = ["Strongly agree", "A great deal", "Not at all", "Not very much", "Know a lot",
           "Very acceptable", "Not acceptable", "Disagree", "Dkw", "None of these"]


@pytest.mark.parametrize("label", NON_ANSWERS)
def test_default_patterns_catch_non_answers(label):
    assert looks_like_non_answer(label)


@pytest.mark.parametrize("label", ANSWERS)
def test_default_patterns_leave_answers_alone(label):
    assert not looks_like_non_answer(label)


@pytest.mark.parametrize("values, expected", [
    ([0, 1, 5, 10, 9999], {9999}),
    ([0, 1, 5, 10, 98, 99], {98, 99}),
    ([1, 2, 3, 4, 5, 9], {9}),
    ([1, 2, 3, 4, 5, 6, 7, 9], set()),        # 9 on a 1-7 scale is ambiguous: not flagged
    (list(range(16, 100)), set()),            # ages up to 99
    ([-9, -1, 0, 1, 2], {-9, -1}),
    ([-1, 1, 2, 3, 4, 5], {-1}),
    ([-2, -1, 0, 1, 2], set()),               # a -2..2 scale: the negatives are answers
    ([-250, -10, -1, 0, 40], set()),          # an amount: negative answers on the item
    ([1.5, 2.5, 99], {99}),
])
def test_sentinel_codes(values, expected):
    assert set(sentinel_codes(values)) == expected


def test_labelled_codes_are_never_sentinels():
    assert sentinel_codes([1, 2, 3, 99], labelled=[99]) == {}


def test_audit_lists_undeclared_codes_with_counts():
    data = pd.DataFrame({"GovTrust": [1, 2, 3, 4, 8, 8, 9, -1],
                         "score": [0, 3, 7, 10, 9999, 9999, 5, 5],
                         "text": ["a", "b", "c", "d", "e", "f", "g", "h"]})
    meta = st.Metadata(value_labels={"GovTrust": {1: "A great deal", 4: "Not at all",
                                                  8: "Don`t know", 9: "Refusal",
                                                  -1: "skip, version off route"}},
                       missing={"GovTrust": st.MissingSpec(ranges=((-np.inf, -1),))})
    found = audit(data, meta)
    assert found[["variable", "code", "count"]].values.tolist() == [
        ["GovTrust", 8, 2], ["GovTrust", 9, 1], ["score", 9999, 2]]
    fixed = meta.with_missing("GovTrust", [8, 9]).with_missing("score", [9999])
    assert audit(data, fixed).empty
    assert fixed.missing["GovTrust"].ranges == ((-np.inf, -1),)  # the skip range stays


def test_audit_ignores_codes_counted_as_answers():
    data = pd.DataFrame({"q": [1, 2, 8]})
    meta = st.Metadata(value_labels={"q": {1: "Yes", 2: "No", 8: "Don't know"}})
    assert len(audit(data, meta)) == 1
    assert audit(data, meta.count_as_answer("q", [8])).empty


def _real_style_survey():
    """A BSA-style item: only the skip range declared, Don`t know and Refusal left as answers."""
    rng = np.random.default_rng(7)
    n = 400
    q = rng.choice([1, 2, 3, 4, 8, 9, -1], n, p=[0.2, 0.3, 0.2, 0.1, 0.1, 0.05, 0.05])
    other = rng.choice([1, 2, 3, 4, -1], n, p=[0.25, 0.25, 0.2, 0.1, 0.2])
    data = pd.DataFrame({"wt": rng.uniform(0.5, 2, n), "GovTrust": q, "Other": other,
                         "g": rng.choice([1, 2], n)})
    meta = st.Metadata(
        value_labels={"GovTrust": {1: "Always", 2: "Most of the time", 3: "Only some of the time",
                                   4: "Almost never", 8: "Don`t know", 9: "Refusal",
                                   -1: "Item not applicable"},
                      "Other": {1: "A", 2: "B", 3: "C", 4: "D", -1: "skip"}},
        missing={c: st.MissingSpec(ranges=((-np.inf, -1),)) for c in ("GovTrust", "Other")},
        file="bsa.sav")
    return st.Survey(data, st.Design(weight="wt"), meta)


@pytest.mark.parametrize("call", [
    lambda s: s.mean("GovTrust"),
    lambda s: s.proportion("GovTrust", value=[1, 2]),
    lambda s: s.distribution("GovTrust"),
    lambda s: s.mean("GovTrust", by="g"),
])
def test_every_estimator_warns_once_per_variable(call):
    survey = _real_style_survey()
    with pytest.warns(st.UndeclaredMissingWarning) as caught:
        call(survey)
    message = str(caught[0].message)
    assert "bsa.sav" in message and "GovTrust" in message and "8 (Don`t know" in message
    assert "9 (Refusal" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error", st.UndeclaredMissingWarning)
        call(survey)  # the same Survey does not warn twice


def test_the_warning_hint_works_and_leaves_other_variables_alone():
    survey = _real_style_survey()
    before_other = survey.mean("Other").table.iloc[0]
    with pytest.warns(st.UndeclaredMissingWarning) as caught:
        survey.mean("GovTrust")
    hint = str(caught[0].message).split("Declare them: ")[1].split("; or")[0]
    scope = {"survey": survey}
    exec(hint, {}, scope)  # the hint as printed
    fixed = scope["survey"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", st.UndeclaredMissingWarning)
        mean = fixed.mean("GovTrust").table.iloc[0]
    answers = survey.data["GovTrust"].between(1, 4)
    expected = np.average(survey.data.loc[answers, "GovTrust"], weights=survey.data.loc[answers, "wt"])
    assert mean["estimate"] == pytest.approx(expected, rel=1e-12)
    after_other = fixed.mean("Other").table.iloc[0]
    assert (after_other["estimate"], after_other["n"]) == (before_other["estimate"], before_other["n"])


def test_metadata_replace_cannot_wipe_other_declarations():
    meta = _real_style_survey().meta
    with pytest.raises(st.DataError, match="would drop the user-missing codes") as caught:
        meta.replace(missing={"GovTrust": [8, 9]})
    assert "Other" in caught.value.column and "with_missing" in str(caught.value)
    kept = meta.replace(missing={**meta.missing, "GovTrust": st.MissingSpec(values=(8,))})
    assert kept.missing["Other"] == meta.missing["Other"]


def test_with_missing_changes_one_variable_only():
    meta = _real_style_survey().meta
    new = meta.with_missing("GovTrust", [8, 9])
    assert new.missing["Other"] is meta.missing["Other"] or new.missing["Other"] == meta.missing["Other"]
    assert new.missing["GovTrust"].values == (8, 9)
    assert meta.missing["GovTrust"].values == ()  # the original is unchanged
    back = new.without_missing("GovTrust", [9])
    assert back.missing["GovTrust"].values == (8,)
    assert back.missing["GovTrust"].ranges == meta.missing["GovTrust"].ranges


def test_counted_answers_survive_json_round_trip():
    meta = st.Metadata(value_labels={"q": {8: "Don't know"}}).count_as_answer("q", [8.0])
    again = st.Metadata.from_json(meta.to_json())
    assert again == meta and again.counted_as_answers["q"] == (8,)


# -- the kind of a non-answer: in the base of dont_know = "include", or out --------
@pytest.mark.parametrize("label, kind", [
    ("Don't know", "dont_know"), ("Don`t know", "dont_know"), ("DK", "dont_know"),
    ("Can't choose", "dont_know"), ("Not sure", "dont_know"), ("No opinion", "dont_know"),
    ("Don't know / Refused", "dont_know"),
    ("Refused", "out"), ("Prefer not to say", "out"), ("Not asked", "out"),
    ("Not applicable", "out"), ("Skipped", "out"), ("Inapplicable", "out"),
    ("No answer", "out"), ("System missing", "out"), ("Missing", "out"),
    ("Other", None), ("Very likely", None)])
def test_kind_of_a_labelled_code(label, kind):
    assert dont_know_kind(7, label) == kind


def test_kind_of_an_unlabelled_code():
    assert dont_know_kind(-8, None) == "out" and dont_know_kind(-99, "") == "out"
    assert dont_know_kind(97, None) is None and dont_know_kind(9999, None) is None


def test_the_dont_know_patterns_are_those_of_the_non_answer_audit():
    """Each kind's patterns are the audit's, split: no pattern in two places."""
    assert set(DONT_KNOW_PATTERNS) < set(DEFAULT_PATTERNS)
    assert set(DEFAULT_PATTERNS) <= set(DONT_KNOW_PATTERNS) | set(OUT_OF_BASE_PATTERNS)
    assert not set(DONT_KNOW_PATTERNS) & set(OUT_OF_BASE_PATTERNS)


def test_kind_of_numpy_and_float_codes_and_any_apostrophe():
    assert dont_know_kind(np.int64(-1), None) == "out" and dont_know_kind(-8.0, None) == "out"
    assert dont_know_kind(np.float64(98.0), None) is None and dont_know_kind(True, None) is None
    assert dont_know_kind("-8", None) is None               # a text code is judged by its label
    assert dont_know_kind(8, "Can\u2019t choose") == dont_know_kind(8, "  Not sure ") == "dont_know"
