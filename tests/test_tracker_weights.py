"""A wave read through a tracker gets the weight checks of ``read_wave``, word for word.

``read_wave`` refuses weights Survey accepts but no estimate survives
(``surveytools.loading.read.check_weight_range``: -0, subnormal, squares that
overflow) and Survey itself refuses inf and sums that overflow.  Each fault is
written into one wave of a two-wave tracker; ``read_waves`` must raise the same
error class with the same file, column, row, expected, found and fix as
``read_wave`` on that file (it once skipped the range check).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools.loading.read import write_parquet
from surveytools.core.errors import SurveyError

FIELDS = ("message", "file", "column", "row", "expected", "found", "hint")

#: Weight faults: (label, the weight of case 3, of every case, or None).
FAULTS = [
    ("negative zero", -0.0, None),
    ("subnormal", 5e-324, None),
    ("squares overflow", 1e300, None),
    ("infinite", np.inf, None),
    ("sum overflows", None, 1e308),
]


def _wave(path, *, weight3=None, every=None, seed=0):
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.5, 2.0, 12)
    if every is not None:
        weights[:] = every
    if weight3 is not None:
        weights[2] = weight3
    frame = pd.DataFrame({"wt": weights, "q1": rng.integers(1, 4, 12).astype(float)})
    write_parquet(frame, path, meta=st.Metadata(value_labels={"q1": {1: "Yes", 2: "No",
                                                                        3: "Maybe"}}))
    return path


def _manifest(folder):
    path = folder / "waves.toml"
    path.write_text('[design]\nweight = "wt"\n\n'
                    '[[waves]]\nlabel = "2023"\nfile = "w2023.parquet"\n\n'
                    '[[waves]]\nlabel = "2024"\nfile = "w2024.parquet"\n', encoding="utf-8")
    return path


def _fields(error: SurveyError) -> dict:
    return {name: getattr(error, name) for name in FIELDS}


def test_a_sound_tracker_reads(tmp_path):
    _wave(tmp_path / "w2023.parquet", seed=1)
    _wave(tmp_path / "w2024.parquet", seed=2)
    tracker = st.read_waves(_manifest(tmp_path), cache=False)
    assert tracker.names == ("2023", "2024")


@pytest.mark.parametrize("label, weight3, every", FAULTS, ids=[f[0] for f in FAULTS])
def test_the_tracker_gives_read_waves_error(tmp_path, label, weight3, every):
    _wave(tmp_path / "w2023.parquet", seed=1)
    bad = _wave(tmp_path / "w2024.parquet", weight3=weight3, every=every, seed=2)
    with pytest.raises(SurveyError) as direct:
        st.read_wave(bad, design=st.Design(weight="wt"), wave="2024", cache=False)
    with pytest.raises(SurveyError) as through_tracker:
        st.read_waves(_manifest(tmp_path), cache=False)
    assert type(through_tracker.value) is type(direct.value)
    assert _fields(through_tracker.value) == _fields(direct.value)
    assert through_tracker.value.column == "wt"
    if weight3 is not None:
        assert through_tracker.value.row == 3
