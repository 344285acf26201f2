"""Hand-written TOML and JSON files: reading them and checking their fields.

This module owns the schema layer every hand-written file shares: the
tracker manifest (:mod:`surveytools.waves.manifest`), the indicator catalogue
and breakdowns (:mod:`surveytools.indicators.catalogue_file`), raking targets
(:mod:`surveytools.weighting.targets`) and the JSON codebook of a CSV wave
(:mod:`surveytools.loading.codebook`).  Each parser describes its file with a
:class:`Source` and asks it to read the document and check fields: unknown
keys (with a "did you mean" hint), required text, tables, choices, code
lists, file paths, dates and unique names.

Every fault is raised as the Source's error class (ManifestError unless told
otherwise) naming the file, the key (as the column; a codebook names its
variable instead), what was expected, what was found and how to fix it.

Examples
--------
>>> source = Source("waves.toml", what="manifest")
>>> source.text({"name": "Trust tracker"}, "name", where="[tracker]", required=True)
'Trust tracker'
>>> source.check_keys({"nmae": "x"}, {"name", "description"}, where="[tracker]")
Traceback (most recent call last):
...
surveytools.core.errors.ManifestError: waves.toml, column 'nmae': unknown key in [tracker]; expected one of description, name, found nmae. Fix: did you mean 'name'? Check the spelling
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import math
import tomllib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import FileFormatError, ManifestError, SurveyError

FORMATS = ("TOML", "JSON")


def existing_file(path, *, what: str, error: type[SurveyError] = FileFormatError,
                  expected: str | None = None, hint: str | None = None) -> Path:
    """``path`` as a Path when it is a file; otherwise ``error`` saying what is there.

    Examples
    --------
    >>> existing_file("nowhere.sav", what="data file")
    Traceback (most recent call last):
    ...
    surveytools.core.errors.FileFormatError: nowhere.sav: data file not found; expected a readable data file, found no such file. Fix: check the path (relative paths start in ...)
    """
    path = Path(path)
    if path.is_file():
        return path
    raise error(f"{what} not found", file=path, expected=expected or f"a readable {what}",
                found="a folder" if path.is_dir() else "no such file",
                hint=hint or f"check the path (relative paths start in {Path.cwd()})")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"did you mean 'x'?"`` for the names in ``known`` close to ``name``, else ``""``.

    >>> did_you_mean("trust_nhss", ["trust_nhs", "trust_police", "age"])
    "did you mean 'trust_nhs'?"
    """
    close = difflib.get_close_matches(str(name), sorted(map(str, known)), n=3)
    return ("did you mean " + " or ".join(repr(c) for c in close) + "?") if close else ""


def _one_of(options: Iterable) -> str:
    """``a, b or c`` (the options as written in the file)."""
    shown = [str(o) for o in options]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


class _RepeatedKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


class _NonFinite(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def _unique_pairs(pairs: list) -> dict:
    """A JSON object, refusing a key that appears twice (json keeps the last)."""
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _RepeatedKey(key)
        out[key] = value
    return out


def _no_constant(name: str):
    raise _NonFinite(name)


def _at(where: str | None, text: str) -> str:
    return f"{where}: {text}" if where else text


@dataclass(frozen=True)
class Source:
    """A hand-written file being checked, and how to report its faults.

    Parameters
    ----------
    file : path
        Named in every error.
    what : str
        What the file is, in words ("manifest", "targets file", "codebook").
    error : SurveyError subclass
        Raised for every fault (ManifestError by default).
    format : {"TOML", "JSON"}
    guide : str, optional
        Where the file's format is described, added to unknown-key hints.
    column : str, optional
        Named as the column of every error instead of the key (a codebook's
        checks of one variable name the variable); see :meth:`at`.
    """

    file: Path
    what: str = "file"
    error: type[SurveyError] = ManifestError
    format: str = "TOML"
    guide: str | None = None
    column: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "file", Path(self.file))
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {self.format!r}")

    def at(self, column: str) -> "Source":
        """A copy whose errors name ``column`` (the original is unchanged)."""
        return dataclasses.replace(self, column=column)

    def fault(self, message: str, *, key: str | None = None, expected: str | None = None,
              found: Any = None, hint: str | None = None) -> SurveyError:
        """The error (to raise) for a fault at ``key`` of this file."""
        return self.error(message, file=self.file,
                          column=self.column if self.column is not None else key,
                          expected=expected, found=found, hint=hint)

    # -- the document ------------------------------------------------------
    def read(self, *, hint: str | None = None) -> Any:
        """The parsed document: a missing file, text that is not UTF-8 and bad
        syntax are each an error naming the file (``hint`` for a missing one).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.toml"
        >>> _ = path.write_bytes(b'name = "caf\\xe9"\\n')
        >>> Source(path, what="manifest").read()
        Traceback (most recent call last):
        ...
        surveytools.core.errors.ManifestError: .../t.toml: the manifest is not UTF-8 text; expected a TOML file saved as UTF-8, found b'\\xe9' on line 1. Fix: save the manifest as UTF-8 (TOML files are always UTF-8)
        """
        path = existing_file(self.file, what=self.what, error=self.error,
                             expected=f"a {self.format} {self.what}", hint=hint)
        try:
            raw = path.read_bytes()
        except OSError as err:
            raise self.fault(f"cannot read the {self.what} ({err})", found=type(err).__name__,
                             hint="check the file's permissions") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw[:err.start].count(b"\n") + 1
            raise self.fault(
                f"the {self.what} is not UTF-8 text",
                expected=f"a {self.format} file saved as UTF-8",
                found=f"{raw[err.start:err.end]!r} on line {line}",
                hint=f"save the {self.what} as UTF-8 ({self.format} files are always UTF-8)",
            ) from None
        if self.format == "JSON":
            try:
                return json.loads(text, object_pairs_hook=_unique_pairs,
                                  parse_constant=_no_constant)
            except json.JSONDecodeError as err:
                raise self.fault(f"the {self.what} is not valid JSON", expected="a JSON object",
                                 found=str(err), hint="fix the JSON syntax at the position "
                                                      "given (a JSON validator helps)") from None
            except _RepeatedKey as err:
                raise self.fault(f"the {self.what} names the same key twice in one object",
                                 expected="each key once (JSON would keep only the last of "
                                 "the two, silently)", found=f'"{err.key}" twice',
                                 hint=f'remove or merge the repeated "{err.key}"') from None
            except _NonFinite as err:
                raise self.fault(f"the {self.what} holds {err.name}, which is not JSON",
                                 expected="finite numbers", found=err.name,
                                 hint="write a number, or null where the format allows it"
                                 ) from None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise self.fault(f"the {self.what} is not valid TOML", expected="valid TOML",
                             found=str(err), hint="fix the TOML syntax at the line given") from None

    # -- fields ------------------------------------------------------------
    def check_keys(self, table: Mapping, allowed: Collection[str], *, where: str,
                   expected: str | None = None, hint: str | None = None) -> None:
        """An error for the first keys of ``table`` not in ``allowed``, with the
        closest allowed key as a hint.

        >>> Source("b.toml").check_keys({"label": 1}, {"label"}, where="[[breakdown]] #1")
        """
        unknown = sorted(set(table) - set(allowed), key=str)
        if not unknown:
            return
        base = hint or "check the spelling" + (f" ({self.guide})" if self.guide else "")
        close = did_you_mean(unknown[0], allowed)
        raise self.fault(f"unknown key in {where}", key=str(unknown[0]),
                         expected=expected or "one of " + ", ".join(sorted(allowed)),
                         found=", ".join(map(str, unknown)),
                         hint=f"{close} {base[:1].upper()}{base[1:]}" if close else base)

    def table(self, parent: Mapping, key: str, *, where: str | None = None,
              required: bool = False, expected: str | None = None, found: Any = None,
              hint: str | None = None) -> dict:
        """``parent[key]`` as a table (``{}`` when absent and not ``required``).

        >>> Source("w.toml").table({"tracker": {"name": "x"}}, "tracker")
        {'name': 'x'}
        """
        value = parent.get(key)
        word = "table" if self.format == "TOML" else "JSON object"
        if value is not None and not isinstance(value, dict):
            raise self.fault(
                _at(where, f"{key} must be a {word}"), key=key,
                expected=expected or (f"[{key}] with key = value lines" if self.format == "TOML"
                                      else f'"{key}": {{...}}'),
                found=repr(value)[:60], hint=hint or f"write {key} as a {word}")
        if required and not value:
            raise self.fault(f"{where or 'the ' + self.what} has no {key}", key=key,
                             expected=expected or f"a {key} {word}",
                             found=found if found is not None else repr(value),
                             hint=hint or f"add the {key} {word}")
        return value or {}

    def text(self, table: Mapping, key: str, *, where: str | None = None,
             required: bool = False, expected: str | None = None,
             hint: str | None = None) -> str | None:
        """``table[key]`` as text: None when absent and not ``required``; a
        required text must not be empty (a JSON ``null`` is not text).

        >>> Source("i.toml").text({}, "topic") is None
        True
        """
        example = f'{key} = "..."' if self.format == "TOML" else f'"{key}": "..."'
        if key not in table:
            if required:
                raise self.fault(_at(where, f"{key} is missing"), key=key,
                                 expected=expected or example, found="nothing",
                                 hint=hint or f"add {example}")
            return None
        value = table[key]
        if not (isinstance(value, str) and (value or not required)):
            raise self.fault(_at(where, f"{key} must be text"), key=key,
                             expected=expected or example, found=repr(value),
                             hint=hint or "write the value as quoted text")
        return value

    def choice(self, table: Mapping, key: str, options: Collection, *, where: str | None = None,
               default: Any = None, noun: str | None = None, expected: str | None = None,
               hint: str | None = None) -> Any:
        """``table[key]`` (or ``default``), which must be one of ``options``.

        >>> Source("i.toml").choice({"kind": "share"}, "kind", ("share", "net", "mean"))
        'share'
        """
        value = table.get(key, default)
        if value not in options:
            raise self.fault(_at(where, f"unknown {noun or key}"), key=key,
                             expected=expected or _one_of(options), found=repr(value),
                             hint=hint or f"set {key} to {_one_of(options)}")
        return value

    def codes(self, table: Mapping, key: str, *, where: str | None = None) -> tuple:
        """``table[key]`` as a non-empty tuple of finite numeric codes, each once
        (TOML's ``nan`` and ``inf`` are not codes; neither are true and false).

        >>> Source("i.toml").codes({"codes": [7, 8, 9, 10]}, "codes")
        (7, 8, 9, 10)
        """
        value = table.get(key)
        if (not isinstance(value, list) or not value
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool)
                           and math.isfinite(c) for c in value)):
            raise self.fault(_at(where, f"{key} must be a non-empty list of numeric codes"),
                             key=key, expected=f"{key} = [4, 5]", found=repr(value),
                             hint="list the answer codes as finite numbers (no nan, inf, "
                                  "true or false)")
        if len(set(value)) != len(value):
            raise self.fault(_at(where, f"{key} lists a code twice"), key=key,
                             expected="each code once", found=repr(value),
                             hint="remove the repeat")
        return tuple(value)

    def path(self, table: Mapping, key: str, *, where: str | None = None,
             required: bool = False) -> Path | None:
        """``table[key]``: a file relative to this file's folder, which must exist."""
        value = table.get(key)
        if value is None and not required:
            return None
        folder = self.file.parent
        if not isinstance(value, str) or not value:
            raise self.fault(_at(where, f"{key} must be a file name"), key=key,
                             expected=f'{key} = "file name" (relative to {folder})',
                             found=repr(value), hint=f"name the {key} as quoted text")
        resolved = folder / value
        if not resolved.is_file():
            raise self.fault(_at(where, f"the {key} named in the {self.what} does not exist"),
                             key=key, expected=f"a file at {resolved}", found="no such file",
                             hint=f"file names are relative to the {self.what}'s folder {folder}")
        return resolved

    def date(self, table: Mapping, key: str, *, where: str | None = None) -> dt.date | None:
        """``table[key]`` as a TOML date (not a date-time, not text), or None when absent.

        >>> Source("w.toml").date({"fieldwork_start": dt.date(2024, 5, 13)}, "fieldwork_start")
        datetime.date(2024, 5, 13)
        """
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise self.fault(_at(where, f"{key} must be a date"), key=key,
                             expected=f"{key} = 2024-05-13 (a TOML date, without quotes)",
                             found=repr(value), hint="write the date without quotes or time")
        return value

    def unique(self, names: list, *, key: str, things: str, each: str,
               where: str | None = None) -> None:
        """An error when two of ``names`` (the ``key`` of each of ``things``) are equal.

        >>> Source("w.toml", what="manifest").unique(["2023", "2023"], key="label",
        ...                                          things="waves", each="wave")
        Traceback (most recent call last):
        ...
        surveytools.core.errors.ManifestError: w.toml, column 'label': two waves have the same label; expected a different label for every wave, found 2023 (numbers 1 and 2). Fix: change the label of one of them
        """
        first: dict = {}
        for position, name in enumerate(names, start=1):
            if name in first:
                raise self.fault(
                    _at(where, f"two {things} have the same {key}"), key=key,
                    expected=f"a different {key} for every {each}",
                    found=f"{name} (numbers {first[name]} and {position})",
                    hint=f"change the {key} of one of them")
            first[name] = position
