"""What the dashboards need to know about running inside Voila.

Voila runs a dashboard notebook in a kernel and tells it about the page
through environment variables: ``QUERY_STRING`` (the page's query, for deep
links), ``VOILA_REQUEST_URL`` (the page's address, for the link to a view),
``VOILA_PREHEAT`` (the kernel was started before anyone asked for the page).
This module reads them and holds the two start-up workarounds; nothing else
in the package refers to Voila.

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
