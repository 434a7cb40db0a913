"""Access to capital: KUR applications, approvals, amounts, time to approval and uptake among owners."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data import ProgramData, period_label
from ..i18n import number
from ..periods import period_bounds
from ._common import (
    _add_region,
    _frame,
    _observation_window,
    _periods,
    _Result,
    _share,
    _table_text,
    valid_region_codes,
)


def _owners(data: ProgramData, level: str) -> pd.DataFrame:
    """Business-owning members with the start of their first own business and their region."""
    biz = _frame(data, "businesses").dropna(subset=["owner_member_id"])
    first = biz.groupby("owner_member_id")["started_on"].min().rename("first_business_on")
    owners = first.rename_axis("member_id").reset_index().astype({"member_id": "string"})
    owners = owners.merge(data.members[["member_id", "community_id"]].astype("string"), on="member_id", how="left")
    return _add_region(data, owners, level)


@dataclass(repr=False)
class CapitalAccess(_Result):
    """KUR uptake (see :func:`capital_access`).

    Attributes
    ----------
    level, period : str
    table : DataFrame
        Per region and period: applications, applicants, approvals, approval rate, amounts
        (total, mean, median), median days to approval, business owners and the share who applied.
    loans : DataFrame
        The KUR applications with region, period and days to approval.
    """

    level: str
    period: str | None
    table: pd.DataFrame
    loans: pd.DataFrame
    synthetic: bool = False

    def summary(self) -> str:
        t, loans = self.table, self.loans
        approved = loans.loc[loans["approved"].fillna(False).astype(bool)]
        lines = [self._header(f"Access to capital (KUR) by {self.level} and {self.period or 'whole record'}"),
                 f"Overall: {len(loans):,} applications, {len(approved):,} approved "
                 f"({number(_share(len(approved), len(loans)), 0, percent=True)}), Rp {number(approved['amount_idr'].sum(), 0)} "
                 f"in total; median {number(loans['days_to_approval'].median(), 0)} days to approval.", "",
                 _table_text(t[["region_code", "period", "applications", "approval_rate", "amount_median",
                                "days_to_approval_median", "owners", "owners_applied_share"]])]
        return "\n".join(lines)


def capital_access(data: ProgramData, *, level: str = "province", period: str | None = None) -> CapitalAccess:
    """KUR applications, approvals, amounts, time to approval, uptake among business owners.

    Parameters
    ----------
    data : ProgramData
    level : str, default 'province'
        Region level (a key of :data:`~kkbm_analysis.data.REGION_LEVELS`).
    period : {'year', 'quarter', 'month'} or None
        Period of the application date; None = the whole record (``'all'``). Every
        period of the record is listed, with zero applications where there were none.

    Returns
    -------
    CapitalAccess
    """
    loans = _frame(data, "kur_loans").astype({"member_id": "string"})
    loans = _add_region(data, loans.merge(data.members[["member_id", "community_id"]].astype("string"),
                                          on="member_id", how="left"), level)
    loans = loans.assign(period=period_label(loans["applied_on"], period).to_numpy(),
                         approved=loans["approved"].fillna(False).astype(bool))
    loans["days_to_approval"] = (loans["approved_on"] - loans["applied_on"]).dt.days.where(loans["approved"])
    labels = ["all"]
    if period is not None:
        start, end = _observation_window(data)
        labels = sorted(set(loans["period"].dropna()) | set(_periods(start, end, period)["period"] if pd.notna(end)
                                                             and pd.notna(start) else ()))
    table = _capital_table(loans, _owners(data, level), valid_region_codes(data, level), labels)
    return CapitalAccess(level=level, period=period, table=table, loans=loans, synthetic=data.synthetic)


def _capital_table(loans: pd.DataFrame, owners: pd.DataFrame, codes: list[str], labels: list[str]) -> pd.DataFrame:
    g = loans.groupby(["region_code", "period"])
    amounts = loans.loc[loans["approved"]].groupby(["region_code", "period"])["amount_idr"]
    out = pd.DataFrame({
        "applications": g.size(), "applicants": g["member_id"].nunique(), "approvals": g["approved"].sum(),
        "amount_total": amounts.sum(), "amount_mean": amounts.mean(), "amount_median": amounts.median(),
        "days_to_approval_median": g["days_to_approval"].median(),
    })
    grid = pd.MultiIndex.from_product([codes, labels], names=["region_code", "period"])
    out = out.reindex(grid)
    out[["applications", "applicants", "approvals"]] = out[["applications", "applicants", "approvals"]].fillna(0)
    out["approval_rate"] = _share(out["approvals"], out["applications"])
    own = []
    for label in labels:
        end = period_bounds(label)[1] if label != "all" else pd.Timestamp.max
        o = owners.loc[owners["first_business_on"] <= end]
        applied = loans.loc[loans["period"] == label, "member_id"]
        own.append(pd.DataFrame({"owners": o.groupby("region_code").size(),
                                 "owners_applied": o.loc[o["member_id"].isin(applied)].groupby("region_code").size()})
                   .assign(period=label).rename_axis("region_code").reset_index())
    own_df = (pd.concat(own) if own else pd.DataFrame(columns=["region_code", "period", "owners", "owners_applied"])
              ).set_index(["region_code", "period"])
    out = out.join(own_df, how="left")
    out[["owners", "owners_applied"]] = out[["owners", "owners_applied"]].fillna(0)
    ints = ["applications", "applicants", "approvals", "owners", "owners_applied"]
    out[ints] = out[ints].astype("int64")
    out["owners_applied_share"] = _share(out["owners_applied"], out["owners"])
    return out.reset_index()
