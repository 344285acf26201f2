"""The variables of the example files: names, wording, codes, missing codes.

One table drives everything that describes a variable: the SPSS metadata,
the CSV codebook, the manifest's harmonisation and the README's codebook
tables.  Names and codes follow the shared contract; harmonised names are
those of the latest wave (2024).

Harmonisation built into the tracker (the files differ, the manifest
reconciles them):

* ``trust_govt`` is called ``trust_government`` in 2021 and 2022;
* ``ai_benefits`` is a 3-point scale in 2021 and 2022 whose codes 1, 2, 3
  map to the middle codes 2, 3, 4 of the later 5-point scale;
* ``accept_exams`` is first asked in 2023.

Examples
--------
>>> [v.name for v in tracker_variables(2021)][:3]
['resp_id', 'weight', 'mode']
>>> "trust_government" in {v.name for v in tracker_variables(2022)}
True
>>> "accept_exams" in {v.name for v in tracker_variables(2022)}
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from ..core.errors import DataError

DONT_KNOW = "Don't know"
PREFER_NOT = "Prefer not to say"
WAVES = (2021, 2022, 2023, 2024)


@dataclass(frozen=True)
class Variable:
    """What a file says about one variable.

    Parameters
    ----------
    name, label : str
        Column name and question wording (the SPSS variable label).
    measure : {"nominal", "ordinal", "scale"}
    value_labels : mapping of code -> label
    missing : tuple of int
        User-missing codes ("Don't know", "Prefer not to say").
    kind : {"numeric", "string"}
    """

    name: str
    label: str
    measure: str
    value_labels: Mapping[int, str] = field(default_factory=dict)
    missing: tuple[int, ...] = ()
    kind: str = "numeric"

    def __post_init__(self) -> None:
        object.__setattr__(self, "value_labels", MappingProxyType(dict(self.value_labels)))

    @property
    def substantive_codes(self) -> tuple[int, ...]:
        """The labelled codes that are answers (not user-missing)."""
        return tuple(c for c in self.value_labels if c not in self.missing)


def _numbered(*labels: str, start: int = 1) -> dict[int, str]:
    return {i: text for i, text in enumerate(labels, start=start)}


TRUST_SCALE = {0: "0 - Do not trust at all", 10: "10 - Trust completely", 98: DONT_KNOW}
SECURE_SCALE = {**_numbered("Not at all", "Not very", "Fairly", "Very"), 8: DONT_KNOW}
ACCEPT_SCALE = {
    **_numbered(
        "Very unacceptable", "Fairly unacceptable", "Neither acceptable nor unacceptable",
        "Fairly acceptable", "Very acceptable",
    ),
    8: DONT_KNOW,
}
BENEFITS_5 = {
    **_numbered(
        "Risks far outweigh the benefits", "Risks slightly outweigh the benefits",
        "Benefits and risks are about equal", "Benefits slightly outweigh the risks",
        "Benefits far outweigh the risks",
    ),
    8: DONT_KNOW,
}
BENEFITS_3 = {
    **_numbered("Risks outweigh the benefits", "Benefits and risks are about equal",
                "Benefits outweigh the risks"),
    8: DONT_KNOW,
}
AGE_BANDS = _numbered("18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
REGIONS = _numbered(
    "North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West", "Wales", "Scotland",
    "Northern Ireland",
)
GENDERS = {**_numbered("Man", "Woman"), 9: PREFER_NOT}
ETHNICITIES = {
    **_numbered("White", "Mixed or multiple ethnic groups", "Asian or Asian British",
                "Black, Black British, Caribbean or African", "Other ethnic group"),
    9: PREFER_NOT,
}
EDUCATIONS = {
    **_numbered("Degree or above", "A level or equivalent", "GCSE or equivalent",
                "No qualifications"),
    9: PREFER_NOT,
}
SOCIAL_GRADES = {**_numbered("AB", "C1", "C2", "DE"), 9: PREFER_NOT}
DISABILITY = {**_numbered("Yes", "No"), 9: PREFER_NOT}
DIGITAL = _numbered("High", "Medium", "Low")
DISABILITY_LABEL = "Long-standing illness or disability that limits daily activities"

TRUST_ORGS = {
    "nhs": "the NHS",
    "council": "your local council",
    "govt": "the UK government",
    "police": "the police",
    "researchers": "university researchers",
    "banks": "banks and other financial organisations",
    "bigtech": "big technology companies",
    "social": "social media companies",
}
SECURE_ORGS = {"nhs": "the NHS", "govt": "the UK government", "bigtech": "big technology companies"}
ACCEPT_USES = {
    "diagnosis": "AI being used to help doctors diagnose illnesses",
    "fraud": "Banks using AI to spot fraudulent payments",
    "facial": "The police using live facial recognition in public places",
    "chatbot": "Public services using AI chatbots to answer people's questions",
    "healthshare": "The NHS sharing health records with researchers to develop new treatments",
    "exams": "AI being used to mark school exams",
    "transport": "Using data about people's journeys to plan public transport",
    "policing_predict": "The police using AI to predict where crimes are likely to happen",
}
_ACCEPT_STEM = "How acceptable or unacceptable do you find the following? "


def _demographics() -> list[Variable]:
    return [
        Variable("resp_id", "Respondent identifier", "nominal"),
        Variable("weight", "Final weight (raked to population margins, mean 1 in each wave)",
                 "scale"),
        Variable("mode", "Mode of interview", "nominal", _numbered("Online panel", "Telephone boost")),
        Variable("age", "Age in years", "scale"),
        Variable("age_band", "Age band", "ordinal", AGE_BANDS),
        Variable("gender", "Gender", "nominal", GENDERS, (9,)),
        Variable("region", "Region or nation of the UK", "nominal", REGIONS),
        Variable("ethnicity", "Ethnic group", "nominal", ETHNICITIES, (9,)),
        Variable("education", "Highest qualification", "ordinal", EDUCATIONS, (9,)),
        Variable("social_grade", "Social grade (chief income earner)", "ordinal", SOCIAL_GRADES,
                 (9,)),
        Variable("disability", DISABILITY_LABEL, "nominal", DISABILITY, (9,)),
        Variable("digital_familiarity",
                 "Digital familiarity (derived from how often and how confidently the "
                 "respondent uses the internet)", "ordinal", DIGITAL),
    ]


def _attitudes() -> list[Variable]:
    out = [
        Variable(f"trust_{key}", f"How much do you trust {org} to use data about you?",
                 "ordinal", TRUST_SCALE, (98,))
        for key, org in TRUST_ORGS.items()
    ]
    out += [
        Variable(f"secure_{key}", f"How much do you trust {org} to keep data about you secure?",
                 "ordinal", SECURE_SCALE, (8,))
        for key, org in SECURE_ORGS.items()
    ]
    out += [
        Variable("ai_awareness",
                 "Which of these best describes how much you know about artificial "
                 "intelligence (AI)?", "ordinal",
                 _numbered("Never heard of AI", "Heard of AI but know little or nothing about it",
                           "Know something about AI", "Could explain AI in detail")),
        Variable("ai_use_month",
                 "In the last month, have you knowingly used a tool or service that uses AI, "
                 "such as a chatbot?", "nominal", {1: "Yes", 2: "No", 8: DONT_KNOW}, (8,)),
        Variable("ai_benefits",
                 "Overall, do you think the benefits of AI outweigh the risks, or the risks "
                 "outweigh the benefits?", "ordinal", BENEFITS_5, (8,)),
    ]
    out += [
        Variable(f"accept_{key}", _ACCEPT_STEM + use, "ordinal", ACCEPT_SCALE, (8,))
        for key, use in ACCEPT_USES.items()
    ]
    out.append(Variable("ai_word", "What one word comes to mind when you think about AI?",
                        "nominal", kind="string"))
    return out


#: Harmonised variables (the names and codes of the latest wave), in file order.
TRACKER = tuple(_demographics() + _attitudes())
TRACKER_BY_NAME = MappingProxyType({v.name: v for v in TRACKER})
DEMOGRAPHICS = tuple(v.name for v in _demographics())
QUESTIONS = tuple(v.name for v in _attitudes())

#: name in that wave's file -> harmonised name
RENAMES = MappingProxyType({2021: {"trust_government": "trust_govt"},
                            2022: {"trust_government": "trust_govt"}})
#: harmonised name -> {code in that wave's file: harmonised code}
RECODES = MappingProxyType({2021: {"ai_benefits": {1: 2, 2: 3, 3: 4}},
                            2022: {"ai_benefits": {1: 2, 2: 3, 3: 4}}})
FIRST_ASKED = MappingProxyType({"accept_exams": 2023})
_OLD_SCALES = {"ai_benefits": BENEFITS_3}


def check_wave(wave: int) -> None:
    """Reject a wave the example tracker does not have."""
    if wave not in WAVES:
        raise DataError("unknown wave of the example tracker", column="wave",
                        expected="one of " + ", ".join(map(str, WAVES)), found=repr(wave),
                        hint="pass wave=2021, 2022, 2023 or 2024")


def asked(name: str, wave: int) -> bool:
    """Whether the harmonised variable ``name`` is in wave ``wave``."""
    return wave >= FIRST_ASKED.get(name, WAVES[0])


def file_name(name: str, wave: int) -> str:
    """The name the harmonised variable ``name`` has in wave ``wave``'s file."""
    old = {new: old for old, new in RENAMES.get(wave, {}).items()}
    return old.get(name, name)


def tracker_variables(wave: int) -> list[Variable]:
    """The variables of wave ``wave``'s file, as that file names and codes them."""
    out = []
    for var in TRACKER:
        if not asked(var.name, wave):
            continue
        if var.name in RECODES.get(wave, {}):
            var = replace(var, value_labels=_OLD_SCALES[var.name])
        out.append(replace(var, name=file_name(var.name, wave)))
    return out


COUNCIL_STRATA = _numbered(
    "Town centre", "Riverside", "North estates", "East suburbs", "West suburbs",
    "Southern villages", "University quarter", "Coastal wards",
)
COUNCIL = (
    Variable("resp_id", "Respondent identifier", "nominal"),
    Variable("stratum", "Sampling stratum (group of wards)", "nominal", COUNCIL_STRATA),
    Variable("psu", "Primary sampling unit (output area) identifier", "nominal"),
    Variable("fpc", "Number of output areas in the stratum (first-stage population size)",
             "scale"),
    Variable("weight", "Design weight (inverse selection probability; sums to adults)", "scale"),
    Variable("age_band", "Age band", "ordinal", AGE_BANDS),
    Variable("gender", "Gender", "nominal", GENDERS, (9,)),
    Variable("disability", DISABILITY_LABEL, "nominal", DISABILITY, (9,)),
    Variable("digital_familiarity", "Digital familiarity", "ordinal", DIGITAL),
    Variable("tenure", "Housing tenure", "nominal",
             _numbered("Owner occupier", "Private renter", "Social renter")),
    Variable("trust_council", "How much do you trust the council to use data about you?",
             "ordinal", TRUST_SCALE, (98,)),
    Variable("accept_chatbot",
             "How acceptable or unacceptable would you find the council using an AI chatbot "
             "to answer residents' questions?", "ordinal", ACCEPT_SCALE, (8,)),
    Variable("satisfaction",
             "Overall, how satisfied or dissatisfied are you with the way the council runs "
             "things?", "ordinal",
             {**_numbered("Very dissatisfied", "Fairly dissatisfied",
                          "Neither satisfied nor dissatisfied", "Fairly satisfied",
                          "Very satisfied"), 8: DONT_KNOW}, (8,)),
)
