"""Write tracker2024_slice.csv and tracker_targets.toml, the inputs of tracker_rake.R.

The slice is wave 2024 of the example tracker (data/tracker/wave2024.csv, from
`python -m surveytools.datasets`, seed 20240601) without the respondents who
answered "Prefer not to say" (9) to gender, ethnicity or education (the
targets have no cell for them), with the columns the reference tests use and
a design weight of 1.  Run from the repository root:

    .venv/bin/python tests/reference/weighting/make_tracker_slice.py [data/tracker]
"""

import shutil
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
COLUMNS = ["resp_id", "weight", "age", "age_band", "gender", "region", "education", "ethnicity",
           "digital_familiarity", "trust_nhs", "ai_use_month"]

if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "data/tracker")
    wave = pd.read_csv(source / "wave2024.csv")[COLUMNS]
    answered = ~(wave[["gender", "ethnicity", "education"]] == 9).any(axis=1)
    wave[answered].assign(design_weight=1.0).to_csv(HERE / "tracker2024_slice.csv", index=False)
    shutil.copyfile(source / "targets.toml", HERE / "tracker_targets.toml")
