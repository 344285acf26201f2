"""The Voila dashboards as App classes: controls -> view -> ``update()`` -> chart + table.

This module owns the apps only.  A dashboard notebook builds one and shows it::

    import surveytools as st
    st.TrustApp.from_manifest()

Every app has ONE update path: a control change makes a new :class:`View`
(frozen, :mod:`surveytools.presentation.views`), and :meth:`App.update` draws
the chart (a plotly ``FigureWidget`` from :mod:`surveytools.presentation.plots`),
the table with bases, the CSV download, the link to the view and the notes
from that view alone.  The cubes come from the cube store
(:class:`surveytools.indicators.store.CubeCache`), with their method
parameters (interval method, confidence level, correction) and method note; the
small-base rule applies to the dashboards exactly as to every other output.

Deep links: Voila passes the page's query string to the kernel
(:mod:`surveytools.presentation.voila`), so
``trust.ipynb?indicator=trust_nhs_high&breakdown=age&wave=2024&ci=beta``
opens that view.  An indicator may also be named by its question
(``indicator=trust_nhs``).

Examples
--------
>>> TrustApp.controls_shown
('indicator', 'breakdown', 'waves', 'ci', 'chart')
>>> [app.name for app in APPS]
['overview', 'trust', 'acceptability']
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from ..core.errors import ManifestError, SurveyError
from ..estimation.intervals import CI_METHODS
from ..indicators.store import CubeCache, find_manifest
from . import plots
from .formatting import CI_LABELS, conf_text
from .views import CHARTS, View, csv_frame, csv_link, note_html, parse_query, table_html, view_table
from .voila import query_string, skip_iri_grammar, view_href, wait_for_request

__all__ = ["App", "TrustApp", "AcceptabilityApp", "OverviewApp", "APPS", "Rendered"]


@dataclass(frozen=True)
class Rendered:
    """What one view shows: the chart, the table rows behind table and CSV, and the notes."""

    figure: go.Figure
    rows: pd.DataFrame
    table: pd.DataFrame
    csv: pd.DataFrame
    note: str


class App:
    """Base dashboard: controls -> :class:`View` -> :meth:`update` -> chart + table.

    Parameters
    ----------
    cubes : CubeCache
        The cubes by CI method (``cubes.first`` gives the defaults).
    query : str, optional
        A URL query string (default: ``$QUERY_STRING``, set by Voila).

    Subclasses set :attr:`title`, :attr:`intro` (``{conf}`` stands for the
    cube's confidence level, see :meth:`intro_for`), :attr:`topics`,
    :attr:`controls_shown` and implement :meth:`rows` and :meth:`figure_for`.
    What a view shows is computed by the class method :meth:`render`, so the
    static export (:mod:`surveytools.presentation.export`) draws exactly what
    the app draws.

    Examples
    --------
    In a notebook::

        app = TrustApp.from_manifest("data/tracker/waves.toml")
        app.controls["breakdown"].value = "age"   # the chart and the table redraw
        app                                       # shows the dashboard
    """

    name = "app"
    title = "Survey dashboard"
    intro = ""
    #: Indicator topics this app offers (empty: every topic).
    topics: tuple[str, ...] = ()
    controls_shown: tuple[str, ...] = ("indicator", "breakdown", "waves", "ci", "chart")
    #: The cube column that names a table row.
    label_column = "group_label"

    def __init__(self, cubes: CubeCache, *, query: str | None = None) -> None:
        import ipywidgets as w

        self.cubes = cubes
        self.messages: list[str] = []
        base = cubes.first
        self.waves = tuple(base.waves)
        self.view = self._start_view(base, parse_query(query_string(query)))
        self.controls = self._controls(w, base)
        # The first figure goes in at construction: changes made before the
        # browser shows the widget would not reach it.
        skip_iri_grammar()
        try:
            first = self.render(self.cubes(self.view.ci), self.view).figure
        except SurveyError:
            first = go.Figure()  # update() below says what is wrong
        self.figure = go.FigureWidget(first, _validate=False)
        self.status = w.HTML(layout=w.Layout(min_height="0"))
        self.table = w.HTML()
        self.links = w.HTML()
        self.notes = w.HTML()
        header = w.HTML(f"<h2 class='st-title'>{html.escape(self.title)}</h2>"
                        f"<p class='st-intro'>{html.escape(self.intro_for(base))}</p>")
        self.widget = w.VBox([header, w.HBox([self.controls[name] for name in self.controls_shown],
                                             layout=w.Layout(flex_flow="row wrap")),
                              self.status, self.figure, self.table, self.links, self.notes])
        self.widget.add_class("st-app")
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    @classmethod
    def from_manifest(cls, manifest=None, **kwargs) -> "App":
        """The app on the tracker of ``manifest`` (default:
        :func:`surveytools.indicators.store.find_manifest`)."""
        cubes = CubeCache.from_manifest(manifest or find_manifest())
        skip_iri_grammar()
        go.FigureWidget  # noqa: B018 - imports plotly's widget before a pre-heated kernel waits
        wait_for_request()
        return cls(cubes, **kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # -- what the app offers -------------------------------------------------------
    @classmethod
    def intro_for(cls, cube) -> str:
        """The app's introduction, with the cube's confidence level."""
        return cls.intro.format(conf=conf_text(cube.conf_level))

    @classmethod
    def indicators(cls, cube) -> list:
        return [ind for ind in cube.catalogue if not cls.topics or ind.topic in cls.topics]

    @classmethod
    def topic_options(cls, cube) -> list[tuple[str, str]]:
        return []

    @classmethod
    def default_view(cls, cube) -> View:
        names = [ind.name for ind in cls.indicators(cube)]
        topics = cls.topic_options(cube)
        waves = tuple(cube.waves) if "waves" in cls.controls_shown else tuple(cube.waves[-1:])
        return View(indicator=names[0] if names else "", waves=waves, ci=cube.ci,
                    topic=topics[0][1] if topics else "")

    # -- state -----------------------------------------------------------------
    def _start_view(self, base, params: dict) -> View:
        view = self.default_view(base)
        if "indicator" in params:
            wanted = params["indicator"]
            names = [ind.name for ind in self.indicators(base)]
            by_question = [ind.name for ind in self.indicators(base) if ind.question == wanted]
            if wanted in names:
                view = view.replace(indicator=wanted)
            elif by_question:
                view = view.replace(indicator=by_question[0])
            else:
                self._reject("indicator", wanted)
        checks = {
            "breakdown": ("total", *base.breakdowns.names),
            "ci": CI_METHODS,
            "chart": tuple(CHARTS),
            "topic": tuple(v for _, v in self.topic_options(base)),
        }
        for key, allowed in checks.items():
            if key in params:
                if params[key] in allowed:
                    view = view.replace(**{key: params[key]})
                else:
                    self._reject(key, params[key])
        if "wave" in params:
            waves = tuple(v for v in self.waves if v in params["wave"])
            unknown = [v for v in params["wave"] if v not in self.waves]
            if unknown:
                self._reject("wave", ",".join(unknown))
            if waves:
                view = view.replace(waves=waves if "waves" in self.controls_shown else waves[-1:])
        return view

    def _reject(self, key: str, value: str) -> None:
        self.messages.append(f"The link asked for {key} “{value}”, which this dashboard does not have; "
                             "showing the default instead.")

    def _controls(self, w, base) -> dict:
        v = self.view
        style = {"description_width": "initial"}
        makers = {
            "indicator": lambda: w.Dropdown(
                options=[(ind.label, ind.name) for ind in self.indicators(base)], value=v.indicator,
                description="Indicator", layout=w.Layout(width="640px"), style=style),
            "breakdown": lambda: w.Dropdown(
                options=[("Total (all adults)", "total")] + [(b.label, b.name) for b in base.breakdowns],
                value=v.breakdown, description="Breakdown", style=style),
            "waves": lambda: w.SelectMultiple(options=list(self.waves), value=v.waves,
                                              rows=len(self.waves), description="Waves", style=style),
            "wave": lambda: w.Dropdown(options=list(self.waves), value=v.waves[-1], description="Wave",
                                       style=style),
            "ci": lambda: w.Dropdown(options=[(label, key) for key, label in CI_LABELS.items()],
                                     value=v.ci, description="Confidence interval", style=style,
                                     layout=w.Layout(width="340px")),
            "chart": lambda: w.ToggleButtons(options=[(label, key) for key, label in CHARTS.items()],
                                             value=v.chart, description="Chart", style=style),
            "topic": lambda: w.Dropdown(options=self.topic_options(base), value=v.topic,
                                        description="Topic", layout=w.Layout(width="420px"),
                                        style=style),
        }
        controls = {name: makers[name]() for name in self.controls_shown}
        for name, control in controls.items():
            control.add_class(f"st-control-{name}")
        return controls

    def _on_change(self, change) -> None:
        name = next(n for n, c in self.controls.items() if c is change["owner"])
        value = change["new"]
        if name == "waves":
            value = tuple(v for v in self.waves if v in value)
            if not value:  # nothing selected: keep the previous view
                return
            self.view = self.view.replace(waves=value)
        elif name == "wave":
            self.view = self.view.replace(waves=(value,))
        else:
            self.view = self.view.replace(**{name: value})
        self.messages = []
        self.update()

    def set_view(self, **changes) -> None:
        """Move the controls to a view (the controls' observers call :meth:`update`)."""
        for name, value in changes.items():
            self.controls[name].value = value

    # -- the one update path ---------------------------------------------------
    def update(self) -> None:
        """Redraw chart, table, CSV link, view link and notes from :attr:`view`."""
        try:
            shown = self.render(self.cubes(self.view.ci), self.view)
        except SurveyError as err:
            self.status.value = f"<p class='st-error'>{html.escape(err.message)}</p>"
            return
        with self.figure.batch_update():
            self.figure.data = []
            self.figure.add_traces(list(shown.figure.data))
            self.figure.layout = shown.figure.layout
        self.table.value = table_html(shown.table)
        self.links.value = csv_link(shown.csv, self.filename(self.view)) + " · " + self._link_html()
        self.notes.value = shown.note
        self.status.value = "".join(f"<p class='st-message'>{html.escape(m)}</p>" for m in self.messages)
        self.last_table = shown.table

    @classmethod
    def render(cls, cube, view: View) -> Rendered:
        """Chart, table, CSV rows and notes of ``view`` (``cube`` is the view's CI method's)."""
        rows = cls.rows(cube, view)
        figure = cls.figure_for(cube, view, rows)
        table_rows = cls.table_rows(cube, view, rows)
        return Rendered(figure=figure, rows=table_rows,
                        table=view_table(table_rows, small_base=cube.small_base,
                                         conf_level=cube.conf_level, label_column=cls.label_column),
                        csv=csv_frame(table_rows, small_base=cube.small_base), note=note_html(cube))

    @classmethod
    def rows(cls, cube, view: View) -> pd.DataFrame:
        raise NotImplementedError

    @classmethod
    def figure_for(cls, cube, view: View, rows: pd.DataFrame) -> go.Figure:
        raise NotImplementedError

    @classmethod
    def table_rows(cls, cube, view: View, rows: pd.DataFrame) -> pd.DataFrame:
        """The cube rows behind the table and the CSV (default: the chart's rows)."""
        return rows

    def query(self) -> str:
        keys = ["wave" if name in ("waves", "wave") else name for name in self.controls_shown]
        return self.view.query(keys)

    @staticmethod
    def filename(view: View) -> str:
        parts = [view.topic or view.indicator, view.breakdown, *view.waves[-1:]]
        return "_".join(p.replace("|", "-").replace(" ", "-") for p in parts if p) + ".csv"

    def _link_html(self) -> str:
        href = view_href(self.query())
        return (f'Link to this view: <a class="st-link" href="{html.escape(href)}" target="_top">'
                f"{html.escape(href)}</a>")


class _IndicatorApp(App):
    """One indicator by one breakdown: a trend or a group comparison, and its table."""

    @classmethod
    def rows(cls, cube, view: View) -> pd.DataFrame:
        return cube.select(indicator=view.indicator, breakdown=view.breakdown, waves=list(view.waves))

    @classmethod
    def figure_for(cls, cube, view: View, rows: pd.DataFrame) -> go.Figure:
        if rows.empty:
            raise ManifestError("no estimates for this view: the question was not asked in these waves",
                                expected="an indicator asked in the waves",
                                found=f"{view.indicator} in {', '.join(view.waves)}",
                                hint="pick other waves")
        wording = cube.catalogue[view.indicator].wording or None
        if view.chart == "groups":
            return plots.group_chart(rows, question=wording, small_base=cube.small_base,
                                     conf_level=cube.conf_level)
        return plots.trend_chart(rows, waves=[w for w in view.waves if w in set(rows["wave"])],
                           question=wording, small_base=cube.small_base,
                           conf_level=cube.conf_level)


class TrustApp(_IndicatorApp):
    """Trust in organisations to use and to keep data about people."""

    name = "trust"
    title = "Trust in organisations"
    intro = ("How many people trust organisations to use data about them, and to keep it secure, "
             "by group and over time. Weighted estimates with {conf} confidence intervals.")
    topics = ("Trust to use data", "Trust to keep data secure")


class AcceptabilityApp(_IndicatorApp):
    """How acceptable people find uses of data and AI, and their views of AI."""

    name = "acceptability"
    title = "Acceptability of data and AI uses"
    intro = ("How acceptable people find specific uses of data and AI, and their awareness and "
             "use of AI, by group and over time. Weighted estimates with {conf} confidence intervals.")
    topics = ("Acceptability", "Acceptability (net)", "AI")


_KIND_NAMES = {"share": "shares", "net": "net scores", "mean": "mean scores"}


class OverviewApp(App):
    """Headline indicators in one wave with their change, and a heatmap of a topic by a breakdown."""

    name = "overview"
    title = "Overview: public attitudes to data and AI"
    intro = ("Headline figures for all adults in the chosen wave with the change since the previous "
             "wave, and how groups differ across a topic's indicators.")
    controls_shown = ("topic", "breakdown", "wave", "ci")
    label_column = "indicator_label"

    @classmethod
    def topic_options(cls, cube) -> list[tuple[str, str]]:
        """(label, value) per topic and kind: a heatmap shows numbers of one kind."""
        pairs = list(dict.fromkeys((ind.topic, ind.kind) for ind in cube.catalogue))
        kinds_of = {t: [k for tt, k in pairs if tt == t] for t, _ in pairs}
        return [(t if len(kinds_of[t]) == 1 else f"{t} ({_KIND_NAMES[k]})", f"{t}|{k}")
                for t, k in pairs]

    @staticmethod
    def _topic_indicators(cube, view: View) -> list[str]:
        topic, kind = view.topic.split("|")
        return [ind.name for ind in cube.catalogue if ind.topic == topic and ind.kind == kind]

    @classmethod
    def rows(cls, cube, view: View) -> pd.DataFrame:
        frame = cube.select(breakdown=view.breakdown, waves=list(view.waves))
        return frame[frame["indicator"].isin(cls._topic_indicators(cube, view))]

    @classmethod
    def figure_for(cls, cube, view: View, rows: pd.DataFrame) -> go.Figure:
        if rows.empty:
            raise ManifestError("no estimates for this topic in this wave", found=view.waves[-1],
                                expected="a topic asked in the wave", hint="pick another wave")
        topic = {value: label for label, value in cls.topic_options(cube)}[view.topic]
        by = "all adults" if view.breakdown == "total" else cube.breakdowns[view.breakdown].label
        return plots.heatmap_chart(rows, small_base=cube.small_base,
                             title=f"{topic} by {by.lower()} ({view.waves[-1]})",
                             row_labels={ind.name: ind.short_label for ind in cube.catalogue})

    @classmethod
    def table_rows(cls, cube, view: View, rows: pd.DataFrame) -> pd.DataFrame:
        total = cube.select(breakdown="total", waves=list(view.waves))
        return total[total["indicator"].isin(cls._topic_indicators(cube, view))]


APPS = (OverviewApp, TrustApp, AcceptabilityApp)
