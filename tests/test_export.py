"""The static export: self-contained pages of every dashboard view, suppression applied."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from surveytools.indicators.store import cached_cube
from surveytools.presentation.dashboard import APPS
from surveytools.presentation.export import PLOTLY_JS, export_site

from browser.fixtures import FEW_BREAKDOWNS


# manifest (the strict example tracker): tests/conftest.py
@pytest.fixture(scope="module")
def site(manifest, tmp_path_factory):
    return export_site(manifest, tmp_path_factory.mktemp("site")).parent


def views_of(page) -> dict:
    text = page.read_text(encoding="utf-8")
    blob = re.search(r'<script id="views" type="application/json">(.*?)</script>', text, re.S).group(1)
    return json.loads(blob.replace("<\\/", "</"))


def test_site_files_and_no_network(site):
    assert sorted(p.name for p in site.iterdir()) == sorted(
        ["index.html", PLOTLY_JS, *(f"{app.name}.html" for app in APPS)])
    assert "Plotly" in (site / PLOTLY_JS).read_text(encoding="utf-8")[:5000]
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'(src|href)="(https?:)?//', text), page.name
        assert text.count(f'src="{PLOTLY_JS}"') == (page.name != "index.html")


def test_every_view_is_there(site, manifest):
    cube = cached_cube(manifest)
    trust = views_of(site / "trust.html")
    indicators = [i.name for i in APPS[1].indicators(cube)]
    assert len(trust) == len(indicators) * (1 + len(FEW_BREAKDOWNS)) * 2
    overview = views_of(site / "overview.html")
    assert len(overview) == len(APPS[0].topic_options(cube)) * (1 + len(FEW_BREAKDOWNS))


def test_suppression_in_every_view(site):
    seen = 0
    for name in ("trust", "acceptability"):
        for key, view in views_of(site / f"{name}.html").items():
            if "message" in view:
                continue
            records = list(csv.DictReader(io.StringIO(view["csv"])))
            hidden = [r for r in records if r["base_flag"] == "suppressed"]
            seen += len(hidden)
            for r in hidden:
                assert r["estimate"] == r["ci_low"] == r["ci_high"] == r["change"] == r["letters"] == ""
                assert r["note"] == "n<100"
            labels = [a for a in view["figure"]["layout"]["annotations"] if a["text"] == "n<100"]
            assert len(labels) == len(hidden), key
            cells = re.findall(r'<tr data-flag="suppressed">(.*?)</tr>', view["table"])
            assert len(cells) == len(hidden)
            for row in cells:
                tds = re.findall(r"<td>(.*?)</td>", row)
                assert tds[2] == "n&lt;100" and not re.search(r"\d", "".join(tds[3:6]))
    assert seen > 0


def test_question_first_asked_later_has_a_shorter_trend(site):
    views = views_of(site / "acceptability.html")
    # accept_exams was first asked in 2023: its trend has two waves, not four
    trend = views["indicator=accept_exams_share&breakdown=total&chart=trend"]
    lines = [t for t in trend["figure"]["data"] if t.get("mode") == "lines+markers"]
    assert lines[0]["x"] == ["2023", "2024"]


def test_pages_state_the_cube_method_and_level(site):
    text = (site / "trust.html").read_text(encoding="utf-8")
    assert "Confidence intervals: Logit." in text and "95% confidence intervals" in text
    assert "Logit confidence-interval method" in (site / "index.html").read_text(encoding="utf-8")
    assert not list(site.glob(".*.tmp"))  # atomic writes leave no temporary file
