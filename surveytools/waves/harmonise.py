"""Put the waves of a tracker side by side: renames, recodes and checks.

A manifest maps each wave's names and codes onto the harmonised ones (those
of the latest wave).  This module applies the renames, then the recodes, and
then checks that every code means the same in every wave.  What it changed
and every difference it tolerated go into a tidy report (``variable, wave,
issue, detail``); a difference that would make a figure wrong is an error.

Rules
-----
* A rename or recode naming a column the wave lacks is a HarmonisationError.
* A recode must map every answer code in the data (user-missing codes that
  it leaves out stay as they are); after it, the column carries the value
  labels of the latest wave that asks the question unrecoded.
* A recode maps each old code once (``"1"`` and ``"01"`` are one code) onto a
  finite code, whole for a coded item, of the harmonised scale, and never an
  answer onto a user-missing code unless the manifest says so
  (``"1" = { code = 98, to_missing = true }``, which declares it missing).
* The same code labelled with a different meaning in two waves is a
  HarmonisationError; labels that differ only in case, spacing or
  punctuation are reported.
* Questions absent from a wave, differences of question wording,
  user-missing codes and measure levels are reported.

Examples
--------
>>> label_key("Don’t know"), label_key("don't  KNOW")
('dontknow', 'dontknow')
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import HarmonisationError, ManifestError, row_number
from ..core.meta import Metadata, MissingSpec, code_text, plain_code
from ..core.nonanswers import looks_like_non_answer

REPORT_COLUMNS = ("variable", "wave", "issue", "detail")


@dataclass(frozen=True)
class WaveData:
    """One wave between loading and harmonisation.

    ``rename`` maps names in the file to harmonised names; ``recode`` maps a
    harmonised column to ``{"old code": new code}`` as written in the manifest.
    """

    label: str
    file: Path
    frame: pd.DataFrame
    meta: Metadata
    rename: Mapping[str, str] = field(default_factory=dict)
    recode: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def label_key(text: str) -> str:
    """``text`` without case, spacing or punctuation: what a label *means* here."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def harmonise(waves: list[WaveData], *, manifest: Path) -> tuple[list[WaveData], pd.DataFrame]:
    """Apply every wave's renames and recodes, check the result, report.

    Parameters
    ----------
    waves : list of WaveData
        In time order.
    manifest : Path
        Named in errors and hints.

    Returns
    -------
    (waves, report)
        The harmonised waves (``rename``/``recode`` applied) and the report.
    """
    rows: list[tuple] = []
    waves = [_renamed(w, manifest, rows) for w in waves]
    scales = _reference_scales(waves)
    waves = [_recoded(w, manifest, scales, rows) for w in waves]
    _compare(waves, manifest, rows)
    return waves, pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


# -- renames ------------------------------------------------------------------
def _renamed(wave: WaveData, manifest: Path, rows: list) -> WaveData:
    columns = set(wave.frame.columns)
    for old, new in wave.rename.items():
        if old not in columns:
            raise _absent(wave, manifest, old, f"[waves.rename] of wave {wave.label}",
                          f'remove "{old}" from the rename table, or spell it as in the file')
        if new in columns and new not in wave.rename:
            raise HarmonisationError(
                f"the rename {old} -> {new} of wave {wave.label} would overwrite a column",
                file=manifest, column=new,
                expected=f"no column '{new}' in {wave.file.name} already",
                found=f"both '{old}' and '{new}' in {wave.file.name}",
                hint="rename the existing column too, or map the other one",
            )
        rows.append((new, wave.label, "renamed", f"called '{old}' in {wave.file.name}"))
    frame = wave.frame.rename(columns=dict(wave.rename))
    return replace(wave, frame=frame, meta=wave.meta.rename(wave.rename), rename={})


# -- recodes ------------------------------------------------------------------
def _reference_scales(waves: list[WaveData]) -> dict[str, tuple[str, dict, MissingSpec]]:
    """Column -> (wave label, value labels, user-missing codes) of the latest wave
    asking it unrecoded."""
    recoded = {c for w in waves for c in w.recode}
    scales = {}
    for wave in waves:  # later waves overwrite earlier ones
        for column in recoded & set(wave.frame.columns) - set(wave.recode):
            scales[column] = (wave.label, dict(wave.meta.value_labels.get(column, {})),
                              wave.meta.missing.get(column, MissingSpec()))
    return scales


def _recoded(wave: WaveData, manifest: Path, scales: dict, rows: list) -> WaveData:
    frame, meta = wave.frame, wave.meta
    value_labels = {k: dict(v) for k, v in meta.value_labels.items()}
    missing = dict(meta.missing)
    for column, table in wave.recode.items():
        if column not in frame.columns:
            raise _absent(wave, manifest, column, f"[waves.recode.{column}] of wave {wave.label}",
                          "recodes name the harmonised column (after renames): check the name")
        mapping, declared = _parse_recode(table, frame[column], wave, manifest, column,
                                          scale=scales.get(column))
        codes = frame[column]
        _check_covered(codes, mapping, meta, wave, manifest, column)
        hit = codes.isin(list(mapping)).to_numpy()
        frame = frame.assign(**{column: codes.map(mapping).where(hit, codes).astype(codes.dtype)})
        spec = meta.missing.get(column, MissingSpec())
        values = tuple(mapping.get(v, v) for v in spec.values)
        values += tuple(c for c in declared if c not in values)   # to_missing = true
        missing[column] = MissingSpec(values=values, ranges=spec.ranges)
        value_labels[column] = _recoded_labels(
            value_labels.get(column, {}), mapping, scales.get(column), wave, manifest, column)
        rows.append((column, wave.label, "recoded",
                     ", ".join(f"{code_text(a)}->{code_text(b)}" for a, b in mapping.items())
                     + ("; user-missing by to_missing: " + ", ".join(map(code_text, declared))
                        if declared else "")))
        source = scales.get(column)
        rows.append((column, wave.label, "value labels harmonised",
                     f"value labels of wave {source[0]}" if source
                     else "the file's value labels, carried through the recode"))
    meta = meta.replace(value_labels=value_labels, missing=missing)
    return replace(wave, frame=frame, meta=meta, recode={})


def _parse_recode(table, codes: pd.Series, wave: WaveData, manifest: Path, column: str,
                  scale=None) -> tuple[dict, list]:
    """``{"old": new}`` as codes of the column's type, checked against the wave.

    Every old code appears once (``"1"`` and ``"01"`` are one code); every new
    code is finite, whole when the item is coded (it has value labels), a
    code of the harmonised scale when there is one (labelled, or between its
    labelled answers), and never a
    user-missing code (of this wave or of the harmonised scale, or a code
    labelled like "Don't know") unless the old code is a non-answer too
    (declared, or labelled like one: ``"9" = 98`` for two "Don't know"s) or
    the manifest says so: ``"1" = { code = 98, to_missing = true }`` (which
    also declares the new code user-missing in this wave).

    Returns
    -------
    (mapping, codes declared missing by ``to_missing``)
    """
    numeric = pd.api.types.is_numeric_dtype(codes)
    key = f"waves.recode.{column} of wave {wave.label}"
    spec = wave.meta.missing.get(column, MissingSpec())
    labels = {**wave.meta.value_labels.get(column, {}), **(scale[1] if scale else {})}
    coded = bool(labels)
    mapping, spelt, declared = {}, {}, []

    def fault(message: str, found: str, hint: str, expected: str | None = None):
        return ManifestError(
            f"[{key}] {message}", file=manifest, column=column, found=found, hint=hint,
            expected=expected or ('"old code" = new code, both numbers' if numeric
                                  else '"old text" = "new text"'))

    for old, new in table.items():
        line = f"{old!r} = {new!r}"
        to_missing = False
        if isinstance(new, Mapping) and "code" in new:
            to_missing, new = bool(new.get("to_missing", False)), new["code"]
        if numeric:
            try:
                old_code = float(old)
            except ValueError:
                old_code = math.nan
            good_new = (isinstance(new, (int, float)) and not isinstance(new, bool)
                        and math.isfinite(new))
            if not math.isfinite(old_code):
                old_code = None
            else:
                old_code = plain_code(old_code)
        else:
            old_code, good_new = old, isinstance(new, str)
        if old_code is None or not good_new:
            raise fault("maps a code that is not of the column's type", line,
                        f"{column} is {'numeric' if numeric else 'text'} in {wave.file.name}; "
                        "codes are finite numbers (no nan, inf, true or false)")
        if old_code in mapping:
            raise fault("maps one code twice", f'"{spelt[old_code]}" and "{old}" are both code '
                        f"{code_text(old_code)}", "keep one line per old code",
                        expected="each old code once")
        new_code = plain_code(new)
        if numeric and coded and not float(new).is_integer():
            raise fault("maps onto a code that is not a whole number", line,
                        f"{column} is a coded item (it has value labels): its codes are whole "
                        "numbers", expected="a whole-number code")
        if numeric and not to_missing and _is_missing(new_code, spec, scale, labels) \
                and not _is_missing(old_code, spec, None,
                                    wave.meta.value_labels.get(column, {})):
            raise fault(
                "maps an answer onto a user-missing code", line,
                f"code {code_text(new_code)} is a non-answer (user-missing or labelled like "
                f"one), so the answers recoded to it would leave every base; if that is meant, "
                f'write "{old}" = {{ code = {code_text(new_code)}, to_missing = true }}',
                expected="an answer code of the harmonised scale")
        if numeric and not to_missing and not _on_scale(new_code, scale):
            raise fault(
                f"maps onto a code the harmonised scale (wave {scale[0]}) does not have", line,
                f"recode onto one of the codes wave {scale[0]} labels: "
                + ", ".join(f"{code_text(c)} {v!r}" for c, v in list(scale[1].items())[:8]),
                expected="a labelled code of the harmonised scale, or one between its "
                         "lowest and highest labelled answers")
        mapping[old_code], spelt[old_code] = new_code, old
        if to_missing and new_code not in declared:
            declared.append(new_code)
    return mapping, declared


def _on_scale(code, scale) -> bool:
    """True when the harmonised scale (if any, with labels) has ``code``: labelled,
    or between its lowest and highest labelled answers (a 0-10 item labelled at
    its ends has every code between)."""
    if scale is None or not scale[1]:
        return True
    _, labels, missing = scale
    if code in labels or code in missing:
        return True
    answers = [c for c, label in labels.items() if isinstance(c, (int, float))
               and c not in missing and not looks_like_non_answer(label)]
    return bool(answers) and min(answers) <= code <= max(answers)


def _is_missing(code, spec: MissingSpec, scale, labels: Mapping) -> bool:
    """True when ``code`` is user-missing here or in the harmonised scale, or is
    labelled like a non-answer."""
    if code in spec or (scale is not None and code in scale[2]):
        return True
    label = labels.get(code)
    return bool(label) and looks_like_non_answer(label)


def _check_covered(codes: pd.Series, mapping: dict, meta: Metadata, wave: WaveData,
                   manifest: Path, column: str) -> None:
    answered = codes.notna().to_numpy() & ~meta.missing_mask(column, codes)
    unmapped = np.flatnonzero(answered & ~codes.isin(list(mapping)).to_numpy())
    if len(unmapped):
        value = plain_code(codes.iloc[unmapped[0]])
        raise HarmonisationError(
            f"the recode of wave {wave.label} does not map every answer code",
            file=wave.file, column=column, row=row_number(unmapped[0]),
            expected="one of the codes the recode maps: "
            + ", ".join(code_text(c) for c in mapping),
            found=code_text(value),
            hint=f'add "{code_text(value)}" = <harmonised code> to [waves.recode.{column}] of '
            f"wave {wave.label} in {manifest}, or declare the code user-missing",
        )


def _recoded_labels(old: dict, mapping: dict, source, wave: WaveData, manifest: Path,
                    column: str) -> dict:
    if source is None:
        return {mapping.get(code, code): label for code, label in old.items()}
    labels = dict(source[1])
    for code, label in old.items():
        if code in mapping:
            continue
        if code in labels and label_key(labels[code]) != label_key(label):
            raise _conflict(column, code, (label, wave.label, wave.file),
                            (labels[code], source[0], "the harmonised scale"), manifest)
        labels.setdefault(code, label)
    return labels


# -- checks -------------------------------------------------------------------
def _compare(waves: list[WaveData], manifest: Path, rows: list) -> None:
    columns = list(dict.fromkeys(c for w in reversed(waves) for c in w.frame.columns))
    for column in columns:
        present = [w for w in waves if column in w.frame.columns]
        for wave in waves:
            if column not in wave.frame.columns:
                rows.append((column, wave.label, "absent", f"not in {wave.file.name}"))
        latest = present[-1]
        seen: dict = {}
        for wave in reversed(present):
            _compare_labels(wave, column, seen, manifest, rows)
            if wave is not latest:
                _compare_variable(wave, latest, column, rows)


def _compare_labels(wave: WaveData, column: str, seen: dict, manifest: Path, rows: list) -> None:
    for code, label in wave.meta.value_labels.get(column, {}).items():
        if code not in seen:
            seen[code] = (label, wave.label, wave.file)
            continue
        other = seen[code]
        if label == other[0]:
            continue
        if label_key(label) != label_key(other[0]):
            raise _conflict(column, code, (label, wave.label, wave.file), other, manifest)
        rows.append((column, wave.label, "value label wording",
                     f"code {code_text(code)}: {label!r} here, {other[0]!r} in {other[1]}"))


def _compare_variable(wave: WaveData, latest: WaveData, column: str, rows: list) -> None:
    kind, latest_kind = _kind(wave.frame[column]), _kind(latest.frame[column])
    if kind != latest_kind:
        raise HarmonisationError(
            f"'{column}' holds {kind} values in wave {wave.label} but {latest_kind} values in "
            f"wave {latest.label}", file=wave.file, column=column,
            expected=f"{latest_kind} values, as in {latest.file}", found=f"{kind} values",
            hint="fix the column's type in one of the files (or its codebook)",
        )
    for issue, mine, theirs in (
        ("question wording", wave.meta.variable_labels.get(column),
         latest.meta.variable_labels.get(column)),
        ("user-missing", _missing_text(wave.meta.missing.get(column)),
         _missing_text(latest.meta.missing.get(column))),
        ("measure", wave.meta.measure.get(column, "unknown"),
         latest.meta.measure.get(column, "unknown")),
    ):
        if mine != theirs:
            rows.append((column, wave.label, issue, f"{mine!r} here, {theirs!r} in {latest.label}"))
    mine, theirs = (set(w.meta.value_labels.get(column, {})) for w in (wave, latest))
    if mine != theirs:
        parts = [f"{text} {', '.join(code_text(c) for c in sorted(codes, key=str))}"
                 for text, codes in (("labelled only here:", mine - theirs),
                                     (f"labelled only in {latest.label}:", theirs - mine))
                 if codes]
        rows.append((column, wave.label, "labelled codes", "; ".join(parts)))


def _kind(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    return "text"


def _missing_text(spec: MissingSpec | None) -> str:
    if not spec:
        return "none"
    parts = [code_text(v) for v in spec.values]
    parts += [f"{code_text(lo)} thru {code_text(hi)}" for lo, hi in spec.ranges]
    return ", ".join(parts)


def _absent(wave: WaveData, manifest: Path, column: str, where: str, hint: str):
    shown = ", ".join(map(str, list(wave.frame.columns)[:15]))
    return HarmonisationError(
        f"{where} names a column that {wave.file.name} does not have", file=manifest,
        column=column, expected=f"a column of {wave.file}",
        found=f"columns {shown}" + (" ..." if wave.frame.shape[1] > 15 else ""), hint=hint,
    )


def _conflict(column: str, code, mine: tuple, other: tuple, manifest: Path):
    label, wave, file = mine
    other_label, other_wave, other_file = other
    return HarmonisationError(
        f"code {code_text(code)} of '{column}' means different things in two waves",
        file=file, column=column,
        expected=f"the meaning it has in wave {other_wave} ({other_file}): {other_label!r}",
        found=f"{label!r} in wave {wave} ({file})",
        hint=f"if wave {wave} numbers its answers differently, add [waves.recode.{column}] "
        f"for wave {wave} to {manifest} mapping its codes onto those of wave {other_wave}",
    )
