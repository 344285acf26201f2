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

from .core.design import Design, ReplicateDesign
from .core.errors import (
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
from .core.meta import Metadata, MissingSpec
from .core.smallbase import SmallBaseRule
from .survey import Survey

__version__ = "0.1.0"

# name -> module that defines it, imported when first asked for.
_LAZY = {
    # loading and waves
    "read_wave": "loading.read",
    "write_codebook": "loading.read",
    "read_waves": "waves.tracker",
    "Tracker": "waves.tracker",
    # estimation
    "Estimate": "estimation.result",
    "chisq": "estimation.association",
    "difference": "estimation.compare",
    "wave_change": "estimation.compare",
    "logit": "estimation.regression",
    # weighting
    "rake": "weighting.rake",
    "RakingReport": "weighting.rake",
    "read_targets": "weighting.targets",
    "Targets": "weighting.targets",
    "weighting_audit": "weighting.audit",
    "margin_audit": "weighting.audit",
    "weight_summary": "weighting.audit",
    # indicators
    "IndicatorCatalogue": "indicators.catalogue",
    "Breakdowns": "indicators.catalogue",
    "load_indicators": "indicators.catalogue_file",
    "load_breakdowns": "indicators.catalogue_file",
    "IndicatorCube": "indicators.cube",
    "cube": "indicators.cube",
    "compare_groups": "indicators.cube",
    "cached_cube": "indicators.store",
    "read_release": "indicators.release",
    "reproduce_release": "indicators.release",
    "summarise_release": "indicators.release",
    # scaffolding a tracker from its files (surveytools init)
    "scaffold_tracker": "scaffold",
    # presentation
    "trend_chart": "presentation.plots",
    "group_chart": "presentation.plots",
    "heatmap_chart": "presentation.plots",
    "write_tables": "presentation.tables",
    "export_site": "presentation.export",
    "App": "presentation.dashboard",
    "OverviewApp": "presentation.dashboard",
    "TrustApp": "presentation.dashboard",
    "AcceptabilityApp": "presentation.dashboard",
    "TopicApp": "presentation.dashboard",
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
