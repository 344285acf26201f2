"""The true population values that estimates from the example waves target.

For every question (except the open ``ai_word``) and every wave: the share
of each answer among people who gave a substantive answer ("Don't know"
excluded from the base), for the whole population and by ``age_band`` and
``digital_familiarity``; for the 0-10 trust questions also the mean
(``value = "mean"``).  Codes are the harmonised ones; in 2021 and 2022
``ai_benefits`` only takes the codes 2, 3 and 4 (its 3-point answers).

Examples
--------
>>> from surveytools.datasets import generate_population
>>> t = population_truth(generate_population(), wave=2024)
>>> list(t.columns)
['wave', 'breakdown', 'group', 'variable', 'value', 'share']
>>> all_nhs = t[(t.breakdown == "all") & (t.variable == "trust_nhs") & (t.value != "mean")]
>>> round(float(all_nhs["share"].sum()), 9)
1.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .attitudes import MODEL, population_attitudes
from .codebook import QUESTIONS, RECODES, TRACKER_BY_NAME, asked

BREAKDOWNS = ("all", "age_band", "digital_familiarity")
COLUMNS = ["wave", "breakdown", "group", "variable", "value", "share"]


def answer_codes(name: str, wave: int) -> tuple[int, ...]:
    """The substantive codes the harmonised question ``name`` can take in ``wave``."""
    if MODEL[name].scale == "trust":
        return tuple(range(11))
    if name in RECODES.get(wave, {}):
        return tuple(sorted(set(RECODES[wave][name].values())))
    return TRACKER_BY_NAME[name].substantive_codes


def population_truth(population: pd.DataFrame, *, wave: int) -> pd.DataFrame:
    """Tidy true shares (and trust means) of one wave; see the module docstring."""
    answers = population_attitudes(population, wave=wave)
    rows = []
    for breakdown in BREAKDOWNS:
        if breakdown == "all":
            labels, groups = np.array(["all"]), np.zeros(len(population), dtype=np.int64)
        else:
            labels, groups = np.unique(population[breakdown].to_numpy(), return_inverse=True)
        for name in QUESTIONS:
            if name == "ai_word" or not asked(name, wave):
                continue
            values = answers[name].to_numpy()
            ok = ~np.isin(values, TRACKER_BY_NAME[name].missing)
            base = np.bincount(groups[ok], minlength=len(labels))
            codes = answer_codes(name, wave)
            stats = {str(c): np.bincount(groups[ok & (values == c)], minlength=len(labels)) / base
                     for c in codes}
            if MODEL[name].scale == "trust":
                stats["mean"] = np.bincount(groups[ok], weights=values[ok],
                                            minlength=len(labels)) / base
            for g, label in enumerate(labels):
                rows += [(wave, breakdown, str(label), name, value, float(share[g]))
                         for value, share in stats.items()]
    return pd.DataFrame(rows, columns=COLUMNS)
