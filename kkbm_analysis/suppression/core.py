""":func:`suppress`: primary rules by kind, then secondary suppression over every exact equation."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..config import MIN_PUBLISHED_COUNT, MIN_PUBLISHED_DENOMINATOR
from . import equations as eqs
from .published import PublishedTable, _published
from .rules import CELL_KEY, KINDS, NO_RELATIONS, NUMBERS, Relations, Thresholds, default_n, primary_mask

__all__ = ["suppress"]


def _prepare(table: pd.DataFrame, registry: Mapping[str, Any] | None,
             relations: Relations) -> tuple[pd.DataFrame, str | None, Relations]:
    """The table in the cell shape: ``measure_id`` key, ``kind``, ``stock``, ``n``."""
    if isinstance(table, PublishedTable) or "suppression" in table.columns:
        raise ValueError("the table is already suppressed; suppress the analysis table instead")
    renamed = None
    df = table.reset_index(drop=True).copy()
    if "measure_id" not in df.columns and "indicator_id" in df.columns:
        renamed = "indicator_id"  # an indicator table of the analysis layer: same key, older name
        df = df.rename(columns={"indicator_id": "measure_id"})
    missing = [c for c in (*CELL_KEY, "value", "numerator", "denominator", "ci_low", "ci_high") if c not in df]
    if missing:
        raise ValueError(f"not a table of cells: missing columns {missing}")
    ids = df["measure_id"].astype(str)
    if registry is not None:  # kinds (and growth bases) from a given registry, for tables without them
        unknown = sorted(set(ids) - set(registry))
        if unknown:
            raise ValueError(f"measures not in the registry: {unknown}")
        df["kind"] = ids.map({k: v.kind for k, v in registry.items()})
        df["stock"] = ids.map({k: bool(getattr(v, "stock", False)) for k, v in registry.items()})
        bases = tuple((k, v.base) for k, v in registry.items() if getattr(v, "base", None) and k in set(ids))
        relations = relations + Relations(growth=bases)
    if "kind" not in df.columns:
        raise ValueError("the table needs a 'kind' column (how each value is made: " + ", ".join(KINDS) + "); "
                         "for indicator tables use kkbm_analysis.indicators.publish(table), or pass registry=")
    bad = sorted(set(df["kind"].astype(str)) - set(KINDS))
    if bad:
        raise ValueError(f"unknown kinds {bad}; kinds are {', '.join(KINDS)}")
    if "stock" not in df.columns:
        df["stock"] = False
    for c in CELL_KEY:
        df[c] = df[c].astype("string")
    if df.duplicated(list(CELL_KEY)).any():
        raise ValueError("the table has duplicate cells (measure, level, region, period, disaggregation)")
    kind = df["kind"].astype(str).to_numpy()
    N = df["numerator"].to_numpy(dtype=float, na_value=np.nan)
    D = df["denominator"].to_numpy(dtype=float, na_value=np.nan)
    n_default = default_n(kind, N, D)
    if "n" in df.columns:
        given = df["n"].to_numpy(dtype=float, na_value=np.nan)
        df["n"] = pd.array(np.where(np.isnan(given), n_default, given), dtype="Float64")
    else:
        df["n"] = pd.array(n_default, dtype="Float64")
    return df, renamed, relations


def _protected(primary: np.ndarray, values: np.ndarray, exposure: np.ndarray,
               thresholds: Thresholds) -> np.ndarray:
    """The numbers of primary cells that must stay unknown (rows x numerator, denominator, n).

    The numerator always; the denominator and n when they are themselves small counts
    (``0 < x < min_count``), except the denominator of a ratio or rate (exposure).
    """
    with np.errstate(invalid="ignore"):
        small = (values > 0) & (values < thresholds.min_count)
    out = np.zeros(values.shape, dtype=bool)
    out[:, 0] = primary
    out[:, 1] = primary & small[:, 1] & ~exposure
    out[:, 2] = primary & small[:, 2]
    return out


def suppress(table: pd.DataFrame, *, min_count: int = MIN_PUBLISHED_COUNT,
             min_denominator: int = MIN_PUBLISHED_DENOMINATOR, relations: Relations = NO_RELATIONS,
             communities: Any = None, synthetic: bool | None = None,
             registry: Mapping[str, Any] | None = None) -> PublishedTable:
    """Apply primary and secondary small-cell suppression (see the package docstring).

    Parameters
    ----------
    table : DataFrame
        Cells: ``measure_id`` (or ``indicator_id``), ``level, region_code, period,
        disaggregation, value, numerator, denominator, ci_low, ci_high``, ``kind`` (one of
        :data:`KINDS`), optionally ``n`` (units behind the cell; default by kind), ``stock``
        (value at the period's end: no time equations) and any descriptive columns, which are
        kept. Include the totals (national, ``'all'``, years) you publish: equations are built
        from the rows present.
    min_count, min_denominator : int
        Thresholds (defaults from :mod:`kkbm_analysis.config`).
    relations : Relations
        Exact relations between measures declared by the layers that define them
        (e.g. :data:`kkbm_analysis.indicators.RELATIONS`).
    communities : DataFrame or ProgramData, optional
        Community -> region codes; needed only when the table has community rows and a
        coarser level other than national.
    synthetic : bool, optional
        Whether the data are synthetic (default ``table.attrs['synthetic']``; unknown is
        written as ``'unknown'``, never as false).
    registry : mapping, optional
        For a table without ``kind``: measure id -> object with ``kind`` (and ``stock``,
        ``base``), e.g. a registry of indicators.

    Returns
    -------
    PublishedTable
        The input columns with ``n`` filled in, :data:`NUMBERS` NA where withheld, plus
        ``suppressed`` and ``suppression`` (``'primary'``, ``'secondary'`` or NA).
    """
    if min_count < 1 or min_denominator < 1:
        raise ValueError("thresholds must be at least 1")
    thresholds = Thresholds(min_count, min_denominator)
    df, renamed, relations = _prepare(table, registry, relations)
    kind = df["kind"].astype(str).to_numpy()
    values = np.column_stack([df[c].to_numpy(dtype=float, na_value=np.nan) for c in ("numerator", "denominator", "n")])
    primary = primary_mask(kind, values[:, 0], values[:, 2], thresholds)
    exposure = np.isin(kind, ["ratio", "rate"])
    stock = df["stock"].to_numpy(dtype=bool, na_value=False)
    time_additive = ~stock & ~np.isin(kind, ["median", "growth"])
    cells = eqs.Cells(df)
    found = eqs.equations(df, cells, values, time_additive, kind != "growth", relations, communities, exposure)
    hidden = eqs.secondary(_protected(primary, values, exposure, thresholds), found,
                           np.where(np.isnan(values), np.inf, np.abs(values)))
    supp = primary | hidden.any(axis=1)
    supp |= eqs.growth(df, cells, relations, supp)

    out = df
    for c in NUMBERS:
        out[c] = out[c].astype("Float64").mask(supp)
    out["suppressed"] = supp
    reason = np.where(primary, "primary", np.where(supp, "secondary", None))
    out["suppression"] = pd.array(reason, dtype="string")
    if "value" in out:
        order = [c for c in df.columns if c not in ("suppressed", "suppression")] + ["suppressed", "suppression"]
        out = out[order]
    if renamed:
        out = out.rename(columns={"measure_id": renamed})
    meta = {"synthetic": table.attrs.get("synthetic") if synthetic is None else bool(synthetic),
            "data_version": table.attrs.get("data_version", "unknown"), "span": table.attrs.get("span"),
            "rows": len(out), "primary": int(primary.sum()), "secondary": int((supp & ~primary).sum())}
    return _published(out, thresholds, meta)
