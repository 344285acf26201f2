"""Synthetic example data: a four-wave tracker and a council survey.

The tracker is modelled on the UK "Public attitudes to data and AI" tracker:
four annual waves (2021-2024), each about 4,000 online-panel respondents and
about 200 telephone respondents from a boost of adults with low digital
familiarity, weighted by raking to population margins.  Everything is drawn
from a synthetic population whose true values are known, so estimates can be
checked against the truth.

``python -m surveytools.datasets`` regenerates the bundled files in ``data/``.

Examples
--------
>>> from surveytools.datasets import generate_population, draw_wave, population_truth
>>> pop = generate_population()
>>> wave = draw_wave(pop, wave=2024, n_online=400, n_phone=40, seed=7)
>>> truth = population_truth(pop, wave=2024)
>>> sorted(example_paths())[:3]
['council', 'council_manifest', 'population_truth']
"""

from .attitudes import population_attitudes
from .bundle import example_paths, write_examples
from .council import generate_council
from .population import DEFAULT_SEED, POPULATION_SIZE, generate_population
from .targets import margin_totals
from .tracker import draw_wave, file_layout
from .truth import population_truth

__all__ = [
    "DEFAULT_SEED", "POPULATION_SIZE", "generate_population", "population_attitudes",
    "draw_wave", "file_layout", "population_truth", "margin_totals", "generate_council",
    "example_paths", "write_examples",
]
