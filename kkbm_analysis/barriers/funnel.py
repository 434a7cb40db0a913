"""Training into practice: the empowerment-stage funnel and where members drop out."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data import ProgramData
from ..i18n import number
from ..schema import STAGES
from ._common import _add_region, _frame, _Result, _share, _table_text

_STAGE_COLUMNS = [c for c, _, _ in STAGES]


def _stage_rows(data: ProgramData, level: str) -> pd.DataFrame:
    """Stage dates per member with the member's region."""
    stages = _frame(data, "stages")
    return _add_region(data, stages.merge(data.members[["member_id", "community_id"]], on="member_id", how="left"),
                       level)


def _funnel(rows: pd.DataFrame) -> pd.DataFrame:
    """Long funnel: per region and stage, reached and conversion rates."""
    reached = rows.dropna(subset=["region_code"]).groupby("region_code")[_STAGE_COLUMNS].count()
    long = reached.reset_index().melt(id_vars="region_code", var_name="stage", value_name="reached")
    order = {c: i + 1 for i, c in enumerate(_STAGE_COLUMNS)}
    long["stage_no"] = long["stage"].map(order)
    long = long.sort_values(["region_code", "stage_no"], kind="stable").reset_index(drop=True)
    labels = {c: (lid, len_) for c, lid, len_ in STAGES}
    long["label_id"] = long["stage"].map(lambda c: labels[c][0])
    long["label_en"] = long["stage"].map(lambda c: labels[c][1])
    g = long.groupby("region_code")["reached"]
    previous = g.shift(1)
    long["reached"] = long["reached"].astype("int64")
    long["from_previous"] = _share(long["reached"], previous)
    long["from_start"] = _share(long["reached"], g.transform("first"))
    long["lost"] = (previous - long["reached"]).astype("Int64")
    return long[["region_code", "stage_no", "stage", "label_id", "label_en", "reached", "from_previous",
                 "from_start", "lost"]]


def _largest_drop(funnel: pd.DataFrame) -> pd.DataFrame:
    """Per region, the step with the lowest conversion from the previous stage."""
    steps = funnel.dropna(subset=["from_previous"])
    idx = steps.groupby("region_code")["from_previous"].idxmin()
    out = steps.loc[idx.dropna()].reset_index(drop=True)
    prev = dict(zip(_STAGE_COLUMNS[1:], STAGES[:-1]))
    out.insert(1, "from_stage", out["stage"].map(lambda c: prev[c][0]))
    out.insert(2, "from_label_en", out["stage"].map(lambda c: prev[c][2]))
    out["drop_share"] = 1 - out["from_previous"]
    return out.rename(columns={"stage": "to_stage", "label_en": "to_label_en", "label_id": "to_label_id"})[
        ["region_code", "from_stage", "to_stage", "from_label_en", "to_label_en", "to_label_id", "lost",
         "drop_share"]]


@dataclass(repr=False)
class StageFunnel(_Result):
    """The empowerment-stage funnel (see :func:`stage_funnel`).

    Attributes
    ----------
    level : str
    funnel : DataFrame
        Per region and stage: ``reached, from_previous, from_start, lost`` (+ labels).
    largest_drop : DataFrame
        Per region, the step where the largest share of members is lost.
    """

    level: str
    funnel: pd.DataFrame
    largest_drop: pd.DataFrame
    synthetic: bool = False

    def summary(self) -> str:
        lines = [self._header(f"Training into practice: stage funnel by {self.level}")]
        for code, f in self.funnel.groupby("region_code", sort=True):
            lines += ["", f"[{code}]", _table_text(f[["label_en", "reached", "from_previous", "from_start"]])]
            drop = self.largest_drop.loc[self.largest_drop["region_code"] == code]
            if len(drop):
                d = drop.iloc[0]
                lines.append(f"largest drop: {d['from_label_en']} -> {d['to_label_en']} "
                             f"({number(d['drop_share'], 0, percent=True)} lost, {int(d['lost']):,} members)")
        return "\n".join(lines)


def stage_funnel(data: ProgramData, *, level: str = "national") -> StageFunnel:
    """Problem identification -> potential -> training -> implementation -> evaluation.

    Parameters
    ----------
    data : ProgramData
    level : str, default 'national'
        Region level (a key of :data:`~kkbm_analysis.data.REGION_LEVELS`).

    Returns
    -------
    StageFunnel
        Counts reaching each stage, conversion from the previous stage and from the start,
        and where members drop out (the lowest step conversion).
    """
    funnel = _funnel(_stage_rows(data, level))
    return StageFunnel(level=level, funnel=funnel, largest_drop=_largest_drop(funnel), synthetic=data.synthetic)
