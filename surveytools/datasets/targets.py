"""Raking margins and their population totals.

The producer rakes to five margins: age band by gender (a crossed margin),
region, education, ethnicity and digital familiarity.  Totals come from the
synthetic population (standing for the census; digital familiarity for a
high-quality random-probability benchmark survey), scaled so that every
margin sums to the population size.

A cell key is the margin's codes joined by ``":"`` in the order of its
variables: ``"3:2"`` is age band 3 (35-44) and gender 2 (woman).

Examples
--------
>>> from surveytools.datasets import generate_population
>>> totals = margin_totals(generate_population())
>>> sum(totals[("region",)].values())
53000000
>>> totals[("age_band", "gender")]["1:1"] > 0
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .codebook import TRACKER_BY_NAME
from .population import PEOPLE_PER_PERSON

MARGINS: tuple[tuple[str, ...], ...] = (
    ("age_band", "gender"), ("region",), ("education",), ("ethnicity",),
    ("digital_familiarity",),
)


def categories(variable: str) -> tuple[int, ...]:
    """The substantive codes of a weighting variable (no "Prefer not to say")."""
    return TRACKER_BY_NAME[variable].substantive_codes


def cell_keys(margin: tuple[str, ...]) -> list[str]:
    """Every cell key of a margin, first variable slowest."""
    keys = [""]
    for variable in margin:
        keys = [f"{k}:{c}" if k else str(c) for k in keys for c in categories(variable)]
    return keys


def cell_index(frame: pd.DataFrame, margin: tuple[str, ...]) -> np.ndarray:
    """Each row's 0-based position among :func:`cell_keys` of ``margin``."""
    index = np.zeros(len(frame), dtype=np.int64)
    for variable in margin:
        codes = categories(variable)
        position = np.zeros(max(codes) + 1, dtype=np.int64)
        position[list(codes)] = np.arange(len(codes))
        index = index * len(codes) + position[frame[variable].to_numpy()]
    return index


def margin_totals(population: pd.DataFrame) -> dict[tuple[str, ...], dict[str, int]]:
    """Population total of every cell of every margin (sums to the population size)."""
    out = {}
    for margin in MARGINS:
        keys = cell_keys(margin)
        counts = np.bincount(cell_index(population, margin), minlength=len(keys))
        out[margin] = {k: int(c) * PEOPLE_PER_PERSON for k, c in zip(keys, counts)}
    return out
