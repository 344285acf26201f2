"""Design-based tests of association: Rao-Scott chi-square (R's ``svychisq``).

``statistic="F"`` is the second-order Rao-Scott correction: the Pearson
X^2 of the weighted table (scaled to the sample size) divided by the trace
of the generalised design-effect matrix Delta, referred to an F with
``ndf = tr(Delta)^2 / tr(Delta^2)`` and ``ddf = ndf * df(design)``.
``statistic="Chisq"`` is the first-order correction: R reports X^2 itself,
with p-value from chi-square((r-1)(c-1)) at X^2 / mean eigenvalue of Delta.

Examples
--------
>>> import numpy as np, pandas as pd, surveytools as st
>>> rng = np.random.default_rng(1)
>>> df = pd.DataFrame({"wt": rng.uniform(1, 2, 200), "a": rng.integers(1, 3, 200),
...                    "b": rng.integers(1, 4, 200)})
>>> res = st.chisq(st.Survey(df, st.Design(weight="wt")), "a", "b")
>>> res.method, bool(res.ndf > 0), 0 <= res.p_value <= 1
("Pearson's X^2: Rao & Scott adjustment", True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..core.errors import DataError
from .core import Cells, compute
from .domains import resolve
from .sample import as_sample
from .variance import degrees_of_freedom

METHOD = "Pearson's X^2: Rao & Scott adjustment"


@dataclass(frozen=True)
class ChisqResult:
    """Result of :func:`chisq`.

    Attributes
    ----------
    statistic : float
        F (``"F"``) or Pearson X^2 (``"Chisq"``, as R reports it).
    ndf, ddf : float
        Degrees of freedom (``ddf`` is infinite for ``"Chisq"``).
    p_value : float
    method : str
    pearson : float
        The uncorrected Pearson X^2 of the weighted table scaled to n.
    variables : tuple of str
    """

    statistic: float
    ndf: float
    ddf: float
    p_value: float
    method: str
    pearson: float
    variables: tuple[str, str]

    def __repr__(self) -> str:
        a, b = self.variables
        return (f"{self.method}: {a} x {b}, statistic = {self.statistic:.4g}, "
                f"ndf = {self.ndf:.4g}, ddf = {self.ddf:.4g}, p = {self.p_value:.4g}")


def chisq(survey, a: str, b: str, *, statistic: str = "F", where=None,
          user_missing: str = "exclude") -> ChisqResult:
    """Rao-Scott test of association between ``a`` and ``b``, as R's ``svychisq``.

    Parameters
    ----------
    survey : Survey
    a, b : str
        Row and column variables (codes).
    statistic : {"F", "Chisq"}
        Second-order (F) or first-order (Chisq) Rao-Scott correction.
    where : optional
        A subpopulation (the whole design is kept; see ``Survey.mean``).
    user_missing : {"exclude", "include"}

    Rows with a missing or (by default) user-missing answer to either
    variable are out of the table, as ``na.rm=TRUE``.
    """
    if statistic not in ("F", "Chisq"):
        raise DataError("unknown chisq statistic", expected="'F' or 'Chisq'",
                        found=repr(statistic), hint="statistic='F' is R's default")
    sample = as_sample(survey)
    domains = resolve(sample, a, by=[b], where=where, user_missing=user_missing)
    base = domains.base
    rows_code, row_levels = pd.factorize(domains.values[base], sort=True)
    col_code = domains.group[base]
    nr, nc = len(row_levels), domains.n_groups
    if nr < 2 or nc < 2:
        raise DataError("a test of association needs at least two answers of each variable",
                        file=sample.meta.file, column=a if nr < 2 else b,
                        expected="2 or more distinct codes in the base", found=f"{min(nr, nc)}",
                        hint="check where= and the user-missing codes")
    k = nr * nc
    positions = np.flatnonzero(base)
    cells = Cells(group=np.where(base, 0, -1), n_groups=1, rows=positions,
                  columns=rows_code + nr * col_code, values=np.ones(len(positions)),
                  column_group=np.zeros(k, np.int64))
    prepared = sample.prepared
    computed = compute(prepared, cells, ratio=True)
    # R scales the weighted table to nrow() of the design, missing answers included;
    # X^2 / tr(Delta) and the p-values do not depend on this choice.
    n = float(domains.in_scope.sum())
    nu = degrees_of_freedom(prepared, np.where(domains.in_scope, 0, -1), 1)[1]
    shares, cov = computed.estimate, computed.covariance

    table = (shares * n).reshape(nc, nr).T
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = float(((table - expected) ** 2 / expected).sum())

    grid_rows, grid_cols = np.tile(np.arange(nr), nc), np.repeat(np.arange(nc), nr)
    main = np.column_stack([np.ones(k)] + [grid_rows == i for i in range(1, nr)]
                           + [grid_cols == j for j in range(1, nc)]).astype(float)
    interaction = np.column_stack([(grid_rows == i) & (grid_cols == j)
                                   for j in range(1, nc) for i in range(1, nr)]).astype(float)
    contrast = interaction - main @ np.linalg.lstsq(main, interaction, rcond=None)[0]
    inverse = np.diag(np.where(shares == 0, 0.0, 1.0 / np.where(shares == 0, 1.0, shares)))
    denom = contrast.T @ (inverse / n) @ contrast
    numer = contrast.T @ inverse @ cov @ inverse @ contrast
    delta = np.linalg.solve(denom, numer)
    trace = np.trace(delta)
    if statistic == "F":
        d0 = trace ** 2 / np.trace(delta @ delta)
        value = pearson / trace
        return ChisqResult(statistic=value, ndf=d0, ddf=d0 * nu,
                           p_value=float(stats.f.sf(value, d0, d0 * nu)), method=METHOD,
                           pearson=pearson, variables=(a, b))
    ndf = float(delta.shape[1])
    return ChisqResult(statistic=pearson, ndf=ndf, ddf=np.inf,
                       p_value=float(stats.chi2.sf(pearson / (trace / ndf), ndf)), method=METHOD,
                       pearson=pearson, variables=(a, b))
