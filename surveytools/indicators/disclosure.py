"""Disclosure control of published cells: complementary suppression and rounding.

This module owns what keeps a suppressed number suppressed in every output:
:func:`protect` (complementary suppression of the cube's cells, with
:func:`protect_answers` for the answer shares and :func:`suppression_pattern`
for the pattern alone), :func:`audit` (the hidden cells that can still be
worked out from the shown ones: empty when the pattern is safe) and
:func:`round_published` (published values rounded to what is shown).
:func:`membership` turns :class:`~surveytools.indicators.catalogue.Breakdowns`
into the description of who is in which group that the rule needs.

Why: blanking a small base (primary suppression, :mod:`surveytools.core.smallbase`)
hides its numbers, but the same output shows the total and the other groups of
the breakdown with their weighted bases.  Estimate x weighted base is a
weighted sum over the people of a cell, so a lone hidden group is
``(total x total base - sum of other groups' estimate x base) / its base``, and
its base is the total base minus the others'.  The same holds for nested
breakdowns of one variable (England minus the other eight English regions),
for a group shown in one breakdown and hidden in another, for a net score
whose parts are shown, and for a change whose other wave is shown.

The rule in words
-----------------
The unit of suppression is one group of one breakdown for one question in one
wave: every indicator of the question (shares, nets and their parts, means)
and every answer share of the question are shown or hidden together for that
group (a net whose part is hidden is hidden; the answer shares cannot rebuild
a hidden indicator).

1. Primary ("small base"): a unit is hidden when any of its rows has an
   unweighted base under the rule's threshold (``rule.suppress_below``).
2. Complementary ("complementary"): within one wave x question, estimate x
   weighted base and the weighted base of every cell are sums over the codes
   of its breakdown's variable; the groups of every breakdown are taken to add
   up to the total (conservative: people outside every group, such as
   "Prefer not to say", are ignored), and groups of breakdowns of one variable
   add up to each other (England = the nine English regions; Wales in
   ``nation`` is Wales in ``region``).  While a hidden cell is a linear
   combination of shown cells, one more shown group of people is hidden
   (with every shown cell of the same codes: hiding one of two identical
   cells hides nothing): preferably one whose hiding breaks that derivation,
   then one of the same breakdown, then the smallest unweighted base among
   those whose weighted base is at least the hidden cell's (else the
   smallest).  This repeats to a fixpoint.  Hence the classic rule: in every
   breakdown with a hidden group at least two groups are hidden (a lone small
   group takes with it the next smallest group that protects it: for a small
   English region another English region, since England minus the other
   English regions would give it back), and a group hidden in one breakdown
   is hidden in every breakdown that shows the same people or lets them be
   worked out by subtraction.  The greedy choice is safe, not minimal
   (optimal cell suppression is NP-hard); :func:`audit` is the proof of safety.
3. A hidden cell loses its estimate and everything derived from it
   (:data:`~surveytools.core.smallbase.ESTIMATE_COLUMNS`) and its bases
   (``n`` and ``weighted_n``: base differences are as disclosive as
   estimates); ``base_flag`` is ``"suppressed"`` so that every output blanks
   it through the one blanking, and ``suppression`` says why (``"small
   base"`` only for a row whose own base is small; the other rows of a small
   unit, such as a ``dont_know = "include"`` indicator with a larger base, say
   ``"complementary"``).
4. Changes (``change``, ``change_se``, ``change_p``, ...) are blanked where the
   cell or its cell in the previous wave that asked the question is hidden (a
   shown cell then says why in its ``change_note``).
5. Letters: a hidden group's letter is removed from the letters of the shown
   groups of its breakdown (the cube goes further: it reads its letters with
   every hidden group out of the tests and their adjustment).

Why two hidden cells suffice, and the limits: after the fixpoint no hidden
cell lies in the span of the shown cells, so every combination of shown
values that involves a hidden cell involves at least two, and the set of
values consistent with the output moves freely along each hidden cell.  That
holds even for an attacker who knows the hidden weighted bases (say, from
another question): the relations are on estimate x base, whatever the bases.
What remains is bounds, accepted practice: a hidden share lies in [0, 1], so
the sum of a hidden pair confines each to an interval of width at most
``other base / own base`` (hence the preference for a complement at least as
large); a hidden unweighted base is known to be under the threshold, its
complement's at least the threshold.  Not modelled: relations across
questions (a group's size in a wave is shown for questions where it is not
small; what is protected is the estimate of this question) and non-linear
statistics of shown cells (SEs, design effects).

Rounding (:func:`round_published`): shares and net scores to whole per cent
(points), means to two decimals (as :mod:`surveytools.presentation.formatting`
shows them), standard errors one decimal finer, weighted bases to the nearest
10 (pass ``base_step`` for weights grossed to the population).

Examples
--------
>>> from surveytools.core.smallbase import SmallBaseRule
>>> frame = pd.DataFrame({
...     "wave": "2024", "question": "q", "breakdown": ["total", "age", "age", "age"],
...     "group": ["all", "1", "2", "3"], "n": [800, 150, 250, 400],
...     "weighted_n": [800.0, 160.0, 240.0, 400.0], "estimate": [0.5, None, 0.5, 0.55],
...     "base_flag": ["ok", "suppressed", "ok", "ok"]})
>>> groups = {"age": ("age_band", {"1": {1}, "2": {2}, "3": {3}})}
>>> out = protect(frame, SmallBaseRule(200, 300), groups=groups)
>>> out["suppression"].tolist(), out["weighted_n"].tolist()
(['', 'small base', 'complementary', ''], [800.0, nan, nan, 400.0])
>>> audit(out, groups=groups).empty
True
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..core.errors import DataError
from ..core.smallbase import SUPPRESSED, SmallBaseRule, blank
from .cells import TOTAL
from .significance import column_letter

__all__ = ["protect", "apply_pattern", "protect_answers", "suppression_pattern", "audit", "membership",
           "round_published", "SMALL_BASE", "COMPLEMENTARY", "SUPPRESSION", "BASE_STEP",
           "PREVIOUS_HIDDEN"]

#: Values of the ``suppression`` column: why a cell is hidden ("" = shown).
SMALL_BASE = "small base"
COMPLEMENTARY = "complementary"
#: The column that says why a cell is hidden.
SUPPRESSION = "suppression"
#: The base columns withheld for a hidden cell.
BASE_COLUMNS = ("n", "weighted_n")
#: Columns of a change since the previous wave (blanked next to a hidden cell).
CHANGE_COLUMNS = ("change", "change_se", "change_p", "change_significant", "change_ci_low",
                  "change_ci_high", "before", "after")
#: One unit of suppression: a group of a breakdown for a question in a wave.
KEYS = ("wave", "question", "breakdown", "group")
#: The total's (breakdown, group).
TOTAL_KEY = (TOTAL.name, TOTAL.groups[0].code)
#: Weighted bases are published rounded to a multiple of this.
BASE_STEP = 10
_TOLERANCE = 1e-9


# -- who is in which group ---------------------------------------------------
def membership(breakdowns) -> dict:
    """Breakdown name -> (variable, {group key: frozenset of the variable's codes}).

    What :func:`protect` needs to see nesting: two groups with the same codes
    of the same variable are the same people; a group whose codes are the
    union of other groups' is their sum.  ``breakdowns``: resolved
    :class:`~surveytools.indicators.catalogue.Breakdowns` (``IndicatorCube.breakdowns``).

    Examples
    --------
    >>> from surveytools.indicators.catalogue import Breakdown, Group
    >>> nation = Breakdown(name="nation", variable="region", groups=(
    ...     Group(code="1", label="England", codes=(1, 2)),
    ...     Group(code="2", label="Wales", codes=(3,))))
    >>> membership([nation])
    {'nation': ('region', {'1': frozenset({1, 2}), '2': frozenset({3})})}
    """
    return {bd.name: (bd.variable, {g.code: frozenset(g.codes) for g in bd.groups})
            for bd in breakdowns}


# -- the pattern ---------------------------------------------------------------
def suppression_pattern(frame: pd.DataFrame, rule: SmallBaseRule, *, groups: Mapping,
                        answers: pd.DataFrame | None = None,
                        total: tuple = TOTAL_KEY) -> pd.DataFrame:
    """Which units (wave x question x breakdown x group) are hidden, and why.

    Parameters
    ----------
    frame : DataFrame
        Cube rows (at least ``wave``, ``breakdown``, ``group``, ``n``,
        ``weighted_n``, ``base_flag``; ``question``, else ``indicator``, names
        the question).  Rows already marked by :func:`protect` keep their reason.
    rule : SmallBaseRule
        The primary rule: a unit with a row whose ``n`` is under
        ``rule.suppress_below`` (or whose ``base_flag`` is ``"suppressed"``) is hidden.
    groups : mapping
        :func:`membership` of the breakdowns: breakdown -> (variable,
        {group: codes}).  The total row is ``total`` (breakdown, group).
    answers : DataFrame, optional
        The answer shares (``IndicatorCube.answers``): their small bases count too.

    Returns
    -------
    DataFrame
        ``wave, question, breakdown, group, n, weighted_n`` (the unit's smallest)
        and ``suppression`` (``""``, ``"small base"`` or ``"complementary"``),
        one row per unit.

    Raises
    ------
    DataError
        A breakdown or group of the frame that ``groups`` does not describe.

    Examples
    --------
    >>> frame = pd.DataFrame({"wave": "1", "question": "q", "breakdown": ["total", "sex", "sex"],
    ...                       "group": ["all", "1", "2"], "n": [500, 40, 460],
    ...                       "weighted_n": [500.0, 45.0, 455.0], "base_flag": "ok"})
    >>> groups = {"sex": ("sex", {"1": {1}, "2": {2}})}
    >>> suppression_pattern(frame, SmallBaseRule(), groups=groups)["suppression"].tolist()
    ['', 'small base', 'complementary']
    """
    cells = _units(frame, rule, answers)
    reasons = np.full(len(cells), "", dtype=object)
    for _, rows in cells.groupby(["wave", "question"], sort=False):
        if rows["primary"].any() or rows["earlier"].any():  # else nothing to protect
            reasons[rows.index.to_numpy()] = _Unit(rows, groups, total).solve()
    out = cells[list(KEYS) + ["n", "weighted_n"]].copy()
    out[SUPPRESSION] = reasons
    return out


def _question_column(frame: pd.DataFrame) -> str:
    return "question" if "question" in frame.columns else "indicator"


def _units(frame: pd.DataFrame, rule: SmallBaseRule, answers) -> pd.DataFrame:
    """One row per unit: its smallest n and weighted base, primary / earlier-complementary."""
    parts = [frame.rename(columns={_question_column(frame): "question"})
             if "question" not in frame.columns else frame]
    if answers is not None:
        parts.append(answers)
    rows, offset = [], 0
    for part in parts:
        n = part["n"].to_numpy(dtype=float)
        earlier = (part[SUPPRESSION].fillna("").to_numpy(dtype=object)
                   if SUPPRESSION in part.columns else np.full(len(part), "", dtype=object))
        flagged = (part["base_flag"].to_numpy(dtype=object) == SUPPRESSED
                   if "base_flag" in part.columns else np.zeros(len(part), bool))
        primary = ((rule.flags(n) == SUPPRESSED) | flagged) & (earlier != COMPLEMENTARY)
        rows.append(pd.DataFrame({
            **{k: part[k].astype(str).to_numpy() for k in KEYS},
            "n": n, "weighted_n": part["weighted_n"].to_numpy(dtype=float),
            "primary": primary, "earlier": earlier == COMPLEMENTARY,
            "order": offset + np.arange(len(part))}))
        offset += len(part)
    both = pd.concat(rows, ignore_index=True)
    units = both.groupby(list(KEYS), sort=False).agg(
        n=("n", "min"), weighted_n=("weighted_n", "min"), primary=("primary", "any"),
        earlier=("earlier", "any"), order=("order", "min")).reset_index()
    return units


class _Unit:
    """The cells of one wave x question as vectors over the codes of each variable.

    Coordinate 0 is the total; then one coordinate per code of each variable.
    A cell is the indicator vector of its codes; ``fixed`` holds the relations
    known whatever is shown: each variable's codes add up to the total, and a
    group absent from the unit (no respondents) is a known zero.
    """

    def __init__(self, rows: pd.DataFrame, groups: Mapping, total: tuple) -> None:
        self.rows = rows.reset_index(drop=True)
        keys = list(zip(self.rows["breakdown"], self.rows["group"]))
        self.is_total = np.array([k == (str(total[0]), str(total[1])) for k in keys])
        variables: dict = {}
        for name in dict.fromkeys(self.rows["breakdown"][~self.is_total]):
            if name not in groups:
                raise DataError(f"no group membership for breakdown {name!r}",
                                column="breakdown", expected=f"one of {sorted(groups)}",
                                found=name, hint="pass groups=membership(cube.breakdowns)")
            variable, members = groups[name]
            variables.setdefault(str(variable), set()).update(
                c for codes in members.values() for c in codes)
        offset, self.position = 1, {}
        for variable, codes in variables.items():
            for code in sorted(codes, key=repr):
                self.position[(variable, code)] = offset
                offset += 1
        self.size = offset
        self.variable = np.array([None if t else str(groups[b][0])
                                  for b, t in zip(self.rows["breakdown"], self.is_total)],
                                 dtype=object)
        self.vectors = np.array([self._vector(groups, b, g, t)
                                 for (b, g), t in zip(keys, self.is_total)]).reshape(-1, self.size)
        fixed = []
        for variable in variables:
            row = np.zeros(self.size)
            row[0] = -1.0
            row[[p for (v, _), p in self.position.items() if v == variable]] = 1.0
            fixed.append(row)
        present = set(keys)
        for name in dict.fromkeys(self.rows["breakdown"][~self.is_total]):
            for code in groups[name][1]:
                if (name, str(code)) not in present:
                    fixed.append(self._vector(groups, name, str(code), False))
        self.fixed = np.array(fixed).reshape(-1, self.size)

    def _vector(self, groups, breakdown, group, is_total) -> np.ndarray:
        vector = np.zeros(self.size)
        if is_total:
            vector[0] = 1.0
            return vector
        variable, members = groups[breakdown]
        members = {str(k): v for k, v in members.items()}
        if group not in members:
            raise DataError(f"no group membership for group {group!r} of breakdown "
                            f"{breakdown!r}", column="group", expected=f"one of {sorted(members)}",
                            found=group, hint="pass groups=membership(cube.breakdowns)")
        vector[[self.position[(str(variable), c)] for c in members[group]]] = 1.0
        return vector

    def derivable(self, shown: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Whether each target vector combines the shown cells and the fixed relations."""
        known = np.vstack([self.fixed, self.vectors[shown]])
        if not len(known):
            return np.zeros(len(targets), bool)
        _, singular, basis = np.linalg.svd(known, full_matrices=False)
        basis = basis[singular > _TOLERANCE * max(1.0, singular[0])]
        residual = targets - (targets @ basis.T) @ basis
        return np.linalg.norm(residual, axis=1) < 1e-7

    def solve(self) -> np.ndarray:
        rows = self.rows
        n, weighted = rows["n"].to_numpy(float), rows["weighted_n"].to_numpy(float)
        primary, order = rows["primary"].to_numpy(bool), rows["order"].to_numpy()
        hidden = primary | rows["earlier"].to_numpy(bool)
        reasons = np.where(primary, SMALL_BASE, np.where(hidden, COMPLEMENTARY, "")).astype(object)
        if (primary & self.is_total).any():  # the whole unit is small: nothing is shown
            reasons[~primary] = COMPLEMENTARY
            return reasons
        breakdown = rows["breakdown"].to_numpy(dtype=object)
        while True:
            leaks = np.flatnonzero(hidden)[self.derivable(~hidden, self.vectors[hidden])]
            if not len(leaks):
                return reasons
            leak = min(leaks, key=lambda i: (not primary[i], n[i], order[i]))
            ranked = sorted(self._candidates(hidden), key=lambda cells: (
                breakdown[leak] not in breakdown[cells],
                self.variable[leak] not in self.variable[cells],
                not weighted[cells].min() >= weighted[leak], n[cells].min(), order[cells].min()))
            # the first in that order whose hiding breaks the derivation, else the first
            chosen = next((cells for cells in ranked if self._breaks(hidden, cells, leak)),
                          ranked[0])
            hidden[chosen] = True
            reasons[chosen] = COMPLEMENTARY

    def _candidates(self, hidden: np.ndarray) -> list[np.ndarray]:
        """The shown groups of people: shown cells with the same codes go together
        (hiding one of two identical cells hides nothing)."""
        people: dict = {}
        shown = np.flatnonzero(~hidden & ~self.is_total)
        if not len(shown):  # only the total is left: it goes too
            shown = np.flatnonzero(~hidden)
        for i in shown:
            people.setdefault(self.vectors[i].tobytes(), []).append(i)
        return [np.array(cells) for cells in people.values()]

    def _breaks(self, hidden: np.ndarray, cells: np.ndarray, leak: int) -> bool:
        shown = ~hidden
        shown[cells] = False
        return not self.derivable(shown, self.vectors[[leak]])[0]


# -- applying it -----------------------------------------------------------------
def protect(frame: pd.DataFrame, rule: SmallBaseRule, *, groups: Mapping,
            answers: pd.DataFrame | None = None, waves=None,
            total: tuple = TOTAL_KEY) -> pd.DataFrame:
    """A copy of cube rows with complementary suppression applied (see the module's rule).

    Parameters
    ----------
    frame : DataFrame
        Cube rows after primary suppression (``IndicatorCube.frame``): one row
        per wave x indicator x breakdown x group with at least ``wave``,
        ``question`` (or ``indicator``), ``breakdown``, ``group``, ``n``,
        ``weighted_n``, ``base_flag`` and the estimate columns present
        (:data:`~surveytools.core.smallbase.ESTIMATE_COLUMNS`).
    rule : SmallBaseRule
        The primary small-base rule.
    groups : mapping
        :func:`membership` of the cube's breakdowns.
    answers : DataFrame, optional
        The answer shares: their small bases join the pattern; hide them
        with :func:`protect_answers` on the result.
    waves : sequence of str, optional
        Wave labels in time order (default: the order of first appearance).
    total : tuple
        The (breakdown, group) of the total row.

    Returns
    -------
    DataFrame
        ``frame`` with a ``suppression`` column (``""``, ``"small base"``,
        ``"complementary"``); hidden rows have ``base_flag`` ``"suppressed"``
        and no estimate, derived value, letters, change, ``n`` or
        ``weighted_n``; changes next to a hidden cell are blank; hidden
        groups' letters are gone from the shown groups' letters.  Applying it
        again changes nothing.

    Examples
    --------
    >>> rows = pd.DataFrame({"wave": ["1"] * 3 + ["2"] * 3, "question": "q",
    ...     "indicator": "i", "breakdown": ["total", "s", "s"] * 2,
    ...     "group": ["all", "1", "2"] * 2, "n": [500, 40, 460, 500, 260, 240],
    ...     "weighted_n": [500.0, 45, 455, 500, 250, 250],
    ...     "estimate": [0.5, None, 0.5, 0.5, 0.4, 0.6],
    ...     "change": [None, None, None, 0.0, None, 0.1], "base_flag": "ok"})
    >>> out = protect(rows, SmallBaseRule(), groups={"s": ("s", {"1": {1}, "2": {2}})})
    >>> out[["suppression", "estimate", "change"]].values.tolist()[3:]
    [['', 0.5, 0.0], ['', 0.4, nan], ['', 0.6, nan]]
    """
    pattern = suppression_pattern(frame, rule, groups=groups, answers=answers, total=total)
    return apply_pattern(frame, pattern, waves=waves)


def apply_pattern(frame: pd.DataFrame, pattern: pd.DataFrame, *, waves=None) -> pd.DataFrame:
    """``frame`` hidden as :func:`suppression_pattern` says: :func:`protect` in two
    steps, for a caller that needs the pattern in between (the cube leaves every
    hidden group out of the tests behind its letters).

    Raises
    ------
    DataError
        A row of ``frame`` whose unit the pattern does not have.
    """
    question = _question_column(frame)
    reasons = _lookup(frame, pattern, question)
    if pd.isna(reasons).any():
        first = frame[pd.isna(reasons)].iloc[0]
        raise DataError("a row without a suppression unit", column=question,
                        expected="the units of suppression_pattern(frame, ...)",
                        found=f"{first['wave']}/{first[question]}/{first['breakdown']}/"
                              f"{first['group']}",
                        hint="pattern = suppression_pattern(frame, rule, groups=groups)")
    return _strip_letters(_blank_changes(_hide(frame, reasons), waves))


def protect_answers(answers: pd.DataFrame, protected: pd.DataFrame) -> pd.DataFrame:
    """The answer shares hidden as the units of ``protected`` (a :func:`protect` result).

    Parameters
    ----------
    answers : DataFrame
        ``IndicatorCube.answers``: ``wave, question, breakdown, group``, the
        answer's ``estimate``, ``n``, ``weighted_n``, ``base_flag``.
    protected : DataFrame
        :func:`protect` of the cube's frame, given ``answers=answers``.

    Raises
    ------
    DataError
        An answer unit that ``protected`` does not know, or one with a small
        base that ``protected`` shows (``protect`` was not given the answers).

    Examples
    --------
    >>> protected = pd.DataFrame({"wave": "1", "question": "q", "breakdown": ["total", "s"],
    ...                           "group": ["all", "1"], "suppression": ["", "complementary"]})
    >>> answers = pd.DataFrame({"wave": "1", "question": "q", "breakdown": ["s", "s"],
    ...     "group": "1", "level": [1, 2], "estimate": [0.4, 0.6], "n": 300,
    ...     "weighted_n": 290.0, "base_flag": "ok"})
    >>> protect_answers(answers, protected)[["estimate", "n", "suppression"]].values.tolist()
    [[nan, nan, 'complementary'], [nan, nan, 'complementary']]
    """
    pattern = (protected.rename(columns={_question_column(protected): "question"})
               [list(KEYS) + [SUPPRESSION]].astype({k: str for k in KEYS}))
    pattern = (pattern.assign(_rank=pattern[SUPPRESSION].map(
        {"": 0, COMPLEMENTARY: 1, SMALL_BASE: 2}).fillna(0))
        .sort_values("_rank").drop_duplicates(list(KEYS), keep="last"))
    reasons = _lookup(answers, pattern, "question")
    if pd.isna(reasons).any():
        first = answers[pd.isna(reasons)].iloc[0]
        raise DataError("an answer's group is not in the protected cube",
                        column="group", expected="the units of protect(frame, answers=answers)",
                        found=f"{first['wave']}/{first['question']}/{first['breakdown']}/"
                              f"{first['group']}", hint="protect the frame with answers=answers")
    small = answers["base_flag"].to_numpy(dtype=object) == SUPPRESSED
    if (small & (reasons == "")).any():
        raise DataError("an answer with a small base is shown by the protected cube",
                        column="base_flag", expected="protect(frame, rule, answers=answers)",
                        found="protect without answers", hint="pass answers= to protect")
    return _hide(answers, reasons)


def _lookup(frame: pd.DataFrame, pattern: pd.DataFrame, question: str) -> np.ndarray:
    index = pd.MultiIndex.from_frame(pattern[list(KEYS)].astype(str))
    keys = pd.MultiIndex.from_arrays([frame[c].astype(str).to_numpy() for c in
                                      ("wave", question, "breakdown", "group")])
    where = index.get_indexer(keys)
    values = pattern[SUPPRESSION].fillna("").to_numpy(dtype=object)
    return np.where(where >= 0, values[where], None)


def _hide(frame: pd.DataFrame, reasons: np.ndarray) -> pd.DataFrame:
    """Hide the rows with a reason, which is the row's own: ``"small base"`` where its
    own base is small, else ``"complementary"`` (a ``dont_know = "include"``
    indicator hidden with its question's small unit is hidden to protect it)."""
    if "base_flag" in frame.columns:
        earlier = (frame[SUPPRESSION].fillna("").to_numpy(dtype=object)
                   if SUPPRESSION in frame.columns else np.full(len(frame), "", dtype=object))
        own = (frame["base_flag"].to_numpy(dtype=object) == SUPPRESSED) & (earlier != COMPLEMENTARY)
        reasons = np.where(reasons == "", "", np.where(own, SMALL_BASE, COMPLEMENTARY))
    hidden = reasons != ""
    out = blank(frame, hidden)
    out = blank(out, hidden, columns=BASE_COLUMNS)
    if "base_flag" in out.columns:
        out["base_flag"] = np.where(hidden, SUPPRESSED, out["base_flag"].to_numpy(dtype=object))
    out[SUPPRESSION] = reasons.astype(object)
    return out


#: The ``change_note`` of a shown cell whose change is blank because the cell it
#: would be measured from is hidden.
PREVIOUS_HIDDEN = "not shown: the previous wave's value is hidden"


def _blank_changes(frame: pd.DataFrame, waves) -> pd.DataFrame:
    """Blank the changes of cells whose previous-wave cell is hidden; a shown one says
    why in its ``change_note`` (:data:`PREVIOUS_HIDDEN`)."""
    present = [c for c in CHANGE_COLUMNS if c in frame.columns]
    if not present or "indicator" not in frame.columns:
        return frame
    order = list(waves) if waves is not None else list(dict.fromkeys(frame["wave"]))
    rank = {w: i for i, w in enumerate(order)}
    asked = frame.groupby("indicator")["wave"].agg(lambda w: sorted(set(w), key=rank.get))
    previous = {(ind, w): ws[i - 1] for ind, ws in asked.items() for i, w in enumerate(ws) if i}
    hidden = {(w, ind, b, g) for w, ind, b, g, r in zip(
        frame["wave"], frame["indicator"], frame["breakdown"], frame["group"], frame[SUPPRESSION])
        if r}
    after_hidden = np.array([
        (prev := previous.get((ind, w))) is not None and (prev, ind, b, g) in hidden
        for w, ind, b, g in zip(frame["wave"], frame["indicator"], frame["breakdown"],
                                frame["group"])], dtype=bool)
    out = blank(frame, after_hidden, columns=present)
    if "change_note" in out.columns:
        notes = out["change_note"].fillna("").to_numpy(dtype=object)
        explain = after_hidden & (out[SUPPRESSION].to_numpy(dtype=object) == "") & (notes == "")
        out["change_note"] = np.where(explain, PREVIOUS_HIDDEN, notes)
    return out


def _strip_letters(frame: pd.DataFrame) -> pd.DataFrame:
    """Remove hidden groups' letters from the letters of the shown groups of their breakdown."""
    if "letters" not in frame.columns or not (frame[SUPPRESSION] != "").any():
        return frame
    if "letter" in frame.columns:
        own = frame["letter"].fillna("").astype(str)
    elif "group_order" in frame.columns:
        own = frame["group_order"].map(lambda p: column_letter(int(p)))
    else:
        return blank(frame, np.ones(len(frame), bool), columns=("letters",))
    out = frame.copy()
    own = own.to_numpy(dtype=object)
    reasons = out[SUPPRESSION].to_numpy(dtype=object)
    letters = out["letters"].to_numpy(dtype=object).copy()
    column = (out["group_order"].to_numpy() if "group_order" in out.columns
              else np.arange(len(out)))
    cell = [c for c in ("wave", "indicator", "breakdown") if c in frame.columns]
    for positions in out.groupby(cell, sort=False).indices.values():
        positions = positions[np.argsort(column[positions], kind="stable")]
        gone = {own[p] for p in positions if reasons[p]}
        if not gone:
            continue
        alphabet = [own[p] for p in positions]
        for p in positions:
            text = letters[p]
            if not reasons[p] and isinstance(text, str) and text:
                tokens = _tokens(text, alphabet)
                letters[p] = "" if tokens is None else "".join(t for t in tokens if t not in gone)
    out["letters"] = letters
    return out


def _tokens(text: str, alphabet: list[str], start: int = 0, first: int = 0):
    """``text`` read as letters of ``alphabet`` in its order (``"AAA"`` = A, AA), or None."""
    if start == len(text):
        return []
    for k in range(first, len(alphabet)):
        letter = alphabet[k]
        if letter and text.startswith(letter, start):
            rest = _tokens(text, alphabet, start + len(letter), k + 1)
            if rest is not None:
                return [letter, *rest]
    return None


# -- the check ---------------------------------------------------------------------
def audit(frame: pd.DataFrame, *, groups: Mapping, answers: pd.DataFrame | None = None,
          total: tuple = TOTAL_KEY) -> pd.DataFrame:
    """The hidden units of ``frame`` that can be worked out from its shown units.

    A unit is hidden when its ``base_flag`` is ``"suppressed"`` (or its
    ``suppression`` is not empty); it is derivable when its vector of codes is
    a linear combination of the shown cells of its wave x question and the
    relations the rule assumes (see the module).  Empty for a :func:`protect`
    result; a lone suppressed group is derivable.

    Returns
    -------
    DataFrame
        ``wave, question, breakdown, group`` of each derivable hidden unit.

    Examples
    --------
    >>> frame = pd.DataFrame({"wave": "1", "question": "q", "breakdown": ["total", "s", "s"],
    ...                       "group": ["all", "1", "2"], "n": [500, 40, 460],
    ...                       "weighted_n": [500.0, 45.0, 455.0],
    ...                       "base_flag": ["ok", "suppressed", "ok"]})
    >>> leaks = audit(frame, groups={"s": ("s", {"1": {1}, "2": {2}})})
    >>> leaks[["breakdown", "group"]].values.tolist()
    [['s', '1']]
    """
    never = SmallBaseRule(0, 0)
    cells = _units(frame, never, answers)
    if SUPPRESSION in frame.columns:
        cells["primary"] |= cells["earlier"]
    leaking = np.zeros(len(cells), bool)
    for _, rows in cells.groupby(["wave", "question"], sort=False):
        unit = _Unit(rows, groups, total)
        hidden = rows["primary"].to_numpy(bool)
        if hidden.any():
            leaking[rows.index[hidden]] = unit.derivable(~hidden, unit.vectors[hidden])
    return cells.loc[leaking, list(KEYS)].reset_index(drop=True)


# -- rounding ----------------------------------------------------------------------
#: Decimals of each published column of every kind, on the stored scale: shares and
#: net scores are fractions (2 = whole per cent or point), means are on their own
#: scale (2 decimals, as shown); standard errors one decimal finer.
DECIMALS = {"estimate": 2, "ci_low": 2, "ci_high": 2, "change": 2, "change_ci_low": 2,
            "change_ci_high": 2, "before": 2, "after": 2, "difference": 2,
            "se": 3, "change_se": 3, "difference_se": 3}
#: Decimals of the columns that do not depend on the kind.
OTHER_DECIMALS = {"deff": 2, "n_eff": 0, "cv": 3, "t": 2, "df": 0,
                  "p_value": 4, "p_adjusted": 4, "change_p": 4}


def round_published(frame: pd.DataFrame, *, base_step: float = BASE_STEP) -> pd.DataFrame:
    """A copy of published rows holding exactly what is shown.

    :data:`DECIMALS`: shares and net scores (fractions) to whole per cent
    (points), means to two decimals (estimates, intervals, changes), standard
    errors one decimal finer; p-values to 4 decimals, design effects to 2,
    effective bases to whole numbers; weighted bases to the nearest
    ``base_step``; unweighted bases stay whole counts.  Rounding is half to
    even on the stored binary value, as the formats do.

    Examples
    --------
    >>> rows = pd.DataFrame({"kind": ["share", "mean"], "estimate": [0.45678, 2.34567],
    ...                      "se": [0.01234, 0.02345], "weighted_n": [1234.5, 987.6]})
    >>> round_published(rows).values.tolist()
    [['share', 0.46, 0.012, 1230.0], ['mean', 2.35, 0.023, 990.0]]
    """
    out = frame.copy()
    for column, places in DECIMALS.items():
        if column in out.columns and pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].astype(float).round(places)
    for column, places in OTHER_DECIMALS.items():
        if column in out.columns and pd.api.types.is_numeric_dtype(out[column]) \
                and not pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype(float).round(places)
    if "weighted_n" in out.columns:
        out["weighted_n"] = (out["weighted_n"].astype(float) / base_step).round() * base_step
    return out
