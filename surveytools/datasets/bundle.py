"""Write every bundled example file, and find them.

``python -m surveytools.datasets`` calls :func:`write_examples` on the
repository's ``data/`` folder.

Examples
--------
>>> paths = example_paths()
>>> paths["tracker_manifest"].name, paths["council"].name
('waves.toml', 'residents2024.sav')
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core.errors import FileFormatError
from . import manifests
from . import readme
from .codebook import COUNCIL, tracker_variables
from .council import generate_council
from .population import DEFAULT_SEED, generate_population
from .targets import margin_totals
from .tracker import BUNDLED_WAVES, draw_wave_with_report, file_layout
from .truth import population_truth
from .writers import write_csv, write_csv_with_codebook, write_sav, write_text

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
FILES = {
    "tracker_manifest": "tracker/waves.toml",
    **{f"wave{s.wave}": f"tracker/{manifests.wave_file(s.wave)}" for s in BUNDLED_WAVES},
    "wave2024_codebook": f"tracker/{manifests.codebook_file(2024)}",
    "population_truth": "tracker/population_truth.csv",
    "targets": "tracker/targets.toml",
    "council": "council/residents2024.sav",
    "council_manifest": "council/council.toml",
    "readme": "README.md",
}


def example_paths(root: str | Path | None = None) -> dict[str, Path]:
    """Paths of the bundled example files.

    Parameters
    ----------
    root : path, optional
        The data folder; by default the repository's ``data/``.

    Returns
    -------
    dict
        ``tracker_manifest``, ``wave2021`` ... ``wave2024``,
        ``wave2024_codebook``, ``population_truth``, ``targets``,
        ``council``, ``council_manifest``, ``readme`` -> path.
    """
    root = DATA_DIR if root is None else Path(root)
    paths = {key: root / rel for key, rel in FILES.items()}
    absent = [str(p) for p in paths.values() if not p.is_file()]
    if absent:
        raise FileFormatError(
            "the bundled example data are missing", file=absent[0],
            expected="the files written by the example-data generator",
            found=f"{len(absent)} of {len(paths)} files absent",
            hint="run `python -m surveytools.datasets` in the repository to regenerate data/")
    return paths


def write_examples(out: str | Path = DATA_DIR, *, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Generate every example file into ``out`` (the layout of ``data/``).

    The same seed writes byte-identical CSV, JSON, TOML and README files and
    SPSS files with identical data and metadata.
    """
    out = Path(out)
    paths = {key: out / rel for key, rel in FILES.items()}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    population = generate_population(seed)
    reports = {}
    for spec in BUNDLED_WAVES:
        frame, reports[spec.wave] = draw_wave_with_report(
            population, wave=spec.wave, n_online=spec.n_online, n_phone=spec.n_phone, seed=seed)
        raw = file_layout(frame, spec.wave)
        variables = tracker_variables(spec.wave)
        path = paths[f"wave{spec.wave}"]
        if path.suffix == ".csv":
            write_csv_with_codebook(raw, path, paths["wave2024_codebook"], variables)
        else:
            write_sav(raw, path, variables, file_label=f"{manifests.TRACKER_NAME}, {spec.wave}")
    truth = pd.concat([population_truth(population, wave=s.wave) for s in BUNDLED_WAVES])
    write_csv(truth, paths["population_truth"], float_format="%.8f")
    write_text(paths["targets"], manifests.targets_file(margin_totals(population), seed=seed))
    write_text(paths["tracker_manifest"], manifests.tracker_manifest(BUNDLED_WAVES))
    council = generate_council(seed)
    write_sav(council, paths["council"], COUNCIL, file_label=manifests.COUNCIL_NAME)
    write_text(paths["council_manifest"], manifests.council_manifest())
    write_text(paths["readme"], readme.render(seed=seed, reports=reports, council=council))
    return paths
