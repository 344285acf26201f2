"""One wave's cells: every group of every breakdown, estimated and compared at once.

This module owns the "stacked cells" device behind the cube's speed:
:func:`stacked_cells` repeats each respondent once per breakdown, so that one
estimate ``by=CELL`` (:func:`estimate`) gives the total and every group of
every breakdown with their exact domain SEs and the covariance between the
groups of a breakdown; :func:`pair_tests` turns that covariance into the
design-based tests of every pair of groups, adjusted and read into letters
by :mod:`surveytools.indicators.significance`.

A cell code is ``breakdown position * CELL_STEP + group position`` (1-based
group positions; the total is breakdown 0, see :data:`TOTAL`).

The base of an indicator: ``dont_know = "exclude"`` leaves every user-missing
code out; ``dont_know = "include"`` puts the don't-know kind of non-answer
into the base, counted as not-yes (share = w(yes) / w(answers + don't knows),
as R's ``svymean(~yes, subset(design, answered | dont_know))``), and leaves
the other kinds out.  Which kind a code is, is owned by
:func:`surveytools.core.nonanswers.dont_know_kind`:

* in the base: codes labelled like Don't know, Can't choose, Can't say, Not
  sure, No opinion, Don't remember
  (:data:`surveytools.core.nonanswers.DONT_KNOW_PATTERNS`);
* out of the base: refusals and Prefer not to say (the respondent declined:
  a refusal is not a "not yes"), skips, Not asked, Not applicable, No
  answer, system missing
  (:data:`surveytools.core.nonanswers.OUT_OF_BASE_PATTERNS`), and every
  negative code not labelled as a don't know (routing and system codes);
* a code labelled as both ("Don't know / Refused") cannot be split: it is a
  don't know.

A user-missing code of no known kind (unlabelled 97, "Other") is a DataError
whose fix gives the manifest lines that say what it is.

Examples
--------
>>> codes = cell_codes((TOTAL,))
>>> [(bd.name, group.code) for bd, group in codes.values()], list(codes)
([('total', 'all')], [1])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.errors import DataError, row_number
from ..core.meta import code_text, plain_code
from ..core.nonanswers import dont_know_kind
from .catalogue import Breakdown, Group, Indicator, IndicatorCatalogue
from .significance import ALPHA, letters_from_pairs

#: The whole sample, as a breakdown of one group.
TOTAL = Breakdown(name="total", variable="", label="Total",
                  groups=(Group(code="all", label="All adults", codes=()),))
CELL = "_cell"
CELL_STEP = 1000


def asked(survey, question: str) -> bool:
    """Whether ``question`` is in this wave (a column with at least one answer)."""
    return question in survey.data.columns and bool(survey.data[question].notna().any())


def cell_codes(breakdowns) -> dict:
    """Cell code -> (breakdown, group) for the total and every group of ``breakdowns``."""
    return {position * CELL_STEP + g: (bd, group)
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
    group of a breakdown, or whose code is user-missing in this wave (e.g.
    "Prefer not to say"), are left out.

    Returns
    -------
    Survey
        The design columns and the catalogue's questions, with a ``CELL``
        column (see :func:`cell_codes`) and, for each net indicator, its score
        column (:func:`net_scores`).
    """
    data = survey.data
    design = survey.design
    questions = [q for q in catalogue.questions if q in data.columns]
    asked_here = [i for i in catalogue if i.question in data.columns]
    extra = {net_column(i): net_scores(survey, i) for i in asked_here if i.kind == "net"}
    extra |= {base_column(i): dont_know_base(survey, i) for i in asked_here
              if i.kind == "share" and i.dont_know == "include"}
    if not design.is_replicate and design.psu is None:
        extra["_respondent"] = np.arange(len(data))
        design = design.replace(psu="_respondent")
    rows, codes = [], []
    for position, bd in enumerate(breakdowns):
        if bd is TOTAL:
            code = np.full(len(data), float(position * CELL_STEP + 1))
        elif bd.variable not in data.columns:
            continue  # not asked in this wave: the breakdown has no rows here
        else:
            values = data[bd.variable]
            group = np.where(survey.meta.missing_mask(bd.variable, values), np.nan,
                             values.map(bd.mapping()).to_numpy(dtype=float, na_value=np.nan))
            code = position * CELL_STEP + group
        keep = np.flatnonzero(~np.isnan(code))
        rows.append(keep)
        codes.append(code[keep])
    # only the columns estimates need, gathered in one step (no fragmented frames)
    needed = list(dict.fromkeys([*survey.design.columns, *questions]))
    table = pd.concat([data[needed], pd.DataFrame(extra, index=data.index)], axis=1)
    rows = np.concatenate(rows) if rows else np.zeros(0, dtype=int)
    stacked = table.iloc[rows].reset_index(drop=True)
    stacked[CELL] = np.concatenate(codes) if codes else np.zeros(0)
    return survey.replace(data=stacked, design=design)


def net_column(indicator: Indicator) -> str:
    return f"_net_{indicator.name}"


def base_column(indicator: Indicator) -> str:
    return f"_base_{indicator.name}"


def net_scores(survey, indicator: Indicator) -> np.ndarray:
    """+1 for a ``plus`` answer, -1 for a ``minus`` answer, 0 for any other answer
    in the base, NaN outside it: their weighted mean is the net score.

    The base: answers, and with ``dont_know = "include"`` the don't knows
    (:func:`dont_know_base`)."""
    values = survey.data[indicator.question]
    scores = np.where(values.isin(indicator.codes), 1.0,
                      np.where(values.isin(indicator.minus), -1.0, 0.0))
    if indicator.dont_know == "include":
        out_of_base = ~dont_know_base(survey, indicator)
    else:
        out_of_base = values.isna().to_numpy() | survey.meta.missing_mask(indicator.question,
                                                                          values)
    return np.where(out_of_base, np.nan, scores)


def dont_know_base(survey, indicator: Indicator) -> np.ndarray:
    """Rows in the base of ``indicator`` with ``dont_know = "include"``: every
    answer (not user-missing) and every user-missing code of the don't-know
    kind (:func:`surveytools.core.nonanswers.dont_know_kind`).

    Raises
    ------
    DataError
        A user-missing code present in the data whose kind is unknown: naming
        the file, the question, its first row, and the manifest lines that
        say what it is.
    """
    question = indicator.question
    values = survey.data[question]
    answered = values.notna().to_numpy()
    missing = survey.meta.missing_mask(question, values)
    if not missing.any():
        return answered
    labels = {plain_code(k): v for k, v in survey.meta.value_labels.get(question, {}).items()}
    codes = [plain_code(c) for c in pd.unique(values[missing])]
    kinds = {code: dont_know_kind(code, labels.get(code)) for code in codes}
    unknown = [code for code in codes if kinds[code] is None]
    if unknown:
        raise _unknown_kind(survey, indicator, unknown, values, labels)
    in_base = [code for code in codes if kinds[code] == "dont_know"]
    return answered & (~missing | values.isin(in_base).to_numpy())


def _unknown_kind(survey, indicator: Indicator, unknown: list, values: pd.Series,
                  labels: dict) -> DataError:
    """The DataError for user-missing codes of no known kind: the file, the
    question, the first row of the first code, and the manifest lines that say
    what that code is (:func:`_fixes`)."""
    question, code, meta = indicator.question, unknown[0], survey.meta
    return DataError(
        f"indicator {indicator.name!r} has dont_know = \"include\", and a user-missing code "
        "of its question is neither a don't know (in the base) nor a skip or refusal (out "
        "of it)", file=meta.file, column=question,
        row=row_number(int(np.flatnonzero((values == code).to_numpy())[0])),
        expected="user-missing codes labelled like \"Don't know\" or \"Can't choose\" (in "
                 "the base), or like \"Refused\", \"Not asked\", \"Not applicable\", or "
                 "negative codes (out)",
        found=_found(unknown, values, labels),
        hint=f"say in the manifest what code {code_text(code)} of {question} is, by one of "
             "these (then read the tracker again):\n"
             + "\n".join(_fixes(indicator, code, values, labels, meta.wave)))


def _found(unknown: list, values: pd.Series, labels: dict) -> str:
    """The codes of unknown kind, their labels and counts, in words.

    >>> _found([97], pd.Series([1, 97, 97]), {1: "Yes"})
    'code 97 with no label (2 respondents)'
    """
    counts = values.value_counts()
    return "; ".join(f"code {code_text(c)} "
                     + (f'labelled "{labels[c]}"' if labels.get(c) else "with no label")
                     + f" ({int(counts.get(c, 0))} respondents)" for c in unknown)


def _fixes(indicator: Indicator, code, values: pd.Series, labels: dict, wave) -> list[str]:
    """The ways to say what ``code`` is, each a line of words and the manifest
    lines: recoded onto a labelled don't know (when there is one) or onto a
    free negative code, counted as an answer, or the indicator's base without
    any user-missing code.

    >>> agree = Indicator(name="agree", question="q1", kind="share", codes=(1,),
    ...                   dont_know="include")
    >>> fixes = _fixes(agree, 97, pd.Series([1, 9, 97]), {9: "Don't know"}, "2024")
    >>> for fix in fixes:
    ...     print(fix.split(" (")[0].split(":")[0])
    - a kind of Don't know
    - not asked, not applicable or refused
    - an answer
    - or keep every user-missing code out of this base
    """
    question = indicator.question
    present = sorted({plain_code(v) for v in pd.unique(values.dropna())}, key=_code_order)
    where = f'wave "{wave}"' if wave else "the wave"
    again = f" (only the last line where it recodes {question} already)"
    options = []
    dont_know = _labelled_dont_know(labels)
    if dont_know is not None:
        options.append(f'- a kind of Don\'t know (as {code_text(dont_know)} "{labels[dont_know]}"'
                       f"), in the [[waves]] table of {where}{again}:\n"
                       + _recode(question, code, dont_know, present))
    out = _free_negative(set(present) | set(labels))
    options.append("- not asked, not applicable or refused (out of every base: an unlabelled "
                   f"negative code), in the [[waves]] table of {where}{again}:\n"
                   + _recode(question, code, out, present))
    options.append(f"- an answer (in every base of {question}; not in [missing.variables]):\n"
                   f"[missing.count_as_answer]\n{question} = [{_toml(code)}]")
    options.append('- or keep every user-missing code out of this base: dont_know = "exclude" '
                   f'in the [[indicator]] named "{indicator.name}"')
    return options


def _labelled_dont_know(labels: dict):
    """The first code labelled as a don't know (None if there is none).

    >>> _labelled_dont_know({8: "Refused", 9: "Don't know"})
    9
    """
    return next((c for c, text in sorted(labels.items(), key=lambda i: str(i[0]))
                 if dont_know_kind(c, text) == "dont_know"), None)


def _free_negative(taken: set) -> int:
    """A negative code the question does not use (taken: its codes and labels).

    >>> _free_negative({-1, -2, 1, 2})
    -3
    """
    return next(c for c in (-1, -2, -3, -7, -8, -9, -97, -98, -99, -997, -998, -999, -9999)
                if c not in taken)


def _recode(question: str, code, target, present: list) -> str:
    """The wave's recode of ``question`` that moves ``code`` onto ``target`` (user-missing);
    a recode maps every code of the wave, so the others map onto themselves.

    >>> print(_recode("q1", 97, 9, [1, 9, 97]))
    [waves.recode.q1]
    "1" = 1
    "9" = 9
    "97" = { code = 9, to_missing = true }
    """
    same = "".join(f'"{code_text(c)}" = {_toml(c)}\n' for c in present if c != code)
    return (f"[waves.recode.{question}]\n{same}"
            f'"{code_text(code)}" = {{ code = {_toml(target)}, to_missing = true }}')


def _code_order(code):
    return (0, code, "") if isinstance(code, (int, float)) else (1, 0, str(code))


def _toml(code) -> str:
    """A code as a TOML value: a number as it is, text in quotes."""
    return code_text(code) if isinstance(code, (int, float)) else f'"{code}"'


def estimate(survey, indicator: Indicator, by: str | None = CELL, *, ci: str = "logit",
             conf_level: float = 0.95):
    """The :class:`Estimate` of one indicator ``by`` a column (default: the cells
    of :func:`stacked_cells`); net indicators need their score column.

    A share with ``dont_know = "include"`` counts the don't knows as not-yes
    and leaves the other user-missing codes out (:func:`dont_know_base`; the
    cells of :func:`stacked_cells` carry it in a column).
    """
    if indicator.kind == "share":
        if indicator.dont_know != "include":
            return survey.proportion(indicator.question, value=list(indicator.codes), by=by,
                                     ci=ci, conf_level=conf_level, user_missing="exclude")
        data = survey.data
        column = base_column(indicator)
        base = (data[column].to_numpy(dtype=bool) if column in data.columns
                else dont_know_base(survey, indicator))
        return survey.proportion(indicator.question, value=list(indicator.codes), by=by,
                                 where=base, ci=ci, conf_level=conf_level,
                                 user_missing="include")
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
        ``a, b`` (cell codes), ``breakdown`` (its position), ``difference``
        (a minus b), ``se, df, p_value``, and from
        :func:`surveytools.indicators.significance.letters_from_pairs`
        ``p_adjusted, significant, higher`` (the cell significantly higher,
        or None).
    """
    codes = est.table[CELL].to_numpy(dtype=float).astype(int)
    hidden = est.suppressed if hidden is None else np.asarray(hidden, bool)
    breakdown = codes // CELL_STEP
    pairs = [(i, j) for i in range(len(codes)) for j in range(i + 1, len(codes))
             if breakdown[i] == breakdown[j] and breakdown[i] > 0]
    first, second = np.array(pairs, dtype=int).reshape(-1, 2).T
    tested = ~(hidden[first] | hidden[second])  # a hidden group's pairs: no test at all
    matrix = np.zeros((int(tested.sum()), len(codes)))
    matrix[np.arange(len(matrix)), first[tested]] = 1.0
    matrix[np.arange(len(matrix)), second[tested]] = -1.0
    results = {c: np.full(len(pairs), np.nan) for c in ("estimate", "se", "df", "p_value")}
    if len(matrix):
        contrasts = est.contrast(matrix)
        for column, values in results.items():
            values[tested] = contrasts[column].to_numpy(dtype=float)
    return letters_from_pairs(pd.DataFrame({
        "a": codes[first], "b": codes[second], "breakdown": breakdown[first],
        "difference": results["estimate"], "se": results["se"], "df": results["df"],
        "p_value": results["p_value"]}), alpha=alpha, correction=correction,
        family="breakdown")
