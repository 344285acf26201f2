"""Finding the weight and the design columns (strata, PSU, fpc) of one file, with evidence.

This module owns the design guesses.  A column is a candidate by its name
(as UK and US surveys name them) or its variable label, and is judged by
its values:

* weight: ``weight``, ``wt``, ``wgt``, ``w8``, ``WtFactor``, ``*_wt``,
  ``*weight*`` ... or a label about weighting; it must be numeric without
  value labels, never negative and not constant; a mean near 1 (weights
  scaled to the sample) or a sum in the tens of thousands or more (a grossing
  weight) counts for it.  A non-integer, positive column with mean near 1 is
  a candidate even without a weight-like name.  Numbered series of four or
  more weight-like columns are taken as replicate weights, not the weight.
* strata: ``stratum``, ``strata``, ``strat*``, ``StratID``, ``SDMVSTRA``,
  ``vstrat`` ...; 2 or more values, none missing, far fewer than the rows.
* PSU: ``psu``, ``cluster``, ``Spoint``, ``sampling point``, ``PSU_ID``,
  ``SDMVPSU``, ``vpsu``, ``secu`` ...; more values than strata, fewer than
  the rows; ``nest = true`` when the same id appears in two strata.
* fpc: ``fpc`` or a label about the finite population correction; constant
  within each stratum.

A choice is *sure* when a name matched and the values agree; anything less
is written as a commented line for the analyst.

Examples
--------
>>> bool(WEIGHT_NAME.search("WtFactor")), bool(WEIGHT_NAME.search("trust_nhs"))
(True, False)
>>> bool(PSU_NAME.search("Spoint")), bool(STRATA_NAME.search("SDMVSTRA"))
(True, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..core.meta import code_text
from .files import WaveFile

WEIGHT_EXACT = re.compile(r"^(w|wt|wts|wgt|wght|w8|weight|weights|wtfactor|finalwt|final_?weight"
                          r"|final_?wt|wt_?final)$", re.IGNORECASE)
WEIGHT_NAME = re.compile(r"weight|wght|wgt|^wt|wt$|_wt|wt_|^w8|w8$", re.IGNORECASE)
WEIGHT_LABEL = re.compile(r"\bweight(s|ing|ed)?\b|\bgrossing\b", re.IGNORECASE)
_NOT_A_WEIGHT = re.compile(r"\b(body|your|kg|kilos?|stones?|pounds|lbs|height|bmi|birth|gain|lose"
                           r"|loss)\b", re.IGNORECASE)
_FINAL = re.compile(r"\b(final|overall|main|combined|analysis|total|full)\b", re.IGNORECASE)
_PARTIAL = re.compile(r"\b(design|selection|non-?response|pre|prior|base|interim|untrimmed|uncapped"
                      r"|raw|dwelling|household|address|replicate)\b"
                      r"|(^|_)(sel|nr|des|dw|hh|rep)(_|wt|$)", re.IGNORECASE)
STRATA_NAME = re.compile(r"strat|^sdmvstra$|^varstr(at)?$|^vestr$", re.IGNORECASE)
STRATA_LABEL = re.compile(r"\bstrat(um|a|ification|ified)\b", re.IGNORECASE)
PSU_NAME = re.compile(r"psu|^clust|cluster$|spoint|s_point|sampling_?point|^point(_?id|no)?$"
                      r"|^sdmvpsu$|^vpsu|^secu$|^varunit$", re.IGNORECASE)
PSU_LABEL = re.compile(r"primary sampling unit|\bpsu\b|sampling point|\bcluster\b", re.IGNORECASE)
FPC_NAME = re.compile(r"fpc|^pop_?size$|^npsu$", re.IGNORECASE)
FPC_LABEL = re.compile(r"finite population|population size|sampling fraction", re.IGNORECASE)
ID_NAME = re.compile(r"(^|_)(id|serial|serialno|caseid|case_?no|respid|resp_?id|uniqid|pid|hhid"
                     r"|idno|sn)$|^serial|^id_?|^caseno|^respondent", re.IGNORECASE)
_SERIES = re.compile(r"^(.*?)(\d+)$")


@dataclass(frozen=True)
class Candidate:
    """A column considered for a role, with the evidence for or against it."""

    column: str
    evidence: str
    score: float = 0.0
    usable: bool = True
    missing: int = 0


@dataclass(frozen=True)
class Choice:
    """The column chosen for one role (or None) and the other candidates.

    ``sure`` is False when the analyst should check: the line is then marked
    in the manifest (or written commented out when ``column`` is None).
    """

    role: str
    column: str | None = None
    evidence: str = ""
    sure: bool = False
    others: tuple[Candidate, ...] = ()


@dataclass(frozen=True)
class DesignFound:
    """The design guesses of one file."""

    weight: Choice
    strata: Choice
    psu: Choice
    fpc: Choice
    nest: bool = False
    nest_evidence: str = ""
    lonely: str = ""
    replicates: str = ""
    ids: tuple[str, ...] = ()
    weight_like: tuple[str, ...] = ()

    @property
    def choices(self) -> tuple[Choice, ...]:
        return (self.weight, self.strata, self.psu, self.fpc)

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the design uses."""
        return tuple(c.column for c in self.choices if c.column)

    def renamed(self, names) -> "DesignFound":
        """The same guesses with columns called by their harmonised names."""
        def one(choice: Choice) -> Choice:
            return Choice(choice.role, names.get(choice.column, choice.column) if choice.column
                          else None, choice.evidence, choice.sure, choice.others)
        return DesignFound(one(self.weight), one(self.strata), one(self.psu), one(self.fpc),
                           self.nest, self.nest_evidence, self.lonely, self.replicates, self.ids,
                           self.weight_like)

    def key(self) -> tuple:
        """What must agree between waves for one [design] table to serve them all."""
        return (self.weight.column, self.strata.column, self.psu.column, self.fpc.column,
                self.nest)


def detect_design(wave: WaveFile) -> DesignFound:
    """Weight, strata, PSU and fpc of one file (see the module docstring)."""
    ids = tuple(c for c in wave.numeric if _is_id(wave, c))
    weight, replicates, weight_like = _weight(wave, set(ids))
    strata = _strata(wave)
    psu, nest, nest_evidence, lonely = _psu(wave, strata.column)
    fpc = _fpc(wave, strata.column, psu.column)
    return DesignFound(weight, strata, psu, fpc, nest, nest_evidence, lonely, replicates, ids,
                       weight_like)


# -- ids ----------------------------------------------------------------------
def _is_id(wave: WaveFile, column: str) -> bool:
    """Unlabelled whole numbers, one per row (or an id-like name and nearly so)."""
    if wave.meta.value_labels.get(column) or column not in wave.data.columns:
        return False
    values = wave.data[column].dropna()
    if values.empty or len(values) < 10:
        return False
    whole = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
    distinct = values.nunique() / len(values)
    return whole and (distinct == 1 or (ID_NAME.search(column) is not None and distinct > 0.9))


# -- weight ------------------------------------------------------------------
class Profile(NamedTuple):
    """A column read as weights: usable or not, the evidence, and what counts for it."""

    usable: bool
    evidence: str
    bonus: float = 0.0       # 1 when the mean is near 1 or the sum a population
    whole: bool = False      # whole numbers only
    positive: bool = False   # no zeros
    missing: int = 0         # rows without a value


def weight_profile(values: pd.Series) -> Profile:
    """How a column looks as weights.

    >>> weight_profile(pd.Series([0.5, 1.5, 1.0, 1.0])).evidence
    'positive, non-integer, mean 1.00 (min 0.5, max 1.5)'
    """
    numbers = pd.to_numeric(values, errors="coerce")
    missing = int(numbers.isna().sum())
    numbers = numbers.dropna()
    if numbers.empty:
        return Profile(False, "no values")
    array = numbers.to_numpy(dtype=float)
    if (array < 0).any():
        negatives = int((array < 0).sum())
        return Profile(False, f"{negatives} negative values (min {array.min():.3g})")
    if numbers.nunique() == 1:
        return Profile(False, f"the same value {array[0]:g} in every row")
    whole = bool(np.all(np.mod(array, 1) == 0))
    zeros = int((array == 0).sum())
    parts = ["positive" if not zeros else f"non-negative ({zeros} zeros)",
             f"integer ({numbers.nunique()} distinct values)" if whole else "non-integer"]
    mean, total, bonus = float(array.mean()), float(array.sum()), 0.0
    if 0.8 <= mean <= 1.25:
        parts.append(f"mean {mean:.2f}")
        bonus = 1.0
    elif total >= 1e4 and mean >= 5:
        parts.append(f"sums to {total:,.0f} (a grossing weight to a population)")
        bonus = 1.0
    else:
        parts.append(f"mean {mean:.3g}")
    text = ", ".join(parts) + f" (min {array.min():.3g}, max {array.max():.3g})"
    if missing:
        text += f"; {missing} rows without a weight (read_wave refuses missing weights)"
    return Profile(True, text, bonus, whole, not zeros, missing)


def _weight(wave: WaveFile, ids: set) -> tuple[Choice, str, tuple[str, ...]]:
    candidates = []
    for column in wave.numeric:
        if column in ids or column not in wave.data.columns:
            continue
        label = wave.label_of(column)
        name_score = (3 if WEIGHT_EXACT.match(column) else 2 if WEIGHT_NAME.search(column)
                      else 1 if WEIGHT_LABEL.search(label) else 0)
        if _NOT_A_WEIGHT.search(label):
            name_score = 0
        if wave.meta.value_labels.get(column):
            if name_score:
                candidates.append(Candidate(column, "has value labels: a question, not a weight",
                                            name_score, usable=False))
            continue
        profile = weight_profile(wave.data[column])
        by_values = (profile.usable and profile.positive and not profile.whole
                     and profile.bonus > 0)
        if not name_score and not by_values:
            continue
        score = name_score + profile.bonus
        if _FINAL.search(label) or _FINAL.search(column):
            score += 1
        if _PARTIAL.search(label) or _PARTIAL.search(column):
            score -= 1
        if profile.missing:
            score -= 2  # a weight for part of the sample only (read_wave refuses it)
        where = ("weight-like name" if name_score >= 2 else "label mentions weighting"
                 if name_score else "no weight-like name, values only")
        if label:
            where += f'; label "{label}"'
        candidates.append(Candidate(column, f"{where}; {profile.evidence}", score,
                                    profile.usable and (not profile.whole or name_score >= 2),
                                    profile.missing))
    candidates, replicates = _without_replicates(candidates)
    usable = sorted((c for c in candidates if c.usable), key=lambda c: -c.score)
    others = tuple(c for c in candidates if not usable or c is not usable[0])
    like = tuple(c.column for c in candidates if c.usable)
    if not usable:
        return (Choice("weight", None, "no column looks like a weight", False, others),
                replicates, like)
    best = usable[0]
    sure = (best.score >= 3 and not best.missing
            and (len(usable) == 1 or usable[1].score < best.score))
    return Choice("weight", best.column, best.evidence, sure, others), replicates, like


def _without_replicates(candidates: list[Candidate]) -> tuple[list[Candidate], str]:
    """Numbered series (rw1 ... rw80) of 4+ usable candidates: replicate weights."""
    series: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        match = _SERIES.match(candidate.column)
        if match and candidate.usable:
            series.setdefault(match.group(1), []).append(candidate)
    found = {p: s for p, s in series.items() if len(s) >= 4}
    if not found:
        return candidates, ""
    drop = {c.column for s in found.values() for c in s}
    text = "; ".join(f"{len(s)} columns {s[0].column} ... {s[-1].column}" for s in found.values())
    return [c for c in candidates if c.column not in drop], (
        f"{text} look like replicate weights: if the documentation says so, describe them "
        "in [design] (replicate_weights = [...], method = ...) instead of strata and psu")


# -- strata, PSU, fpc --------------------------------------------------------
def _named(wave: WaveFile, name: re.Pattern, label: re.Pattern) -> list[tuple[str, bool]]:
    """``(column, by_name)`` of columns whose name (or label) fits, name matches first."""
    found = [(c, True) for c in wave.columns if name.search(c) and c in wave.data.columns]
    found += [(c, False) for c in wave.columns if not name.search(c) and c in wave.data.columns
              and label.search(wave.label_of(c))]
    return found


def _how(wave: WaveFile, column: str, by_name: bool, role: str) -> str:
    label = wave.label_of(column)
    if by_name:
        return f"name like {role}" + (f'; label "{label}"' if label else "")
    return f'label "{label}" like {role}'


def _strata(wave: WaveFile) -> Choice:
    rows, others = wave.rows, []
    for column, by_name in _named(wave, STRATA_NAME, STRATA_LABEL):
        values = wave.data[column]
        k = int(values.nunique())
        how = _how(wave, column, by_name, "strata")
        if values.isna().any():
            others.append(Candidate(column, f"{how}; {int(values.isna().sum())} rows without a "
                                    "value (read_wave refuses missing strata)", usable=False))
        elif k < 2 or k > rows / 2:
            others.append(Candidate(column, f"{how}; {k} distinct values in {rows} rows: not "
                                    "strata", usable=False))
        else:
            return Choice("strata", column, f"{how}; {k} distinct values", by_name,
                          tuple(others))
    return Choice("strata", None, "no column looks like strata", False, tuple(others))


def _psu(wave: WaveFile, strata: str | None) -> tuple[Choice, bool, str, str]:
    rows, others = wave.rows, []
    for column, by_name in _named(wave, PSU_NAME, PSU_LABEL):
        if column == strata:
            continue
        values = wave.data[column]
        m = int(values.nunique())
        how = _how(wave, column, by_name, "a PSU")
        if values.isna().any():
            others.append(Candidate(column, f"{how}; {int(values.isna().sum())} rows without a "
                                    "value (read_wave refuses missing PSUs)", usable=False))
            continue
        if m < 2 or m >= rows:
            others.append(Candidate(column, f"{how}; {m} distinct values in {rows} rows: "
                                    + ("an id, not a PSU" if m >= rows else "not PSUs"),
                                    usable=False))
            continue
        if strata is None:
            return (Choice("psu", column, f"{how}; {m} distinct values ({rows / m:.1f} "
                           "respondents each on average)", by_name, tuple(others)),
                    False, "", "")
        pairs = wave.data[[strata, column]].drop_duplicates()
        per_psu = pairs.groupby(column)[strata].nunique()
        per_stratum = pairs.groupby(strata)[column].nunique()
        lonely = per_stratum[per_stratum == 1]
        lonely_text = ""
        if len(lonely):
            shown = ", ".join(code_text(s) for s in sorted(lonely.index)[:5])
            lonely_text = (f"{len(lonely)} of {len(per_stratum)} strata hold one PSU ({strata} = "
                           f"{shown}{' ...' if len(lonely) > 5 else ''}): variances need "
                           'lonely_psu = "adjust" (or another option) under [design]')
        if (per_psu > 1).any():
            shared = per_psu[per_psu > 1]
            example = sorted(shared.index)[0]
            return (Choice("psu", column, f"{how}; {m} distinct ids in {len(per_stratum)} "
                           f"strata", by_name, tuple(others)), True,
                    f"PSU ids repeat across strata ({len(shared)} ids, e.g. {column} = "
                    f"{code_text(example)} in {int(shared[example])} strata), so the same id "
                    "in two strata is two PSUs",
                    lonely_text)
        return (Choice("psu", column, f"{how}; {column}: {m} distinct values, each within one "
                       f"{strata}", by_name, tuple(others)), False, "", lonely_text)
    return Choice("psu", None, "no column looks like PSUs", False, tuple(others)), False, "", ""


def _fpc(wave: WaveFile, strata: str | None, psu: str | None) -> Choice:
    others = []
    for column, by_name in _named(wave, FPC_NAME, FPC_LABEL):
        values = pd.to_numeric(wave.data[column], errors="coerce")
        how = _how(wave, column, by_name, "an fpc")
        if values.isna().any() or (values <= 0).any():
            others.append(Candidate(column, f"{how}; missing or non-positive values",
                                    usable=False))
            continue
        if strata is not None and wave.data.groupby(strata)[column].nunique().max() > 1:
            others.append(Candidate(column, f"{how}; varies within a stratum", usable=False))
            continue
        if (values <= 1).all():
            text = f"sampling fractions {values.min():.3g} to {values.max():.3g}"
        else:
            text = f"population sizes {values.min():,.0f} to {values.max():,.0f}"
            if strata is not None:
                sampled = (wave.data.groupby(strata)[psu].nunique() if psu
                           else wave.data.groupby(strata).size())
                fpc = wave.data.groupby(strata)[column].first()
                if (fpc < sampled).any():
                    others.append(Candidate(column, f"{how}; {text}, below the PSUs sampled in "
                                            "some strata", usable=False))
                    continue
        return Choice("fpc", column, f"{how}; {text}" + (", constant within each stratum"
                                                         if strata else ""),
                      by_name, tuple(others))
    return Choice("fpc", None, "no fpc column", False, tuple(others))
