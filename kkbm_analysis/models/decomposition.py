"""Why provinces differ: Oaxaca-Blinder decomposition of the gap in Y12 between two provinces.

The outcome is Y12 (running a business a year after training, see
:func:`~kkbm_analysis.models.business_outcome_frame`) in a linear probability model, so
every part is in percentage points of the share of members running a business.

Twofold (reference: pooled regression of both provinces *with* a province indicator,
Jann 2008 / Fortin 2008; statsmodels ``OaxacaBlinder.two_fold(two_fold_type="pooled")``)::

    gap = mean(Y_A) - mean(Y_B) = explained + unexplained
    explained   = sum_k (xbar_Ak - xbar_Bk) * b*_k          (per covariate below)
    unexplained = xbar_A'(b_A - b*) + xbar_B'(b* - b_B)

Threefold (reference: province B's coefficients, as statsmodels ``three_fold()``)::

    gap = endowments + coefficients + interaction
    endowments   = (xbar_A - xbar_B)' b_B
    coefficients = xbar_B' (b_A - b_B)
    interaction  = (xbar_A - xbar_B)' (b_A - b_B)

The explained part is broken down per covariate and per factor group (mentoring,
staffing, capital, composition). The threefold needs each covariate to vary *within*
each province; when one does not (e.g. no mentoring at all in Jawa Timur), its
province-specific coefficient is not identified: the threefold is then not reported
(a warning names the covariate), while the twofold stays valid.

Standard errors: a cluster bootstrap of communities stratified by province, drawing
G_h - 1 of the G_h communities of each province with replacement (the Rao-Wu rescaled
bootstrap, which removes the (G-1)/G downward bias of the naive cluster bootstrap when
provinces have few communities); normal 95% intervals from the bootstrap SE.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..data import ProgramData
from ..i18n import check_lang, has_text, number, region_name, text
from ._base import (ModelInputError, ModelResult, check_min_rows, check_variation, one_blas_thread, table_text,
                    wald_table, warn)
from .frames import DEFAULT_COVARIATES, business_outcome_frame, is_synthetic

FACTOR_GROUPS: dict[str, tuple[str, ...]] = {
    "mentoring": ("points",),
    "staffing": ("members_per_staff_10",),
    "capital": ("kur_before_t12",),
    "composition": ("female", "years_abroad"),
}
MIN_PER_PROVINCE = 30
MIN_COMMUNITIES_PER_PROVINCE = 2


@dataclass
class GapDecomposition(ModelResult):
    """Result of :func:`province_gap_decomposition`.

    Attributes
    ----------
    estimates : DataFrame
        Tidy rows ``term`` = ``gap``, ``explained``, ``unexplained``, ``explained: <covariate>``,
        ``explained: <factor group>`` and (when identified) ``endowments``, ``coefficients``,
        ``interaction``; with ``estimate, std_error, ci_low, ci_high, p_value`` and
        ``share_of_gap``.
    twofold, threefold : DataFrame
        ``component, estimate, std_error, ci_low, ci_high``; ``threefold`` is None when not
        identified.
    detailed : DataFrame
        Per covariate: ``term, mean_a, mean_b, coefficient`` (pooled), ``explained`` and
        its SE and CI.
    province_a, province_b : str
    means : dict
        ``a`` and ``b``: share with Y12 = 1.
    fit : statsmodels OaxacaBlinder
        statsmodels' implementation on the same rows (built each time it is asked for), for the record.
    """

    twofold: pd.DataFrame = field(default_factory=pd.DataFrame)
    threefold: pd.DataFrame | None = None
    detailed: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_factor: pd.DataFrame = field(default_factory=pd.DataFrame)
    province_a: str = ""
    province_b: str = ""
    name_a: str = ""
    name_b: str = ""
    means: dict = field(default_factory=dict)
    n_a: int = 0
    n_b: int = 0
    n_boot: int = 0
    oaxaca_inputs: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def fit(self) -> Any:
        """statsmodels' ``OaxacaBlinder`` on the same rows (its groups: indicator 0 = A, 1 = B), or None."""
        return None if self.oaxaca_inputs is None else _statsmodels_oaxaca(*self.oaxaca_inputs)

    @property
    def title(self) -> str:  # type: ignore[override]
        return (f"Gap in running a business (Y12) between {self.name_a} ({self.province_a}) and "
                f"{self.name_b} ({self.province_b}): Oaxaca-Blinder")

    def _body(self) -> str:
        parts = [f"{self.name_a}: {self.n_a:,} members, Y12 share {number(self.means['a'], 1, percent=True)}; "
                 f"{self.name_b}: {self.n_b:,} members, Y12 share {number(self.means['b'], 1, percent=True)}. "
                 f"Linear probability model; SEs from {self.n_boot} community-cluster bootstrap draws.",
                 "Twofold (pooled reference):\n" + table_text(self.twofold),
                 "Explained part by factor:\n" + table_text(self.by_factor),
                 "Explained part by covariate:\n" + table_text(self.detailed)]
        parts.append("Threefold (reference: " + self.name_b + "):\n" + table_text(self.threefold)
                     if self.threefold is not None else "Threefold: not identified (see notes).")
        return "\n\n".join(parts)

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        tf = self.twofold.set_index("component")
        gap, exp_, une = tf.loc["gap"], tf.loc["explained"], tf.loc["unexplained"]
        share = exp_["estimate"] / gap["estimate"] if gap["estimate"] != 0 else np.nan
        top = self.by_factor.reindex(self.by_factor["estimate"].abs().sort_values(ascending=False).index).iloc[0]
        key = f"model.factor.{top['factor']}"
        factor = text(key, lang) if has_text(key) else str(top["factor"])

        def pp(x: float, signed: bool = False) -> str:
            return number(100 * x, 1, lang, signed=signed)
        return text("model.gap.text", lang, name_a=self.name_a, name_b=self.name_b, gap=pp(abs(gap["estimate"])),
                    more=text("model.gap.more" if gap["estimate"] >= 0 else "model.gap.less", lang),
                    mean_a=number(self.means["a"], 1, lang, percent=True),
                    mean_b=number(self.means["b"], 1, lang, percent=True),
                    explained=pp(exp_["estimate"], True), share=number(share, 0, lang, percent=True),
                    explained_low=pp(exp_["ci_low"]), explained_high=pp(exp_["ci_high"]), factor=factor,
                    factor_points=pp(top["estimate"], True), unexplained=pp(une["estimate"], True),
                    unexplained_low=pp(une["ci_low"]), unexplained_high=pp(une["ci_high"]))


def _ols(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(X, y, rcond=None)[0]


def _decompose(Xa: np.ndarray, ya: np.ndarray, Xb: np.ndarray, yb: np.ndarray) -> dict[str, np.ndarray]:
    """All parts for design matrices with the constant in column 0."""
    ba, bb = _ols(Xa, ya), _ols(Xb, yb)
    Xp = np.vstack([np.column_stack([Xa, np.ones(len(Xa))]), np.column_stack([Xb, np.zeros(len(Xb))])])
    bp = _ols(Xp, np.r_[ya, yb])[:-1]
    ma, mb = Xa.mean(axis=0), Xb.mean(axis=0)
    detail = (ma - mb) * bp
    gap = ya.mean() - yb.mean()
    return {"gap": np.array([gap]), "explained": np.array([detail[1:].sum()]),
            "unexplained": np.array([gap - detail[1:].sum()]), "detail": detail[1:],
            "endowments": np.array([(ma - mb) @ bb]), "coefficients": np.array([mb @ (ba - bb)]),
            "interaction": np.array([(ma - mb) @ (ba - bb)]), "pooled": bp[1:]}


@one_blas_thread
def province_gap_decomposition(data: ProgramData | pd.DataFrame, province_a: str, province_b: str, *,
                               covariates: Sequence[str] = DEFAULT_COVARIATES,
                               factor_groups: Mapping[str, Sequence[str]] | None = None, n_boot: int = 499,
                               seed: int = 0, as_of: Any = None) -> GapDecomposition:
    """Oaxaca-Blinder decomposition of the Y12 gap between two provinces.

    Parameters
    ----------
    data : ProgramData or DataFrame
        Programme data or a frame like :func:`business_outcome_frame` (with ``province_code``).
    province_a, province_b : str
        Kemendagri province codes; the gap is A minus B.
    covariates : sequence of str
        Default: mentoring points, members per staff (per 10), KUR before t12, female,
        years abroad.
    factor_groups : mapping, optional
        Factor name -> covariates, for the grouped explained part (default
        :data:`FACTOR_GROUPS`; covariates in no group go to ``other``).
    n_boot : int
        Bootstrap draws (community clusters within province), at least 50.
    seed : int
        Seed of the bootstrap.

    Raises
    ------
    ModelInputError
        Same or unknown provinces, fewer than 30 members or 2 communities in a province, no
        variation in the outcome or a covariate in the two provinces together.
    """
    notes: list[str] = []
    synthetic = is_synthetic(data)
    province_a, province_b = str(province_a), str(province_b)
    if province_a == province_b:
        raise ModelInputError("province_a and province_b are the same province")
    if n_boot < 50:
        raise ValueError("n_boot must be at least 50")
    frame = data if isinstance(data, pd.DataFrame) else business_outcome_frame(data, as_of=as_of, notes=notes)
    covariates = list(covariates)
    df = frame.dropna(subset=["y12", "community_id", "province_code", *covariates])
    df = df[df["province_code"].astype(str).isin([province_a, province_b])].copy()
    known = sorted(frame["province_code"].dropna().astype(str).unique())
    for code in (province_a, province_b):
        n = int((df["province_code"].astype(str) == code).sum())
        if n == 0:
            raise ModelInputError(f"no analysable members in province {code!r}; provinces with data: {known}")
        check_min_rows(n, f"province {code}", MIN_PER_PROVINCE)
        k = df.loc[df["province_code"].astype(str) == code, "community_id"].nunique()
        if k < MIN_COMMUNITIES_PER_PROVINCE:
            raise ModelInputError(f"province {code} has {k} community: the bootstrap needs at least "
                                  f"{MIN_COMMUNITIES_PER_PROVINCE} per province")
    check_variation(df, ["y12"], role="outcome")
    check_variation(df, covariates)
    in_a = (df["province_code"].astype(str) == province_a).to_numpy()
    X = np.column_stack([np.ones(len(df)), df[covariates].to_numpy(dtype=float)])
    y = df["y12"].to_numpy(dtype=float)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ModelInputError(f"the covariates {covariates} are collinear in these two provinces")
    constant_in = {}
    for name, sel in ((province_a, in_a), (province_b, ~in_a)):
        flat = [c for j, c in enumerate(covariates) if np.ptp(X[sel, j + 1]) == 0]
        if flat:
            constant_in[name] = flat
    if constant_in:
        where = "; ".join(f"{c} in province {p}" for p, cs in constant_in.items() for c in cs)
        warn(f"no variation within a province ({where}): its province-specific coefficient is not identified, "
             "so the threefold decomposition is not reported (the twofold with pooled coefficients is valid)", notes)
    est = _decompose(X[in_a], y[in_a], X[~in_a], y[~in_a])
    exog = np.column_stack([X, (~in_a).astype(float)])
    if constant_in:  # a province model is rank-deficient: check against statsmodels' own handling of it
        sm_two = _statsmodels_oaxaca(y, exog).two_fold(two_fold_type="pooled")
        if not np.allclose([sm_two.params[1], sm_two.params[0]], [est["explained"][0], est["unexplained"][0]],
                           atol=1e-8):
            raise RuntimeError("internal check failed: decomposition differs from statsmodels OaxacaBlinder")
    boots = _bootstrap(df, X, y, in_a, n_boot, seed)
    groups = {k: tuple(v) for k, v in (factor_groups or FACTOR_GROUPS).items()}
    rest = tuple(c for c in covariates if not any(c in v for v in groups.values()))
    if rest:
        groups["other"] = rest

    gap = est["gap"][0]
    terms = [("gap", gap, boots["gap"][:, 0]), ("explained", est["explained"][0], boots["explained"][:, 0]),
             ("unexplained", est["unexplained"][0], boots["unexplained"][:, 0])]
    terms += [(f"explained: {c}", est["detail"][j], boots["detail"][:, j]) for j, c in enumerate(covariates)]
    factors = {name: [covariates.index(c) for c in members if c in covariates] for name, members in groups.items()}
    factors = {name: idx for name, idx in factors.items() if idx}
    terms += [(f"explained: {name}", est["detail"][idx].sum(), boots["detail"][:, idx].sum(axis=1))
              for name, idx in factors.items()]
    if not constant_in:
        terms += [(k, est[k][0], boots[k][:, 0]) for k in ("endowments", "coefficients", "interaction")]
    rows = wald_table([t for t, _, _ in terms], [v for _, v, _ in terms],
                      [float(np.std(draws, ddof=1)) for _, _, draws in terms]).to_dict("records")
    detail_rows = [{"term": c, "mean_a": X[in_a, j + 1].mean(), "mean_b": X[~in_a, j + 1].mean(),
                    "coefficient": est["pooled"][j], "explained": r["estimate"], "std_error": r["std_error"],
                    "ci_low": r["ci_low"], "ci_high": r["ci_high"]}
                   for j, (c, r) in enumerate(zip(covariates, rows[3:]))]
    factor_rows = [{"factor": name, "covariates": ", ".join(covariates[i] for i in idx),
                    **{k: r[k] for k in ("estimate", "std_error", "ci_low", "ci_high")}}
                   for (name, idx), r in zip(factors.items(), rows[3 + len(covariates):])]
    three = None
    if not constant_in:
        three = pd.DataFrame(rows[-3:])[["term", "estimate", "std_error", "ci_low", "ci_high"]].rename(
            columns={"term": "component"})
    table = pd.DataFrame(rows)
    table["share_of_gap"] = table["estimate"] / gap if gap != 0 else np.nan
    table.loc[table["term"] == "gap", "p_value"] = np.nan
    twofold = table[table["term"].isin(["gap", "explained", "unexplained"])][
        ["term", "estimate", "std_error", "ci_low", "ci_high"]].rename(columns={"term": "component"})
    return GapDecomposition(
        estimates=table.reset_index(drop=True), n_obs=len(df), notes=notes, synthetic=synthetic,
        twofold=twofold.reset_index(drop=True), threefold=three, detailed=pd.DataFrame(detail_rows),
        by_factor=pd.DataFrame(factor_rows), province_a=province_a, province_b=province_b,
        name_a=region_name(province_a), name_b=region_name(province_b),
        means={"a": float(y[in_a].mean()), "b": float(y[~in_a].mean())}, n_a=int(in_a.sum()),
        n_b=int((~in_a).sum()), n_boot=n_boot, oaxaca_inputs=(y, exog))


def _statsmodels_oaxaca(y: np.ndarray, exog: np.ndarray) -> Any:
    """statsmodels' ``OaxacaBlinder`` (the last column of ``exog`` is the group indicator)."""
    from statsmodels.stats.oaxaca import OaxacaBlinder
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rank-deficient province model when a covariate is constant in it
        return OaxacaBlinder(y, exog, bifurcate=exog.shape[1] - 1, hasconst=True, swap=False)


def _bootstrap(df: pd.DataFrame, X: np.ndarray, y: np.ndarray, in_a: np.ndarray, n_boot: int, seed: int
               ) -> dict[str, np.ndarray]:
    """Rao-Wu rescaled cluster bootstrap: G_h - 1 communities drawn per province.

    Every draw's regressions are solved from per-community sufficient statistics (X'X, X'y,
    column sums, counts) summed with the draw's multiplicities: the same estimates as fitting
    the resampled rows (the minimum-norm least-squares solution, also when a covariate is
    constant in a province), without building them. The draws themselves are those of a
    row resampling with the same seed. All draws are solved at once, as stacks: each draw's
    sums, solves and products are the same calls on the same numbers as one draw at a time
    (see :func:`_lstsq_stack`), so the draws are the same to the last bit.
    """
    rng = np.random.default_rng(seed)
    comm = pd.factorize(df["community_id"].astype("string"))[0]
    n_comm = int(comm.max()) + 1 if len(comm) else 0
    k = X.shape[1]
    stats = (_sums(comm, (X[:, :, None] * X[:, None, :]).reshape(len(X), k * k), n_comm),
             _sums(comm, X * y[:, None], n_comm), _sums(comm, X, n_comm),
             np.bincount(comm, weights=y, minlength=n_comm)[:, None],
             np.bincount(comm, minlength=n_comm).astype(float)[:, None])
    strata = [np.unique(comm[in_a]), np.unique(comm[~in_a])]
    times = np.zeros((len(strata), n_boot, 1, n_comm))  # how often each draw picked each community
    for b in range(n_boot):
        for i, s in enumerate(strata):
            pick = s[rng.integers(0, len(s), size=max(len(s) - 1, 1))]  # the draws of rng.choice(s, replace=True)
            times[i, b, 0] = np.bincount(pick, minlength=n_comm)
    # (draws, 1, communities) @ (communities, m): one vector-matrix product per draw, as ``w @ stat``
    a, b = ([(w @ stat)[:, 0, :] for stat in stats] for w in times)
    a[0], b[0] = a[0].reshape(n_boot, k, k), b[0].reshape(n_boot, k, k)
    return _decompose_stats(a, b)


def _sums(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Column sums of ``values`` (rows x columns) per group (0..n-1), each added in row order."""
    return np.column_stack([np.bincount(group, weights=v, minlength=n) for v in values.T]).reshape(n, -1)


def _lstsq_stack(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.linalg.lstsq(A[i], b[i], rcond=None)[0]`` for every matrix of a stack (the last bit the same).

    numpy's ``lstsq`` takes one matrix at a time; the LAPACK routine it calls (``gelsd``, through
    its generalised ufunc) takes a stack, and solves each matrix as one call would. The ufunc is
    numpy's internal: where it is missing or takes other arguments, the matrices are solved one by one.
    """
    rcond = np.finfo(float).eps * max(A.shape[-2:])
    try:
        from numpy.linalg import _umath_linalg
        with np.errstate(all="ignore"):
            return _umath_linalg.lstsq(A, b[..., None], rcond, signature="ddd->ddid")[0][..., 0]
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - numpy moved or changed its internal ufunc
        return np.stack([np.linalg.lstsq(m, v, rcond=None)[0] for m, v in zip(A, b)])


def _dot_rows(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``u[i] @ v[i]`` for every row (one dot product per row, as for one row)."""
    return (u[:, None, :] @ v[:, :, None])[:, 0, 0]


def _decompose_stats(a: list[np.ndarray], b: list[np.ndarray]) -> dict[str, np.ndarray]:
    """:func:`_decompose` from sufficient statistics (X'X, X'y, sum X, sum y, n) of the two groups, for a
    stack of draws (one row per draw; sum y and n as columns)."""
    (AtA, Aty, As, ay, na), (BtB, Bty, Bs, by, nb) = a, b
    ba, bb = _lstsq_stack(AtA, Aty), _lstsq_stack(BtB, Bty)
    n, k = As.shape
    P = np.zeros((n, k + 1, k + 1))  # pooled design [X, 1 for group A]
    P[:, :k, :k] = AtA + BtB
    P[:, :k, k] = P[:, k, :k] = As
    P[:, k, k] = na[:, 0]
    bp = _lstsq_stack(P, np.concatenate([Aty + Bty, ay], axis=1))[:, :-1]
    ma, mb = As / na, Bs / nb
    detail = (ma - mb) * bp
    gap = ay / na - by / nb
    explained = detail[:, 1:].sum(axis=1, keepdims=True)
    return {"gap": gap, "explained": explained, "unexplained": gap - explained, "detail": detail[:, 1:],
            "endowments": _dot_rows(ma - mb, bb)[:, None], "coefficients": _dot_rows(mb, ba - bb)[:, None],
            "interaction": _dot_rows(ma - mb, ba - bb)[:, None], "pooled": bp[:, 1:]}
