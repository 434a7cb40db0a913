"""Empowerment mapped to the programme's activities, and its association with the capacities.

The KAWAN-PMI study (seed 004) reads empowerment as *enabling*, *empowering* and
*protecting*. Each is mapped to two activities the programme's own tables record, and each
activity becomes a coverage value per interview (at the interview date):

enabling = information and training
    ``training``: the member attended a training (entry or other) on or before the
    interview (0/1). ``information``: the member's community held an information service
    or dissemination event in the 12 months before the interview (0/1).
empowering = business and mentoring
    ``mentoring``: mandated mentoring points received / number of points (0-1).
    ``business``: the member owns a business running on the interview date (0/1).
protecting = advocacy and prevention
    ``advocacy``: the community handled an advocacy case opened in the 12 months before
    the interview (0/1). ``prevention``: the community held an event against
    non-procedural placement in those 12 months (0/1).

A dimension's coverage is the mean of its two activities (0-1). :func:`empowerment_map`
reports coverage by province and nationally, and regresses each capacity's Bartlett
score on the three coverages (and round indicators) with errors clustered by community
(CR2, Bell-McCaffrey degrees of freedom; see :mod:`kkbm_analysis.resilience._cluster`).
These are **associations**: members who receive more of the programme may differ in ways
the model does not see.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data import NATIONAL_CODE
from ..models._base import check_clusters, check_min_rows
from ..i18n import ci_label, number, text
from ._base import ResilienceResult, capacity_label, check_lang
from ._cluster import cluster_table
from .confirmatory import CFAResult, cfa
from .frames import ROUNDS

WINDOW_DAYS = 365
#: The three sides of empowerment and the activities that make each (labels: ``resilience.dimension.*``).
DIMENSIONS: dict[str, tuple[str, str]] = {
    "enabling": ("training", "information"),
    "empowering": ("mentoring", "business"),
    "protecting": ("advocacy", "prevention"),
}
ACTIVITIES: tuple[str, ...] = tuple(a for acts in DIMENSIONS.values() for a in acts)


def dimension_label(dimension: str, lang: str = "en") -> str:
    """'enabling' / 'pemungkinan (enabling)'."""
    return text(f"resilience.dimension.{dimension}", lang)


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).astype("datetime64[ns]")


def _community_events(table: pd.DataFrame, date_col: str, rows: pd.DataFrame) -> np.ndarray:
    """1 where the row's community has an event in the WINDOW_DAYS before the interview."""
    if table is None or table.empty:
        return np.zeros(len(rows))
    ev = pd.DataFrame({"community_id": table["community_id"].astype(str), "day": _dates(table[date_col])})
    key = pd.DataFrame({"community_id": rows["member_community_id"].astype(str).to_numpy(),
                        "when": _dates(rows["interviewed_on"]).to_numpy(), "_row": np.arange(len(rows))})
    m = key.merge(ev, on="community_id")
    hit = m[(m["day"] <= m["when"]) & (m["day"] > m["when"] - pd.Timedelta(days=WINDOW_DAYS))]["_row"].unique()
    out = np.zeros(len(rows))
    out[hit] = 1.0
    return out


def coverage(data, frame: pd.DataFrame) -> pd.DataFrame:
    """Activity and dimension coverage of every interview row (module docstring)."""
    from ..schema import load_mentoring_points

    key = pd.DataFrame({"member_id": frame["member_id"].astype(str).to_numpy(),
                        "when": _dates(frame["interviewed_on"]).to_numpy(), "_row": np.arange(len(frame))})
    out = pd.DataFrame(index=frame.index)
    att = data.attendance[["session_id", "member_id"]].merge(data.sessions[["session_id", "kind", "held_on"]],
                                                             on="session_id")
    points = load_mentoring_points().point_ids
    trained = att[~att["kind"].isin(points)].assign(member_id=lambda d: d["member_id"].astype(str))
    m = key.merge(trained, on="member_id")
    hit = m.loc[_dates(m["held_on"]) <= m["when"], "_row"].unique()
    training = np.zeros(len(frame))
    training[hit] = 1.0
    out["training"] = training
    out["information"] = _community_events(data.info_services, "held_on", frame)
    out["mentoring"] = frame["points"].to_numpy(dtype=float) / len(points)
    out["business"] = _owns_business(data, key)
    out["advocacy"] = _community_events(data.advocacy_cases, "opened_on", frame)
    out["prevention"] = _community_events(data.prevention_events, "held_on", frame)
    for dim, acts in DIMENSIONS.items():
        out[dim] = out[list(acts)].mean(axis=1)
    return out


def _owns_business(data, key: pd.DataFrame) -> np.ndarray:
    bus = data.businesses.loc[data.businesses["owner_member_id"].notna(), ["owner_member_id", "started_on", "closed_on"]]
    b = bus.assign(member_id=bus["owner_member_id"].astype(str))
    m = key.merge(b, on="member_id")
    running = (_dates(m["started_on"]) <= m["when"]) & (_dates(m["closed_on"]).isna() | (_dates(m["closed_on"]) > m["when"]))
    out = np.zeros(len(key))
    out[m.loc[running, "_row"].unique()] = 1.0
    return out


@dataclass
class EmpowermentResult(ResilienceResult):
    """Result of :func:`empowerment_map`.

    Attributes
    ----------
    estimates : DataFrame
        Associations: ``capacity, term`` (enabling, empowering, protecting), ``estimate``
        (SD of the capacity for full against no coverage), ``std_error, ci_low, ci_high,
        p_value``.
    coverage_table : DataFrame
        ``region_code, round, n`` and the mean of every activity and dimension.
    coverage : DataFrame
        Per interview row: the activities and dimensions (0-1).
    """

    coverage_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    n_clusters: int = 0
    _tables: tuple = (("coverage_table", "Coverage (share of members reached)"),)
    title = "Empowerment (enabling, empowering, protecting) and the capacities: associations"

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        nat = self.coverage_table[(self.coverage_table["region_code"] == NATIONAL_CODE)
                                  & (self.coverage_table["round"] == "all")]
        cov = nat.iloc[0] if len(nat) else None
        t = (self.estimates["estimate"] / self.estimates["std_error"]).abs()
        strongest = self.estimates.loc[t.idxmax()]  # the most clearly estimated association
        coverage = "" if cov is None else text("resilience.empowerment.coverage", lang, items=", ".join(
            f"{dimension_label(d, lang)} {number(cov[d], 0, lang, percent=True)}" for d in DIMENSIONS))
        return coverage + text("resilience.empowerment.clearest", lang, dimension=dimension_label(strongest["term"], lang),
                               capacity=capacity_label(strongest["capacity"], lang),
                               estimate=number(strongest["estimate"], 2, lang, signed=True),
                               ci=ci_label(strongest["ci_low"], strongest["ci_high"], 2, lang))


def coverage_summary(frame: pd.DataFrame, cov: pd.DataFrame) -> pd.DataFrame:
    """Mean coverage per province and nationally, per round and over all rounds."""
    cols = [*ACTIVITIES, *DIMENSIONS]
    df = pd.concat([frame[["province_code", "round"]], cov[cols]], axis=1)
    parts = []
    for region, sub in [(NATIONAL_CODE, df), *((str(p), g) for p, g in df.groupby("province_code"))]:
        for rnd, g in [("all", sub), *((r, sub[sub["round"] == r]) for r in ROUNDS)]:
            if len(g):
                parts.append({"region_code": region, "round": rnd, "n": len(g), **g[cols].mean().to_dict()})
    return pd.DataFrame(parts)


def empowerment_map(data, frame: pd.DataFrame, model: CFAResult | None = None) -> EmpowermentResult:
    """Coverage of enabling, empowering and protecting, and their association with the capacities."""
    import statsmodels.api as sm

    model = model or cfa(frame, round="baseline")
    notes = list(model.notes)
    cov = coverage(data, frame)
    scores = model.scores(frame, method="bartlett")
    X = cov[list(DIMENSIONS)].astype(float)
    for r in [r for r in ROUNDS if (frame["round"] == r).any()][1:]:
        X[f"round_{r}"] = (frame["round"] == r).astype(float)
    X = sm.add_constant(X, has_constant="add")
    rows = []
    n_clusters = 0
    for cap in model.structure:
        df = pd.concat([scores[cap].rename("y"), X, frame["member_community_id"].astype(str).rename("g")], axis=1)
        df = df.dropna()
        check_min_rows(len(df), "the empowerment association model")
        n_clusters = check_clusters(df["g"], notes)
        t = cluster_table(sm.OLS(df["y"], df[X.columns]).fit(), df["g"].to_numpy())
        rows.append(t[t["term"].isin(DIMENSIONS)].assign(capacity=cap))
    est = pd.concat(rows, ignore_index=True)[["capacity", "term", "estimate", "std_error", "ci_low", "ci_high",
                                               "p_value"]]
    notes.append("associations adjusted for survey round only; coverage is not randomly assigned")
    return EmpowermentResult(est, len(frame), list(dict.fromkeys(notes)), bool(frame.attrs.get("synthetic", False)),
                             coverage_table=coverage_summary(frame, cov), coverage=cov, n_clusters=n_clusters)
