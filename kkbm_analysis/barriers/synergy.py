"""Government synergy: village regulations (Perdes), village-government involvement, Disnakertrans."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..data import ProgramData
from ..periods import in_period
from ._common import _add_region, _frame, _lookup, _Result, _share, _table_text, valid_region_codes


def _synergy_table(data: ProgramData, level: str, *, as_of: Any = None,
                   case_period: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Perdes coverage, village-government involvement, Disnakertrans informed, by region."""
    com = _add_region(data, _frame(data, "communities"), level).dropna(subset=["region_code"])
    regs = _frame(data, "village_regulations")
    if as_of is not None:
        regs = regs.loc[regs["adopted_on"] <= pd.Timestamp(as_of)]
    villages = com.dropna(subset=["village_code"])[["region_code", "village_code"]].drop_duplicates()
    perdes = villages.merge(regs[["village_code", "title", "adopted_on"]], on="village_code")
    first = regs.groupby("village_code")["adopted_on"].min()
    villages = villages.assign(perdes_on=_lookup(villages["village_code"], first))
    cases = _add_region(data, _frame(data, "advocacy_cases"), level)
    cases = cases.loc[in_period(cases["opened_on"], case_period)]
    gv, gov, cs = villages.groupby("region_code"), com.groupby("region_code"), cases.groupby("region_code")
    out = pd.DataFrame({
        "villages": gv.size(), "villages_with_perdes": gv["perdes_on"].count(),
        "first_perdes_on": gv["perdes_on"].min(), "last_perdes_on": gv["perdes_on"].max(),
        "communities": gov.size(), "gov_involvement_known": gov["village_gov_involved"].count(),
        "gov_involved": gov["village_gov_involved"].sum(),
        "cases": cs.size(), "disnakertrans_known": cs["disnakertrans_informed"].count(),
        "disnakertrans_informed": cs["disnakertrans_informed"].sum(),
    }).reindex(valid_region_codes(data, level))
    counts = [c for c in out.columns if not c.endswith("_on")]
    out[counts] = out[counts].fillna(0).astype("int64")
    out["perdes_share"] = _share(out["villages_with_perdes"], out["villages"])
    out["gov_involved_share"] = _share(out["gov_involved"], out["gov_involvement_known"])
    out["disnakertrans_share"] = _share(out["disnakertrans_informed"], out["disnakertrans_known"])
    out = out.rename_axis("region_code").reset_index()
    return out, perdes.sort_values(["region_code", "adopted_on"], kind="stable").reset_index(drop=True)


@dataclass(repr=False)
class GovernmentSynergy(_Result):
    """Village regulations, village-government involvement, Disnakertrans (see :func:`government_synergy`).

    Attributes
    ----------
    level : str
    table : DataFrame
        Per region: villages, villages with a Perdes and its share, first/last adoption,
        communities with village-government involvement and its share, advocacy cases and
        the share of which Disnakertrans was informed.
    perdes : DataFrame
        Each Perdes in a community village: region, village, title, adoption date.
    """

    level: str
    table: pd.DataFrame
    perdes: pd.DataFrame
    synthetic: bool = False

    def summary(self) -> str:
        t = self.table
        lines = [self._header(f"Government synergy by {self.level}"),
                 f"Overall: {int(t['villages_with_perdes'].sum()):,} of {int(t['villages'].sum()):,} community "
                 f"villages have a Perdes on PMI protection; village government involved in "
                 f"{int(t['gov_involved'].sum()):,} of {int(t['gov_involvement_known'].sum()):,} communities; "
                 f"Disnakertrans informed of {int(t['disnakertrans_informed'].sum()):,} of "
                 f"{int(t['disnakertrans_known'].sum()):,} advocacy cases.", "",
                 _table_text(t[["region_code", "villages", "perdes_share", "first_perdes_on", "gov_involved_share",
                                "cases", "disnakertrans_share"]])]
        return "\n".join(lines)


def government_synergy(data: ProgramData, *, level: str = "province", as_of: Any = None) -> GovernmentSynergy:
    """Perdes on PMI protection, village-government involvement, Disnakertrans informed.

    Parameters
    ----------
    data : ProgramData
    level : str, default 'province'
        Region level (a key of :data:`~kkbm_analysis.data.REGION_LEVELS`).
    as_of : date-like, optional
        Count only Perdes adopted on or before this date (default: all).

    Returns
    -------
    GovernmentSynergy
    """
    table, perdes = _synergy_table(data, level, as_of=as_of)
    return GovernmentSynergy(level=level, table=table, perdes=perdes, synthetic=data.synthetic)
