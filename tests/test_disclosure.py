"""Disclosure by subtraction: complementary suppression and rounding (indicators/disclosure.py).

Two parts.

* The rule on small synthetic frames: a lone small group takes the next
  smallest with it; nested breakdowns of one variable (nation and region);
  a chain that needs several rounds to reach the fixpoint; answers, changes,
  letters; idempotence; rounding.
* An ATTACKER on the bundled tracker under a strict rule
  (``SmallBaseRule(200, 300)``): for every primarily suppressed cell it tries
  every derivation the issue lists, on what an output shows (cube rows and
  answer shares, as the tidy CSV holds them), and compares with the truth (a
  cube built without suppression):

  - subtraction: a shown parent cell (the total, or a group whose codes
    contain the hidden group's: England for a region) minus any exact cover
    of the rest by shown cells of the same variable (other groups of the
    breakdown, other English regions, the same group in another breakdown),
    weighted by the shown weighted bases; the same for the bases
    (``n`` and ``weighted_n`` differences);
  - parts: an indicator rebuilt from the group's shown answer shares; a net
    from its shown plus share and the minus share of the answers, a share
    from its shown net; an answer share as 1 minus the group's other answers;
  - changes: the hidden value as the shown value of the next wave minus its
    change, or of the previous wave plus the hidden cell's change;
  - any linear combination: per wave x indicator (and per answer), the hidden
    cell's estimate x weighted base is solved from every shown cell when it
    is identifiable, the hidden weighted base assumed KNOWN (worst case).

  A recovered estimate within :data:`TOLERANCE` (half a percentage point;
  0.005 on the mean scale) of the truth, an unweighted base recovered exactly,
  a weighted base within 1%, counts as disclosure.  Without protection the
  attacker recovers hundreds of cells (so the test can fail); on the
  protected output, rounded or not, none.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import surveytools as st
from surveytools.core.smallbase import ESTIMATE_COLUMNS, SUPPRESSED, blank
from surveytools.indicators.disclosure import (COMPLEMENTARY, PREVIOUS_HIDDEN, SMALL_BASE, audit,
                                               membership, protect, protect_answers,
                                               round_published, suppression_pattern)
from surveytools.presentation.formatting import format_value

RULE = st.SmallBaseRule(200, 300)
#: Closer than this to the truth counts as disclosure (estimates; shares and nets are fractions).
TOLERANCE = 0.005
#: A recovered weighted base within this fraction of the truth counts as disclosure.
BASE_TOLERANCE = 0.01


# -- synthetic frames ----------------------------------------------------------------
def cells(spec, *, wave="2024", question="q", indicator="i", kind="share"):
    """Cube-like rows from (breakdown, group, n, weighted_n, estimate) tuples, with the
    primary rule of :data:`RULE` applied."""
    rows = pd.DataFrame(spec, columns=["breakdown", "group", "n", "weighted_n", "estimate"])
    rows.insert(0, "wave", wave)
    rows.insert(1, "question", question)
    rows.insert(2, "indicator", indicator)
    rows["kind"] = kind
    rows["se"] = 0.02
    return RULE.apply(rows)


REGIONS = {"region": ("region", {str(c): {c} for c in range(1, 13)}),
           "nation": ("region", {"1": set(range(1, 10)), "2": {10}, "3": {11}, "4": {12}})}


def regions(n: dict, *, wave="2024"):
    """Total, nation and region rows; ``n`` maps region code -> unweighted base."""
    total = sum(n.values())
    spec = [("total", "all", total, float(total), 0.5)]
    nation = {"1": sum(n[c] for c in range(1, 10)), "2": n[10], "3": n[11], "4": n[12]}
    spec += [("nation", g, v, float(v), 0.5) for g, v in nation.items()]
    spec += [("region", str(c), v, float(v), 0.5) for c, v in n.items()]
    return cells(spec, wave=wave)


def hidden(out, breakdown=None):
    rows = out[out["suppression"] != ""]
    if breakdown is not None:
        rows = rows[rows["breakdown"] == breakdown]
    return dict(zip(rows["group"], rows["suppression"]))


AGE = {"age": ("age_band", {"1": {1}, "2": {2}, "3": {3}, "4": {4}})}


def test_a_lone_small_group_takes_the_next_smallest_with_it():
    frame = cells([("total", "all", 1500, 1500.0, 0.5), ("age", "1", 150, 150.0, np.nan),
                   ("age", "2", 320, 330.0, 0.4), ("age", "3", 250, 260.0, 0.45),
                   ("age", "4", 780, 760.0, 0.55)])
    out = protect(frame, RULE, groups=AGE)
    assert hidden(out) == {"1": SMALL_BASE, "3": COMPLEMENTARY}
    # hidden cells show no estimate, no derived value and no base
    gone = out[out["suppression"] != ""]
    assert gone[["estimate", "se", "n", "weighted_n"]].isna().all().all()
    assert (gone["base_flag"] == SUPPRESSED).all()
    shown = out[out["suppression"] == ""]
    assert shown["n"].notna().all() and shown["estimate"].notna().all()
    assert audit(frame, groups=AGE)["group"].tolist() == ["1"]
    assert audit(out, groups=AGE).empty
    # the input is unchanged
    assert "suppression" not in frame and frame["n"].notna().all()


def test_the_complement_is_at_least_as_large_in_weighted_base_when_possible():
    # group 3 is next smallest by n but far smaller by weight: group 2 protects better
    frame = cells([("total", "all", 1500, 1500.0, 0.5), ("age", "1", 150, 300.0, np.nan),
                   ("age", "2", 320, 330.0, 0.4), ("age", "3", 250, 90.0, 0.45),
                   ("age", "4", 780, 780.0, 0.55)])
    assert hidden(protect(frame, RULE, groups=AGE)) == {"1": SMALL_BASE, "2": COMPLEMENTARY}


def test_two_small_groups_need_no_complement_and_a_small_total_hides_everything():
    frame = cells([("total", "all", 1500, 1500.0, 0.5), ("age", "1", 150, 150.0, np.nan),
                   ("age", "2", 120, 130.0, np.nan), ("age", "3", 450, 460.0, 0.45),
                   ("age", "4", 780, 760.0, 0.55)])
    assert hidden(protect(frame, RULE, groups=AGE)) == {"1": SMALL_BASE, "2": SMALL_BASE}
    small = cells([("total", "all", 190, 190.0, 0.5), ("age", "1", 90, 90.0, 0.5),
                   ("age", "2", 100, 100.0, 0.5)])
    assert set(protect(small, RULE, groups=AGE)["suppression"]) == {SMALL_BASE}


def test_a_two_group_breakdown_loses_both_groups():
    groups = {"mode": ("mode", {"1": {1}, "2": {2}})}
    frame = cells([("total", "all", 1500, 1500.0, 0.5), ("mode", "1", 1340, 1300.0, 0.5),
                   ("mode", "2", 160, 200.0, np.nan)])
    assert hidden(protect(frame, RULE, groups=groups)) == {"1": COMPLEMENTARY, "2": SMALL_BASE}


def test_a_small_english_region_takes_another_english_region_not_wales():
    n = {1: 150, 2: 400, 3: 330, 4: 290, 5: 340, 6: 410, 7: 450, 8: 630, 9: 380,
         10: 260, 11: 300, 12: 230}
    out = protect(regions(n), RULE, groups=REGIONS)
    # Wales (260) and NI (230) are smaller, but England minus the other English
    # regions would still give the North East: the complement is English
    assert hidden(out, "region") == {"1": SMALL_BASE, "4": COMPLEMENTARY}
    assert hidden(out, "nation") == {}
    assert audit(out, groups=REGIONS).empty


def test_a_small_nation_is_hidden_with_its_complement_in_both_breakdowns():
    n = {1: 450, 2: 400, 3: 330, 4: 290, 5: 340, 6: 410, 7: 450, 8: 630, 9: 380,
         10: 260, 11: 300, 12: 120}
    out = protect(regions(n), RULE, groups=REGIONS)
    assert hidden(out, "nation") == {"2": COMPLEMENTARY, "4": SMALL_BASE}
    assert hidden(out, "region") == {"10": COMPLEMENTARY, "12": SMALL_BASE}
    assert audit(out, groups=REGIONS).empty


def test_the_pattern_is_iterated_to_a_fixpoint():
    # 18-34 is small in two age breakdowns.  No single complement breaks both
    # derivations (total minus 35-54 and 55+; total minus 35+), so round one
    # hides the next smallest band of `age`, round two the 35+ group of `age2`
    # that still gave 18-34 away; then nothing can be derived.
    groups = {"age": ("age_band", {"1": {1, 2}, "2": {3, 4}, "3": {5, 6, 7}}),
              "age2": ("age_band", {"1": {1, 2}, "2": {3, 4, 5, 6, 7}})}
    frame = cells([("total", "all", 1500, 1500.0, 0.5), ("age", "1", 150, 150.0, np.nan),
                   ("age", "2", 600, 600.0, 0.4), ("age", "3", 750, 750.0, 0.45),
                   ("age2", "1", 150, 150.0, np.nan), ("age2", "2", 1350, 1350.0, 0.5)])
    assert len(audit(frame, groups=groups)) == 2
    out = protect(frame, RULE, groups=groups)
    assert hidden(out, "age") == {"1": SMALL_BASE, "2": COMPLEMENTARY}
    assert hidden(out, "age2") == {"1": SMALL_BASE, "2": COMPLEMENTARY}
    assert audit(out, groups=groups).empty


def test_nested_breakdowns_with_other_variables_beside_them():
    n = {1: 150, 2: 400, 3: 330, 4: 290, 5: 340, 6: 410, 7: 450, 8: 630, 9: 380,
         10: 210, 11: 300, 12: 250}
    groups = {**REGIONS, "age": AGE["age"]}
    frame = pd.concat([regions(n), cells([("age", "1", 1000, 1000.0, 0.5),
                                          ("age", "2", 1000, 1000.0, 0.5),
                                          ("age", "3", 1000, 1000.0, 0.5),
                                          ("age", "4", sum(n.values()) - 3000, 1000.0, 0.5)])],
                      ignore_index=True)
    out = protect(frame, RULE, groups=groups)
    region, nation = hidden(out, "region"), hidden(out, "nation")
    # the classic "next smallest of the breakdown" would hide Wales (210), and England
    # minus the other English regions would still give the North East
    assert region == {"1": SMALL_BASE, "4": COMPLEMENTARY} and nation == {}
    assert hidden(out, "age") == {} and audit(out, groups=groups).empty
    classic = frame.copy()
    classic.loc[(classic["breakdown"] == "region") & (classic["group"] == "10"),
                "base_flag"] = SUPPRESSED
    classic.loc[(classic["breakdown"] == "nation") & (classic["group"] == "2"),
                "base_flag"] = SUPPRESSED
    classic.loc[(classic["breakdown"] == "nation") & (classic["group"] == "4"),
                "base_flag"] = SUPPRESSED
    assert ("region", "1") in set(zip(*audit(classic, groups=groups)[["breakdown", "group"]]
                                      .to_numpy().T))


def test_identical_groups_are_hidden_together():
    groups = {"nation": REGIONS["nation"], "wales": ("region", {"10": {10}})}
    frame = cells([("total", "all", 2180, 2180.0, 0.5), ("nation", "1", 1500, 1500.0, 0.5),
                   ("nation", "2", 230, 230.0, 0.5), ("nation", "3", 330, 330.0, 0.5),
                   ("nation", "4", 120, 120.0, 0.5), ("wales", "10", 230, 230.0, 0.5)])
    out = protect(frame, RULE, groups=groups)
    assert hidden(out, "wales") == {"10": COMPLEMENTARY}
    assert hidden(out, "nation")["2"] == COMPLEMENTARY


def test_one_question_is_one_unit_and_answers_count():
    share = cells([("total", "all", 1500, 1500.0, 0.5), ("age", "1", 210, 210.0, 0.3),
                   ("age", "2", 320, 330.0, 0.4), ("age", "3", 250, 260.0, 0.45),
                   ("age", "4", 720, 700.0, 0.55)], indicator="share")
    net = share.assign(indicator="net", kind="net")
    net.loc[net["group"] == "1", "n"] = 190  # Don't know out of a different base
    frame = RULE.apply(pd.concat([share, net], ignore_index=True))
    out = protect(frame, RULE, groups=AGE)
    # the net's small base hides the share of the same question too: a net whose part is
    # hidden; the share's own base is not small, so it says why it is hidden
    one = out[out["group"] == "1"].set_index("indicator")["suppression"]
    assert one.to_dict() == {"share": COMPLEMENTARY, "net": SMALL_BASE}
    assert (out.loc[out["group"] == "3", "suppression"] == COMPLEMENTARY).all()
    # the answers of the question follow the same pattern
    answers = pd.DataFrame({"wave": "2024", "question": "q", "breakdown": "age",
                            "group": ["1", "1", "3", "4"], "level": [1, 2, 1, 1],
                            "estimate": 0.5, "n": [230, 230, 260, 800],
                            "weighted_n": [230.0, 230.0, 270.0, 800.0], "base_flag": "ok"})
    shown = protect_answers(answers, out)
    assert shown["suppression"].tolist() == [COMPLEMENTARY, COMPLEMENTARY, COMPLEMENTARY, ""]
    assert shown.loc[:2, ["estimate", "n", "weighted_n"]].isna().all().all()
    # an answer with a small base that the frame shows: protect was not given the answers
    small = answers.assign(n=150, base_flag="suppressed")
    with pytest.raises(st.DataError, match="answers"):
        protect_answers(small, protect(share, RULE, groups=AGE))
    out = protect(share, RULE, groups=AGE, answers=small)
    assert set(protect_answers(small, out)["suppression"]) == {SMALL_BASE}


def test_changes_next_to_a_hidden_cell_are_blank():
    before = cells([("total", "all", 1500, 1500.0, 0.5), ("age", "1", 150, 150.0, 0.3),
                    ("age", "2", 320, 330.0, 0.4), ("age", "3", 250, 260.0, 0.45),
                    ("age", "4", 780, 760.0, 0.55)], wave="2023")
    after = cells([("total", "all", 1500, 1500.0, 0.5), ("age", "1", 260, 250.0, 0.3),
                   ("age", "2", 320, 330.0, 0.4), ("age", "3", 250, 260.0, 0.45),
                   ("age", "4", 670, 660.0, 0.55)], wave="2024")
    later = after.assign(wave="2025")
    frame = pd.concat([before, after, later], ignore_index=True)
    frame["change"] = np.where(frame["wave"] == "2023", np.nan, 0.01)
    frame["change_se"] = np.where(frame["wave"] == "2023", np.nan, 0.02)
    frame["change_p"] = np.where(frame["wave"] == "2023", np.nan, 0.6)
    frame["change_significant"] = False
    frame["change_note"] = ""
    out = protect(frame, RULE, groups=AGE, waves=["2023", "2024", "2025"])
    blanked = out[out["change"].isna() & (out["wave"] != "2023")]
    assert sorted(zip(blanked["wave"], blanked["group"])) == [("2024", "1"), ("2024", "3")]
    assert blanked[["change_se", "change_p"]].isna().all().all()
    # the shown cells say why they have no change; nothing else gets a note
    assert (blanked["change_note"] == PREVIOUS_HIDDEN).all()
    assert (out.loc[~out.index.isin(blanked.index), "change_note"] == "").all()
    assert out.loc[out["wave"] == "2025", "change"].notna().all()


def test_hidden_groups_letters_leave_the_shown_groups_letters():
    frame = cells([("total", "all", 1500, 1500.0, 0.5), ("age", "1", 150, 150.0, 0.3),
                   ("age", "2", 320, 330.0, 0.6), ("age", "3", 250, 260.0, 0.45),
                   ("age", "4", 780, 760.0, 0.35)])
    frame["letter"] = ["", "A", "B", "C", "D"]
    frame["letters"] = ["", None, "CD", "D", ""]
    out = protect(frame, RULE, groups=AGE)
    assert out["letters"].fillna("-").tolist() == ["", "-", "D", "-", ""]


def test_letters_past_z_are_read_in_column_order():
    from surveytools.indicators.disclosure import _tokens
    from surveytools.indicators.significance import column_letters

    alphabet = column_letters(30)
    assert _tokens("AA", alphabet) == ["AA"]
    assert _tokens("AAA", alphabet) == ["A", "AA"]
    assert _tokens("BZAB", alphabet) == ["B", "Z", "AB"]
    assert _tokens("BA", alphabet) is None  # not in column order


def test_protect_is_idempotent_and_a_breakdown_without_membership_is_an_error():
    frame = regions({c: (150 if c == 1 else 300) for c in range(1, 13)})
    once = protect(frame, RULE, groups=REGIONS)
    assert protect(once, RULE, groups=REGIONS).equals(once)
    assert suppression_pattern(once, RULE, groups=REGIONS)["suppression"].tolist() == \
        once["suppression"].tolist()
    with pytest.raises(st.DataError, match="membership"):
        protect(frame, RULE, groups={"nation": REGIONS["nation"]})


def test_membership_of_the_tracker_breakdowns(cube):
    groups = membership(cube.breakdowns)
    variable, nation = groups["nation"]
    assert variable == "region" and nation["1"] == frozenset(range(1, 10))
    assert groups["region"][1]["10"] == nation["2"]


def test_rounding_keeps_exactly_what_is_shown():
    rng = np.random.default_rng(1)
    kinds = np.array(["share", "net", "mean"])[rng.integers(0, 3, 2000)]
    values = np.where(kinds == "mean", rng.uniform(1, 4, 2000),
                      np.where(kinds == "net", rng.uniform(-1, 1, 2000), rng.uniform(0, 1, 2000)))
    frame = pd.DataFrame({"kind": kinds, "estimate": values, "se": rng.uniform(0, 0.1, 2000),
                          "change": rng.uniform(-0.2, 0.2, 2000),
                          "weighted_n": rng.uniform(50, 5000, 2000), "n": 300})
    out = round_published(frame)
    # what is stored is what is shown, and shows as the full-precision value does
    assert [format_value(v, k) for v, k in zip(out["estimate"], kinds)] == \
        [format_value(v, k) for v, k in zip(frame["estimate"], kinds)]
    assert np.allclose(out["estimate"] * 100, np.round(out["estimate"] * 100), atol=1e-9)
    assert np.allclose(out["weighted_n"] % 10, 0) and (out["n"] == 300).all()
    assert np.allclose(out["se"] * 1000, np.round(out["se"] * 1000), atol=1e-9)
    assert round_published(out).equals(out)
    assert frame["estimate"].equals(pd.Series(values, name="estimate"))  # input unchanged
    answers = pd.DataFrame({"estimate": [0.123456], "weighted_n": [1234.5]})
    assert round_published(answers).values.tolist() == [[0.12, 1230.0]]


# -- the attacker ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def released(tracker):
    """The cube every output is built from: complementary suppression applied."""
    return st.cube(tracker, small_base=RULE, answers=True)


@pytest.fixture(scope="module")
def truth(tracker):
    """Every value, nothing suppressed: what the attacker is after."""
    return st.cube(tracker, small_base=st.SmallBaseRule(0, 0), answers=True)


def primary_only(rows: pd.DataFrame) -> pd.DataFrame:
    """What outputs showed before complementary suppression: the small bases' estimates
    (and their changes) blanked, their bases and everything else shown at full precision."""
    small = (rows["n"] < RULE.suppress_below).to_numpy()
    out = blank(rows, small)
    out["base_flag"] = np.where(small, SUPPRESSED, out["base_flag"].to_numpy(dtype=object))
    return out


@pytest.fixture(scope="module")
def protected(released):
    return released.frame, released.answers


class Attacker:
    """Works out hidden cells from what an output shows (see the module docstring)."""

    def __init__(self, frame, answers, *, catalogue, groups, waves, missing):
        self.frame, self.answers = frame, answers
        self.catalogue, self.groups, self.waves, self.missing = catalogue, groups, waves, missing
        self.codes = {v: frozenset().union(*m.values()) for v, m in groups.values()}
        key = ["wave", "indicator", "breakdown", "group"]
        self.cell = frame.set_index(key)[["estimate", "weighted_n", "n", "change"]].to_dict("index")
        akey = ["wave", "question", "level", "breakdown", "group"]
        self.answer = answers.set_index(akey)[["estimate", "weighted_n", "n"]].to_dict("index")
        self.levels = answers.groupby(["wave", "question", "breakdown", "group"])["level"] \
            .agg(lambda s: sorted(set(s))).to_dict()

    # subtraction ----------------------------------------------------------
    def _members(self, breakdown, group):
        if breakdown == "total":
            return None
        variable, members = self.groups[breakdown]
        return variable, frozenset(members[group])

    def _covers(self, shown, rest, limit=40):
        """Exact covers of the code set ``rest`` by shown cells (lists of their keys)."""
        if not rest:
            yield []
            return
        first = min(rest)
        for key, codes in shown:
            if first in codes and codes <= rest:
                for cover in itertools.islice(self._covers(shown, rest - codes), limit):
                    yield [key, *cover]

    def subtraction(self, lookup, target):
        """(estimate, weighted base, n) of ``target`` by every parent-minus-cover derivation."""
        *prefix, breakdown, group = target
        variable, codes = self._members(breakdown, group)
        cells = {}
        for name, (var, members) in self.groups.items():
            if var != variable:
                continue
            for g, m in members.items():
                value = lookup.get((*prefix, name, g))
                if value is not None and not np.isnan(value["estimate"]) \
                        and not np.isnan(value["weighted_n"]):
                    cells[(name, g)] = (frozenset(m), value)
        total = lookup.get((*prefix, "total", "all"))
        parents = [(frozenset(self.codes[variable]), total)] if total is not None else []
        parents += [c for c in cells.values() if codes <= c[0]]
        shown = [(k, c[0]) for k, c in cells.items() if k != (breakdown, group)]
        for parent_codes, parent in parents:
            if parent is None or np.isnan(parent["estimate"]):
                continue
            for cover in itertools.islice(self._covers(shown, parent_codes - codes), 40):
                parts = [cells[k][1] for k in cover]
                weight = parent["weighted_n"] - sum(p["weighted_n"] for p in parts)
                mass = parent["estimate"] * parent["weighted_n"] - sum(
                    p["estimate"] * p["weighted_n"] for p in parts)
                n = parent["n"] - sum(p["n"] for p in parts)
                own = lookup.get(target)
                base = own["weighted_n"] if own is not None and not np.isnan(
                    own["weighted_n"]) else weight
                yield ("subtraction", mass / base if base else np.nan, weight, n)

    # parts, answers and changes ---------------------------------------------------
    def from_answers(self, wave, ind, breakdown, group, *, codes=None, minus=None):
        """Indicator ``ind`` (or the share of ``codes`` minus ``minus`` on its base)
        rebuilt from the group's shown answer shares; None when one is hidden."""
        levels = self.levels.get((wave, ind.question, breakdown, group), [])
        shares = [self.answer[(wave, ind.question, level, breakdown, group)]["estimate"]
                  for level in levels]
        if not levels or np.isnan(shares).any():
            return None
        levels, shares = np.asarray(levels), np.asarray(shares)
        base = shares.copy()
        if ind.dont_know == "exclude":
            base[self.missing[(wave, ind.question)](levels)] = 0.0
        kind = ind.kind if codes is None else "net"
        codes = ind.codes if codes is None else codes
        minus = ind.minus if minus is None else minus
        if kind in ("share", "net"):
            return (shares[np.isin(levels, codes)].sum()
                    - shares[np.isin(levels, minus)].sum()) / base.sum()
        return (levels * base).sum() / base.sum()

    def minus_share(self, wave, ind, breakdown, group):
        return self.from_answers(wave, ind, breakdown, group, codes=ind.minus, minus=())

    def parts(self, target):
        wave, indicator, breakdown, group = target
        ind = self.catalogue[indicator]
        value = self.from_answers(wave, ind, breakdown, group)
        if value is not None:
            yield ("answers", value, np.nan, np.nan)
        for other in self.catalogue.for_question(ind.question):
            shown = self.cell.get((wave, other.name, breakdown, group))
            if other is ind or shown is None or np.isnan(shown["estimate"]):
                continue
            if ind.kind == "net" and other.kind == "share" and other.codes == ind.codes:
                minus = self.minus_share(wave, ind, breakdown, group)
                if minus is not None:
                    yield ("net = plus - minus", shown["estimate"] - minus, np.nan, np.nan)
            if ind.kind == "share" and other.kind == "net" and other.codes == ind.codes:
                minus = self.minus_share(wave, other, breakdown, group)
                if minus is not None:
                    yield ("share = net + minus", shown["estimate"] + minus, np.nan, np.nan)

    def changes(self, target):
        wave, indicator, breakdown, group = target
        asked = [w for w in self.waves if (w, indicator, "total", "all") in self.cell]
        i = asked.index(wave)
        own = self.cell.get(target)
        if i + 1 < len(asked):
            later = self.cell.get((asked[i + 1], indicator, breakdown, group))
            if later is not None and not np.isnan(later["estimate"] - later["change"]):
                yield ("next wave - its change", later["estimate"] - later["change"],
                       np.nan, np.nan)
        if i > 0 and own is not None and not np.isnan(own["change"]):
            before = self.cell.get((asked[i - 1], indicator, breakdown, group))
            if before is not None and not np.isnan(before["estimate"]):
                yield ("previous wave + change", before["estimate"] + own["change"], np.nan, np.nan)

    def answer_parts(self, target):
        wave, question, level, breakdown, group = target
        others = [self.answer[(wave, question, other, breakdown, group)]["estimate"]
                  for other in self.levels[(wave, question, breakdown, group)] if other != level]
        if others and not np.isnan(others).any():
            yield ("1 - other answers", 1.0 - sum(others), np.nan, np.nan)

    # any linear combination ----------------------------------------------------
    def _covers_everyone(self, rows, variable):
        total = rows.get(("total", "all"), {}).get("n", np.nan)
        verdicts = set()
        for name, (var, members) in self.groups.items():
            n = [rows.get((name, g), {"n": 0.0})["n"] for g in members]
            if var == variable and not np.isnan(total) and not np.isnan(n).any():
                verdicts.add(bool(abs(sum(n) - total) < 0.5))
        return verdicts != {False}

    def linear(self, rows, targets, truth_base):
        """Per target key: estimate solved from every shown cell of ``rows`` (one wave x
        indicator or answer), or nothing when not identifiable; bases assumed known."""
        atoms = {(v, c): i + 1 for i, (v, c) in enumerate(
            (v, c) for v, codes in self.codes.items() for c in sorted(codes))}
        size = len(atoms) + 1

        def vector(breakdown, group):
            out = np.zeros(size)
            if breakdown == "total":
                out[0] = 1
            else:
                variable, members = self.groups[breakdown]
                out[[atoms[(variable, c)] for c in members[group]]] = 1
            return out

        equations, values = [], []
        for v in self.codes:  # each variable's groups add up to the total (unless the
            if not self._covers_everyone(rows, v):  # shown bases say otherwise)
                continue
            row = np.zeros(size)
            row[0] = -1
            row[[i for (var, _), i in atoms.items() if var == v]] = 1
            equations.append(row)
            values.append(0.0)
        for (breakdown, group), value in rows.items():
            if not np.isnan(value["estimate"]) and not np.isnan(value["weighted_n"]):
                equations.append(vector(breakdown, group))
                values.append(value["estimate"] * value["weighted_n"])
        a, b = np.array(equations), np.array(values)
        solution = np.linalg.lstsq(a, b, rcond=None)[0]
        _, s, vt = np.linalg.svd(a, full_matrices=False)
        basis = vt[s > 1e-9 * s[0]]
        for key in targets:
            e = vector(*key)
            if np.linalg.norm(e - basis.T @ (basis @ e)) < 1e-7:
                yield key, ("linear", float(e @ solution) / truth_base[key], np.nan, np.nan)


def attack(frame, answers, *, released, truth, tracker, targets_of=None):
    """Every derivation against every hidden cell of the output (or of ``targets_of``,
    a frame and answers whose suppressed rows are the targets): one row per attempt
    (``cell``: ``"indicator"`` or ``"answer"``; ``how``; ``error``; ``disclosed``)."""
    groups = membership(released.breakdowns)
    missing = {(w, q): (lambda values, m=tracker[w].meta, q=q: m.missing_mask(q, values))
               for w in released.waves for q in released.catalogue.questions}
    attacker = Attacker(frame, answers, catalogue=released.catalogue, groups=groups,
                        waves=released.waves, missing=missing)
    key = ["wave", "indicator", "breakdown", "group"]
    akey = ["wave", "question", "level", "breakdown", "group"]
    true = truth.frame.set_index(key)[["estimate", "weighted_n", "n"]].to_dict("index")
    true_answer = truth.answers.set_index(akey)[["estimate", "weighted_n", "n"]].to_dict("index")
    rel, ra = targets_of if targets_of is not None else (frame, answers)
    targets = [tuple(t) for t in rel.loc[(rel["base_flag"] == SUPPRESSED)
                                         & (rel["breakdown"] != "total"), key].to_numpy()]
    answer_targets = [tuple(t) for t in ra.loc[(ra["base_flag"] == SUPPRESSED)
                                               & (ra["breakdown"] != "total"), akey].to_numpy()]
    records = []

    def record(cell, target, truth_value, attempt):
        how, estimate, weight, n = attempt
        records.append({"cell": cell, "target": target, "how": how,
                        "error": abs(estimate - truth_value["estimate"]),
                        "weight_error": abs(weight - truth_value["weighted_n"])
                        / truth_value["weighted_n"],
                        "n_error": abs(n - truth_value["n"])})

    for target in targets:
        for attempt in itertools.chain(attacker.subtraction(attacker.cell, target),
                                       attacker.parts(target), attacker.changes(target)):
            record("indicator", target, true[target], attempt)
    for target in answer_targets:
        for attempt in itertools.chain(attacker.subtraction(attacker.answer, target),
                                       attacker.answer_parts(target)):
            record("answer", target, true_answer[target], attempt)
    # any linear combination, per wave x indicator and per wave x question x level
    by_cell = {}
    for (w, i, b, g), value in attacker.cell.items():
        by_cell.setdefault((w, i), {})[(b, g)] = value
    for (w, i), rows in by_cell.items():
        wanted = [(t[2], t[3]) for t in targets if t[:2] == (w, i)]
        if wanted:
            bases = {k: true[(w, i, *k)]["weighted_n"] for k in wanted}
            for k, attempt in attacker.linear(rows, wanted, bases):
                record("indicator", (w, i, *k), true[(w, i, *k)], attempt)
    by_answer = {}
    for (w, q, lv, b, g), value in attacker.answer.items():
        by_answer.setdefault((w, q, lv), {})[(b, g)] = value
    wanted_answers = {}
    for t in answer_targets:
        wanted_answers.setdefault(t[:3], []).append((t[3], t[4]))
    for unit, wanted in wanted_answers.items():
        bases = {k: true_answer[(*unit, *k)]["weighted_n"] for k in wanted}
        for k, attempt in attacker.linear(by_answer[unit], wanted, bases):
            record("answer", (*unit, *k), true_answer[(*unit, *k)], attempt)
    out = pd.DataFrame.from_records(records, columns=["cell", "target", "how", "error",
                                                      "weight_error", "n_error"])
    out["disclosed"] = out["error"] < TOLERANCE
    out["base_disclosed"] = (out["n_error"] < 0.5) | (out["weight_error"] < BASE_TOLERANCE)
    return out


def disclosed(attempts, column="disclosed"):
    """Distinct cells disclosed, per cell type."""
    hits = attempts[attempts[column]]
    return {cell: hits.loc[hits["cell"] == cell, "target"].nunique()
            for cell in ("indicator", "answer")}


@pytest.fixture(scope="module")
def before(released, truth, tracker):
    return attack(primary_only(truth.frame), primary_only(truth.answers), released=released,
                  truth=truth, tracker=tracker)


def test_the_attacker_recovers_cells_of_todays_output(before, released):
    """Without protection (primary suppression only, full precision) the derivations work:
    the test below can fail."""
    hits = disclosed(before)
    assert hits["indicator"] > 200 and hits["answer"] > 1000
    by_how = before[before["disclosed"]].groupby("how")["target"].nunique()
    for how in ("subtraction", "linear"):
        assert by_how.get(how, 0) > 100, how
    # England minus the other English regions is among them
    regions = before[before["disclosed"] & (before["target"].str[-2] == "region")]
    assert regions["target"].str[-1].isin([str(c) for c in range(1, 10)]).sum() > 50
    # exact, not approximate: total minus the others is the hidden value to rounding error
    exact = before[(before["how"] == "subtraction") & before["disclosed"]]
    assert exact["error"].median() < 1e-9
    assert disclosed(before, "base_disclosed")["indicator"] > 200


def test_the_tolerance_is_met_by_the_truth_itself(truth, released, tracker):
    """Sanity of the attacker: on the unsuppressed cube every derivation it makes
    of a shown cell reproduces it."""
    attempts = attack(truth.frame, truth.answers, released=released, truth=truth,
                      tracker=tracker, targets_of=(primary_only(truth.frame),
                                                   primary_only(truth.answers)))
    exact = (attempts["error"] < 1e-9).groupby(attempts["how"]).mean()
    assert set(exact.index) == {"subtraction", "answers", "net = plus - minus",
                                "share = net + minus", "next wave - its change",
                                "previous wave + change", "1 - other answers", "linear"}
    # not all: some breakdowns leave people out ("Prefer not to say"), and the answers
    # of one question lack its Don't know in some waves
    assert (exact > 0.9).all(), exact


@pytest.mark.parametrize("rounded", [False, True], ids=["full_precision", "rounded"])
def test_no_suppressed_value_can_be_derived_from_the_protected_output(
        protected, released, truth, tracker, rounded):
    frame, answers = protected
    if rounded:
        frame, answers = round_published(frame), round_published(answers)
    attempts = attack(frame, answers, released=released, truth=truth, tracker=tracker)
    leaks = attempts[attempts["disclosed"] | attempts["base_disclosed"]]
    assert leaks.empty, leaks.head(20).to_string()


def test_the_protected_output_passes_the_audit_and_hides_what_it_says(protected, released, truth):
    frame, answers = protected
    groups = membership(released.breakdowns)
    assert audit(frame, groups=groups, answers=answers).empty
    primary = primary_only(truth.frame)["base_flag"] == SUPPRESSED
    assert primary.any() and (frame.loc[primary, "suppression"] == SMALL_BASE).all()
    assert (frame["suppression"] == COMPLEMENTARY).any()
    gone = frame[frame["suppression"] != ""]
    columns = [c for c in (*ESTIMATE_COLUMNS, "n", "weighted_n") if c in frame.columns
               and c != "change_significant"]
    assert gone[columns].isna().all().all() and (gone["base_flag"] == SUPPRESSED).all()
    # every breakdown with a hidden group hides at least two
    per = gone.groupby(["wave", "indicator", "breakdown"]).size()
    assert (per >= 2).all()
    # the same people are hidden alike in nation and region
    for key, rows in frame.groupby(["wave", "indicator"]):
        rows = rows.set_index(["breakdown", "group"])["suppression"] != ""
        for nation, region in (("2", "10"), ("3", "11"), ("4", "12")):
            assert rows[("nation", nation)] == rows[("region", region)], key
    # what is shown is the value itself
    kept = frame["suppression"] == ""
    assert np.allclose(frame.loc[kept, "estimate"], truth.frame.loc[kept, "estimate"],
                       equal_nan=True)
    assert (frame.loc[kept, ["n", "weighted_n"]].to_numpy()
            == truth.frame.loc[kept, ["n", "weighted_n"]].to_numpy()).all()


def test_the_cube_hides_the_same_cells_with_or_without_the_answer_shares(tracker, released):
    """The dashboards' cube has no answer shares, the tables' has: both hide the same
    cells (their bases come from answers.answer_bases), so that nothing can be
    derived by reading one beside the other."""
    lean = st.cube(tracker, small_base=RULE)
    assert lean.answers is None
    assert lean.frame["suppression"].tolist() == released.frame["suppression"].tolist()
    assert lean.frame.equals(released.frame)


def test_no_shown_group_carries_the_letter_of_a_hidden_group(released):
    frame = released.frame
    for _, rows in frame.groupby(["wave", "indicator", "breakdown"]):
        gone = set(rows.loc[rows["suppression"] != "", "letter"])
        if gone:
            shown = rows.loc[rows["suppression"] == "", "letters"].dropna()
            assert not any(letter in text for text in shown for letter in gone
                           if len(letter) == 1 and not any(len(g) > 1 for g in gone)), rows


def test_nothing_hidden_can_be_derived_from_the_published_csv(released, truth, tracker, tmp_path):
    """The attacker on the file ``surveytools tables --format csv`` writes, read back as
    a reader would (rounded as shown; hidden cells and their bases empty)."""
    from surveytools.core.meta import code_text

    path = st.write_tables(released, tmp_path / "tables.csv", format="csv")
    table = pd.read_csv(path, dtype={"wave": str, "group": str, "row": str},
                        keep_default_na=False, na_values=[""])
    assert (table["base_flag"] == SUPPRESSED).sum() > 1000
    indicators = table[table["row_type"] == "indicator"].rename(columns={"row": "indicator"})
    level_of = {(q, code_text(level)): level for q, level in
                zip(truth.answers["question"], truth.answers["level"])}
    answers = table[table["row_type"] == "answer"]
    answers = answers.assign(level=[level_of[(q, r)] for q, r in
                                    zip(answers["question"], answers["row"])])
    # read back right: the cube's hidden cells, and its shown values as published
    key = ["wave", "indicator", "breakdown", "group"]
    published = round_published(released.frame).set_index(key)
    read = indicators.set_index(key).loc[published.index]
    assert (read["base_flag"] == published["base_flag"]).all()
    assert np.allclose(read["estimate"], published["estimate"], equal_nan=True, atol=1e-12)
    assert len(answers) == len(released.answers)
    attempts = attack(indicators, answers, released=released, truth=truth, tracker=tracker)
    leaks = attempts[attempts["disclosed"] | attempts["base_disclosed"]]
    assert leaks.empty, leaks.head(20).to_string()


def test_a_change_blanked_next_to_a_hidden_cell_is_explained_and_is_no_series_break(released):
    from surveytools.presentation.caveats import series_breaks

    frame = released.frame
    explained = frame[frame["change_note"] == PREVIOUS_HIDDEN]
    assert len(explained) and explained["change"].isna().all()
    assert (explained["suppression"] == "").all()
    indicator = explained["indicator"].iloc[0]
    assert not released.breaks
    assert series_breaks(released, [indicator], released.waves) == {}
