"""A council residents' survey with a stratified two-stage design.

The council's 578 output areas (OAs) are grouped into 8 strata of wards.
Stage 1: in each stratum a simple random sample of OAs is drawn without
replacement (``fpc`` holds the stratum's number of OAs).  Stage 2: 30
addresses are drawn in each sampled OA and one adult answers at about 45%
of them.  The design weight is the inverse of the selection probability,
``(N_h / n_h) * (adults in the OA / respondents in the OA)``, so the weights
sum to an estimate of the council's adults.

What makes the design matter: attitudes share an area effect within each
OA (a normal random effect per OA, so answers are correlated within a PSU
and the design effect exceeds 1), and the strata differ (the North estates
trust the council less, the University quarter is younger and keener on an
AI chatbot).

Examples
--------
>>> df = generate_council()
>>> df["stratum"].nunique(), bool(1500 <= len(df) <= 2500)
(8, True)
>>> bool((df.groupby("stratum")["fpc"].nunique() == 1).all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._random import categorical, rng
from .attitudes import CUTS
from .population import AGE_SHARES, DEFAULT_SEED

#: per stratum: OAs in the stratum, OAs sampled
OAS = np.array([62, 85, 74, 96, 88, 70, 45, 58])
SAMPLED_OAS = np.array([14, 16, 14, 18, 16, 14, 12, 12])
ADDRESSES_PER_OA = 30
RESPONSE_RATE = 0.45
#: per stratum effects on the latent scales: trust in the council, chatbot, satisfaction
STRATUM_TRUST = np.array([-0.3, 0.0, -1.2, 0.3, 0.2, 0.4, 0.5, -0.2])
STRATUM_CHATBOT = np.array([0.1, 0.0, -0.3, 0.0, 0.1, -0.5, 0.8, -0.2])
STRATUM_SATISFACTION = np.array([-0.2, 0.1, -0.8, 0.4, 0.3, 0.3, 0.0, -0.1])
#: standard deviation of the OA (PSU) random effect on each latent scale
OA_SD = {"trust": 0.6, "chatbot": 0.35, "satisfaction": 0.5}
# Age profile tilts: the University quarter is young, the villages and coast older.
_AGE_TILT = {7: np.array([4.0, 1.8, 0.8, 0.6, 0.5, 0.4, 0.3]),
             6: np.array([0.6, 0.6, 0.9, 1.1, 1.3, 1.4, 1.4]),
             8: np.array([0.7, 0.7, 0.8, 1.0, 1.2, 1.4, 1.5])}
# Owner, private renter, social renter by stratum.
TENURE = np.array([[0.35, 0.40, 0.25], [0.60, 0.25, 0.15], [0.30, 0.15, 0.55],
                   [0.75, 0.15, 0.10], [0.70, 0.18, 0.12], [0.80, 0.12, 0.08],
                   [0.20, 0.70, 0.10], [0.62, 0.20, 0.18]])


def generate_council(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Respondents of the example council residents' survey (2024).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`surveytools.datasets.codebook.COUNCIL`: ``stratum``,
        ``psu``, ``fpc`` (OAs in the stratum) and ``weight`` (design weight)
        for ``st.Design(weight="weight", strata="stratum", psu="psu", fpc="fpc")``.
    """
    gen = rng(seed, "council")
    stratum = np.repeat(np.arange(1, 9), SAMPLED_OAS)
    psu = stratum * 100 + np.concatenate([np.sort(gen.choice(n, m, replace=False)) + 1
                                          for n, m in zip(OAS, SAMPLED_OAS)])
    adults = gen.integers(180, 361, size=len(psu))
    answered = gen.binomial(ADDRESSES_PER_OA, RESPONSE_RATE, size=len(psu))
    weight_psu = OAS[stratum - 1] / SAMPLED_OAS[stratum - 1] * adults / answered

    row_psu = np.repeat(np.arange(len(psu)), answered)
    s = stratum[row_psu]
    n = len(row_psu)
    age_probs = np.tile(AGE_SHARES, (n, 1))
    for code, tilt in _AGE_TILT.items():
        age_probs[s == code] *= tilt
    age_probs /= age_probs.sum(axis=1, keepdims=True)
    age_band = categorical(gen.random(n), age_probs) + 1
    gender = np.where(gen.random(n) < 0.51, 2, 1)
    disabled = gen.random(n) < 0.12 + 0.05 * age_band
    digital_latent = 2.0 - 0.55 * age_band - 0.8 * disabled + gen.logistic(size=n)
    digital = np.where(digital_latent > -0.3, 1, np.where(digital_latent < -2.6, 3, 2))
    tenure = categorical(gen.random(n), TENURE[s - 1]) + 1

    def area_effect(name):
        return gen.normal(0.0, OA_SD[name], size=len(psu))[row_psu]

    low = digital == 3
    age_c = (age_band - 4) / 2.0
    trust = np.clip(np.rint(5.3 + STRATUM_TRUST[s - 1] + area_effect("trust") + 0.2 * age_c
                            - 0.6 * low - 0.4 * (tenure == 3) + 2.0 * gen.normal(size=n)), 0, 10)
    chatbot = _ordinal(-0.2 + STRATUM_CHATBOT[s - 1] + area_effect("chatbot") - 0.5 * age_c
                       - 1.0 * low, gen)
    satisfaction = _ordinal(0.6 + STRATUM_SATISFACTION[s - 1] + area_effect("satisfaction")
                            + 0.1 * age_c, gen)
    p_dk = 1.0 / (1.0 + np.exp(3.2 - 1.2 * low))
    frame = pd.DataFrame({
        "resp_id": np.arange(1, n + 1),
        "stratum": s,
        "psu": psu[row_psu],
        "fpc": OAS[s - 1],
        "weight": np.round(weight_psu[row_psu], 6),
        "age_band": age_band,
        "gender": np.where(gen.random(n) < 0.006, 9, gender),
        "disability": np.where(gen.random(n) < 0.02, 9, np.where(disabled, 1, 2)),
        "digital_familiarity": digital,
        "tenure": tenure,
        "trust_council": np.where(gen.random(n) < p_dk, 98, trust),
        "accept_chatbot": np.where(gen.random(n) < p_dk, 8, chatbot),
        "satisfaction": np.where(gen.random(n) < p_dk / 2, 8, satisfaction),
    })
    return frame.astype({c: np.int64 for c in frame.columns if c != "weight"})


def _ordinal(eta: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    latent = eta + gen.logistic(size=len(eta))
    return 1 + (latent[:, None] > np.array(CUTS["accept"])).sum(axis=1)
