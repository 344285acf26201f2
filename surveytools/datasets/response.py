"""The known, non-random response process of the example tracker.

Online panel: each adult's chance of being a respondent is proportional to

    propensity = A[age band, gender] * R[region] * E[education] * D[digital]

(young men, people without qualifications and people with low digital
familiarity under-respond).  The telephone boost reaches low-familiarity
adults only, with chance proportional to ``A * R * E``.  A low-familiarity
adult's overall chance is therefore ``A * R * E * (D_low * c1 + c2)``: still
a product of one factor per weighting margin, which is exactly the model
raking to those margins corrects.  Nothing else (ethnicity, disability,
attitudes) affects response, so the weights remove the bias.

Samples are drawn by sequential Poisson (order) sampling: keys
``u / propensity`` with ``u`` uniform, the ``n`` smallest are the
respondents.  This gives exactly ``n`` respondents with inclusion chances
close to proportional to the propensity.

Examples
--------
>>> from surveytools.datasets import generate_population
>>> from surveytools.datasets._random import rng
>>> pop = generate_population()
>>> p = online_propensity(pop)
>>> rows = order_sample(p, 10, rng(1, "doc"))
>>> len(rows), len(set(rows.tolist()))
(10, 10)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.errors import DataError

#: A[gender, age band]: men (row 0) and women (row 1), age bands 1-7.
AGE_GENDER = np.array([[0.30, 0.50, 0.75, 0.95, 1.10, 1.25, 0.90],
                       [0.50, 0.75, 1.00, 1.05, 1.15, 1.20, 0.80]])
REGION = np.array([0.90, 1.00, 0.95, 1.00, 0.95, 1.05, 0.80, 1.10, 1.10, 0.95, 0.90, 0.70])
EDUCATION = np.array([1.70, 1.10, 0.85, 0.45])
DIGITAL = np.array([1.25, 0.85, 0.20])
LOW_DIGITAL = 3


def _base(population: pd.DataFrame) -> np.ndarray:
    col = {c: population[c].to_numpy() for c in ("age_band", "gender", "region", "education")}
    return (AGE_GENDER[col["gender"] - 1, col["age_band"] - 1] * REGION[col["region"] - 1]
            * EDUCATION[col["education"] - 1])


def online_propensity(population: pd.DataFrame) -> np.ndarray:
    """Relative chance of each adult answering the online panel survey."""
    return _base(population) * DIGITAL[population["digital_familiarity"].to_numpy() - 1]


def phone_propensity(population: pd.DataFrame) -> np.ndarray:
    """Relative chance of each adult answering the telephone boost (0 unless low familiarity)."""
    return _base(population) * (population["digital_familiarity"].to_numpy() == LOW_DIGITAL)


def order_sample(propensity: np.ndarray, n: int, gen: np.random.Generator) -> np.ndarray:
    """Positions of ``n`` respondents drawn by sequential Poisson sampling.

    Adults with propensity 0 are never drawn.
    """
    eligible = int(np.count_nonzero(propensity > 0))
    if not 0 <= n <= eligible:
        raise DataError("cannot draw that many respondents",
                        expected=f"a sample size from 0 to {eligible} (the eligible adults)",
                        found=repr(n), hint="ask for fewer respondents")
    with np.errstate(divide="ignore"):
        keys = gen.random(len(propensity)) / propensity
    chosen = np.argpartition(keys, n - 1)[:n] if n else np.array([], dtype=np.int64)
    return np.sort(chosen)
