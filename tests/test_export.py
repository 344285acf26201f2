"""The static export: self-contained pages of every dashboard view, suppression applied;
on any catalogue, with a generic page per topic and every empty view saying why."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from surveytools.indicators.store import cached_cube
from surveytools.presentation.dashboard import OverviewApp, TrustApp
from surveytools.presentation.export import PLOTLY_JS, export_site

from browser.fixtures import FEW_BREAKDOWNS, write_scaffolded_tracker


# manifest (the strict example tracker): tests/conftest.py
@pytest.fixture(scope="module")
def written(manifest, tmp_path_factory):
    return export_site(manifest, tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def site(written):
    return written.index.parent


@pytest.fixture(scope="module")
def scaffolded_site(tmp_path_factory):
    """The export of the scaffolded two-wave tracker at a rule that suppresses every region."""
    folder = tmp_path_factory.mktemp("scaffolded")
    return export_site(write_scaffolded_tracker(folder, suppress_below=200), folder / "site")


def views_of(page) -> dict:
    text = page.read_text(encoding="utf-8")
    blob = re.search(r'<script id="views" type="application/json">(.*?)</script>', text, re.S).group(1)
    return json.loads(blob.replace("<\\/", "</"))


def test_site_files_and_no_network(site, written):
    assert written.pages == ("overview.html", "trust.html", "acceptability.html")
    assert sorted(p.name for p in site.iterdir()) == sorted(["index.html", PLOTLY_JS, *written.pages])
    assert "Plotly" in (site / PLOTLY_JS).read_text(encoding="utf-8")[:5000]
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'(src|href)="(https?:)?//', text), page.name
        assert text.count(f'src="{PLOTLY_JS}"') == (page.name != "index.html")


def test_every_view_is_there(site, manifest):
    cube = cached_cube(manifest)
    trust = views_of(site / "trust.html")
    indicators = [i.name for i in TrustApp.indicators(cube)]
    assert len(trust) == len(indicators) * (1 + len(FEW_BREAKDOWNS)) * 2
    overview = views_of(site / "overview.html")
    assert len(overview) == len(OverviewApp.topic_options(cube)) * (1 + len(FEW_BREAKDOWNS))


def test_suppression_in_every_view(site):
    seen = 0
    for name in ("trust", "acceptability"):
        for key, view in views_of(site / f"{name}.html").items():
            records = list(csv.DictReader(io.StringIO(view["csv"])))
            hidden = [r for r in records if r["base_flag"] == "suppressed"]
            seen += len(hidden)
            for r in hidden:
                assert r["estimate"] == r["ci_low"] == r["ci_high"] == r["change"] == r["letters"] == ""
                assert r["n"] == "" and r["note"] == {"small base": "n<100",
                                                       "complementary": "[c]"}[r["suppression"]]
            labels = [a for a in view["figure"]["layout"]["annotations"]
                      if a["text"] in ("n<100", "[c]")]
            assert len(labels) == len(hidden), key
            cells = re.findall(r'<tr data-flag="suppressed">(.*?)</tr>', view["table"])
            assert len(cells) == len(hidden)
            for row in cells:
                tds = re.findall(r"<td>(.*?)</td>", row)
                assert tds[2] in ("n&lt;100", "[c]") and tds[6] == tds[2]
                assert not re.search(r"\d", "".join(tds[3:6]))
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


def test_every_page_of_any_catalogue_and_why_views_are_empty(scaffolded_site):
    written, site = scaffolded_site, scaffolded_site.index.parent
    assert written.pages == ("overview.html", "topic-other-questions.html")
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "<h1>bsa</h1>" in index and 'href="topic-other-questions.html">Other questions</a>' in index
    overview = (site / "overview.html").read_text(encoding="utf-8")
    assert 'Topics: <a href="topic-other-questions.html" target="_top">Other questions</a>' in overview
    empty = {}
    for page in written.pages:
        for key, view in views_of(site / page).items():
            texts = [a["text"] for a in view["figure"]["layout"]["annotations"]
                     if a.get("name") == "nothing to show"]
            if texts:
                empty[(page, key)] = texts[0]
                assert not view["figure"]["data"]
    assert {(page, key) for page, key, _ in written.empty} == set(empty)
    # the region breakdown (each region under 200) of every indicator, trend and groups, and
    # of each overview topic; and, where one mode is under 200, the mode breakdown, whose
    # other group is hidden with it (total minus the other group would give it away)
    assert {why.kind for _, _, why in written.empty} == {"suppressed"}
    by_breakdown = {}
    for _, key, why in written.empty:
        by_breakdown.setdefault(key.split("&")[1], []).append(why.text)
    assert set(by_breakdown) == {"breakdown=region", "breakdown=mode"}
    assert len(by_breakdown["breakdown=region"]) == 8 * 2 + 2
    assert all("the others are hidden so that those cannot be worked out" in text
               for text in by_breakdown["breakdown=mode"])
    assert all(t.replace("<br>", " ").startswith("Every group of this breakdown is suppressed")
               for t in empty.values())
    summary = str(written)
    assert summary.startswith(f"{written.index} (2 pages, {written.views} views; "
                              f"{len(written.empty)} with nothing to show, each saying why: ")
    assert "every group suppressed" in summary
    for page in site.glob("*.html"):
        assert "No estimates for this view" not in page.read_text(encoding="utf-8")


def test_the_export_draws_series_breaks(scaffolded_site):
    views = views_of(scaffolded_site.index.parent / "topic-other-questions.html")
    trend = views["indicator=TrstNHS_high&breakdown=age&chart=trend"]
    assert [s["x0"] for s in trend["figure"]["layout"]["shapes"]] == [0.5]
    assert "not comparable (mode of interview changed" in trend["table"]
    assert "change_note" in trend["csv"].splitlines()[0]
    assert "Series break before 2023" in trend["note"]
