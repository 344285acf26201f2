"""What ``surveytools init`` found: the frozen :class:`Scaffold` and its :class:`WaveInfo`.

This module owns the result object only; :mod:`surveytools.scaffold.run`
builds it and :mod:`surveytools.scaffold.write` turns it into file texts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .batteries import Battery, IndicatorSpec
from .breaks import Break, Changed
from .demographics import BreakdownSpec, Unusable
from .detect import Choice, DesignFound
from .missing import MissingPlan
from .recodes import Recode, Split
from .renames import Rename

#: The files ``init`` writes, in the order written.
FILES = ("waves.toml", "indicators.toml", "breakdowns.toml", "README.md")


@dataclass(frozen=True)
class WaveInfo:
    """One input file as a wave of the manifest.

    ``design`` uses harmonised names (after ``renames`` and ``splits``); ``file``
    is the path as the manifest writes it (relative to the output folder).
    ``splits`` rename questions whose codes mean other things in this wave;
    ``recodes`` renumber codes whose labels match those of later waves.
    ``series_break`` says why the wave is not comparable with the previous one;
    ``changed`` lists questions worded differently from the previous wave.
    """

    label: str
    evidence: str
    path: Path
    file: str
    rows: int
    columns: int
    design: DesignFound
    renames: tuple[Rename, ...] = ()
    splits: tuple[Split, ...] = ()
    recodes: tuple[Recode, ...] = ()
    series_break: Break | None = None
    changed: tuple[Changed, ...] = ()


@dataclass(frozen=True)
class Scaffold:
    """Everything ``init`` found in the files and the text of each file it writes.

    Attributes
    ----------
    out_dir : Path
    waves : tuple of WaveInfo
        In time order (the latest last: its names are the harmonised names).
    order : str
        Why the waves are in that order.
    name : str
        The tracker's name (from the file names).
    missing : MissingPlan
    batteries : tuple of Battery
    indicators : tuple of IndicatorSpec
    breakdowns : tuple of BreakdownSpec
    unusable : tuple of Unusable
        Demographics that could not be breakdowns, and why.
    skipped : tuple of (variable, reason)
        Variables with no indicator, and why.
    files : mapping file name -> text
        ``waves.toml``, ``indicators.toml``, ``breakdowns.toml``, ``README.md``.
    written : tuple of Path
        The files written (empty on a dry run).
    dry_run : bool
    existing : tuple of str
        Files of :data:`FILES` already in ``out_dir`` (overwritten only with force).
    """

    out_dir: Path
    waves: tuple[WaveInfo, ...]
    order: str
    name: str
    missing: MissingPlan
    batteries: tuple[Battery, ...] = ()
    indicators: tuple[IndicatorSpec, ...] = ()
    breakdowns: tuple[BreakdownSpec, ...] = ()
    unusable: tuple[Unusable, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    written: tuple[Path, ...] = ()
    dry_run: bool = False
    existing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))

    def replace(self, **changes) -> "Scaffold":
        return dataclasses.replace(self, **changes)

    @property
    def latest(self) -> WaveInfo:
        return self.waves[-1]

    @property
    def design(self) -> DesignFound:
        """The design of the latest wave (harmonised names)."""
        return self.latest.design

    @property
    def weight(self) -> Choice:
        return self.design.weight

    @property
    def shared_design(self) -> bool:
        """One [design] table serves every wave."""
        return len({w.design.key() for w in self.waves}) == 1

    @property
    def renames(self) -> dict[str, dict[str, str]]:
        """Wave label -> {old name: harmonised name} (renames and splits)."""
        return {w.label: {r.old: r.new for r in (*w.renames, *w.splits)} for w in self.waves
                if w.renames or w.splits}
