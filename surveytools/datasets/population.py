"""A synthetic UK adult population with realistic joint structure.

200,000 synthetic people stand for the UK's 53 million adults (each for
265).  Demographics are drawn in a chain, each given the ones before:

region -> age band (London younger; the South West, Wales and Scotland
older) -> age in years -> gender (more women at older ages) -> ethnicity
(by region, London most diverse; younger adults more diverse) -> education
(older adults more often without qualifications; more graduates in London)
-> disability (rising with age, more common without qualifications) ->
social grade (by education) -> digital familiarity (lower with age,
disability and no qualifications).

Margins are rounded versions of published 2021 census figures; the joint
structure is a plausible model, not an estimate.

Examples
--------
>>> pop = generate_population()
>>> len(pop), int(pop["pid"].iloc[-1])
(200000, 199999)
>>> low = pop["digital_familiarity"] == 3
>>> bool(low[pop["age_band"] == 7].mean() > low[pop["age_band"] == 2].mean())
True
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.special import expit

from ._random import rng

DEFAULT_SEED = 20240601
N_PEOPLE = 200_000
PEOPLE_PER_PERSON = 265
POPULATION_SIZE = N_PEOPLE * PEOPLE_PER_PERSON  # 53 million adults

# Adults (millions) in the 12 regions and nations, codes 1-12.
REGION_ADULTS = np.array([2.13, 5.73, 4.30, 3.84, 4.60, 4.91, 6.93, 7.26, 4.56, 2.53, 4.42, 1.47])
AGE_SHARES = np.array([0.107, 0.170, 0.163, 0.165, 0.158, 0.123, 0.114])
_AGE_TILT = {
    7: np.array([1.05, 1.45, 1.30, 1.00, 0.80, 0.65, 0.60]),  # London
    **dict.fromkeys((9, 10, 11), np.array([0.95, 0.88, 0.92, 0.98, 1.08, 1.15, 1.18])),
}
_AGE_RANGES = ((18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74))
WOMAN_SHARE = np.array([0.49, 0.50, 0.505, 0.51, 0.51, 0.52, 0.57])
# White, Mixed, Asian, Black, Other by region (rows 1-12).
ETHNICITY_BY_REGION = np.array([
    [0.930, 0.013, 0.037, 0.012, 0.008],
    [0.860, 0.020, 0.087, 0.022, 0.011],
    [0.850, 0.020, 0.100, 0.020, 0.010],
    [0.850, 0.025, 0.087, 0.025, 0.013],
    [0.770, 0.030, 0.137, 0.045, 0.018],
    [0.860, 0.027, 0.060, 0.037, 0.016],
    [0.540, 0.057, 0.207, 0.135, 0.061],
    [0.860, 0.028, 0.070, 0.024, 0.018],
    [0.930, 0.020, 0.027, 0.012, 0.011],
    [0.940, 0.016, 0.029, 0.009, 0.006],
    [0.930, 0.011, 0.039, 0.012, 0.008],
    [0.965, 0.010, 0.014, 0.006, 0.005],
])
_MINORITY_ODDS_BY_AGE = np.array([1.45, 1.35, 1.25, 1.00, 0.75, 0.55, 0.40])
# Degree, A level, GCSE, none by age band.
EDUCATION_BY_AGE = np.array([
    [0.25, 0.50, 0.20, 0.05],
    [0.48, 0.20, 0.24, 0.08],
    [0.45, 0.18, 0.26, 0.11],
    [0.36, 0.18, 0.31, 0.15],
    [0.28, 0.17, 0.33, 0.22],
    [0.24, 0.15, 0.30, 0.31],
    [0.17, 0.12, 0.26, 0.45],
])
# AB, C1, C2, DE by education.
GRADE_BY_EDUCATION = np.array([
    [0.50, 0.33, 0.08, 0.09],
    [0.20, 0.38, 0.20, 0.22],
    [0.12, 0.30, 0.27, 0.31],
    [0.05, 0.15, 0.28, 0.52],
])
_DIGITAL_EDUCATION = np.array([0.9, 0.45, 0.0, -1.1])
_DIGITAL_CUTS = (0.8, -2.0)  # latent above the first: High; below the second: Low


def generate_population(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The synthetic adult population (200,000 people standing for 53 million).

    Parameters
    ----------
    seed : int
        The same seed gives the same population.  The bundled example data
        use :data:`DEFAULT_SEED`.

    Returns
    -------
    pandas.DataFrame
        One row per person: ``pid`` (0-based), ``person_key`` (the person's
        random key, which fixes their answers in every wave), ``age``,
        ``age_band``, ``gender``, ``region``, ``ethnicity``, ``education``,
        ``social_grade``, ``disability``, ``digital_familiarity`` with the
        tracker's codes ("Prefer not to say" never occurs in the population).

    Examples
    --------
    >>> pop = generate_population(seed=1)
    >>> sorted(pop["region"].unique().tolist()) == list(range(1, 13))
    True
    """
    return _population(int(seed)).copy()


@lru_cache(maxsize=4)
def _population(seed: int) -> pd.DataFrame:
    n = N_PEOPLE

    def draw(name: str, probs: np.ndarray) -> np.ndarray:
        u = rng(seed, "population", name).random(n)
        cum = np.cumsum(probs, axis=-1)
        cum = cum / cum[..., -1:]
        return (u[:, None] > np.broadcast_to(cum, (n, cum.shape[-1]))).sum(axis=1) + 1

    region = draw("region", REGION_ADULTS)
    age_probs = np.tile(AGE_SHARES, (n, 1))
    for code, tilt in _AGE_TILT.items():
        age_probs[region == code] *= tilt
    age_band = draw("age_band", age_probs)
    age = _age_in_band(age_band, rng(seed, "population", "age"))
    gender = np.where(rng(seed, "population", "gender").random(n) < WOMAN_SHARE[age_band - 1], 2, 1)

    eth_probs = ETHNICITY_BY_REGION[region - 1].copy()
    eth_probs[:, 1:] *= _MINORITY_ODDS_BY_AGE[age_band - 1, None]
    ethnicity = draw("ethnicity", eth_probs)

    edu_probs = EDUCATION_BY_AGE[age_band - 1].copy()
    edu_probs[region == 7, 0] *= 1.45
    education = draw("education", edu_probs)

    p_disabled = expit(-2.3 + 0.032 * (age - 18) + 0.55 * (education == 4) + 0.2 * (education == 3))
    disabled = rng(seed, "population", "disability").random(n) < p_disabled
    social_grade = draw("social_grade", GRADE_BY_EDUCATION[education - 1])

    latent = (2.2 - 0.055 * (age - 18) + _DIGITAL_EDUCATION[education - 1] - 0.8 * disabled
              + rng(seed, "population", "digital").logistic(size=n))
    digital = np.where(latent > _DIGITAL_CUTS[0], 1, np.where(latent < _DIGITAL_CUTS[1], 3, 2))

    keys = rng(seed, "population", "person_key").integers(0, 2**64, size=n, dtype=np.uint64,
                                                          endpoint=False)
    return pd.DataFrame({
        "pid": np.arange(n, dtype=np.int64),
        "person_key": keys,
        "age": age,
        "age_band": age_band,
        "gender": gender,
        "region": region,
        "ethnicity": ethnicity,
        "education": education,
        "social_grade": social_grade,
        "disability": np.where(disabled, 1, 2),
        "digital_familiarity": digital,
    }).astype({c: np.int64 for c in ("age", "age_band", "gender", "region", "ethnicity",
                                     "education", "social_grade", "disability",
                                     "digital_familiarity")})


def _age_in_band(age_band: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    u = gen.random(len(age_band))
    low = np.array([lo for lo, _ in _AGE_RANGES] + [75])
    width = np.array([hi - lo + 1 for lo, hi in _AGE_RANGES] + [1])
    age = low[age_band - 1] + np.floor(u * width[age_band - 1]).astype(np.int64)
    oldest = age_band == 7  # 75+: numbers thin out with age, capped at 100
    age[oldest] = np.minimum(75 + np.floor(-7.0 * np.log(u[oldest])).astype(np.int64), 100)
    return age
