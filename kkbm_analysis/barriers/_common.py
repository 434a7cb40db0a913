"""Helpers shared by the barrier analyses: typed tables, regions of communities, month arithmetic, results.

Every analysis places a row in the region of its community (:func:`_add_region`), counts
in calendar months (:func:`_months_index`, :func:`_explode_months`) over the record
(:func:`_observation_window`, :func:`_periods`), and returns a :class:`_Result` that prints
a summary.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from ..codes import positions
from ..data import NATIONAL_CODE, ProgramData, period_label, region_column
from ..periods import period_bounds
from ..schema import TABLES

ORGANISER_ROLES = ("co", "penggerak")


DAYS_PER_MONTH = 365.25 / 12


HANDOVER = pd.DateOffset(months=1)


def _frame(data: ProgramData, table: str) -> pd.DataFrame:
    """A table with dates, booleans and numbers typed as the schema says (fixtures may be loose)."""
    df = data.tables[table]
    columns = TABLES[table].schema.columns
    fixes = {}
    for name, c in columns.items():
        if name not in df.columns:
            continue
        dtype = str(c.dtype)
        if dtype.startswith("datetime") and not pd.api.types.is_datetime64_dtype(df[name]):
            fixes[name] = pd.to_datetime(df[name])
        elif dtype == "boolean" and str(df[name].dtype) != "boolean":
            fixes[name] = df[name].astype("boolean")
        elif dtype in ("Float64", "Int64") and not pd.api.types.is_numeric_dtype(df[name]):
            fixes[name] = pd.to_numeric(df[name])
    return df.assign(**fixes) if fixes else df


def _region_codes(data: ProgramData, level: str) -> pd.Series:
    """community_id -> code of its region at ``level`` ('ID' nationally)."""
    column = region_column(level)
    com = data.communities.drop_duplicates("community_id")
    values = NATIONAL_CODE if column is None else com[column].to_numpy()
    return pd.Series(values, index=com["community_id"].to_numpy(), dtype="string")


def _add_region(data: ProgramData, df: pd.DataFrame, level: str, on: str = "community_id") -> pd.DataFrame:
    """Add ``region_code`` (the region of the row's community at ``level``; NA when it has none)."""
    codes = _region_codes(data, level)
    at = positions(df[on], codes.index)  # community ids are unique in ``codes``: a join by position
    return df.assign(region_code=pd.Series(codes.array.take(at, allow_fill=True), index=df.index, dtype="string"))


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``values[key]`` for each key (NA/NaT where missing), keeping the values' dtype even when empty."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index, dtype=values.dtype)


def valid_region_codes(data: ProgramData, level: str) -> list[str]:
    """Region codes at ``level`` that have at least one community (``['ID']`` nationally)."""
    return sorted(_region_codes(data, level).dropna().unique().tolist())


def _share(num: Any, den: Any) -> Any:
    """num / den, NA where den is 0 (works on scalars and Series)."""
    if isinstance(den, pd.Series):
        return (num / den.where(den != 0)).astype("Float64")
    return float(num) / float(den) if den else np.nan


def _months_index(dates: pd.Series) -> pd.Series:
    """Calendar month as one integer (year * 12 + month - 1)."""
    return dates.dt.year * 12 + dates.dt.month - 1


def _month_start(index: pd.Series | np.ndarray) -> pd.Series:
    index = pd.Series(np.asarray(index, dtype="int64"))
    return pd.to_datetime(pd.DataFrame({"year": index // 12, "month": index % 12 + 1, "day": 1}))


def _explode_months(df: pd.DataFrame, start: str, end: str, last_month: int) -> pd.DataFrame:
    """One row per calendar month from ``start``'s month to ``end``'s (or ``last_month``)."""
    df = df.reset_index(drop=True)
    first = _months_index(df[start]).astype("int64")
    stop = _months_index(df[end]).fillna(last_month).clip(upper=last_month).astype("int64")
    n = (stop - first + 1).clip(lower=0).to_numpy()
    out = df.loc[df.index.repeat(n)].reset_index(drop=True)
    within = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)  # 0, 1, ... within each row's months
    out["month"] = np.repeat(first.to_numpy(), n) + within
    return out


def _observation_window(data: ProgramData, as_of: Any = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start (earliest community formation) and end (``as_of`` or the latest date anywhere)."""
    start = _frame(data, "communities")["formed_on"].min()
    if pd.isna(start):
        start = _frame(data, "staff")["started_on"].min()
    if as_of is not None:
        return start, pd.Timestamp(as_of).normalize()
    latest = [_frame(data, t)[c].max() for t, spec in TABLES.items() for c, col in spec.schema.columns.items()
              if str(col.dtype).startswith("datetime") and c in data.tables[t].columns]
    return start, max((d for d in latest if pd.notna(d)), default=pd.NaT)


def _table_text(df: pd.DataFrame, max_rows: int = 40) -> str:
    if df.empty:
        return "(no rows)"
    shown = df.head(max_rows)
    more = f"\n... {len(df) - max_rows} more rows" if len(df) > max_rows else ""
    return shown.to_string(index=False, float_format=lambda v: f"{v:,.3g}") + more


class _Result(ABC):
    """Shared behaviour: a summary a person reads, used for print and for Jupyter."""

    synthetic: bool

    @abstractmethod
    def summary(self) -> str:
        """The result as text a person reads (also ``print`` and Jupyter)."""

    def _header(self, title: str) -> str:
        flag = "SYNTHETIC DATA — " if self.synthetic else ""
        return f"{flag}{title}\n{'=' * len(flag + title)}"

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<pre>{escape(self.summary())}</pre>"


def _periods(start: pd.Timestamp, end: pd.Timestamp, period: str | None) -> pd.DataFrame:
    """Month grid of the record: ``month`` (int), ``period`` label, ``period_start``, ``period_end``."""
    months = np.arange(_months_index(pd.Series([start]))[0], _months_index(pd.Series([end]))[0] + 1)
    grid = pd.DataFrame({"month": months})
    grid["period"] = period_label(_month_start(months), period).to_numpy()
    if period is None:
        grid["period_start"], grid["period_end"] = start, end
    else:
        bounds = {label: period_bounds(label) for label in grid["period"].unique()}
        grid["period_start"] = grid["period"].map(lambda p: bounds[p][0])
        grid["period_end"] = grid["period"].map(lambda p: bounds[p][1])
    return grid
