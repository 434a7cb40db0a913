"""Shared pieces of the outcome models: errors, guard rails, tidy tables, result base.

Words and numbers of the interpretations come from :mod:`kkbm_analysis.i18n`.

Guard rails (documented minimums; every model checks its inputs with these before fitting)
-------------------------------------------------------------------------------------------
``MIN_OBSERVATIONS`` (50)
    Fewer analysable rows than this: :class:`ModelInputError`.
``MIN_EVENTS_PER_PARAMETER`` (10)
    Binary outcomes and survival models need at least this many events (the rarer outcome
    value, or closures) per estimated coefficient, the usual rule against overfitting.
``MIN_CLUSTERS`` (2) and ``FEW_CLUSTERS`` (10)
    Cluster-robust standard errors need at least 2 clusters (else refused); with fewer than
    10 they are unreliable (too small, Cameron & Miller 2015) and a :class:`ModelWarning` is
    issued and noted in the summary.
Separation
    A binary outcome that a covariate (or a combination of covariates) predicts perfectly or
    quasi-perfectly has no finite maximum-likelihood estimate; it is detected with a linear
    programme (Konis 2007) and refused, naming the covariate(s).
No variation
    An outcome or covariate that takes a single value is refused, naming it.

Every public fit runs on one BLAS thread (:func:`one_blas_thread`), as ``kkbm analyse`` does.
"""
from __future__ import annotations

import functools
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from html import escape
from typing import Any, Callable, Iterable, Sequence, TypeVar

import numpy as np
import pandas as pd
from scipy import stats

MIN_OBSERVATIONS = 50
MIN_EVENTS_PER_PARAMETER = 10
MIN_CLUSTERS = 2
FEW_CLUSTERS = 10
Z95 = float(stats.norm.ppf(0.975))

ESTIMATE_COLUMNS = ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value"]


_Fit = TypeVar("_Fit", bound=Callable[..., Any])


def one_blas_thread(fit: _Fit) -> _Fit:
    """Run ``fit`` with one BLAS thread (``threadpoolctl``), as ``kkbm analyse`` runs every fit.

    A sum split over threads is added in another order, so a fit called here would differ in its
    last bits from the published product; and the small solves of a bootstrap, split over threads
    that wait for a busy core, run many times slower.
    """
    @functools.wraps(fit)
    def fitted(*args: Any, **kwargs: Any) -> Any:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=1, user_api="blas"):
            return fit(*args, **kwargs)
    return fitted  # type: ignore[return-value]


class ModelInputError(ValueError):
    """The data cannot support the model: the message names the problem (no numbers are produced)."""


class ModelWarning(UserWarning):
    """The model ran, but a result is fragile (e.g. few clusters); read the note in the summary."""


# ----------------------------------------------------------------------------- tables
def table_text(df: pd.DataFrame, max_rows: int = 40) -> str:
    if df is None or df.empty:
        return "(no rows)"
    shown = df.head(max_rows)
    more = f"\n... {len(df) - max_rows} more rows" if len(df) > max_rows else ""
    return shown.to_string(index=False, float_format=lambda v: f"{v:,.4g}") + more


def wald_table(terms: Sequence[str], est: np.ndarray, se: np.ndarray, *, exp_label: str | None = None,
               dist: str = "normal", df_resid: float | None = None) -> pd.DataFrame:
    """Tidy estimates with normal (or t) 95% intervals and two-sided p-values.

    ``exp_label`` (e.g. ``'odds_ratio'``) adds exp(estimate) and its interval.
    """
    est = np.asarray(est, dtype=float)
    se = np.asarray(se, dtype=float)
    if dist == "t" and df_resid:
        crit = float(stats.t.ppf(0.975, df_resid))
        with np.errstate(divide="ignore", invalid="ignore"):
            p = 2 * stats.t.sf(np.abs(est / se), df_resid)
    else:
        crit = Z95
        with np.errstate(divide="ignore", invalid="ignore"):
            p = 2 * stats.norm.sf(np.abs(est / se))
    out = pd.DataFrame({"term": list(terms), "estimate": est, "std_error": se,
                        "ci_low": est - crit * se, "ci_high": est + crit * se, "p_value": p})
    if exp_label:
        out[exp_label] = np.exp(out["estimate"])
        out[f"{exp_label}_ci_low"] = np.exp(out["ci_low"])
        out[f"{exp_label}_ci_high"] = np.exp(out["ci_high"])
    return out


# ----------------------------------------------------------------------------- guard rails
def warn(message: str, notes: list[str]) -> None:
    """Issue a ModelWarning and keep the message for the summary."""
    notes.append(message)
    warnings.warn(message, ModelWarning, stacklevel=3)


def check_min_rows(n: int, what: str, minimum: int = MIN_OBSERVATIONS) -> None:
    if n < minimum:
        raise ModelInputError(f"too few observations for {what}: {n} (the documented minimum is {minimum})")


def check_variation(df: pd.DataFrame, columns: Iterable[str], role: str = "covariate") -> None:
    """Refuse a column that takes a single value (or is all missing)."""
    for c in columns:
        values = df[c].dropna()
        if values.nunique() < 2:
            shown = values.iloc[0] if len(values) else "missing"
            raise ModelInputError(f"no variation in the {role} {c!r}: every row has the value {shown!r}; "
                                  f"drop it from the model or use data where it varies")


def check_clusters(groups: pd.Series, notes: list[str], what: str = "communities") -> int:
    """Number of clusters; refuse below MIN_CLUSTERS, warn below FEW_CLUSTERS."""
    k = int(pd.Series(groups).nunique())
    if k < MIN_CLUSTERS:
        raise ModelInputError(f"cluster-robust standard errors need at least {MIN_CLUSTERS} clusters "
                              f"({what}); the data have {k}")
    if k < FEW_CLUSTERS:
        warn(f"only {k} clusters ({what}): cluster-robust standard errors are unreliable with fewer than "
             f"{FEW_CLUSTERS} clusters (too small, intervals too narrow)", notes)
    return k


def check_events(n_events: int, n_params: int, what: str) -> None:
    need = MIN_EVENTS_PER_PARAMETER * n_params
    if n_events < need:
        raise ModelInputError(f"too few events for {what}: {n_events} for {n_params} coefficients (the "
                              f"documented minimum is {MIN_EVENTS_PER_PARAMETER} per coefficient, {need})")


def check_separation(y: np.ndarray, X: np.ndarray, names: Sequence[str]) -> None:
    """Refuse (quasi-)complete separation of a binary outcome, naming the covariate(s).

    First each covariate alone (a binary covariate with an all-0 or all-1 outcome in one of
    its values; a continuous covariate whose outcome groups do not overlap), then the linear
    programme of Konis (2007): is there a direction b != 0 with (2y - 1) x'b >= 0 for every
    row? If so the likelihood has no finite maximum; the covariates with the largest
    weight in b are named. ``X`` must contain the intercept column (named ``'const'``).
    """
    y = np.asarray(y, dtype=float)
    for j, name in enumerate(names):
        if name == "const":
            continue
        x = X[:, j]
        values = np.unique(x)
        if len(values) <= 2:
            for v in values:
                sel = x == v
                rate = y[sel].mean()
                if rate in (0.0, 1.0):
                    raise ModelInputError(
                        f"quasi-complete separation: the outcome is {int(rate)} for every row with "
                        f"{name} = {v:g} ({int(sel.sum())} rows), so the effect of {name!r} has no finite "
                        f"estimate; drop {name!r}, merge categories or use a penalised model")
        else:
            x1, x0 = x[y == 1], x[y == 0]
            if x1.min() >= x0.max() or x1.max() <= x0.min():
                raise ModelInputError(f"(quasi-)complete separation: {name!r} alone separates the outcome "
                                      f"(the ranges for outcome 1 and 0 do not overlap); its effect has no "
                                      f"finite estimate")
    _lp_separation(y, X, names)


LP_ROWS = 20_000   # rows of the first, cheap separation programme (below)


def _lp_separation(y: np.ndarray, X: np.ndarray, names: Sequence[str]) -> None:
    """The linear programme of :func:`check_separation`, first on a subsample when the data are large.

    Maximise ``sum(Z b)`` subject to ``Z b >= 0`` and ``-1 <= b <= 1`` (``Z`` the rows signed by
    the outcome): a positive optimum means separation. Every row adds a constraint, so when a
    subsample of rows, whose ``Z`` has full column rank, admits only ``Z b = 0``, then only
    ``b = 0`` is feasible for it, and so for all rows: no separation, proven on the subsample.
    Otherwise the programme is solved on every row.
    """
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    Z = (2 * y - 1)[:, None] * (X / scale)
    if len(Z) > LP_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(len(Z), LP_ROWS, replace=False))
        sub = Z[rows]
        if np.linalg.matrix_rank(sub) == Z.shape[1] and _separating_direction(sub) is None:
            return
    b = _separating_direction(Z)
    if b is not None:
        involved = [names[j] for j in np.argsort(-np.abs(b)) if abs(b[j]) > 1e-6 and names[j] != "const"]
        raise ModelInputError(
            "quasi-complete separation: a combination of covariates predicts the outcome perfectly for "
            f"part of the data (involving {', '.join(repr(v) for v in involved[:3]) or 'the intercept'}); "
            "the likelihood has no finite maximum. Drop or merge the named covariate(s)")


def _separating_direction(Z: np.ndarray) -> np.ndarray | None:
    """The optimal ``b`` of the programme when its optimum is positive (separation), else None."""
    from scipy.optimize import linprog

    res = linprog(-Z.sum(axis=0), A_ub=-Z, b_ub=np.zeros(len(Z)), bounds=[(-1, 1)] * Z.shape[1], method="highs")
    return res.x if res.status == 0 and -res.fun > 1e-7 * len(Z) else None


# ----------------------------------------------------------------------------- result base
@dataclass
class ModelResult(ABC):
    """Base of every result: ``summary()``, ``estimates``, ``interpretation(lang)``.

    Attributes
    ----------
    estimates : DataFrame
        Tidy estimates: ``term, estimate, std_error, ci_low, ci_high, p_value`` (95%),
        plus odds or hazard ratios where relevant.
    n_obs : int
        Rows used.
    notes : list of str
        Warnings and analysis choices worth reading.
    synthetic : bool
        True when the data are the synthetic demo (every output is then labelled).
    """

    estimates: pd.DataFrame
    n_obs: int
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False

    title = "Model"

    def summary(self) -> str:
        return "\n\n".join([self._header(), self._body(), self._footer()]).strip() + "\n"

    def _header(self) -> str:
        flag = "SYNTHETIC DATA — " if self.synthetic else ""
        title = flag + self.title
        return f"{title}\n{'=' * len(title)}"

    def _body(self) -> str:
        return table_text(self.estimates)

    def _footer(self) -> str:
        parts = ["Interpretation: " + self.interpretation("en"), "Interpretasi: " + self.interpretation("id")]
        if self.notes:
            parts.append("Notes:\n" + "\n".join(f"- {n}" for n in self.notes))
        return "\n".join(parts)

    @abstractmethod
    def interpretation(self, lang: str = "en") -> str:
        """The result in a few plain sentences, in Indonesian (``'id'``) or English."""

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.title}, n={self.n_obs}>"

    def _repr_html_(self) -> str:
        return f"<pre>{escape(self.summary())}</pre>"

    def term(self, name: str) -> pd.Series:
        """The estimates row of one term."""
        rows = self.estimates[self.estimates["term"] == name]
        if rows.empty:
            raise KeyError(f"no term {name!r}; terms are {list(self.estimates['term'])}")
        return rows.iloc[0]
