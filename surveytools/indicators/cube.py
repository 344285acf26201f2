"""The indicator cube: every indicator x breakdown x wave, with letters and changes.

:func:`cube` estimates each indicator of the catalogue (see
:mod:`surveytools.catalogue`) for the whole sample and for the groups of
each breakdown, in every wave that asks its question; it adds the change
since the previous wave that asked it (:func:`surveytools.wave_change`) and
significance letters from design-based tests of every pair of groups within
a breakdown (contrasts of one Estimate through :meth:`Estimate.contrast`,
whose covariance holds the covariance between groups; adjusted by
:mod:`surveytools.significance`).

Speed: one estimate per indicator and wave covers the total and every group
of every breakdown (:func:`stacked_cells`), so the whole cube of the example
tracker takes about a hundred estimator calls, not a thousand.
The small-base rule is applied before anything is derived: a suppressed
group has no estimate, no letter, gives no letter and has no change.

Examples
--------
>>> import surveytools as st                                     # doctest: +SKIP
>>> c = st.cube(st.read_waves("data/tracker/waves.toml"))         # doctest: +SKIP
>>> c.select(indicator="trust_nhs_high", breakdown="digital")     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .catalogue import (BREAKDOWNS_FILE, INDICATORS_FILE, Breakdown, Breakdowns, Group,
                        Indicator, IndicatorCatalogue, default_file, load_breakdowns,
                        load_indicators)
from ..estimation.compare import wave_change
from ..estimation.intervals import interval
from .significance import CORRECTION_TEXT, CORRECTIONS, column_letter, higher_of_pairs
from ..core.smallbase import SUPPRESSED, SmallBaseRule

__all__ = ["IndicatorCube", "IndicatorCatalogue", "Indicator", "load_indicators",
           "load_breakdowns", "cube", "compare_groups"]

TOTAL = Breakdown(name="total", variable="", label="Total",
                  groups=(Group(code="all", label="All adults", codes=()),))
ALPHA = 0.05

COLUMNS = [
    "wave", "indicator", "indicator_label", "question", "kind", "breakdown", "breakdown_label",
    "group", "group_label", "group_order", "estimate", "se", "ci_low", "ci_high", "df", "n",
    "weighted_n", "n_eff", "deff", "base_flag", "dont_know", "change", "change_se", "change_p",
    "change_significant", "letter", "letters", "ci_method",
]
_ESTIMATE_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "df", "deff", "n_eff"]
_CHANGE_COLUMNS = ["change", "change_se", "change_p"]


@dataclass(frozen=True)
class IndicatorCube:
    """Every indicator x breakdown x wave of a tracker (see :func:`cube`).

    Attributes
    ----------
    frame : DataFrame
        One row per wave x indicator x breakdown x group (columns: see
        ``COLUMNS``); suppression already applied.
    catalogue : IndicatorCatalogue
        With each indicator's ``wording`` filled in from the metadata.
    breakdowns : Breakdowns
        With labels and groups resolved from the metadata.
    small_base : SmallBaseRule
    method_note : str
        Weights, tests, multiple-comparison correction, Don't-know treatment
        and the small-base rule, in words.
    waves : tuple of str
        Wave labels in time order.
    answers : DataFrame or None
        Every answer's weighted share per question x breakdown x group x
        wave (``cube(..., answers=True)``), suppression applied.
    sources : dict
        Wave label -> the file it was read from.
    """

    frame: pd.DataFrame
    catalogue: IndicatorCatalogue
    breakdowns: Breakdowns
    small_base: SmallBaseRule
    method_note: str
    waves: tuple[str, ...]
    answers: pd.DataFrame | None = None
    sources: dict = field(default_factory=dict)

    def select(self, *, indicator=None, breakdown=None, waves=None) -> pd.DataFrame:
        """Rows of :attr:`frame` for some indicators, breakdowns and waves.

        Each argument is a name, a list of names, or None (all).
        """
        frame = self.frame
        for column, wanted in (("indicator", indicator), ("breakdown", breakdown),
                               ("wave", waves)):
            if wanted is not None:
                wanted = [wanted] if isinstance(wanted, str) else list(wanted)
                frame = frame[frame[column].isin(wanted)]
        return frame.reset_index(drop=True)

    def replace(self, **changes) -> "IndicatorCube":
        return dataclasses.replace(self, **changes)

    def with_ci(self, ci: str, *, conf_level: float = 0.95, note: str | None = None) -> "IndicatorCube":
        """A copy with the shares' confidence intervals recomputed by method ``ci``.

        Milliseconds instead of rebuilding the cube. Exact for linearisation
        designs whose bases have no zero weights (the cube's ``n`` is then the
        base's row count that the beta method uses). Net scores and means keep
        estimate ± t(df)·se. ``note`` replaces :attr:`method_note`.
        """
        frame = self.frame.copy()
        shares = (frame["kind"] == "share").to_numpy()
        estimated = shares & frame["estimate"].notna().to_numpy()
        low, high = interval(ci, frame.loc[estimated, "estimate"].to_numpy(),
                             frame.loc[estimated, "se"].to_numpy(),
                             frame.loc[estimated, "df"].to_numpy(), conf_level=conf_level,
                             n_rows=frame.loc[estimated, "n"].to_numpy())
        frame.loc[estimated, "ci_low"] = low
        frame.loc[estimated, "ci_high"] = high
        frame.loc[shares, "ci_method"] = ci
        return self.replace(frame=frame, method_note=self.method_note if note is None else note)


def cube(tracker, catalogue=None, breakdowns=None, *, ci: str = "logit", conf_level: float = 0.95,
         correction: str = "bh", alpha: float = ALPHA, answers: bool = False,
         small_base: SmallBaseRule | None = None) -> IndicatorCube:
    """Estimate every indicator by every breakdown in every wave.

    Parameters
    ----------
    tracker : Tracker
        From :func:`surveytools.read_waves`.
    catalogue : IndicatorCatalogue, path or None
        None: ``indicators.toml`` next to the tracker's manifest.
    breakdowns : Breakdowns, path or None
        None: ``breakdowns.toml`` next to the tracker's manifest.
    ci : {"logit", "beta", "wilson", "wald"}
        Interval method of shares (nets and means: estimate ± t(df)·se).
    conf_level : float
        Confidence level.
    correction : {"bh", "bonferroni", "none"}
        Multiple-comparison correction of the pairwise tests behind the
        letters, across the pairs of one indicator x breakdown x wave.
    alpha : float
        Significance level of letters and changes.
    answers : bool
        Also estimate every answer's share (``IndicatorCube.answers``), as
        the published tables need.
    small_base : SmallBaseRule, optional
        Default: the rule of the tracker's latest wave (the manifest's
        ``[small_base]``).

    Returns
    -------
    IndicatorCube

    Raises
    ------
    ManifestError
        A catalogue or breakdown that does not fit the data.
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}, not {correction!r}")
    waves = tuple(tracker.names)
    latest = tracker[waves[-1]]
    columns = set().union(*(tracker[w].data.columns for w in waves))
    catalogue = _as_catalogue(tracker, catalogue).check(latest.meta, columns=columns)
    catalogue = dataclasses.replace(catalogue, indicators=tuple(
        i.replace(wording=i.wording or latest.meta.label(i.question)) for i in catalogue))
    breakdowns = _as_breakdowns(tracker, breakdowns).check(latest.meta, columns=columns)
    rule = small_base if small_base is not None else latest.small_base
    shared = bool(getattr(tracker, "shared_respondents", False))

    builder = _Builder(catalogue, (TOTAL, *breakdowns), rule, ci=ci, conf_level=conf_level,
                       correction=correction, alpha=alpha, shared=shared)
    answer_rows = []
    for wave in waves:
        survey = stacked_cells(tracker[wave], catalogue, (TOTAL, *breakdowns))
        builder.add_wave(wave, survey)
        if answers:
            answer_rows.append(_answers(wave, survey, catalogue, (TOTAL, *breakdowns), rule))
    note = method_note(catalogue, tracker, rule, correction=correction, alpha=alpha, ci=ci,
                       conf_level=conf_level, shared=shared)
    sources = {w: tracker[w].meta.file for w in waves}
    return IndicatorCube(frame=builder.frame(), catalogue=catalogue, breakdowns=breakdowns,
                         small_base=rule, method_note=note, waves=waves,
                         answers=pd.concat(answer_rows, ignore_index=True) if answers else None,
                         sources=sources)


# -- inputs ----------------------------------------------------------------
def _manifest_dir(tracker) -> Path | None:
    manifest = getattr(tracker, "manifest", None)
    return Path(manifest).parent if manifest is not None else None


def _as_catalogue(tracker, catalogue) -> IndicatorCatalogue:
    if isinstance(catalogue, IndicatorCatalogue):
        return catalogue
    return load_indicators(catalogue if catalogue is not None
                           else default_file(_manifest_dir(tracker), INDICATORS_FILE))


def _as_breakdowns(tracker, breakdowns) -> Breakdowns:
    if isinstance(breakdowns, Breakdowns):
        return breakdowns
    return load_breakdowns(breakdowns if breakdowns is not None
                           else default_file(_manifest_dir(tracker), BREAKDOWNS_FILE))


def asked(survey, question: str) -> bool:
    """Whether ``question`` is in this wave (a column with at least one answer)."""
    return question in survey.data.columns and bool(survey.data[question].notna().any())


CELL = "_cell"
_CELL_STEP = 1000  # cell code = breakdown position * _CELL_STEP + group position


def cell_codes(breakdowns) -> dict:
    """Cell code -> (breakdown, group) for the total and every group of ``breakdowns``."""
    return {position * _CELL_STEP + g: (bd, group)
            for position, bd in enumerate(breakdowns)
            for g, group in enumerate(bd.groups, start=1)}


def stacked_cells(survey, catalogue: IndicatorCatalogue, breakdowns: tuple[Breakdown, ...]):
    """One wave with every respondent repeated once per breakdown, so that one
    estimate ``by=CELL`` gives the total and every group of every breakdown.

    The copies of a respondent stay in the respondent's PSU (each respondent
    becomes its own PSU when the design has none), so PSU totals, strata and
    fpc are those of the wave: every domain estimate, its SE, df and deff,
    and the covariance between the groups of one breakdown are exactly those
    of ``survey`` estimated ``by=`` that breakdown.  Copies outside every
    group of a breakdown (e.g. "Prefer not to say") are left out.

    Returns
    -------
    Survey
        With a ``CELL`` column (see :func:`cell_codes`) and, for each net
        indicator, its score column (:func:`net_scores`).
    """
    data = survey.data
    data = data.assign(**{net_column(i): net_scores(survey, i) for i in catalogue
                          if i.kind == "net" and i.question in data.columns})
    design = survey.design
    if not design.is_replicate and design.psu is None:
        data = data.assign(_respondent=np.arange(len(data)))
        design = design.replace(psu="_respondent")
    parts = []
    for position, bd in enumerate(breakdowns):
        if bd is TOTAL:
            code = np.full(len(data), float(position * _CELL_STEP + 1))
        elif bd.variable not in data.columns:
            continue  # not asked in this wave: the breakdown has no rows here
        else:
            group = data[bd.variable].map(bd.mapping()).to_numpy(dtype=float, na_value=np.nan)
            code = position * _CELL_STEP + group
        keep = ~np.isnan(code)
        parts.append(data[keep].assign(**{CELL: code[keep]}))
    return survey.replace(data=pd.concat(parts, ignore_index=True), design=design)


def net_column(indicator: Indicator) -> str:
    return f"_net_{indicator.name}"


def net_scores(survey, indicator: Indicator) -> np.ndarray:
    """+1 for a ``plus`` answer, -1 for a ``minus`` answer, 0 for any other answer
    in the base, NaN outside it: their weighted mean is the net score."""
    values = survey.data[indicator.question]
    missing = survey.meta.missing_mask(indicator.question, values)
    scores = np.where(values.isin(indicator.codes), 1.0,
                      np.where(values.isin(indicator.minus), -1.0, 0.0))
    out_of_base = values.isna().to_numpy().copy()
    if indicator.dont_know == "exclude":
        out_of_base |= missing
    return np.where(out_of_base, np.nan, scores)


def estimate(survey, indicator: Indicator, by: str | None = CELL, *, ci: str = "logit",
             conf_level: float = 0.95):
    """The :class:`Estimate` of one indicator ``by`` a column (default: the cells
    of :func:`stacked_cells`); net indicators need their score column."""
    if indicator.kind == "share":
        user_missing = "include" if indicator.dont_know == "include" else "exclude"
        return survey.proportion(indicator.question, value=list(indicator.codes), by=by,
                                 ci=ci, conf_level=conf_level, user_missing=user_missing)
    variable = net_column(indicator) if indicator.kind == "net" else indicator.question
    return survey.mean(variable, by=by, conf_level=conf_level)


def pair_tests(est, hidden: np.ndarray | None = None, *, alpha: float = ALPHA,
               correction: str = "bh") -> pd.DataFrame:
    """Design-based tests of every pair of groups within each breakdown of a
    cell estimate (:func:`stacked_cells`), adjusted per breakdown.

    Parameters
    ----------
    est : Estimate
        By :data:`CELL`; its covariance gives the SE of each difference
        (R's ``svycontrast`` on ``svyby(..., covmat=TRUE)``).
    hidden : bool array, optional
        Rows suppressed by the small-base rule (default: the estimate's own
        rule): their pairs get no p-value and do not count in the adjustment.

    Returns
    -------
    DataFrame
        ``a, b`` (table rows), ``cell_a, cell_b``, ``difference`` (a minus
        b), ``se, df, p_value, p_adjusted`` and ``higher`` (the row that is
        significantly higher, or None).
    """
    codes = est.table[CELL].to_numpy(dtype=float).astype(int)
    hidden = est.suppressed if hidden is None else np.asarray(hidden, bool)
    breakdown = codes // _CELL_STEP
    pairs = [(i, j) for i in range(len(codes)) for j in range(i + 1, len(codes))
             if breakdown[i] == breakdown[j] and breakdown[i] > 0]
    columns = ["a", "b", "cell_a", "cell_b", "difference", "se", "df", "p_value", "p_adjusted",
               "higher"]
    if not pairs:
        return pd.DataFrame(columns=columns)
    first, second = np.array(pairs).T
    matrix = np.zeros((len(pairs), len(codes)))
    matrix[np.arange(len(pairs)), first] = 1.0
    matrix[np.arange(len(pairs)), second] = -1.0
    tests = est.contrast(matrix)
    p_values = tests["p_value"].to_numpy(dtype=float).copy()
    p_values[hidden[first] | hidden[second]] = np.nan
    difference = tests["estimate"].to_numpy(dtype=float)
    adjusted = np.full(len(pairs), np.nan)
    higher = np.full(len(pairs), None, dtype=object)
    for block in np.unique(breakdown[first]):
        rows = breakdown[first] == block
        adjusted[rows], higher[rows] = higher_of_pairs(
            first[rows], second[rows], difference[rows], p_values[rows], alpha=alpha,
            correction=correction)
    return pd.DataFrame({"a": first, "b": second, "cell_a": codes[first],
                         "cell_b": codes[second], "difference": difference,
                         "se": tests["se"].to_numpy(dtype=float),
                         "df": tests["df"].to_numpy(dtype=float), "p_value": p_values,
                         "p_adjusted": adjusted,
                         "higher": pd.Series(higher, dtype=object)})[columns]


def compare_groups(survey, indicator: Indicator, breakdown: Breakdown, *, ci: str = "logit",
                   conf_level: float = 0.95, correction: str = "bh",
                   alpha: float = ALPHA) -> pd.DataFrame:
    """Every pair of groups of one breakdown for one indicator in one wave.

    The tests behind the cube's letters, labelled: ``group_a, group_b``
    (group keys), ``label_a, label_b``, ``difference, se, df, p_value,
    p_adjusted, significant``.  Suppressed groups have NaN tests.

    Examples
    --------
    >>> tests = compare_groups(tracker["2024"], catalogue["trust_nhs_high"],
    ...                        breakdowns["digital"])                  # doctest: +SKIP
    """
    breakdown = breakdown.resolve(survey.meta)
    catalogue = IndicatorCatalogue((indicator,))
    stacked = stacked_cells(survey, catalogue, (TOTAL, breakdown))
    est = estimate(stacked, indicator, ci=ci, conf_level=conf_level)
    tests = pair_tests(est, alpha=alpha, correction=correction)
    groups = {i: g for i, g in enumerate(breakdown.groups, start=1)}
    out = tests.drop(columns=["a", "b", "higher"])
    for side in ("a", "b"):
        group = [groups[c % _CELL_STEP] for c in tests[f"cell_{side}"]]
        out[f"group_{side}"] = [g.code for g in group]
        out[f"label_{side}"] = [g.label for g in group]
    out["significant"] = out["p_adjusted"] < alpha
    return out[["group_a", "group_b", "label_a", "label_b", "difference", "se", "df",
                "p_value", "p_adjusted", "significant"]]


# -- the cube --------------------------------------------------------------
class _Builder:
    """Collects the cube wave by wave (as arrays; one DataFrame at the end),
    keeping each wave's estimates for the change at the next wave that asks."""

    def __init__(self, catalogue, breakdowns, rule, *, ci, conf_level, correction, alpha, shared):
        self.catalogue, self.breakdowns, self.rule = catalogue, breakdowns, rule
        self.ci, self.conf_level, self.correction, self.alpha = ci, conf_level, correction, alpha
        self.shared = shared
        self.cells = cell_codes(breakdowns)
        self.previous: dict = {}  # indicator -> Estimate of the last wave that asked it
        self.parts: list[dict] = []

    def add_wave(self, wave: str, survey) -> None:
        for ind in self.catalogue:
            if not asked(survey, ind.question):
                continue
            est = estimate(survey, ind, ci=self.ci, conf_level=self.conf_level)
            self.parts.append(self._part(wave, ind, est))
            self.previous[ind.name] = est

    def _part(self, wave, ind: Indicator, est) -> dict:
        table = est.table
        codes = table[CELL].to_numpy(dtype=float).astype(int)
        flags = self.rule.flags(table["n"].to_numpy())
        hidden = flags == SUPPRESSED
        part = {c: table[c].to_numpy(dtype=float).copy() for c in
                ("estimate", "se", "ci_low", "ci_high", "df", "n", "weighted_n", "n_eff", "deff")}
        for column in _ESTIMATE_COLUMNS:
            part[column][hidden] = np.nan
        part.update(self._change(ind, est, codes, hidden))
        letter, letters = self._letters(est, codes, hidden)
        part.update(wave=wave, indicator=ind, code=codes, base_flag=flags, letter=letter,
                    letters=letters, ci_method=est.ci_method if ind.kind == "share" else "t")
        return part

    def _letters(self, est, codes, hidden) -> tuple[list, list]:
        """Each row's own letter and the letters of the groups it is significantly
        higher than (see :func:`pair_tests`)."""
        own = [column_letter(c % _CELL_STEP) if c >= _CELL_STEP else "" for c in codes]
        beaten = [[] for _ in codes]
        tests = pair_tests(est, hidden, alpha=self.alpha, correction=self.correction)
        for a, b, winner in zip(tests["a"], tests["b"], tests["higher"]):
            if winner is not None:
                beaten[winner].append(b if winner == a else a)
        letters = ["".join(own[r] for r in sorted(rows, key=lambda r: codes[r]))
                   for rows in beaten]
        return own, letters

    def _change(self, ind, est, codes, hidden) -> dict:
        out = {c: np.full(len(codes), np.nan) for c in _CHANGE_COLUMNS}
        before = self.previous.get(ind.name)
        if before is None:
            return out
        change = wave_change(before, est, shared_respondents=self.shared)
        before_flags = self.rule.flags(before.table["n"].to_numpy())
        before_hidden = before.table[CELL].to_numpy(dtype=float)[before_flags == SUPPRESSED]
        where = pd.Index(change[CELL].to_numpy(dtype=float)).get_indexer(codes.astype(float))
        usable = (where >= 0) & ~hidden & ~np.isin(codes, before_hidden)
        for column in _CHANGE_COLUMNS:
            values = change[column].to_numpy(dtype=float)
            out[column][usable] = values[where[usable]]
        return out

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=COLUMNS)
        columns: dict[str, list] = {c: [] for c in COLUMNS if c != "change_significant"}
        for part in self.parts:
            ind, k = part["indicator"], len(part["code"])
            groups = [self.cells[int(c)] for c in part["code"]]
            columns["wave"] += [part["wave"]] * k
            columns["indicator"] += [ind.name] * k
            columns["indicator_label"] += [ind.label] * k
            columns["question"] += [ind.question] * k
            columns["kind"] += [ind.kind] * k
            columns["breakdown"] += [bd.name for bd, _ in groups]
            columns["breakdown_label"] += [bd.label for bd, _ in groups]
            columns["group"] += [g.code for _, g in groups]
            columns["group_label"] += [g.label for _, g in groups]
            columns["group_order"] += [int(c) % _CELL_STEP for c in part["code"]]
            columns["dont_know"] += [ind.dont_know_text] * k
            columns["ci_method"] += [part["ci_method"]] * k
            for name in ("estimate", "se", "ci_low", "ci_high", "df", "n", "weighted_n",
                         "n_eff", "deff", "base_flag", "letter", "letters", *_CHANGE_COLUMNS):
                columns[name] += list(part[name])
        frame = pd.DataFrame(columns)
        frame["change_significant"] = (frame["change_p"] < self.alpha).to_numpy()
        frame["n"] = frame["n"].astype(int)
        return frame[COLUMNS]


# -- answers ---------------------------------------------------------------
def _answers(wave, survey, catalogue, breakdowns, rule) -> pd.DataFrame:
    """Every answer's share (Don't know included as an answer) per question x group."""
    cells = cell_codes(breakdowns)
    parts = []
    for question in catalogue.questions:
        if not asked(survey, question):
            continue
        table = survey.distribution(question, by=CELL, user_missing="include").table
        groups = [cells[int(c)] for c in table[CELL]]
        parts.append(pd.DataFrame({
            "wave": wave, "question": question, "breakdown": [bd.name for bd, _ in groups],
            "group": [g.code for _, g in groups], "group_label": [g.label for _, g in groups],
            "level": table["level"].to_numpy(),
            "level_label": [survey.meta.value_label(question, v) for v in table["level"]],
            "estimate": table["estimate"].to_numpy(float), "n": table["n"].to_numpy(float),
            "weighted_n": table["weighted_n"].to_numpy(float),
        }))
    out = pd.concat(parts, ignore_index=True)
    out["base_flag"] = rule.flags(out["n"].to_numpy())
    out.loc[out["base_flag"] == SUPPRESSED, "estimate"] = np.nan
    return out


# -- method note -----------------------------------------------------------
def method_note(catalogue, tracker, rule: SmallBaseRule, *, correction: str, alpha: float,
                ci: str, conf_level: float, shared: bool) -> str:
    """The methods behind the cube, in words, one topic a line (printed beside
    tables and charts)."""
    weights = sorted({tracker[w].design.weight for w in tracker.names})
    excluded = [i.short_label for i in catalogue if i.dont_know == "exclude"]
    included = [i.short_label for i in catalogue if i.dont_know == "include"]
    dk = ("\"Don't know\" is excluded from the base" + (" of every indicator" if not included
                                                       else " unless stated"))
    if included:
        dk += "; it is in the base (counted as not-yes) for: " + ", ".join(included)
    samples = ("waves re-interview the same respondents (changes use the covariance between "
               "waves)" if shared else "waves are independent samples")
    return "\n".join([
        f"Weighted estimates (weight column {', '.join(weights)}) with design-based "
        f"(Taylor linearisation) standard errors; {int(round(conf_level * 100))}% confidence "
        f"intervals ({ci} method for shares, estimate ± t·se for net scores and means).",
        f"Letters: design-based t-tests of the difference between two groups of the same "
        f"breakdown in the same wave, using the covariance between the groups, with "
        f"{CORRECTION_TEXT[correction]}; a group shows the letters of the groups it is "
        f"significantly higher than (adjusted p < {alpha:g}).",
        f"Change: since the previous wave that asked the question; {samples}; significant "
        f"at p < {alpha:g} (no multiple-comparison adjustment).",
        dk + ".",
        rule.describe(),
        "A suppressed group has no estimate, letter or change and is left out of every test.",
    ])
