"""surveytools: weighted public-attitudes survey waves, from file to dashboard.

The public API is what this module exports (``__all__``).  Heavy modules
(plotting, widgets) are imported on first use so that ``import surveytools``
stays fast and estimation never pulls in plotting.

Examples
--------
>>> import surveytools as st
>>> st.Design(weight="wt").weight
'wt'
"""

from __future__ import annotations

import importlib

from .design import Design, ReplicateDesign
from .errors import (
    DataError,
    DesignError,
    FileFormatError,
    HarmonisationError,
    LowBaseWarning,
    ManifestError,
    SurveyError,
    SurveyWarning,
    UndeclaredMissingWarning,
    WeightingError,
)
from .meta import Metadata, MissingSpec
from .smallbase import SmallBaseRule
from .survey import Survey

__version__ = "0.1.0"

# name -> module that defines it, imported when first asked for.
_LAZY = {
    "read_wave": "io",
    "write_codebook": "io",
    "read_waves": "waves",
    "Tracker": "waves",
    "Estimate": "estimation.result",
    "chisq": "estimation.tests",
    "difference": "estimation.compare",
    "wave_change": "estimation.compare",
    "rake": "weighting",
    "read_targets": "weighting",
    "weighting_audit": "weighting",
    "margin_audit": "weighting",
    "RakingReport": "weighting",
    "logit": "regression",
    "IndicatorCatalogue": "indicators",
    "load_indicators": "indicators",
    "cube": "indicators",
    "write_tables": "tables",
}

__all__ = [
    "Design", "ReplicateDesign", "Survey", "Metadata", "MissingSpec", "SmallBaseRule",
    "SurveyError", "DataError", "DesignError", "FileFormatError", "ManifestError",
    "HarmonisationError", "WeightingError", "SurveyWarning", "UndeclaredMissingWarning",
    "LowBaseWarning", *_LAZY,
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'surveytools' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
