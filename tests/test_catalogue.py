"""The indicator catalogue and breakdowns: the bundled TOML files and every rejection."""

from pathlib import Path

import pytest

from surveytools.indicators.catalogue import Indicator, IndicatorCatalogue
from surveytools.indicators.catalogue_file import load_breakdowns, load_indicators
from surveytools.datasets.codebook import QUESTIONS, TRACKER
from surveytools.core.errors import ManifestError
from surveytools.core.meta import Metadata, MissingSpec

DATA = Path(__file__).resolve().parents[1] / "data" / "tracker"

META = Metadata(
    variable_labels={v.name: v.label for v in TRACKER},
    value_labels={v.name: dict(v.value_labels) for v in TRACKER if v.value_labels},
    missing={v.name: MissingSpec(values=v.missing) for v in TRACKER if v.missing},
)


def write(tmp_path, text, name="x.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_catalogue_covers_every_attitude_question():
    catalogue = load_indicators(DATA / "indicators.toml").check(META)
    wanted = {q for q in QUESTIONS if q != "ai_word"}
    assert wanted <= set(catalogue.questions)
    assert len([q for q in catalogue.questions if q.startswith("trust_")]) == 8
    assert len([q for q in catalogue.questions if q.startswith("secure_")]) == 3
    assert len([q for q in catalogue.questions if q.startswith("accept_")]) == 8
    assert catalogue["trust_nhs_high"].codes == (7, 8, 9, 10)
    net = catalogue["accept_facial_net"]
    assert (net.kind, net.codes, net.minus) == ("net", (4, 5), (1, 2))
    assert catalogue["ai_use_month_yes"].dont_know == "include"
    assert {i.kind for i in catalogue} == {"share", "net", "mean"}


def test_bundled_breakdowns_resolve_labels_from_metadata():
    breakdowns = load_breakdowns(DATA / "breakdowns.toml").check(META)
    age = breakdowns["age"]
    assert [g.label for g in age.groups] == ["18-34", "35-54", "55+"]
    assert age.mapping() == {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 3}
    ethnicity = breakdowns["ethnicity"]
    # "Prefer not to say" (9, user-missing) is no group
    assert [g.code for g in ethnicity.groups] == ["1", "2", "3", "4", "5"]
    assert ethnicity.groups[3].label == "Black, Black British, Caribbean or African"
    assert breakdowns["digital"].label == "Digital familiarity"
    assert len(breakdowns["region"].groups) == 12


def test_loaded_catalogue_is_immutable():
    catalogue = load_indicators(DATA / "indicators.toml")
    with pytest.raises(AttributeError):
        catalogue.indicators = ()
    first = catalogue.indicators[0]
    changed = first.replace(label="other")
    assert first.label != "other" and changed.label == "other"


INDICATOR = '[[indicator]]\nname = "a"\nquestion = "{q}"\nkind = "{kind}"\n{extra}\n'


@pytest.mark.parametrize("text, message", [
    (INDICATOR.format(q="trust_nhs", kind="ratio", extra=""), "unknown kind"),
    (INDICATOR.format(q="trust_nhs", kind="share", extra=""), "codes must be"),
    (INDICATOR.format(q="trust_nhs", kind="share", extra='codes = ["7"]'), "codes must be"),
    (INDICATOR.format(q="trust_nhs", kind="share", extra="codes = [7, 7]"), "a code twice"),
    (INDICATOR.format(q="accept_fraud", kind="net", extra="plus = [4, 5]\nminus = [2, 4]"),
     r"codes \[4\] are in both"),
    (INDICATOR.format(q="ai_awareness", kind="mean", extra='dont_know = "include"'),
     "cannot include Don't know"),
    (INDICATOR.format(q="trust_nhs", kind="share", extra='codes = [7]\ndont_know = "maybe"'),
     "unknown dont_know"),
    (INDICATOR.format(q="trust_nhs", kind="mean", extra="codes = [7]"), "does not apply"),
    (INDICATOR.format(q="trust_nhs", kind="mean", extra="colour = 1"),
     r"column 'colour': unknown key in \[\[indicator\]\] #1; expected one of codes"),
    (INDICATOR.format(q="trust_nhs", kind="mean", extra="") * 2,
     r"two \[\[indicator\]\] tables have the same name.*found a \(numbers 1 and 2\)"),
    ('[[indicators]]\nname = "a"\n',
     r"unknown key in the top level.*Fix: did you mean 'indicator'\?"),
    ("indicator = [1]\n", r"\[\[indicator\]\] #1 must be a table"),
    (INDICATOR.format(q="trust_nhs", kind="mean", extra="topic = 3"), "topic must be text"),
    ("[[indicator]\nname=", "not valid TOML"),
])
def test_bad_catalogue_names_file_and_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ManifestError, match=message) as err:
        load_indicators(path)
    assert str(path) in str(err.value)


def test_missing_catalogue_file(tmp_path):
    with pytest.raises(ManifestError, match="nope.toml: catalogue file not found"):
        load_indicators(tmp_path / "nope.toml")
    with pytest.raises(ManifestError, match="breakdowns file not found"):
        load_breakdowns(tmp_path / "nope.toml")


def test_unknown_question_is_named_with_a_suggestion(tmp_path):
    path = write(tmp_path, INDICATOR.format(q="trust_nhss", kind="mean", extra=""))
    with pytest.raises(ManifestError, match="trust_nhss") as err:
        load_indicators(path).check(META)
    assert "[[indicator]] #1 ('a')" in str(err.value)
    assert "did you mean 'trust_nhs'" in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("question, codes", [
    ("accept_fraud", "[4, 6]"),       # 6 is no answer
    ("accept_fraud", "[4, 8]"),       # 8 is Don't know (user-missing)
    ("trust_nhs", "[7, 11]"),         # outside the labelled 0-10 scale
    ("trust_nhs", "[7.5]"),           # not a whole point of the scale
])
def test_codes_that_are_not_answers_are_rejected(tmp_path, question, codes):
    path = write(tmp_path, INDICATOR.format(q=question, kind="share", extra=f"codes = {codes}"))
    with pytest.raises(ManifestError, match="are not answers") as err:
        load_indicators(path).check(META)
    assert "Very acceptable" in str(err.value) or "Trust completely" in str(err.value)


def test_unlabelled_inner_points_of_a_0_10_scale_are_answers():
    catalogue = IndicatorCatalogue((Indicator(name="t", question="trust_nhs", kind="share",
                                              codes=(5, 6, 7)),))
    assert catalogue.check(META) is catalogue


BREAKDOWN = '[[breakdown]]\nname = "{name}"\nvariable = "{var}"\n{extra}\n'


@pytest.mark.parametrize("text, message", [
    (BREAKDOWN.format(name="age", var="age_band",
                      extra='groups = [{label = "young", codes = [1, 2]}, '
                            '{label = "old", codes = [2, 3]}]'),
     "code 2 is already in group 'young'"),
    (BREAKDOWN.format(name="total", var="age_band", extra=""), "reserved"),
    (BREAKDOWN.format(name="a", var="age_band", extra='groups = [{label = "x"}]'),
     "codes must be"),
    (BREAKDOWN.format(name="a", var="age_band", extra="label = 1"), "label must be text"),
    (BREAKDOWN.format(name="a", var="age_band", extra='groups = "x"'), "must be a list"),
    (BREAKDOWN.format(name="a", var="age_band", extra="") * 2, "have the same name"),
])
def test_bad_breakdowns_are_rejected(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ManifestError, match=message) as err:
        load_breakdowns(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("extra, var, message", [
    ("", "age_bnd", "not in the data"),
    ('groups = [{label = "x", codes = [1, 9]}]', "gender", "codes \\[9\\] that are not answers"),
    ("", "age", "no value labels"),
])
def test_breakdowns_checked_against_metadata(tmp_path, extra, var, message):
    path = write(tmp_path, BREAKDOWN.format(name="b", var=var, extra=extra))
    with pytest.raises(ManifestError, match=message) as err:
        load_breakdowns(path).check(META)
    assert "[[breakdown]] #1 ('b')" in str(err.value)
