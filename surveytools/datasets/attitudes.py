"""The attitude model: every person's answers in every wave.

Each question has a linear predictor

    eta = base + shift[wave] + sum(effect * covariate)
          + trust_loading * T + tech_loading * A

where T (general trust in institutions) and A (enthusiasm for technology)
are standard normal traits of the person, fixed across waves.  A 0-10
trust answer is ``round(eta + 1.6 * normal noise)`` clipped to 0-10; an
ordinal answer is the category of ``eta + logistic noise`` between the
scale's cut points (a yes/no answer: yes when above 0).  Separately, a
person says "Don't know" with probability

    expit(dk + 1.4 * low familiarity + 0.5 * medium familiarity
          + 0.4 * aged 75+ + 0.3 * no qualifications).

Covariates: ``age`` (per decade from 48), ``medium``/``low`` digital
familiarity, ``asian``/``black``/``mixed_other`` ethnicity, ``disabled``,
``degree``/``no_qual`` education, ``woman``, and the regions ``london``,
``wales``, ``scotland``, ``ni``.

All noise comes from :func:`~surveytools.datasets._random.person_uniforms`
keyed by the person's ``person_key``, so a person's answers are fixed: the
answers of a sample are exactly those its members have in the population.

Examples
--------
>>> from surveytools.datasets import generate_population
>>> pop = generate_population()
>>> att = population_attitudes(pop.head(1000), wave=2024)
>>> sorted(att["ai_use_month"].unique().tolist())
[1, 2, 8]
>>> "accept_exams" in population_attitudes(pop.head(5), wave=2021)
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from ._random import categorical, person_normals, person_uniforms
from .codebook import QUESTIONS, RECODES, WAVES, asked, check_wave

TRUST_NOISE_SD = 1.6
DK_EFFECTS = {"low": 1.4, "medium": 0.5, "aged_75": 0.4, "no_qual": 0.3}
#: cut points of the latent scale for each kind of ordinal question
CUTS = {
    "secure": (-1.5, 0.0, 1.8),
    "accept": (-2.0, -0.9, 0.0, 1.6),
    "awareness": (-3.0, 0.0, 2.8),
    "benefits": (-2.2, -0.8, 0.6, 2.2),
    "binary": (0.0,),
}
#: 5-point ai_benefits answer -> the 3-point answer of the 2021-2022 question
THREE_POINT = {1: 1, 2: 1, 3: 2, 4: 3, 5: 3}


@dataclass(frozen=True)
class Question:
    """The model of one question (see the module docstring)."""

    scale: str
    base: float
    effects: Mapping[str, float] = field(default_factory=dict)
    shift: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    trust: float = 0.0
    tech: float = 0.0
    dk: float | None = None
    dk_code: int = 8


def _trust(base, effects, shift=(0.0, 0.0, 0.0, 0.0), trust=1.3, tech=0.0):
    return Question("trust", base, effects, shift, trust, tech, dk=-3.4, dk_code=98)


def _ordinal(scale, base, effects, shift=(0.0, 0.0, 0.0, 0.0), trust=0.0, tech=0.0, dk=-3.0):
    return Question(scale, base, effects, shift, trust, tech, dk)


MODEL: Mapping[str, Question] = {
    "trust_nhs": _trust(7.0, {"age": 0.15, "medium": -0.3, "low": -0.7, "black": -0.5,
                              "disabled": -0.4}, (0.1, 0.0, -0.1, -0.2)),
    "trust_council": _trust(5.6, {"age": 0.1, "medium": -0.3, "low": -0.6, "black": -0.3,
                                  "disabled": -0.3}, (0.0, 0.0, -0.1, -0.1), trust=1.4),
    "trust_govt": _trust(4.6, {"age": 0.1, "medium": -0.3, "low": -0.7, "black": -0.7,
                               "mixed_other": -0.3, "disabled": -0.6, "scotland": -0.6,
                               "ni": -0.5, "wales": -0.3}, (0.2, -0.2, -0.3, -0.3), trust=1.6),
    "trust_police": _trust(6.0, {"age": 0.2, "low": -0.5, "black": -1.4, "mixed_other": -0.5,
                                 "asian": -0.3, "disabled": -0.4}, (0.0, -0.1, -0.2, -0.2),
                           trust=1.4),
    "trust_researchers": _trust(6.6, {"age": -0.05, "degree": 0.5, "no_qual": -0.4,
                                      "medium": -0.3, "low": -0.8}, (0.0, 0.05, 0.1, 0.1),
                                trust=1.2),
    "trust_banks": _trust(5.9, {"age": 0.1, "low": -0.6, "black": -0.3}),
    "trust_bigtech": _trust(4.2, {"age": -0.3, "medium": -0.4, "low": -1.0, "london": 0.4,
                                  "asian": 0.4, "woman": -0.3}, (0.0, -0.15, -0.3, -0.45),
                            trust=1.0, tech=0.8),
    "trust_social": _trust(3.2, {"age": -0.35, "medium": -0.3, "low": -0.8, "asian": 0.3},
                           (0.0, -0.1, -0.2, -0.3), trust=0.8, tech=0.8),
    "secure_nhs": _ordinal("secure", 0.8, {"age": 0.05, "low": -0.5, "disabled": -0.3},
                           trust=1.0),
    "secure_govt": _ordinal("secure", 0.0, {"low": -0.6, "black": -0.5, "scotland": -0.3},
                            (0.1, 0.0, -0.1, -0.15), trust=1.2),
    "secure_bigtech": _ordinal("secure", -0.4, {"age": -0.2, "low": -0.8},
                               (0.0, -0.1, -0.2, -0.3), trust=0.8, tech=0.6),
    "ai_awareness": _ordinal("awareness", 0.4, {"age": -0.35, "medium": -0.9, "low": -2.2,
                                                "degree": 0.8, "no_qual": -0.7, "woman": -0.5,
                                                "london": 0.2}, (0.0, 0.35, 0.9, 1.2),
                             tech=0.8, dk=None),
    "ai_use_month": _ordinal("binary", -1.6, {"age": -0.45, "medium": -1.0, "low": -2.4,
                                              "degree": 0.5}, (0.0, 0.3, 1.3, 1.9),
                             tech=0.7, dk=-4.0),
    "ai_benefits": _ordinal("benefits", 0.0, {"age": -0.15, "medium": -0.3, "low": -0.6,
                                              "woman": -0.4, "degree": 0.3},
                            (0.0, 0.05, 0.15, 0.2), trust=0.3, tech=1.0, dk=-2.2),
    "accept_diagnosis": _ordinal("accept", 0.9, {"medium": -0.3, "low": -0.8, "disabled": -0.2},
                                 (0.0, 0.15, 0.35, 0.5), trust=0.4, tech=0.7),
    "accept_fraud": _ordinal("accept", 1.6, {"age": 0.15, "low": -0.5}, trust=0.4, tech=0.5),
    "accept_facial": _ordinal("accept", 0.3, {"age": 0.25, "black": -1.0, "asian": -0.4,
                                              "mixed_other": -0.5, "low": -0.3},
                              (0.0, 0.0, -0.05, -0.1), trust=0.8),
    "accept_chatbot": _ordinal("accept", -0.3, {"age": -0.3, "medium": -0.4, "low": -1.0,
                                                "disabled": -0.3}, (0.0, 0.1, 0.3, 0.4),
                               tech=0.9),
    "accept_healthshare": _ordinal("accept", 0.7, {"age": 0.1, "low": -0.5, "degree": 0.3,
                                                   "black": -0.4}, trust=0.7),
    "accept_exams": _ordinal("accept", -0.9, {"age": -0.1, "low": -0.6},
                             (0.0, 0.0, 0.0, 0.15), tech=0.8),
    "accept_transport": _ordinal("accept", 1.1, {"age": 0.05, "low": -0.4, "london": 0.3},
                                 trust=0.4),
    "accept_policing_predict": _ordinal("accept", 0.0, {"age": 0.2, "black": -1.0,
                                                        "mixed_other": -0.4, "low": -0.4},
                                        trust=0.7),
}

AI_WORDS = {
    "positive": ("helpful", "exciting", "clever", "useful", "efficient", "progress",
                 "fascinating", "innovative"),
    "neutral": ("computers", "robots", "future", "technology", "algorithms", "automation",
                "intelligent", "déjà-vu"),
    "negative": ("scary", "worrying", "dangerous", "creepy", "unsure", "dystopian", "jobs",
                 "naïve", "clichéd"),
}
_CHATGPT_FROM = 2023


def covariates(population: pd.DataFrame) -> dict[str, np.ndarray]:
    """The model's covariates (numpy arrays) from population columns."""
    col = {c: population[c].to_numpy() for c in
           ("age", "digital_familiarity", "ethnicity", "disability", "education", "gender",
            "region")}
    return {
        "age": (col["age"] - 48) / 10.0,
        "aged_75": col["age"] >= 75,
        "medium": col["digital_familiarity"] == 2,
        "low": col["digital_familiarity"] == 3,
        "asian": col["ethnicity"] == 3,
        "black": col["ethnicity"] == 4,
        "mixed_other": np.isin(col["ethnicity"], (2, 5)),
        "disabled": col["disability"] == 1,
        "degree": col["education"] == 1,
        "no_qual": col["education"] == 4,
        "woman": col["gender"] == 2,
        "london": col["region"] == 7,
        "wales": col["region"] == 10,
        "scotland": col["region"] == 11,
        "ni": col["region"] == 12,
    }


def population_attitudes(population: pd.DataFrame, *, wave: int) -> pd.DataFrame:
    """Every person's answers to the tracker's questions in ``wave``.

    Parameters
    ----------
    population : pandas.DataFrame
        Rows of :func:`~surveytools.datasets.generate_population` (any subset).
    wave : {2021, 2022, 2023, 2024}

    Returns
    -------
    pandas.DataFrame
        Harmonised names and codes (2024's), indexed like ``population``:
        the questions asked in ``wave`` with "Don't know" codes; in 2021 and
        2022 ``ai_benefits`` holds the 3-point answer on the 5-point codes 2-4.

    Examples
    --------
    >>> from surveytools.datasets import generate_population
    >>> pop = generate_population()
    >>> a = population_attitudes(pop.iloc[:50], wave=2023)
    >>> b = population_attitudes(pop.iloc[20:30], wave=2023)
    >>> a.iloc[20:30].equals(b)
    True
    """
    check_wave(wave)
    keys = population["person_key"].to_numpy(dtype=np.uint64)
    x = covariates(population)
    traits = {"trust": person_normals(keys, "trait:trust"), "tech": person_normals(keys, "trait:tech")}
    out = {}
    for name in QUESTIONS:
        if name == "ai_word":
            out[name] = _ai_word(keys, traits["tech"], x, wave)
        elif asked(name, wave):
            out[name] = _answer(name, MODEL[name], keys, x, traits, wave)
    return pd.DataFrame(out, index=population.index)


def _answer(name, q: Question, keys, x, traits, wave) -> np.ndarray:
    eta = q.base + q.shift[WAVES.index(wave)] + q.trust * traits["trust"] + q.tech * traits["tech"]
    for cov, beta in q.effects.items():
        eta = eta + beta * x[cov]
    stream = f"{wave}:{name}"
    if q.scale == "trust":
        noise = TRUST_NOISE_SD * person_normals(keys, stream)
        codes = np.clip(np.rint(eta + noise), 0, 10).astype(np.int64)
    else:
        u = person_uniforms(keys, stream)
        latent = eta + np.log(u / (1.0 - u))
        codes = 1 + (latent[:, None] > np.array(CUTS[q.scale])).sum(axis=1)
        if q.scale == "binary":
            codes = 3 - codes  # above the cut point is "Yes" = 1
        if name in RECODES.get(wave, {}):
            recode = RECODES[wave][name]
            codes = np.array([recode[THREE_POINT[c]] for c in range(1, 6)])[codes - 1]
    if q.dk is not None:
        p_dk = expit(q.dk + sum(beta * x[cov] for cov, beta in DK_EFFECTS.items()))
        codes = np.where(person_uniforms(keys, stream + ":dk") < p_dk, q.dk_code, codes)
    return codes.astype(np.int64)


def _ai_word(keys, tech, x, wave) -> np.ndarray:
    stream = f"{wave}:ai_word"
    valence = tech + 0.1 * WAVES.index(wave) + person_normals(keys, stream + ":valence")
    tone = np.where(valence > 0.6, "positive", np.where(valence < -0.6, "negative", "neutral"))
    u = person_uniforms(keys, stream)
    words = np.empty(len(keys), dtype=object)
    for name, options in AI_WORDS.items():
        if name == "neutral" and wave >= _CHATGPT_FROM:
            options = (*options, "ChatGPT")
        chosen = tone == name
        words[chosen] = np.array(options, dtype=object)[
            categorical(u[chosen], np.full(len(options), 1.0 / len(options)))]
    blank = person_uniforms(keys, stream + ":blank") < np.where(x["low"], 0.2, 0.05)
    words[blank] = ""
    return words
