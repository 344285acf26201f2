"""Design-based logistic regression ("drivers of trust"), as R's ``svyglm``.

:func:`logit` fits ``y ~ x + C(g)`` (a patsy formula) by weighted maximum
likelihood and gives design-based standard errors:

* Taylor designs: the sandwich ``A^-1 B A^-1`` with ``B`` the linearisation
  variance of the estimating-equation scores ``w_i (y_i - mu_i) x_i`` (R's
  ``svy.varcoef``), through the same kernel as every other estimate, so
  strata, clusters, fpc, lonely PSUs and raking (the Survey's calibration)
  are accounted for;
* replicate designs: the model refitted with every replicate weight and the
  replicate variance of the coefficients (R's ``svyglm.svyrep.design``).

Degrees of freedom are R's ``degf(design) + 1 - p``: design df of the rows in
the model (for replicate designs, of the rows in ``where``, as R) plus one,
minus the number of coefficients.  Tests and intervals use t on those df.

Rows out of the model keep the design (a domain, as R's ``svyglm`` on a
subset): rows outside ``where``, and rows where any variable of the formula
is missing (NaN) or holds a user-missing code (e.g. 98 "Don't know").

Examples
--------
>>> import numpy as np, pandas as pd, surveytools as st
>>> rng = np.random.default_rng(1)
>>> df = pd.DataFrame({"x": rng.normal(size=400), "w": rng.uniform(1, 3, 400)})
>>> df["y"] = (rng.uniform(size=400) < 1 / (1 + np.exp(-df["x"]))).astype(int)
>>> fit = st.logit(st.Survey(df, st.Design(weight="w")), "y ~ x")
>>> list(fit.params.index), bool(fit.params["x"] > 0)
(['Intercept', 'x'], True)
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
from scipy import linalg
from scipy.special import expit

from ..core.errors import DataError, row_number
from .domains import check_column, where_mask
from .intervals import t_quantile, t_two_sided_p
from .variance import degrees_of_freedom, replicate_covariance, taylor_covariance
from .sample import as_sample

_EVAL_ENV = patsy.EvalEnvironment([{"np": np}])
_KNOWN_NAMES = {"np", "C", "I", "Q", "Treatment", "Sum", "Poly", "Diff", "Helmert", "center",
                "standardize", "scale", "bs", "cr", "cc", "te", "True", "False", "None",
                "log", "exp", "abs"}


@dataclass(frozen=True, eq=False)
class LogitResult:
    """A fitted design-based logistic regression (see :func:`logit`).

    Attributes
    ----------
    params, bse : pandas.Series
        Coefficients and their standard errors, named by patsy's columns.
    df_resid : float
        Degrees of freedom of t tests and intervals (R's ``df.residual``).
    formula : str
    n : int
        Respondents in the model.
    excluded_codes : dict
        User-missing codes taken out of the model, per column.
    iterations : int
        Newton iterations of the full-sample fit.
    """

    params: pd.Series
    bse: pd.Series
    covariance: pd.DataFrame = field(repr=False)
    df_resid: float
    formula: str
    n: int
    excluded_codes: dict = field(default_factory=dict)
    iterations: int = 0

    @property
    def tvalues(self) -> pd.Series:
        return self.params / self.bse

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values from t on ``df_resid`` (NaN when df <= 0)."""
        return pd.Series(t_two_sided_p(self.tvalues.to_numpy(), self.df_resid),
                         index=self.params.index)

    def cov_params(self) -> pd.DataFrame:
        """Design-based covariance matrix of the coefficients."""
        return self.covariance.copy()

    def conf_int(self, conf_level: float = 0.95) -> pd.DataFrame:
        """Coefficient intervals ``b ± t(df) se`` (columns ci_low, ci_high)."""
        t = float(t_quantile(conf_level, self.df_resid))
        return pd.DataFrame({"ci_low": self.params - t * self.bse,
                             "ci_high": self.params + t * self.bse})

    def odds_ratios(self, conf_level: float = 0.95) -> pd.DataFrame:
        """Odds ratios ``exp(b)`` with intervals ``exp(b ± t(df) se)``."""
        ci = np.exp(self.conf_int(conf_level))
        return pd.DataFrame({"odds_ratio": np.exp(self.params), "ci_low": ci["ci_low"],
                             "ci_high": ci["ci_high"]})

    def to_frame(self, conf_level: float = 0.95) -> pd.DataFrame:
        """One row per coefficient: estimate, se, t, p, interval, odds ratio and its interval."""
        ci = self.conf_int(conf_level)
        odds = self.odds_ratios(conf_level)
        return pd.DataFrame({
            "estimate": self.params, "se": self.bse, "t": self.tvalues, "p_value": self.pvalues,
            "ci_low": ci["ci_low"], "ci_high": ci["ci_high"], "df": self.df_resid,
            "odds_ratio": odds["odds_ratio"], "or_ci_low": odds["ci_low"],
            "or_ci_high": odds["ci_high"]})

    def summary(self, conf_level: float = 0.95) -> str:
        """A printable coefficient table with the model's base and df."""
        excluded = "; ".join(f"{c}: {', '.join(map(str, v))}"
                             for c, v in self.excluded_codes.items()) or "none"
        head = (f"Design-based logistic regression: {self.formula}\n"
                f"n = {self.n}, df = {self.df_resid:g}, user-missing codes excluded: {excluded}\n")
        return head + self.to_frame(conf_level).to_string(float_format=lambda v: f"{v:.4g}")


def logit(survey, formula: str, *, where=None, max_iterations: int = 50,
          tolerance: float = 1e-12) -> LogitResult:
    """Design-based logistic regression, as R's ``svyglm(family=quasibinomial())``.

    Parameters
    ----------
    survey : Survey
    formula : str
        A patsy formula, e.g. ``"trust_high ~ age + C(region)"``. The outcome
        must be 0/1 (or boolean, e.g. ``I(trust_nhs >= 7)``, or a two-level
        categorical whose second level is "success", as R).
    where : optional
        A subpopulation (bool array/Series, query string or ``{column:
        values}``); the design is kept whole.
    max_iterations : int
        Newton iterations before a DataError.
    tolerance : float
        Convergence: largest change of a coefficient, relative to 1 + |b|.

    Returns
    -------
    LogitResult

    Raises
    ------
    DataError
        A formula naming an unknown column, an outcome that is not 0/1,
        collinear predictors, no rows left, or a fit that does not converge.

    Examples
    --------
    >>> import pandas as pd, surveytools as st
    >>> df = pd.DataFrame({"w": [1.0, 1, 2, 1, 2, 1], "x": [0, 0, 0, 1, 1, 1],
    ...                    "y": [0, 1, 1, 0, 0, 1]})
    >>> fit = st.logit(st.Survey(df, st.Design(weight="w")), "y ~ x")
    >>> round(float(fit.params["x"]), 4)  # log odds ratio: logit(1/4) - logit(3/4) = -2 log 3
    -2.1972
    """
    sample = as_sample(survey)
    data, meta = sample.data, sample.meta
    columns = _formula_columns(formula, data, meta.file)
    in_scope = where_mask(data, where, meta.file)
    frame, excluded = _without_missing(data[columns], meta, in_scope)
    in_model = in_scope & frame.notna().all(axis=1).to_numpy()
    if not in_model.any():
        raise DataError("no respondents left for the model", file=meta.file,
                        column=", ".join(columns),
                        expected="rows in where= with every formula variable answered",
                        found="none", hint="check where= and the formula's variables")
    try:
        y_frame, x_frame = patsy.dmatrices(formula, frame[in_model], NA_action="raise",
                                           return_type="dataframe", eval_env=_EVAL_ENV)
    except patsy.PatsyError as err:
        raise DataError(f"cannot build the model from {formula!r}: {err}", file=meta.file,
                        hint="write the formula as patsy does, e.g. 'y ~ x + C(g)'") from err
    rows = np.flatnonzero(in_model)
    y = _outcome(y_frame, rows, meta.file)
    x = x_frame.to_numpy(dtype=float)
    _check_rank(x, list(x_frame.columns), meta.file)
    prepared = sample.prepared
    weights = prepared.weights[rows]
    beta, iterations = _fit(x, y, weights, max_iterations, tolerance, meta.file)
    names = list(x_frame.columns)
    if prepared.is_replicate:
        replicas = np.array([_fit(x, y, prepared.replicate_weights[rows, r], max_iterations,
                                  tolerance, meta.file, start=beta)[0]
                             for r in range(prepared.replicate_weights.shape[1])])
        cov = replicate_covariance(prepared, beta, replicas)
        df_rows = in_scope  # R computes degf before dropping incomplete rows
    else:
        cov = taylor_covariance(prepared, _influence(x, y, weights, beta, rows, prepared.n),
                                base=in_model)
        df_rows = in_model
    _, design_df = degrees_of_freedom(prepared, np.where(df_rows, 0, -1), 1)
    return LogitResult(
        params=pd.Series(beta, index=names), bse=pd.Series(np.sqrt(np.diag(cov)), index=names),
        covariance=pd.DataFrame(cov, index=names, columns=names),
        df_resid=float(design_df + 1 - len(names)), formula=formula, n=len(rows),
        excluded_codes=excluded, iterations=iterations)


def _formula_columns(formula: str, data: pd.DataFrame, file) -> list[str]:
    """The data columns a formula uses; a DataError for a name that is neither
    a column nor a patsy/numpy function."""
    if not isinstance(formula, str) or "~" not in formula:
        raise DataError("a model formula needs an outcome, '~' and predictors", file=file,
                        found=repr(formula), hint="write e.g. 'trust_high ~ age + C(region)'")
    try:
        desc = patsy.ModelDesc.from_formula(formula)
    except patsy.PatsyError as err:
        raise DataError(f"cannot read the formula {formula!r}: {err}", file=file,
                        hint="write the formula as patsy does, e.g. 'y ~ x + C(g)'") from err
    if not desc.lhs_termlist:
        raise DataError("the formula has no outcome", file=file, found=repr(formula),
                        hint="put the 0/1 outcome left of '~'")
    names: list[str] = []
    for term in desc.lhs_termlist + desc.rhs_termlist:
        for factor in term.factors:
            for node in ast.walk(ast.parse(factor.name(), mode="eval")):
                if isinstance(node, ast.Name) and node.id not in names:
                    names.append(node.id)
                elif (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Q"
                      and node.args and isinstance(node.args[0], ast.Constant)):
                    names.append(node.args[0].value)
    columns = []
    for name in names:
        if name in data.columns:
            columns.append(name)
        elif name not in _KNOWN_NAMES:
            check_column(data, name, file)
    return columns


def _without_missing(frame: pd.DataFrame, meta, in_scope) -> tuple[pd.DataFrame, dict]:
    """The formula's columns with user-missing codes set to missing."""
    excluded = {}
    out = {}
    for column in frame.columns:
        values = frame[column]
        missing = meta.missing_mask(column, values)
        found = pd.unique(values[missing & in_scope])
        if len(found):
            excluded[column] = tuple(sorted(found.tolist()))
        out[column] = values.mask(missing)
    return pd.DataFrame(out, index=frame.index), excluded


def _outcome(y_frame: pd.DataFrame, rows: np.ndarray, file) -> np.ndarray:
    name = y_frame.columns[0]
    if y_frame.shape[1] == 2:
        # a boolean or two-level outcome: the second level is "success", as R's glm
        return y_frame.iloc[:, 1].to_numpy(dtype=float)
    if y_frame.shape[1] > 2:
        raise DataError("the outcome of a logistic regression must have two values",
                        column=", ".join(map(str, y_frame.columns)), file=file,
                        expected="0/1", found=f"{y_frame.shape[1]} categories",
                        hint="make a 0/1 outcome, e.g. I(trust_nhs >= 7)")
    y = y_frame.iloc[:, 0].to_numpy(dtype=float)
    bad = np.flatnonzero((y != 0) & (y != 1))
    if len(bad):
        raise DataError("the outcome of a logistic regression must be 0 or 1", file=file,
                        column=str(name), row=row_number(rows[bad[0]]), expected="0 or 1",
                        found=repr(float(y[bad[0]])),
                        hint=f"make a 0/1 outcome, e.g. I({name} >= 7), or recode it")
    return y


def _check_rank(x: np.ndarray, names: list[str], file) -> None:
    _, r, pivot = linalg.qr(x, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int((diag > 1e-7 * diag[0]).sum()) if len(diag) else 0
    if rank < x.shape[1]:
        aliased = [names[i] for i in sorted(pivot[rank:])]
        raise DataError("the predictors are collinear (a coefficient cannot be estimated)",
                        file=file, column=", ".join(aliased),
                        expected="linearly independent predictors",
                        found=f"rank {rank} for {x.shape[1]} coefficients",
                        hint="drop one of the collinear predictors or merge empty categories")


def _fit(x, y, weights, max_iterations, tolerance, file, *, start=None):
    """Weighted maximum likelihood by Newton's method (= IRLS for the logit link)."""
    w = weights / weights.mean()
    beta = np.zeros(x.shape[1]) if start is None else start.copy()
    for iteration in range(1, max_iterations + 1):
        mu = expit(x @ beta)
        info = x.T @ (x * (w * mu * (1 - mu))[:, None])
        try:
            step = np.linalg.solve(info, x.T @ (w * (y - mu)))
        except np.linalg.LinAlgError:  # fitted probabilities all 0 or 1
            break
        beta = beta + step
        if not np.isfinite(beta).all():
            break
        if np.max(np.abs(step) / (1 + np.abs(beta))) < tolerance:
            return beta, iteration
    raise DataError(f"the logistic regression did not converge in {max_iterations} iterations",
                    file=file, expected="finite maximum-likelihood coefficients",
                    found=f"coefficients still changing: {np.round(beta, 3).tolist()}",
                    hint="a predictor may separate the outcome perfectly (every 'yes' in one "
                         "category): merge small categories or drop that predictor")


def _influence(x, y, weights, beta, rows, n) -> np.ndarray:
    """Influence functions of the coefficients on every row of the design (R's
    ``estfun %*% Ainv``); zero outside the model."""
    mu = expit(x @ beta)
    info = x.T @ (x * (weights * mu * (1 - mu))[:, None])
    scores = x * (weights * (y - mu))[:, None]
    out = np.zeros((n, x.shape[1]))
    out[rows] = scores @ np.linalg.inv(info)
    return out
