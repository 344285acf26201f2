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
group has no estimate, no letter, gives no letter and has no change.

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
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import FileFormatError
from ..core.files import atomic_write
from ..core.smallbase import SUPPRESSED, SmallBaseRule, blank
from ..estimation.compare import wave_change
from ..estimation.intervals import check_ci, interval
from .catalogue import Breakdown, Breakdowns, Group, Indicator, IndicatorCatalogue
from .catalogue_file import (BREAKDOWNS_FILE, INDICATORS_FILE, default_file, load_breakdowns,
                             load_indicators)
from .cells import (CELL, CELL_STEP, TOTAL, asked, cell_codes, estimate, pair_tests,
                    stacked_cells)
from .significance import (ALPHA, CORRECTION_TEXT, check_correction, column_letter,
                           group_letters)

__all__ = ["IndicatorCube", "cube", "compare_groups", "COLUMNS"]

COLUMNS = [
    "wave", "indicator", "indicator_label", "question", "kind", "breakdown", "breakdown_label",
    "group", "group_label", "group_order", "estimate", "se", "ci_low", "ci_high", "df", "n",
    "weighted_n", "n_eff", "deff", "base_flag", "dont_know", "change", "change_se", "change_p",
    "change_significant", "letter", "letters", "ci_method",
]
#: Cube columns emptied for a suppressed group (the change columns and letters
#: are never computed for one).
_BLANKED = ("estimate", "se", "ci_low", "ci_high", "df", "deff", "n_eff")
_CHANGE_COLUMNS = ["change", "change_se", "change_p"]
#: Version of the file :meth:`IndicatorCube.save` writes.
FILE_FORMAT = 1


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
            dk += "; it is in the base (counted as not-yes) for: " + ", ".join(included)
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
            f"at p < {self.alpha:g} (no multiple-comparison adjustment).",
            dk + ".",
            self.small_base.describe(),
            "A suppressed group has no estimate, letter or change and is left out of every test.",
        ])

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
                          "waves": tuple(meta["waves"]), "weights": tuple(meta["weights"])})
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
    DataError
        An unknown interval method or correction, a confidence level outside (0, 1).
    """
    check_ci(ci, conf_level)
    check_correction(correction)
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
    surveys = [tracker[w] for w in waves]
    return IndicatorCube(
        frame=builder.frame(), catalogue=catalogue, breakdowns=breakdowns, small_base=rule,
        waves=waves, ci=ci, conf_level=conf_level, correction=correction, alpha=alpha,
        shared=shared, weights=tuple(sorted({s.design.weight for s in surveys})),
        exact_with_ci=all(not s.design.is_replicate and bool((s.weights > 0).all())
                          for s in surveys),
        answers=pd.concat(answer_rows, ignore_index=True) if answers else None,
        sources={w: s.meta.file for w, s in zip(waves, surveys)})


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
        part = {c: table[c].to_numpy(dtype=float) for c in
                ("estimate", "se", "ci_low", "ci_high", "df", "n", "weighted_n", "n_eff", "deff")}
        part.update(self._change(ind, est, codes, hidden))
        letter, letters = self._letters(est, codes, hidden)
        part.update(wave=wave, indicator=ind, code=codes, base_flag=flags, letter=letter,
                    letters=letters, ci_method=est.ci_method if ind.kind == "share" else "t")
        return part

    def _letters(self, est, codes, hidden) -> tuple[list, list]:
        """Each row's own letter (its group's position in the breakdown) and the letters
        of the groups it is significantly higher than (see :func:`pair_tests`)."""
        own = {c: column_letter(c % CELL_STEP) if c >= CELL_STEP else "" for c in codes}
        tests = pair_tests(est, hidden, alpha=self.alpha, correction=self.correction)
        higher_than = group_letters(sorted(own), tests, letters=own)
        return [own[c] for c in codes], [higher_than[c] for c in codes]

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
            columns["group_order"] += [int(c) % CELL_STEP for c in part["code"]]
            columns["dont_know"] += [ind.dont_know_text] * k
            columns["ci_method"] += [part["ci_method"]] * k
            for name in ("estimate", "se", "ci_low", "ci_high", "df", "n", "weighted_n",
                         "n_eff", "deff", "base_flag", "letter", "letters", *_CHANGE_COLUMNS):
                columns[name] += list(part[name])
        frame = pd.DataFrame(columns)
        frame["change_significant"] = (frame["change_p"] < self.alpha).to_numpy()
        frame["n"] = frame["n"].astype(int)
        return blank(frame[COLUMNS], frame["base_flag"].to_numpy() == SUPPRESSED,
                     columns=_BLANKED)


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
    return rule.apply(pd.concat(parts, ignore_index=True))
