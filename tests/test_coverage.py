"""Simulation: 95% intervals cover the population truth about 95% of the time.

A fixed-seed synthetic population (surveytools.datasets) and 200 stratified
samples of n = 1,500 drawn from it (strata = the 12 regions, London and
Scotland over-sampled, weights N_h / n_h).  For each sample we estimate
three shares, one of them in a domain, with the logit interval; the truth
is the population share among those who gave an answer (the "Don't know"
code is user-missing).  With 600 intervals at 95%, coverage below 0.90 or
above 0.99 is very unlikely by chance (binomial sd ~ 0.009).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools.datasets import generate_population, population_attitudes

DRAWS, N = 200, 1500
QUESTIONS = [  # (column, codes counted as yes, user-missing code, domain or None)
    ("trust_nhs", [7, 8, 9, 10], 98, None),
    ("accept_diagnosis", [4, 5], 8, None),
    ("accept_facial", [4, 5], 8, ("digital_familiarity", 3)),
]


@pytest.fixture(scope="module")
def population() -> pd.DataFrame:
    people = generate_population()
    return pd.concat([people, population_attitudes(people, wave=2024)], axis=1)


def _truth(population, column, yes, missing, domain) -> float:
    rows = population[column] != missing
    if domain:
        rows &= population[domain[0]] == domain[1]
    return float(population.loc[rows, column].isin(yes).mean())


@pytest.mark.slow
def test_logit_intervals_cover_the_truth(population):
    meta = st.Metadata(missing={q: st.MissingSpec(values=(m,)) for q, _, m, _ in QUESTIONS})
    truths = [_truth(population, *q) for q in QUESTIONS]
    regions = population["region"].to_numpy()
    sizes = pd.Series(regions).value_counts().sort_index()
    allocation = np.round(N * sizes / sizes.sum() * np.where(sizes.index.isin([7, 11]), 1.6, 0.9))
    rng = np.random.default_rng(20240601)
    by_region = {h: np.flatnonzero(regions == h) for h in sizes.index}
    covered = []
    for _ in range(DRAWS):
        picks = [rng.choice(by_region[h], int(allocation[h]), replace=False) for h in sizes.index]
        sample = population.iloc[np.concatenate(picks)]
        counts = sample["region"].map(sample["region"].value_counts())
        sample = sample.assign(wt=sample["region"].map(sizes) / counts)
        survey = st.Survey(sample, st.Design(weight="wt", strata="region"), meta)
        for (column, yes, _, domain), truth in zip(QUESTIONS, truths):
            where = {domain[0]: domain[1]} if domain else None
            row = survey.proportion(column, value=yes, where=where).table.iloc[0]
            covered.append(row["ci_low"] <= truth <= row["ci_high"])
    coverage = float(np.mean(covered))
    assert 0.90 <= coverage <= 0.99, f"coverage {coverage:.3f} of {len(covered)} intervals"
