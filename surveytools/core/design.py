"""Survey designs: which columns hold the weight, strata, PSUs and fpc.

A design holds column *names* only, never data, and is frozen: ``replace``
returns a changed copy.  Pair it with a DataFrame in :class:`~surveytools.Survey`.

Examples
--------
>>> import surveytools as st
>>> d = st.Design(weight="wt", strata="stratum", psu="psu")
>>> d.columns
('wt', 'stratum', 'psu')
>>> d.replace(lonely_psu="adjust").lonely_psu
'adjust'
>>> d.lonely_psu
'fail'
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from .errors import DesignError

LonelyPSU = Literal["fail", "adjust", "average", "certainty", "remove"]
LONELY_PSU_OPTIONS: tuple[str, ...] = ("fail", "adjust", "average", "certainty", "remove")

ReplicateMethod = Literal["JK1", "JKn", "BRR", "Fay", "bootstrap"]
REPLICATE_METHODS: tuple[str, ...] = ("JK1", "JKn", "BRR", "Fay", "bootstrap")


class _Frozen:
    """Shared behaviour of the frozen design dataclasses."""

    def replace(self, **changes):
        """A copy with ``changes`` applied; the original is unchanged."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Design(_Frozen):
    """A Taylor-linearisation design (R's ``svydesign``).

    Parameters
    ----------
    weight : str
        Column of sampling (or final) weights.
    strata : str, optional
        Column of first-stage strata. PSUs are nested in strata.
    psu : str, optional
        Column of primary sampling units. Without it every row is its own PSU.
    fpc : str, optional
        Column of the first-stage finite population correction, constant
        within a stratum: the population number of PSUs (a value > 1) or the
        sampling fraction (every value <= 1), as R's ``svydesign(fpc=)``.
    lonely_psu : {"fail", "adjust", "average", "certainty", "remove"}
        What to do with a stratum that has a single PSU, as R's
        ``options(survey.lonely.psu=)``.
    nest : bool
        PSU ids are unique only within a stratum, so the same id in two
        strata is two PSUs (R's ``svydesign(nest=TRUE)``). Without it a PSU
        id found in two strata is an error, as in R.

    Examples
    --------
    >>> Design(weight="wt")
    Design(weight='wt', strata=None, psu=None, fpc=None, lonely_psu='fail', nest=False)
    """

    weight: str
    strata: str | None = dataclasses.field(default=None, kw_only=True)
    psu: str | None = dataclasses.field(default=None, kw_only=True)
    fpc: str | None = dataclasses.field(default=None, kw_only=True)
    lonely_psu: LonelyPSU = dataclasses.field(default="fail", kw_only=True)
    nest: bool = dataclasses.field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        _check_name("weight", self.weight, required=True)
        for field in ("strata", "psu", "fpc"):
            _check_name(field, getattr(self, field), required=False)
        if not isinstance(self.nest, bool):
            raise DesignError("nest must be True or False", expected="a boolean",
                              found=repr(self.nest), hint="pass nest=True or nest=False to Design")
        if self.lonely_psu not in LONELY_PSU_OPTIONS:
            raise DesignError(
                "unknown lonely_psu option",
                expected="one of " + ", ".join(LONELY_PSU_OPTIONS),
                found=repr(self.lonely_psu),
                hint="pass lonely_psu='adjust' (or another listed option) to Design",
            )

    @property
    def columns(self) -> tuple[str, ...]:
        """The data columns this design reads, in a fixed order."""
        return tuple(c for c in (self.weight, self.strata, self.psu, self.fpc) if c)

    @property
    def is_replicate(self) -> bool:
        return False


@dataclass(frozen=True)
class ReplicateDesign(_Frozen):
    """A replicate-weight design (R's ``svrepdesign``, ``combined.weights=TRUE``).

    Parameters
    ----------
    weight : str
        Column of full-sample weights.
    replicate_weights : sequence of str
        Columns of full replicate weights.
    method : {"JK1", "JKn", "BRR", "Fay", "bootstrap"}
        Replication method; fixes the default ``scale`` and ``rscales``.
    rho : float, optional
        Fay's coefficient (``method="Fay"`` only, 0 <= rho < 1).
    scale, rscales : optional
        Override the method's overall and per-replicate multipliers.
        ``JKn`` needs ``rscales`` (``(n_h - 1) / n_h`` for the stratum each
        replicate drops a PSU from).
    mse : bool
        Centre replicates on the full-sample estimate instead of their mean.

    Examples
    --------
    >>> rep = ReplicateDesign(weight="wt", replicate_weights=["r1", "r2"], method="JK1")
    >>> rep.scale_factors()
    (0.5, (1.0, 1.0))
    """

    weight: str
    replicate_weights: tuple[str, ...] = dataclasses.field(kw_only=True)
    method: ReplicateMethod = dataclasses.field(default="JK1", kw_only=True)
    rho: float | None = dataclasses.field(default=None, kw_only=True)
    scale: float | None = dataclasses.field(default=None, kw_only=True)
    rscales: tuple[float, ...] | None = dataclasses.field(default=None, kw_only=True)
    mse: bool = dataclasses.field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        _check_name("weight", self.weight, required=True)
        reps = self.replicate_weights
        if isinstance(reps, str) or reps is None:
            raise DesignError(
                "replicate_weights must be a list of column names",
                found=repr(reps),
                hint='pass replicate_weights=["rw1", "rw2", ...]',
            )
        object.__setattr__(self, "replicate_weights", tuple(reps))
        if len(self.replicate_weights) < 2:
            raise DesignError(
                "a replicate design needs at least two replicate weight columns",
                found=f"{len(self.replicate_weights)}",
                hint="list every replicate weight column in replicate_weights",
            )
        for name in self.replicate_weights:
            _check_name("replicate_weights", name, required=True)
        if self.method not in REPLICATE_METHODS:
            raise DesignError(
                "unknown replication method",
                expected="one of " + ", ".join(REPLICATE_METHODS),
                found=repr(self.method),
                hint="use method='JK1', 'JKn', 'BRR', 'Fay' (with rho=) or 'bootstrap'",
            )
        if self.method == "Fay":
            if self.rho is None or not 0 <= self.rho < 1:
                raise DesignError(
                    "Fay's method needs rho in [0, 1)",
                    found=repr(self.rho),
                    hint="pass rho=0.3 (or the value the data producer documents)",
                )
        elif self.rho is not None:
            raise DesignError(
                f"rho applies to method='Fay' only, not {self.method!r}",
                found=repr(self.rho),
                hint="drop rho= or use method='Fay'",
            )
        if self.rscales is not None:
            object.__setattr__(self, "rscales", tuple(float(r) for r in self.rscales))
            if len(self.rscales) != len(self.replicate_weights):
                raise DesignError(
                    "rscales needs one value per replicate weight column",
                    expected=f"{len(self.replicate_weights)} values",
                    found=f"{len(self.rscales)}",
                )
        if self.method == "JKn" and self.rscales is None:
            raise DesignError(
                "JKn needs rscales: (n_h - 1) / n_h for the stratum each replicate drops a PSU from",
                hint="pass rscales=[...] with one value per replicate",
            )

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.weight, *self.replicate_weights)

    @property
    def is_replicate(self) -> bool:
        return True

    def scale_factors(self) -> tuple[float, tuple[float, ...]]:
        """``(scale, rscales)`` with the method's defaults, as R's ``svrepdesign``.

        JK1: (R-1)/R and 1; BRR: 1/R and 1; Fay: 1/(R (1-rho)^2) and 1;
        bootstrap: 1/(R-1) and 1; JKn: 1 and the given rscales.
        """
        n_rep = len(self.replicate_weights)
        defaults = {
            "JK1": (n_rep - 1) / n_rep,
            "JKn": 1.0,
            "BRR": 1.0 / n_rep,
            "Fay": 1.0 / (n_rep * (1.0 - (self.rho or 0.0)) ** 2),
            "bootstrap": 1.0 / (n_rep - 1),
        }
        scale = defaults[self.method] if self.scale is None else float(self.scale)
        rscales = self.rscales if self.rscales is not None else (1.0,) * n_rep
        return scale, rscales


AnyDesign = Design | ReplicateDesign


def _check_name(field: str, value, *, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not value:
        raise DesignError(
            f"design field '{field}' must be a column name",
            expected="a non-empty string",
            found=repr(value),
            hint=f'pass {field}="column_name"',
        )
