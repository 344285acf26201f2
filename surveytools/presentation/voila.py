"""What the dashboards need to know about running inside Voila.

Voila runs a dashboard notebook in a kernel and tells it about the page
through environment variables: ``QUERY_STRING`` (the page's query, for deep
links), ``VOILA_REQUEST_URL`` (the page's address, for the link to a view),
``VOILA_PREHEAT`` (the kernel was started before anyone asked for the page).
This module reads them and holds the kernel's start-up workarounds; the
server side (settings, kernels, routes) is :mod:`surveytools.presentation.serve`.

Examples
--------
>>> query_string("indicator=trust_nhs")
'indicator=trust_nhs'
>>> view_href("breakdown=age", url="http://host:8866/voila/render/trust.ipynb?x=1")
'/voila/render/trust.ipynb?breakdown=age'
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

_VOILA_ENV = ("VOILA_REQUEST_URL", "VOILA_PREHEAT", "VOILA_KERNEL_ID")
#: Set by ``surveytools serve``: where it serves plotly's widget bundle (relative to the base URL).
WIDGET_BUNDLE_ENV = "SURVEYTOOLS_WIDGET_BUNDLE"

#: The widget code a ``FigureWidget`` sends instead of plotly's 5 MB bundle: a module that
#: imports the bundle from the server (browsers cache it), relative to the page's base URL.
_BUNDLE_STUB = """const config = JSON.parse(document.getElementById("jupyter-config-data")?.textContent || "{}");
const bundle = await import(new URL((config.baseUrl || "/") + %s, window.location.href).href);
export default bundle.default;
export const FigureModel = bundle.FigureModel;
export const FigureView = bundle.FigureView;
"""


def in_voila() -> bool:
    """Whether this kernel was started by Voila."""
    return any(name in os.environ for name in _VOILA_ENV)


def query_string(query: str | None = None) -> str:
    """``query`` if given, else the page's query string (``$QUERY_STRING``, set by Voila)."""
    return os.environ.get("QUERY_STRING", "") if query is None else query


def view_href(query: str, *, url: str | None = None) -> str:
    """The link that reopens a view: this page's path (``$VOILA_REQUEST_URL``) with ``query``."""
    path = urlsplit(os.environ.get("VOILA_REQUEST_URL", "") if url is None else url).path
    return f"{path}?{query}" if path else f"?{query}"


def skip_iri_grammar() -> None:
    """Spare a Voila kernel 2-3 s of start-up.

    plotly's ``FigureWidget`` imports nbformat, hence jsonschema, whose optional
    IRI format check compiles a grammar (``rfc3987_syntax``) on import.  No
    dashboard validates IRIs, so in a Voila kernel, before jsonschema is
    loaded, that optional module is marked absent.
    """
    if in_voila() and "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def wait_for_request() -> None:
    """In a pre-heated Voila kernel, wait for the page request (it sets ``$QUERY_STRING``).

    With ``preheat_kernel`` Voila runs the notebook before anyone asks for
    it; everything up to here (imports, the cube) is then done in advance.
    """
    if os.environ.get("VOILA_PREHEAT") == "True":
        from voila.utils import wait_for_request as wait

        wait()


def prepare_kernel() -> None:
    """Run first in every kernel ``surveytools serve`` starts (before the notebook).

    Plotly's widget code comes from the server (:func:`serve_widget_bundle`),
    and the widget comm targets are registered when ``ipywidgets`` was
    imported before this kernel existed (a kernel forked from a process that
    imported it already): without them the page could not ask for the widgets.
    """
    serve_widget_bundle()
    if "ipywidgets" in sys.modules:
        import ipywidgets

        ipywidgets.register_comm_target()


def serve_widget_bundle() -> bool:
    """Make plotly's ``FigureWidget`` load its code from the server, not from each message.

    A ``FigureWidget`` (an anywidget) sends its whole JavaScript bundle, about
    5 MB, as widget state to every page: through the kernel, the Voila server
    and the websocket, and the browser evaluates it again for each page.
    ``surveytools serve`` serves that bundle once, at a content-hashed address
    browsers cache, and says where in ``$SURVEYTOOLS_WIDGET_BUNDLE``; then the
    widgets send a small module that imports it.  Without that variable (any
    other server) nothing changes.  Returns whether the widgets were changed.

    Examples
    --------
    >>> import os
    >>> os.environ.pop(WIDGET_BUNDLE_ENV, None) and None
    >>> serve_widget_bundle()
    False
    """
    import json

    where = os.environ.get(WIDGET_BUNDLE_ENV, "")
    if not where or where.startswith(("/", "http:", "https:")) or ".." in where:
        return False
    try:
        from plotly.basewidget import BaseFigureWidget
    except ImportError:  # pragma: no cover - plotly is a dependency
        return False
    BaseFigureWidget._esm = _BUNDLE_STUB % json.dumps(where)
    return True
