"""Deprecated: ``surveytools.dashboard`` moved to :mod:`surveytools.presentation.dashboard`.

Kept for one release so that dashboard notebooks written against 0.1
(``from surveytools.dashboard import TrustApp``) keep working; see
CHANGELOG.md.  Use ``st.TrustApp`` (and ``st.OverviewApp``,
``st.AcceptabilityApp``) instead; the cube cache is
:mod:`surveytools.indicators.store` (``python -m surveytools.indicators.store
MANIFEST``), views and tables :mod:`surveytools.presentation.views`.
"""

import warnings

from .indicators.store import MANIFEST_ENV, CubeCache, find_manifest, warm
from .presentation.dashboard import *  # noqa: F403
from .presentation.dashboard import __all__ as _APPS
from .presentation.views import View, csv_frame, csv_link, parse_query, table_html, view_table

__all__ = [*_APPS, "CubeCache", "warm", "find_manifest", "MANIFEST_ENV", "View", "parse_query",
           "view_table", "csv_frame", "table_html", "csv_link"]

warnings.warn("surveytools.dashboard is deprecated: use st.TrustApp, st.AcceptabilityApp, "
              "st.OverviewApp (surveytools.presentation.dashboard)", DeprecationWarning,
              stacklevel=2)

if __name__ == "__main__":  # python -m surveytools.dashboard [MANIFEST], as in 0.1
    from .indicators.store import main

    raise SystemExit(main())
