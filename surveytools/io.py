"""Deprecated: ``surveytools.io`` moved to :mod:`surveytools.loading.read`.

Kept for one release so that notebooks written against 0.1 keep working;
see CHANGELOG.md.  Use ``st.read_wave`` / ``st.write_codebook`` instead.
"""

import warnings

from .loading.read import *  # noqa: F403
from .loading.read import __all__  # noqa: F401

warnings.warn("surveytools.io is deprecated: use st.read_wave (surveytools.loading.read)",
              DeprecationWarning, stacklevel=2)
