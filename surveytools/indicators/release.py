"""Reproduce a published release from the raw wave files, value by value.

This module owns the release check: reading a release CSV, recomputing
every value of it and comparing them.

A release is a CSV of published weighted estimates (one row per wave x
question x breakdown x group x answer or indicator) computed elsewhere, for
the example tracker by R's ``survey`` package (``data/tracker/release/``).
:func:`reproduce_release` recomputes every row with surveytools from the
raw files, harmonised through the tracker's manifest, and returns a
comparison frame: R's value, ours, the absolute and relative difference and
whether they match at the tolerance (1e-8 relative by default).

Release columns: ``wave, variable, breakdown, group, answer, indicator,
codes, estimate, se, n``. ``breakdown`` is ``"total"`` (``group`` =
``"all"``) or a column of the waves; ``group`` and ``answer`` hold codes;
``indicator`` names an indicator row (``answer`` is then empty); ``codes``
lists the answer codes counted as "yes" (space separated); ``estimate`` is a
proportion among respondents with a substantive answer (user-missing codes
out of the base); ``n`` the unweighted base.

Examples
--------
>>> import surveytools as st
>>> from surveytools.indicators.release import reproduce_release, summarise_release
>>> tracker = st.read_waves("data/tracker/waves.toml")            # doctest: +SKIP
>>> comparison = reproduce_release(
...     tracker, "data/tracker/release/published_2021_2024.csv")  # doctest: +SKIP
>>> bool(comparison["match"].all())                               # doctest: +SKIP
True
>>> summarise_release(comparison)                                 # doctest: +SKIP
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from ..core.errors import DataError, FileFormatError, row_number
from ..core.meta import code_text

#: The columns that identify one published value.
KEYS = ("wave", "variable", "breakdown", "group", "answer", "indicator")
COLUMNS = (*KEYS, "codes", "estimate", "se", "n")
#: What is compared, row by row.
QUANTITIES = ("estimate", "se", "n")
TOTAL = "total"


def read_release(path: str | PathLike) -> pd.DataFrame:
    """Read a release CSV, checking its columns and values.

    Parameters
    ----------
    path : str or path-like
        A CSV with the columns of :data:`COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        Key columns and ``codes`` as text, ``estimate`` and ``se`` as float
        (full precision), ``n`` as int.

    Raises
    ------
    FileFormatError
        The file is missing or lacks a column.
    DataError
        A value that is not a number, or codes that are not integers; the
        error names the column and the 1-based row.

    Examples
    --------
    >>> release = read_release("data/tracker/release/published_2021_2024.csv")  # doctest: +SKIP
    >>> release.loc[0, ["wave", "variable", "breakdown", "group"]].tolist()   # doctest: +SKIP
    ['2021', 'trust_nhs', 'total', 'all']
    """
    path = Path(path)
    if not path.is_file():
        raise FileFormatError("release file not found", file=path, expected="a release CSV",
                              found="no such file",
                              hint="run Rscript data/tracker/release/make_release.R, or fix the path")
    text_columns = [*KEYS, "codes"]
    frame = pd.read_csv(path, dtype={c: str for c in text_columns}, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise FileFormatError("release file lacks columns", file=path, column=missing[0],
                              expected="columns " + ", ".join(COLUMNS),
                              found="columns " + ", ".join(map(str, frame.columns)),
                              hint="write the release with make_release.R")
    out = frame[list(COLUMNS)].copy()
    for column in ("estimate", "se", "n"):
        out[column] = _numbers(frame[column], path=path, column=column)
    if not np.array_equal(out["n"], out["n"].round()):
        _reject(path, "n", np.flatnonzero(out["n"] != out["n"].round())[0], frame["n"],
                "an unweighted count")
    out["n"] = out["n"].astype("int64")
    out.attrs["file"] = str(path)
    bad = ~out["codes"].str.fullmatch(r"-?\d+( -?\d+)*")
    if bad.any():
        _reject(path, "codes", np.flatnonzero(bad)[0], frame["codes"],
                "integer answer codes separated by spaces")
    return out


def recompute_release(tracker, release: pd.DataFrame) -> pd.DataFrame:
    """Our value of every release row, computed from the tracker's waves.

    Every row comes from one :meth:`Survey.distribution` per wave x
    question x breakdown (user-missing codes out of the base): an answer's
    share is read off it, an indicator's share is the sum of its answers'
    shares with the SE from the distribution's covariance.

    Parameters
    ----------
    tracker : Tracker
        The waves, harmonised through their manifest (:func:`surveytools.read_waves`).
    release : pandas.DataFrame
        As returned by :func:`read_release`.

    Returns
    -------
    pandas.DataFrame
        The release's key columns with ``estimate``, ``se`` and ``n``, in the
        release's row order.

    Examples
    --------
    >>> ours = recompute_release(tracker, read_release(path))   # doctest: +SKIP
    """
    on = ["wave", "variable", "breakdown", "group", "codes"]
    pieces = []
    for (wave, variable, breakdown), rows in release.groupby(
            ["wave", "variable", "breakdown"], sort=False):
        survey = _wave(tracker, wave, rows, release.attrs.get("file"))
        if variable not in survey.data.columns:
            raise DataError("the release names a question this wave does not have",
                            file=release.attrs.get("file"), column="variable",
                            row=row_number(rows.index[0]),
                            expected=f"a column of wave {wave}", found=variable,
                            hint="check the manifest's renames, or the release file")
        by = None if breakdown == TOTAL else breakdown
        distribution = survey.distribution(variable, by=by)
        ours = _shares(distribution, by, rows["codes"].unique())
        pieces.append(ours.assign(wave=wave, variable=variable, breakdown=breakdown))
    ours = pd.concat(pieces, ignore_index=True)
    values = release[[*KEYS, "codes"]].merge(ours, on=on, how="left", validate="many_to_one")
    return values.set_index(release.index)[[*KEYS, *QUANTITIES]]


def _shares(distribution, by: str | None, codes: list[str]) -> pd.DataFrame:
    """The share of each set of ``codes`` in every group, from a distribution.

    A share is the sum of its answers' shares, and its variance the sum of
    their covariances (the linearisation is linear in the answer shares): the
    same numbers as :meth:`Survey.proportion` with those codes, in one pass.
    An answer nobody in a group gave has share 0 and SE 0, as in R.
    """
    table = distribution.table
    groups = (pd.Series("all", index=table.index) if by is None
              else table[by].map(code_text))
    levels = table["level"].map(code_text).to_numpy()
    group_names = groups.unique()
    sets = [set(c.split()) for c in codes]
    rows = [(g, c) for g in group_names for c in codes]
    weights = np.array([(groups.to_numpy() == g) & np.isin(levels, list(s))
                        for g in group_names for s in sets], dtype=float)
    variance = np.einsum("ij,jk,ik->i", weights, distribution.covariance, weights)
    base = table.groupby(groups.to_numpy(), sort=False)["n"].first()
    return pd.DataFrame({
        "group": [g for g, _ in rows], "codes": [c for _, c in rows],
        "estimate": weights @ table["estimate"].to_numpy(float),
        "se": np.sqrt(np.maximum(variance, 0.0)),
        "n": base.loc[[g for g, _ in rows]].to_numpy(float),
    })


def reproduce_release(tracker, release_csv: str | PathLike, *, rtol: float = 1e-8,
                      atol: float = 1e-15) -> pd.DataFrame:
    """Recompute a published release and compare it with the stored values.

    Parameters
    ----------
    tracker : Tracker or str or path-like
        The tracker, or the path of its manifest (read with
        :func:`surveytools.read_waves`).
    release_csv : str or path-like
        The release (see :func:`read_release`).
    rtol, atol : float
        A value matches when ``|ours - published| <= atol + rtol * |published|``
        (``atol`` only matters for published zeros).

    Returns
    -------
    pandas.DataFrame
        One row per release row and quantity (``estimate``, ``se``, ``n``):
        the key columns, ``quantity``, ``published`` (the stored value),
        ``surveytools`` (ours), ``abs_diff``, ``rel_diff`` (relative to the
        published value; 0 where both are 0) and ``match`` (bool). A row
        surveytools could not compute has NaN and ``match`` False.

    Examples
    --------
    >>> comparison = reproduce_release("data/tracker/waves.toml",
    ...     "data/tracker/release/published_2021_2024.csv")   # doctest: +SKIP
    >>> comparison.groupby("quantity")["rel_diff"].max()      # doctest: +SKIP
    """
    if isinstance(tracker, (str, PathLike)):
        from ..waves.tracker import read_waves

        tracker = read_waves(tracker)
    release = read_release(release_csv)
    ours = recompute_release(tracker, release)
    frames = []
    for quantity in QUANTITIES:
        published = release[quantity].to_numpy(float)
        value = ours[quantity].to_numpy(float)
        diff = np.abs(value - published)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(diff == 0, 0.0, diff / np.abs(published))
        frame = release[list(KEYS)].assign(quantity=quantity, published=published,
                                           surveytools=value, abs_diff=diff, rel_diff=rel,
                                           match=diff <= atol + rtol * np.abs(published))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def summarise_release(comparison: pd.DataFrame) -> pd.DataFrame:
    """One line per quantity: values compared, how many match, largest differences.

    Examples
    --------
    >>> summarise_release(comparison)   # doctest: +SKIP
              values  matching  max_abs_diff  max_rel_diff
    quantity
    estimate    7854      7854  4.884981e-15  7.780179e-15
    se          7854      7854  8.326673e-17  9.142802e-15
    n           7854      7854  0.000000e+00  0.000000e+00
    """
    grouped = comparison.groupby("quantity", sort=False)
    return pd.DataFrame({
        "values": grouped.size(),
        "matching": grouped["match"].sum(),
        "max_abs_diff": grouped["abs_diff"].max(),
        "max_rel_diff": grouped["rel_diff"].max(),
    })


def _wave(tracker, wave: str, rows: pd.DataFrame, file):
    if wave not in tracker.names:
        raise DataError("the release names a wave the tracker does not have",
                        file=file, column="wave", row=row_number(rows.index[0]),
                        expected="one of " + ", ".join(tracker.names), found=wave,
                        hint="load the manifest the release was made from")
    return tracker[wave]


def _numbers(values: pd.Series, *, path: Path, column: str) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = np.flatnonzero(numbers.isna().to_numpy())
    if len(bad):
        _reject(path, column, bad[0], values, "a number")
    return numbers.astype(float)


def _reject(path: Path, column: str, position: int, values: pd.Series, expected: str) -> NoReturn:
    raise DataError("release value is not valid", file=path, column=column,
                    row=row_number(position), expected=expected,
                    found=repr(values.iloc[position]),
                    hint="regenerate the release with make_release.R")

