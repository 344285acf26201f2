"""A static HTML site of the dashboards: no kernel, no server, no network.

:func:`export_site` draws every view the dashboards offer with the default
CI method (each indicator x breakdown, as a trend and as a group comparison
in the latest wave; each overview topic x breakdown in the latest wave)
through the same :meth:`surveytools.presentation.dashboard.App.render` the
live apps use, so the small-base rule applies exactly as there.  The cube
comes from the cube store (:mod:`surveytools.indicators.store`); every file
is written atomically.  Each dashboard is one page
whose selects switch among the precomputed views client-side; ``plotly.js``
is copied into the site once.  The site works from ``file://`` and from any
web server; the view is kept in the URL's ``#`` part so links reopen it.

Examples
--------
From Python, or ``surveytools export-dashboard MANIFEST --out DIR``::

    from surveytools.presentation.export import export_site
    index = export_site("data/tracker/waves.toml", "site")   # site/index.html
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from ..core.errors import SurveyError
from ..core.files import atomic_write
from ..indicators.store import cached_cube
from .dashboard import APPS
from .formatting import CI_LABELS
from .views import CHARTS, TABLE_CSS, View, note_html, table_html

PLOTLY_JS = "plotly.min.js"


def export_site(manifest: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Write the static site of the dashboards on ``manifest`` into ``out_dir``.

    Parameters
    ----------
    manifest : str or path
        The tracker manifest (catalogue and breakdowns beside it).
    out_dir : str or path
        Created if needed; files of an earlier export are overwritten.

    Returns
    -------
    pathlib.Path
        The site's ``index.html``.
    """
    from plotly.offline import get_plotlyjs

    out = Path(out_dir)
    cube = cached_cube(manifest)
    atomic_write(out / PLOTLY_JS, get_plotlyjs())
    for app in APPS:
        views, controls = _views(app, cube)
        atomic_write(out / f"{app.name}.html", _page(app, cube, views, controls))
    return atomic_write(out / "index.html", _index(APPS, cube))


def _views(app, cube) -> tuple[dict, dict]:
    """Every view of ``app`` as JSON-ready parts, and the selects that reach them."""
    latest = (cube.waves[-1],)
    breakdowns = [("Total (all adults)", "total")] + [(b.label, b.name) for b in cube.breakdowns]
    if "topic" in app.controls_shown:
        controls = {"topic": app.topic_options(cube), "breakdown": breakdowns}
        combos = [{"topic": t, "breakdown": b, "waves": latest}
                  for _, t in controls["topic"] for _, b in breakdowns]
    else:
        controls = {"indicator": [(ind.label, ind.name) for ind in app.indicators(cube)],
                    "breakdown": breakdowns, "chart": [(label, key) for key, label in CHARTS.items()]}
        combos = [{"indicator": i, "breakdown": b, "chart": c,
                   "waves": tuple(cube.waves) if c == "trend" else latest}
                  for _, i in controls["indicator"] for _, b in breakdowns for _, c in controls["chart"]]
    views = {}
    for combo in combos:
        view = View(**combo)
        key = "&".join(f"{name}={combo[name]}" for name in controls)
        try:
            shown = app.render(cube, view)
        except SurveyError as error:  # e.g. a question not asked in the latest wave
            views[key] = {"message": error.message}
            continue
        views[key] = {
            "figure": json.loads(shown.figure.to_json()),
            "table": table_html(shown.table),
            "csv": shown.csv.to_csv(index=False),
            "filename": app.filename(view),
        }
    return views, controls


def _script_json(value) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


def _page(app, cube, views: dict, controls: dict) -> str:
    selects = "".join(
        f'<label>{html.escape(name.title())} <select id="{name}" class="st-control-{name}">'
        + "".join(f'<option value="{html.escape(value)}">{html.escape(label)}</option>'
                  for label, value in options)
        + "</select></label> "
        for name, options in controls.items())
    notes = note_html(cube, f"Wave shown in group comparisons and the overview: {cube.waves[-1]}.")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(app.title)}</title>
<script src="{PLOTLY_JS}"></script>
<style>{PAGE_CSS}{TABLE_CSS}</style></head>
<body><p><a href="index.html">All dashboards</a></p>
<h1 class="st-title">{html.escape(app.title)}</h1>
<p class="st-intro">{html.escape(app.intro_for(cube))}</p>
<form class="st-controls">{selects}</form>
<p id="st-message" class="st-message"></p>
<div id="st-chart" class="st-chart"></div>
<div id="st-table"></div>
<p><a id="st-download" class="st-download" href="#">Download CSV of this table</a>
 · <a id="st-link" class="st-link" href="#">Link to this view</a></p>
{notes}
<script id="views" type="application/json">{_script_json(views)}</script>
<script>{PAGE_JS}</script>
</body></html>
"""


def _index(apps, cube) -> str:
    items = "".join(f'<li><a href="{app.name}.html">{html.escape(app.title)}</a>: '
                    f"{html.escape(app.intro_for(cube))}</li>" for app in apps)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboards</title>
<style>{PAGE_CSS}</style></head>
<body><h1>Dashboards</h1>
<p>Waves: {html.escape(", ".join(cube.waves))}. A static copy of the dashboards: every view was
computed in advance with the {html.escape(CI_LABELS[cube.ci])} confidence-interval method.</p>
<ul class="st-index">{items}</ul>
<p class="st-note">{html.escape(cube.small_base.describe())}</p>
<p class="st-note">{html.escape(cube.method_note)}</p>
</body></html>
"""


PAGE_CSS = """
body{font:15px Arial,Helvetica,sans-serif;color:#1a1a1a;margin:24px;max-width:1300px}
.st-controls label{margin-right:14px;display:inline-block;margin-bottom:8px}
.st-controls select{font-size:14px;padding:3px;max-width:620px}
.st-note{font-size:13px;color:#333}
.st-message{color:#8a4b00}
.st-index li{margin:8px 0}
"""

# Reads the selects, shows the matching precomputed view, keeps it in location.hash.
PAGE_JS = """
const views = JSON.parse(document.getElementById('views').textContent);
const selects = Array.from(document.querySelectorAll('.st-controls select'));
function key() { return selects.map(s => s.id + '=' + s.value).join('&'); }
function fromHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  selects.forEach(s => { const v = params.get(s.id);
    if (v !== null && Array.from(s.options).some(o => o.value === v)) s.value = v; });
}
function show() {
  const view = views[key()];
  const message = document.getElementById('st-message');
  const chart = document.getElementById('st-chart');
  history.replaceState(null, '', '#' + key());
  document.getElementById('st-link').href = '#' + key();
  if (!view || view.message) {
    message.textContent = view ? view.message : 'No estimates for this view.';
    Plotly.purge(chart); chart.innerHTML = ''; document.getElementById('st-table').innerHTML = '';
    return;
  }
  message.textContent = '';
  Plotly.react(chart, view.figure.data, view.figure.layout, {responsive: true, displaylogo: false});
  document.getElementById('st-table').innerHTML = view.table;
  const link = document.getElementById('st-download');
  link.href = 'data:text/csv;charset=utf-8,' + encodeURIComponent(view.csv);
  link.download = view.filename;
}
selects.forEach(s => s.addEventListener('change', show));
window.addEventListener('hashchange', () => { fromHash(); show(); });
fromHash(); show();
"""
