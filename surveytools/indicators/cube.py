"""The indicator cube: every indicator x breakdown x wave, with letters and changes.

This module owns :class:`IndicatorCube` (the frozen result, its method note
and its file format: :meth:`IndicatorCube.save` / :meth:`IndicatorCube.load`)
and :func:`cube`, which builds it.  The cache of built cubes is
:mod:`surveytools.indicators.store`.

:func:`cube` estimates each indicator of the catalogue (see
:mod:`surveytools.indicators.catalogue`) for the whole sample and for the
groups of each breakdown, in every wave that asks its question; it adds the
change since the previous wave that asked it
(:func:`surveytools.estimation.compare.wave_change`) and significance letters
from design-based tests of every pair of groups within a breakdown (contrasts
of one Estimate through :meth:`Estimate.contrast`, whose covariance holds the
covariance between groups; adjusted and read into letters by
:mod:`surveytools.indicators.significance`).

Speed: one estimate per indicator and wave covers the total and every
group of every breakdown (:mod:`surveytools.indicators.cells`), so the whole
cube of the example tracker takes about a hundred estimator calls, not a
thousand.
The small-base rule is applied before anything is derived: a suppressed
group has no estimate, no letter, gives no letter and has no change.  Then
the groups that would let a suppressed one be worked out (total minus the
other groups, nested breakdowns, answers, changes) are hidden with it
(:mod:`surveytools.indicators.disclosure`: one pattern for the indicators
and the answer shares, whether or not the cube has the shares), and the
letters are read with every hidden group out of the tests.

Examples
--------
>>> import surveytools as st                                     # doctest: +SKIP
>>> c = st.cube(st.read_waves("data/tracker/waves.toml"))         # doctest: +SKIP
>>> c.select(indicator="trust_nhs_high", breakdown="digital")     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import io
import json
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import FileFormatError, SurveyWarning, UndeclaredMissingWarning
from ..core.files import atomic_write
from ..core.meta import code_text, plain_code
from ..core.nonanswers import AUDIT_COLUMNS
from ..core.smallbase import SUPPRESSED, SmallBaseRule
from ..estimation.compare import wave_change
from ..estimation.intervals import check_ci, interval
from ..waves.missing import fix_lines
from .answers import answer_bases, answer_shares, excluded, tab_book
from .catalogue import Breakdown, Breakdowns, Group, Indicator, IndicatorCatalogue
from .catalogue_file import load_breakdowns, load_indicators
from .cells import CELL, CELL_STEP, TOTAL, cell_codes, estimate, pair_tests, stacked_cells
from .disclosure import KEYS as UNIT_KEYS
from .disclosure import SUPPRESSION, apply_pattern, membership, protect_answers, suppression_pattern
from .significance import (ALPHA, CORRECTION_TEXT, check_correction, column_letter,
                           group_letters, letters_from_pairs)

__all__ = ["IndicatorCube", "cube", "compare_groups", "COLUMNS"]

COLUMNS = [
    "wave", "indicator", "indicator_label", "question", "kind", "breakdown", "breakdown_label",
    "group", "group_label", "group_order", "estimate", "se", "ci_low", "ci_high", "df", "n",
    "weighted_n", "n_eff", "deff", "base_flag", "dont_know", "change", "change_se", "change_p",
    "change_significant", "change_note", "letter", "letters", "ci_method", "suppression",
]
#: The columns the builder makes (why a cell is hidden comes with the disclosure pattern).
_BUILT = [c for c in COLUMNS if c != SUPPRESSION]
_CHANGE_COLUMNS = ["change", "change_se", "change_p"]
#: How the ``change_note`` of a row across a series break begins (its reason follows).
NOT_COMPARABLE = "not comparable"
#: Columns of :attr:`IndicatorCube.undeclared` (those of ``Tracker.missing_audit()``).
UNDECLARED_COLUMNS = ("wave", *AUDIT_COLUMNS)
#: Version of the file :meth:`IndicatorCube.save` writes.
FILE_FORMAT = 3


@dataclass(frozen=True, kw_only=True, eq=False)
class IndicatorCube:
    """Every indicator x breakdown x wave of a tracker (see :func:`cube`).

    Frozen: methods return changed copies and never modify :attr:`frame`.
    Two cubes are equal only when they are the same object (frames do not
    compare as one truth value).

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
    waves : tuple of str
        Wave labels in time order.
    ci, conf_level : str, float
        Interval method of the shares and confidence level.
    correction, alpha : str, float
        Multiple-comparison correction of the letters and significance level
        of letters and changes.
    shared : bool
        Whether the waves re-interview the same respondents.
    weights : tuple of str
        The weight columns of the waves.
    exact_with_ci : bool
        Whether :meth:`with_ci` gives exactly the intervals of a cube built
        with that method (linearisation designs without zero weights).
    answers : DataFrame or None
        Every answer's weighted share per question x breakdown x group x
        wave (``cube(..., answers=True)``), suppression applied.
    sources : dict
        Wave label -> the file it was read from.
    name, description : str or None
        The tracker's (``[tracker]`` of the manifest), for titles.
    breaks : dict
        Wave label -> why it cannot be compared with the wave before (a series
        break); no change is tested across it.  A question reworded in a wave
        shows the same in the ``change_note`` of its rows.
    undeclared : tuple of tuples
        The tracker's non-answer audit when the cube was built (rows
        ``wave, variable, code, label, count, reason``; see
        :attr:`undeclared_frame`): codes that look like non-answers but were
        counted as answers.  Empty when every non-answer is declared.
    excluded : dict
        Question -> the codes left out of its bases, in words
        (``8 "Don`t know", -1 "skip, version off route"``).
    """

    frame: pd.DataFrame
    catalogue: IndicatorCatalogue
    breakdowns: Breakdowns
    small_base: SmallBaseRule
    waves: tuple[str, ...]
    ci: str
    conf_level: float
    correction: str
    alpha: float
    shared: bool
    weights: tuple[str, ...]
    exact_with_ci: bool
    answers: pd.DataFrame | None = None
    sources: dict = field(default_factory=dict)
    name: str | None = None
    description: str | None = None
    breaks: dict = field(default_factory=dict)
    undeclared: tuple = ()
    excluded: dict = field(default_factory=dict)

    def select(self, *, indicator=None, breakdown=None, waves=None) -> pd.DataFrame:
        """Rows of :attr:`frame` for some indicators, breakdowns and waves (a new frame).

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

    def with_ci(self, ci: str, *, conf_level: float | None = None) -> "IndicatorCube":
        """A copy whose shares' confidence intervals use method ``ci`` (and ``conf_level``).

        Milliseconds instead of rebuilding the cube. Exact when
        :attr:`exact_with_ci` (the cube's ``n`` is then the base's row count
        that the beta method uses). Net scores and means keep
        estimate ± t(df)·se, recomputed only when the confidence level changes.

        Raises
        ------
        DataError
            An unknown method or a confidence level outside (0, 1).
        """
        conf_level = self.conf_level if conf_level is None else conf_level
        check_ci(ci, conf_level)
        frame = self.frame.copy()
        shares = (frame["kind"] == "share").to_numpy()
        estimated = frame["estimate"].notna().to_numpy()
        methods = [(ci, shares)] + ([("t", ~shares)] if conf_level != self.conf_level else [])
        for method, rows in methods:
            rows = rows & estimated
            frame.loc[rows, "ci_low"], frame.loc[rows, "ci_high"] = interval(
                method, frame.loc[rows, "estimate"].to_numpy(), frame.loc[rows, "se"].to_numpy(),
                frame.loc[rows, "df"].to_numpy(), conf_level=conf_level,
                n_rows=frame.loc[rows, "n"].to_numpy())
        frame.loc[shares, "ci_method"] = ci
        return self.replace(frame=frame, ci=ci, conf_level=conf_level)

    @property
    def method_note(self) -> str:
        """The methods behind the cube, in words, one topic a line (printed beside
        tables and charts): weights and intervals, letters, changes, Don't know,
        the small-base rule."""
        included = [i.short_label for i in self.catalogue if i.dont_know == "include"]
        dk = ("\"Don't know\" is excluded from the base" + (" of every indicator" if not included
                                                           else " unless stated"))
        if included:
            dk += ("; it is in the base (counted as not-yes; refusals, skips, not asked and "
                   "not applicable stay out) for: " + ", ".join(included))
        samples = ("waves re-interview the same respondents (changes use the covariance "
                   "between waves)" if self.shared else "waves are independent samples")
        return "\n".join([
            f"Weighted estimates (weight column {', '.join(self.weights)}) with design-based "
            f"(Taylor linearisation) standard errors; {int(round(self.conf_level * 100))}% "
            f"confidence intervals ({self.ci} method for shares, estimate ± t·se for net scores "
            f"and means).",
            f"Letters: design-based t-tests of the difference between two groups of the same "
            f"breakdown in the same wave, using the covariance between the groups, with "
            f"{CORRECTION_TEXT[self.correction]}; a group shows the letters of the groups it is "
            f"significantly higher than (adjusted p < {self.alpha:g}).",
            f"Change: since the previous wave that asked the question; {samples}; significant "
            f"at p < {self.alpha:g} (no multiple-comparison adjustment)." + self._breaks_note,
            dk + ".",
            self.small_base.describe(),
            "A suppressed group has no estimate, letter or change and is left out of every test. "
            "So that it cannot be worked out from the total and the other groups (by "
            "subtraction, from nested breakdowns such as nation and region, from the answers "
            "or the changes), at least one more group is hidden with it wherever it could "
            "(complementary suppression), and the bases of hidden groups are withheld.",
        ])

    @property
    def _breaks_note(self) -> str:
        if not self.breaks:
            return ""
        return (" No change is tested across a series break: "
                + "; ".join(f"{wave} ({reason})" for wave, reason in self.breaks.items()) + ".")

    @property
    def undeclared_frame(self) -> pd.DataFrame:
        """:attr:`undeclared` as a DataFrame (columns :data:`UNDECLARED_COLUMNS`)."""
        return pd.DataFrame(list(self.undeclared), columns=list(UNDECLARED_COLUMNS))

    def undeclared_note(self, question: str | None = None) -> str:
        """The codes of ``question`` (default: of every question) counted as answers
        although they look like non-answers, in words; empty when there are none.

        Examples
        --------
        >>> c = IndicatorCube(frame=pd.DataFrame(), catalogue=IndicatorCatalogue(()),
        ...     breakdowns=Breakdowns(()), small_base=SmallBaseRule(), waves=("2023",),
        ...     ci="logit", conf_level=0.95, correction="bh", alpha=0.05, shared=False,
        ...     weights=("w",), exact_with_ci=True,
        ...     undeclared=(("2023", "GovTrust", 8, "Don`t know", 45, "label"),))
        >>> c.undeclared_note("GovTrust")
        'Counted as answers although they look like non-answers (not declared missing): GovTrust 8 "Don`t know" (2023: 45).'
        >>> c.undeclared_note("other")
        ''
        """
        frame = self.undeclared_frame
        if question is not None:
            frame = frame[frame["variable"] == question]
        if frame.empty:
            return ""
        parts = []
        for variable, rows in frame.groupby("variable", sort=False):
            codes = []
            for code, found in rows.groupby("code", sort=False):
                label = found["label"].iloc[0]
                counts = ", ".join(f"{w}: {n}" for w, n in zip(found["wave"], found["count"]))
                codes.append(code_text(code) + (f' "{label}"' if label else "") + f" ({counts})")
            parts.append(f"{variable} {', '.join(codes)}")
        return ("Counted as answers although they look like non-answers (not declared "
                "missing): " + "; ".join(parts) + ".")

    # -- on disk -----------------------------------------------------------
    def save(self, path) -> Path:
        """Write the cube to one file, atomically (a reader sees the old file or the new).

        The file is a ZIP archive: ``cube.json`` (catalogue, breakdowns,
        rule, waves, sources and method parameters), ``frame.parquet`` and,
        if the cube has them, ``answers.parquet``.  :meth:`load` reads it.

        Examples
        --------
        >>> import tempfile, pathlib                                         # doctest: +SKIP
        >>> path = c.save(pathlib.Path(tempfile.mkdtemp()) / "trust.cube")  # doctest: +SKIP
        >>> IndicatorCube.load(path).method_note == c.method_note           # doctest: +SKIP
        True
        """
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                  if f.name not in ("frame", "answers")}
        meta = {"format": FILE_FORMAT, **fields,
                "catalogue": dataclasses.asdict(self.catalogue),
                "breakdowns": dataclasses.asdict(self.breakdowns),
                "small_base": dataclasses.asdict(self.small_base),
                "sources": {k: None if v is None else str(v) for k, v in self.sources.items()}}
        tables = {"frame.parquet": self.frame, "answers.parquet": self.answers}

        def write(target: Path) -> None:
            with zipfile.ZipFile(target, "w") as archive:
                archive.writestr("cube.json", json.dumps(meta))
                for name, table in tables.items():
                    if table is not None:
                        buffer = io.BytesIO()
                        table.to_parquet(buffer, index=False)
                        archive.writestr(name, buffer.getvalue())

        return atomic_write(path, write)

    @classmethod
    def load(cls, path) -> "IndicatorCube":
        """The cube :meth:`save` wrote to ``path``.

        Raises
        ------
        FileFormatError
            No such file, or a file that is not a saved cube of this version
            (damaged, truncated, written by something else).
        """
        try:
            with zipfile.ZipFile(path) as archive:
                meta = json.loads(archive.read("cube.json"))
                if meta.pop("format", None) != FILE_FORMAT:
                    raise ValueError(f"not format {FILE_FORMAT}")
                tables = {name: pd.read_parquet(io.BytesIO(archive.read(f"{name}.parquet")))
                          for name in ("frame", "answers")
                          if f"{name}.parquet" in archive.namelist()}
            return cls(**{**meta, **tables,
                          "catalogue": _catalogue_from(meta["catalogue"]),
                          "breakdowns": _breakdowns_from(meta["breakdowns"]),
                          "small_base": SmallBaseRule(**meta["small_base"]),
                          "waves": tuple(meta["waves"]), "weights": tuple(meta["weights"]),
                          "undeclared": tuple(tuple(row) for row in meta["undeclared"])})
        except FileNotFoundError:
            raise FileFormatError("no saved indicator cube here", file=path,
                                  expected="a file written by IndicatorCube.save",
                                  found="no such file", hint="check the path") from None
        except (OSError, EOFError, zipfile.BadZipFile, KeyError, TypeError, ValueError) as error:
            raise FileFormatError("not a saved indicator cube, or a damaged one", file=path,
                                  expected=f"a file written by IndicatorCube.save "
                                           f"(format {FILE_FORMAT})",
                                  found=f"{type(error).__name__}: {error}",
                                  hint="delete the file and build the cube again") from None


def _catalogue_from(stored: dict) -> IndicatorCatalogue:
    return IndicatorCatalogue(tuple(Indicator(**i) for i in stored["indicators"]),
                              file=stored["file"])


def _breakdowns_from(stored: dict) -> Breakdowns:
    return Breakdowns(tuple(Breakdown(**{**b, "groups": tuple(Group(**g) for g in b["groups"])})
                            for b in stored["breakdowns"]), file=stored["file"])


def cube(tracker, catalogue=None, breakdowns=None, *, ci: str = "logit", conf_level: float = 0.95,
         correction: str = "bh", alpha: float = ALPHA, answers: bool = False,
         small_base: SmallBaseRule | None = None) -> IndicatorCube:
    """Estimate every indicator by every breakdown in every wave.

    Parameters
    ----------
    tracker : Tracker
        From :func:`surveytools.read_waves`.
    catalogue : IndicatorCatalogue, path or None
        None: the tracker's (``[tracker] catalogue`` of the manifest, else
        ``indicators.toml`` beside it); when it has none, the full tab book
        (one share per answer of every labelled question:
        :func:`surveytools.indicators.answers.tab_book`).
    breakdowns : Breakdowns, path or None
        None: the tracker's (``[tracker] breakdowns``, else ``breakdowns.toml``
        beside the manifest); when it has none, the total only.  Groups that
        are user-missing or non-answer codes, or that no wave has anyone in,
        are dropped (never a column, never lettered).
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
    DataError
        An unknown interval method or correction, a confidence level outside (0, 1).

    Warns
    -----
    UndeclaredMissingWarning
        Once per question of the catalogue with codes that look like
        non-answers counted as answers (the tracker's
        ``missing_audit()``), with the manifest lines that declare them.
    """
    check_ci(ci, conf_level)
    check_correction(correction)
    waves = tuple(tracker.names)
    latest = tracker[waves[-1]]
    columns = set().union(*(tracker[w].data.columns for w in waves))
    catalogue = _as_catalogue(tracker, catalogue, latest.meta, columns)
    catalogue = dataclasses.replace(catalogue, indicators=tuple(
        i.replace(wording=i.wording or latest.meta.label(i.question)) for i in catalogue))
    undeclared = _audit(tracker)
    breakdowns = _answer_groups(
        tracker, _as_breakdowns(tracker, breakdowns).check(latest.meta, columns=columns),
        undeclared)
    rule = small_base if small_base is not None else latest.small_base
    shared = bool(getattr(tracker, "shared_respondents", False))
    _warn_undeclared(tracker, catalogue, undeclared)

    builder = _Builder(catalogue, (TOTAL, *breakdowns), rule, ci=ci, conf_level=conf_level,
                       correction=correction, alpha=alpha, shared=shared,
                       comparable=getattr(tracker, "not_comparable", None))
    cells = cell_codes((TOTAL, *breakdowns))
    answer_rows = []
    shares_or_bases = answer_shares if answers else answer_bases
    with warnings.catch_warnings():  # said once per question above, not once per wave
        warnings.simplefilter("ignore", UndeclaredMissingWarning)
        for wave in waves:
            survey = stacked_cells(tracker[wave], catalogue, (TOTAL, *breakdowns))
            builder.add_wave(wave, survey)
            answer_rows.append(shares_or_bases(wave, survey, catalogue.questions, cells, rule))
    answer_frame = pd.concat(answer_rows, ignore_index=True)
    frame = _protected(builder, answer_frame, rule, breakdowns, waves)
    surveys = [tracker[w] for w in waves]
    return IndicatorCube(
        frame=frame, catalogue=catalogue, breakdowns=breakdowns, small_base=rule,
        waves=waves, ci=ci, conf_level=conf_level, correction=correction, alpha=alpha,
        shared=shared, weights=tuple(sorted({s.design.weight for s in surveys})),
        exact_with_ci=all(not s.design.is_replicate and bool((s.weights > 0).all())
                          for s in surveys),
        answers=protect_answers(answer_frame, frame) if answers else None,
        sources={w: s.meta.file for w, s in zip(waves, surveys)},
        name=getattr(tracker, "name", None), description=getattr(tracker, "description", None),
        breaks=dict(getattr(tracker, "breaks", {})), undeclared=undeclared,
        excluded=excluded(tracker, catalogue.questions))


def _protected(builder: "_Builder", answer_frame: pd.DataFrame, rule: SmallBaseRule,
               breakdowns: Breakdowns, waves: tuple) -> pd.DataFrame:
    """The cube's rows with complementary suppression applied
    (:mod:`surveytools.indicators.disclosure`), the pattern made with the answer
    shares (or their bases) so that the answers hide alike
    (``protect_answers(answer_frame, frame)``), every hidden group left out of the
    tests behind the letters."""
    groups = membership(breakdowns)
    pattern = suppression_pattern(builder.bases(), rule, groups=groups, answers=answer_frame)
    hidden = frozenset(tuple(key) for key in
                       pattern.loc[pattern[SUPPRESSION] != "", list(UNIT_KEYS)].to_numpy())
    frame = apply_pattern(builder.frame(hidden), pattern, waves=waves)
    return frame[COLUMNS]


# -- inputs ----------------------------------------------------------------
def _as_catalogue(tracker, catalogue, meta, columns) -> IndicatorCatalogue:
    """The catalogue given (or the tracker's), checked against the latest wave's
    metadata; else the tab book, which is made from the waves themselves."""
    if catalogue is None:
        catalogue = getattr(tracker, "catalogue", None)
        if catalogue is None:
            return tab_book(tracker)
    if not isinstance(catalogue, IndicatorCatalogue):
        catalogue = load_indicators(catalogue)
    return catalogue.check(meta, columns=columns)


def _as_breakdowns(tracker, breakdowns) -> Breakdowns:
    if isinstance(breakdowns, Breakdowns):
        return breakdowns
    breakdowns = breakdowns if breakdowns is not None else getattr(tracker, "breakdowns", None)
    return load_breakdowns(breakdowns) if breakdowns is not None else Breakdowns(())


def _audit(tracker) -> tuple:
    """The tracker's non-answer audit (``missing_audit()``) as plain tuples
    (:data:`UNDECLARED_COLUMNS`); empty for a tracker without one."""
    audit = getattr(tracker, "missing_audit", None)
    if audit is None:
        return ()
    return tuple((str(r.wave), str(r.variable), plain_code(r.code), str(r.label), int(r.count),
                  str(r.reason)) for r in audit().itertuples(index=False))


def _warn_undeclared(tracker, catalogue: IndicatorCatalogue, undeclared: tuple) -> None:
    """One warning per question of ``catalogue`` with undeclared non-answers, naming
    every wave, and the manifest lines that declare them."""
    frame = pd.DataFrame(list(undeclared), columns=list(UNDECLARED_COLUMNS))
    frame = frame[frame["variable"].isin(catalogue.questions)]
    manifest = getattr(tracker, "manifest", None)
    where = f"{manifest}: " if manifest else ""
    for variable, rows in frame.groupby("variable", sort=False):
        found = ", ".join(f"{code_text(r.code)} ({r.label or r.reason}, n={r.count} in {r.wave})"
                          for r in rows.itertuples(index=False))
        warnings.warn(UndeclaredMissingWarning(
            f"{where}column {variable!r}: the indicator cube counts code(s) {found} as "
            f"answers, but they look like non-answers and are not declared missing. Declare "
            f"them in the manifest:\n{fix_lines(rows)}\nor, if they are real answers, list "
            f"them under [missing.count_as_answer]."), stacklevel=3)


def _answer_groups(tracker, breakdowns: Breakdowns, undeclared: tuple) -> Breakdowns:
    """``breakdowns`` without the codes that are no answer (user-missing in every wave
    that has the variable, or undeclared non-answers) and without the groups that no
    wave has anyone in; a breakdown left without groups is dropped, with a warning."""
    skip = {(variable, code) for _, variable, code, *_ in undeclared}
    kept = []
    for bd in breakdowns:
        present: set = set()
        for survey in tracker:
            if bd.variable in survey.data.columns:
                values = survey.data[bd.variable]
                answered = values[~survey.meta.missing_mask(bd.variable, values)].dropna()
                present |= {plain_code(v) for v in pd.unique(answered)}
        groups = []
        for group in bd.groups:
            codes = tuple(c for c in group.codes if (bd.variable, plain_code(c)) not in skip)
            if any(plain_code(c) in present for c in codes):
                groups.append(dataclasses.replace(group, codes=codes))
        if groups:
            kept.append(dataclasses.replace(bd, groups=tuple(groups)))
        else:
            warnings.warn(f"breakdown {bd.name!r} ({bd.variable}) has no group with anyone in "
                          "it in any wave: it is left out", SurveyWarning, stacklevel=3)
    return dataclasses.replace(breakdowns, breakdowns=tuple(kept))


def compare_groups(survey, indicator: Indicator, breakdown: Breakdown, *, ci: str = "logit",
                   conf_level: float = 0.95, correction: str = "bh",
                   alpha: float = ALPHA) -> pd.DataFrame:
    """Every pair of groups of one breakdown for one indicator in one wave.

    The tests behind the cube's letters, labelled: ``group_a, group_b``
    (group keys), ``label_a, label_b``, ``difference, se, df, p_value,
    p_adjusted, significant``.  Groups under the small-base rule have NaN
    tests.  For analysis, not publication: the groups a cube hides to protect
    a small one (:mod:`surveytools.indicators.disclosure`) are tested here, so
    the adjustment can differ from the cube's where something is hidden.

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
    out = tests.copy()
    for side in ("a", "b"):
        group = [groups[c % CELL_STEP] for c in tests[side]]
        out[f"group_{side}"] = [g.code for g in group]
        out[f"label_{side}"] = [g.label for g in group]
    return out[["group_a", "group_b", "label_a", "label_b", "difference", "se", "df",
                "p_value", "p_adjusted", "significant"]]


# -- the cube --------------------------------------------------------------
class _Builder:
    """Collects the cube wave by wave (as arrays; one DataFrame at the end),
    keeping each wave's estimates for the change at the next wave that asks.

    ``comparable(before, after, question)`` gives the reason why two waves
    cannot be compared for a question (``Tracker.not_comparable``), or None.
    """

    def __init__(self, catalogue, breakdowns, rule, *, ci, conf_level, correction, alpha, shared,
                 comparable=None):
        self.catalogue, self.breakdowns, self.rule = catalogue, breakdowns, rule
        self.ci, self.conf_level, self.correction, self.alpha = ci, conf_level, correction, alpha
        self.shared = shared
        self.comparable = comparable
        self.cells = cell_codes(breakdowns)
        self.previous: dict = {}  # indicator -> (wave, Estimate) of the last wave that asked it
        self.parts: list[dict] = []

    def add_wave(self, wave: str, survey) -> None:
        answered = survey.data.notna().any()  # the questions this wave asks
        for ind in self.catalogue:
            if not answered.get(ind.question, False):
                continue
            est = estimate(survey, ind, ci=self.ci, conf_level=self.conf_level)
            self.parts.append(self._part(wave, ind, est))
            self.previous[ind.name] = (wave, est)

    def _part(self, wave, ind: Indicator, est) -> dict:
        table = est.table
        codes = table[CELL].to_numpy(dtype=float).astype(int)
        flags = self.rule.flags(table["n"].to_numpy())
        hidden = flags == SUPPRESSED
        part = {c: table[c].to_numpy(dtype=float) for c in
                ("estimate", "se", "ci_low", "ci_high", "df", "n", "weighted_n", "n_eff", "deff")}
        part.update(self._change(wave, ind, est, codes, hidden))
        part.update(wave=wave, indicator=ind, code=codes, base_flag=flags,
                    tests=pair_tests(est, hidden, alpha=self.alpha, correction=self.correction),
                    ci_method=est.ci_method if ind.kind == "share" else "t")
        return part

    def _letters(self, tests: pd.DataFrame, codes, hidden) -> tuple[list, list]:
        """Each row's own letter (its group's position in the breakdown) and the letters
        of the groups it is significantly higher than (see :func:`pair_tests`).  The
        tests were made with the small-base rule's groups left out; groups hidden
        since (complementary suppression) leave the family here, before the adjustment."""
        own = {c: column_letter(c % CELL_STEP) if c >= CELL_STEP else "" for c in codes}
        gone = set(codes[hidden].tolist())
        if gone:
            tests = letters_from_pairs(
                tests.assign(p_value=tests["p_value"].where(
                    ~(tests["a"].isin(gone) | tests["b"].isin(gone)))),
                alpha=self.alpha, correction=self.correction, family="breakdown")
        higher_than = group_letters(sorted(own), tests, letters=own)
        return [own[c] for c in codes], [higher_than[c] for c in codes]

    def _change(self, wave, ind, est, codes, hidden) -> dict:
        """The change columns and ``change_note``: NaN and "" without an earlier wave,
        NaN and "not comparable (reason)" across a series break or a changed question."""
        out = {c: np.full(len(codes), np.nan) for c in _CHANGE_COLUMNS}
        out["change_note"] = np.full(len(codes), "", dtype=object)
        if ind.name not in self.previous:
            return out
        previous_wave, before = self.previous[ind.name]
        reason = self.comparable and self.comparable(previous_wave, wave, ind.question)
        if reason:
            out["change_note"][:] = f"{NOT_COMPARABLE} ({reason})"
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

    def bases(self) -> pd.DataFrame:
        """``wave, question, breakdown, group, n, weighted_n, base_flag`` of every row
        (what the disclosure pattern needs; no tests or letters)."""
        columns: dict[str, list] = {c: [] for c in ("wave", "question", "breakdown", "group",
                                                    "n", "weighted_n", "base_flag")}
        for part in self.parts:
            groups = [self.cells[int(c)] for c in part["code"]]
            columns["wave"] += [part["wave"]] * len(groups)
            columns["question"] += [part["indicator"].question] * len(groups)
            columns["breakdown"] += [bd.name for bd, _ in groups]
            columns["group"] += [g.code for _, g in groups]
            for name in ("n", "weighted_n", "base_flag"):
                columns[name] += list(part[name])
        return pd.DataFrame(columns)

    def frame(self, hidden: frozenset = frozenset()) -> pd.DataFrame:
        """The cube's rows before anything is blanked (:func:`_protected` blanks the
        hidden ones); ``hidden``: the units (wave, question, breakdown, group) hidden
        beyond the small-base rule, which leave the tests behind the letters."""
        if not self.parts:
            return pd.DataFrame(columns=_BUILT)
        columns: dict[str, list] = {c: [] for c in _BUILT if c != "change_significant"}
        for part in self.parts:
            ind, k = part["indicator"], len(part["code"])
            groups = [self.cells[int(c)] for c in part["code"]]
            gone = part["base_flag"] == SUPPRESSED
            if hidden:
                gone = gone | np.array([(str(part["wave"]), ind.question, bd.name, str(g.code))
                                        in hidden for bd, g in groups])
            letter, letters = self._letters(part["tests"], part["code"], gone)
            columns["letter"] += letter
            columns["letters"] += letters
            columns["wave"] += [part["wave"]] * k
            columns["indicator"] += [ind.name] * k
            columns["indicator_label"] += [ind.label] * k
            columns["question"] += [ind.question] * k
            columns["kind"] += [ind.kind] * k
            columns["breakdown"] += [bd.name for bd, _ in groups]
            columns["breakdown_label"] += [bd.label for bd, _ in groups]
            columns["group"] += [g.code for _, g in groups]
            columns["group_label"] += [g.label for _, g in groups]
            columns["group_order"] += [int(c) % CELL_STEP for c in part["code"]]
            columns["dont_know"] += [ind.dont_know_text] * k
            columns["ci_method"] += [part["ci_method"]] * k
            for name in ("estimate", "se", "ci_low", "ci_high", "df", "n", "weighted_n",
                         "n_eff", "deff", "base_flag", *_CHANGE_COLUMNS, "change_note"):
                columns[name] += list(part[name])
        frame = pd.DataFrame(columns)
        frame["change_significant"] = (frame["change_p"] < self.alpha).to_numpy()
        frame["n"] = frame["n"].astype(int)
        return frame[_BUILT]  # hidden rows are blanked with the disclosure pattern
