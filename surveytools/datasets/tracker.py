"""One wave of the example tracker: sample, answers, weights.

:func:`draw_wave` draws the online panel and the telephone boost with the
known response process (:mod:`.response`), takes the respondents' answers
from the attitude model (:mod:`.attitudes`), adds "Prefer not to say" to
some demographic answers, and rakes the weights (:mod:`.raking`) to the
population margins (:mod:`.targets`).  :func:`file_layout` turns the result
into the layout of that wave's file (old names, old codes, questions not
yet asked left out).

Examples
--------
>>> from surveytools.datasets import generate_population
>>> pop = generate_population()
>>> wave = draw_wave(pop, wave=2022, n_online=400, n_phone=40, seed=3)
>>> len(wave), int((wave["mode"] == 2).sum())
(440, 40)
>>> round(float(wave["weight"].mean()), 6)
1.0
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._random import rng
from .attitudes import population_attitudes
from .codebook import DEMOGRAPHICS, RECODES, RENAMES, TRACKER, asked, check_wave
from .population import DEFAULT_SEED
from .raking import RakeResult, rake
from .response import online_propensity, order_sample, phone_propensity
from .targets import MARGINS, cell_index, margin_totals

#: chance that a respondent answers "Prefer not to say" (code 9)
PREFER_NOT_RATES = {"gender": 0.004, "ethnicity": 0.012, "education": 0.015,
                    "social_grade": 0.02, "disability": 0.025}
WEIGHT_DECIMALS = 6


@dataclass(frozen=True)
class WaveSpec:
    """Fieldwork of one bundled wave."""

    wave: int
    n_online: int
    n_phone: int
    fieldwork_start: dt.date
    fieldwork_end: dt.date


BUNDLED_WAVES = (
    WaveSpec(2021, 4012, 203, dt.date(2021, 8, 2), dt.date(2021, 9, 12)),
    WaveSpec(2022, 4106, 198, dt.date(2022, 7, 25), dt.date(2022, 9, 4)),
    WaveSpec(2023, 4023, 211, dt.date(2023, 8, 7), dt.date(2023, 9, 17)),
    WaveSpec(2024, 3987, 207, dt.date(2024, 7, 29), dt.date(2024, 9, 8)),
)


def draw_wave(population: pd.DataFrame, *, wave: int, n_online: int = 4000, n_phone: int = 200,
              seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Respondents of one wave, with the producer's weights.

    Parameters
    ----------
    population : pandas.DataFrame
        From :func:`~surveytools.datasets.generate_population`.
    wave : {2021, 2022, 2023, 2024}
    n_online, n_phone : int
        Respondents from the online panel and the telephone boost.
    seed : int
        Seed of the sample and of the "Prefer not to say" answers; the
        answers themselves are fixed by the population.

    Returns
    -------
    pandas.DataFrame
        Harmonised names and codes (2024's) in file order, online
        respondents first; ``weight`` is raked and has mean 1.
    """
    frame, _ = draw_wave_with_report(population, wave=wave, n_online=n_online, n_phone=n_phone,
                                     seed=seed)
    return frame


def draw_wave_with_report(population: pd.DataFrame, *, wave: int, n_online: int = 4000,
                          n_phone: int = 200, seed: int = DEFAULT_SEED
                          ) -> tuple[pd.DataFrame, RakeResult]:
    """:func:`draw_wave` and the raking report (iterations, efficiency)."""
    check_wave(wave)
    online = order_sample(online_propensity(population), n_online, rng(seed, "online", wave))
    phone_p = phone_propensity(population)
    phone_p[online] = 0.0
    phone = order_sample(phone_p, n_phone, rng(seed, "phone", wave))
    sample = population.iloc[np.concatenate([online, phone])].reset_index(drop=True)

    report = producer_weights(sample, margin_totals(population))
    weights = report.weights / report.weights.mean()
    out = sample[[c for c in DEMOGRAPHICS if c in sample]].copy()
    out.insert(0, "resp_id", wave * 100_000 + np.arange(1, len(sample) + 1))
    out.insert(1, "weight", np.round(weights, WEIGHT_DECIMALS))
    out.insert(2, "mode", np.repeat([1, 2], [len(online), len(phone)]))
    gen = rng(seed, "prefer_not", wave)
    for column, rate in PREFER_NOT_RATES.items():
        out[column] = np.where(gen.random(len(out)) < rate, 9, out[column])
    out = pd.concat([out, population_attitudes(sample, wave=wave)], axis=1)
    return out[[v.name for v in TRACKER if asked(v.name, wave)]], report


def producer_weights(sample: pd.DataFrame, totals) -> RakeResult:
    """Rake design weights of 1 to ``totals`` (from :func:`.margin_totals`).

    ``sample`` holds the respondents' profile values of the weighting
    variables (never "Prefer not to say").
    """
    cells = [cell_index(sample, m) for m in MARGINS]
    targets = [np.array(list(totals[m].values()), dtype=np.float64) for m in MARGINS]
    return rake(np.ones(len(sample)), cells, targets)


def file_layout(frame: pd.DataFrame, wave: int) -> pd.DataFrame:
    """A harmonised wave in the layout of its file: old names, old codes."""
    out = frame.copy()
    for name, mapping in RECODES.get(wave, {}).items():
        back = {new: old for old, new in mapping.items()}
        out[name] = out[name].map(lambda code: back.get(code, code))
    return out.rename(columns={new: old for old, new in RENAMES.get(wave, {}).items()})
