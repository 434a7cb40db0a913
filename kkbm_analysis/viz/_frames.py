"""Small data helpers shared by the chart and map functions (not public API).

The charts take plain data frames and know no registry: a frame that carries
``label_id``/``label_en`` and ``unit`` columns (one indicator) gets its axis label and
percent format from them (:func:`kkbm_analysis.indicators.with_labels` adds them to an
indicator table); otherwise pass ``label=`` and ``percent=``.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import PROVINCES_FILE, province_short_forms, region_name, text
from ..regions import NATIONAL_CODE, normalise_code


def require_columns(data: pd.DataFrame, columns: Sequence[str | None], what: str) -> None:
    """Raise KeyError naming the missing columns and the function."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{what} needs a pandas DataFrame, not {type(data).__name__}")
    missing = [c for c in columns if c is not None and c not in data.columns]
    if missing:
        raise KeyError(f"{what}: columns {missing} not in the data (it has {list(data.columns)})")


def pick_column(data: pd.DataFrame, given: str | None, candidates: Sequence[str], role: str, what: str) -> str:
    """*given*, or the first of *candidates* present in *data*."""
    if given is not None:
        require_columns(data, [given], what)
        return given
    for name in candidates:
        if name in data.columns:
            return name
    raise KeyError(f"{what}: no {role} column; name it (tried {list(candidates)})")


def floats(series: pd.Series) -> np.ndarray:
    """A numeric column as float64 with NaN for NA."""
    return pd.to_numeric(series, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def suppressed_mask(data: pd.DataFrame, column: str | None) -> np.ndarray:
    """True where the row is flagged suppressed (a missing column: nothing is)."""
    if column is None or column not in data.columns:
        return np.zeros(len(data), dtype=bool)
    return data[column].astype("boolean").fillna(False).to_numpy(dtype=bool)


LABEL_COLUMNS = ("label_id", "label_en", "unit")


def indicator_meta(data: pd.DataFrame) -> tuple[str, str, str] | None:
    """``(label_id, label_en, unit)`` of the single indicator in *data*, from its own label columns."""
    if not set(LABEL_COLUMNS) <= set(data.columns):
        return None
    meta = data[list(LABEL_COLUMNS)].dropna().drop_duplicates()
    if len(meta) != 1:
        return None
    return tuple(str(v) for v in meta.iloc[0])  # type: ignore[return-value]


def value_label(data: pd.DataFrame, value: str, label: str | None, lang: str) -> str:
    """Axis/legend label: *label*, the indicator's name in *lang*, or the column name."""
    if label is not None:
        return label
    meta = indicator_meta(data)
    if meta is not None:
        return meta[0] if lang == "id" else meta[1]
    if "indicator_id" in data.columns and data["indicator_id"].nunique() == 1:
        return str(data["indicator_id"].dropna().iloc[0])
    return text("common.value", lang) if value == "value" else value


def is_percent(data: pd.DataFrame, columns: Sequence[str | None], percent: bool | None) -> bool:
    """*percent*, or: the indicator's unit is a proportion, or every value lies in [0, 1]."""
    if percent is not None:
        return bool(percent)
    meta = indicator_meta(data)
    if meta is not None and meta[2]:
        return meta[2] == "proportion"
    values = np.concatenate([floats(data[c]) for c in columns if c is not None and c in data.columns] or [[]])
    values = values[np.isfinite(values)]
    return bool(len(values)) and bool(np.all((values >= 0) & (values <= 1)))


@functools.cache
def tile_table() -> pd.DataFrame:
    """The bundled tile grid: ``code, abbreviation, short_name, row, col`` (38 provinces)."""
    table = pd.read_csv(PROVINCES_FILE, dtype={"code": str, "abbreviation": str, "short_name": str},
                        encoding="utf-8")
    return table.astype({"row": "int64", "col": "int64"})


def region_code(value: Any) -> str | None:
    """A dotted Kemendagri code, ``'ID'`` for the nation, or None."""
    if isinstance(value, str) and value.strip().upper() == NATIONAL_CODE:
        return NATIONAL_CODE
    return normalise_code(value)


def region_names(codes: Sequence[Any], how: str | Mapping[str, str], lang: str) -> list[str]:
    """Display names for region codes.

    *how*: ``'name'`` (:func:`kkbm_analysis.i18n.region_name`), ``'short'`` (common short province
    names: Jabar, DKI Jakarta...), ``'code'``, or a mapping code -> label.
    """
    out = []
    shorts = {code: short for code, (_, short) in province_short_forms().items()} if how == "short" else {}
    for raw in codes:
        code = region_code(raw) or str(raw)
        if isinstance(how, Mapping):
            out.append(str(how.get(raw, how.get(code, raw))))
        elif how == "code":
            out.append(str(raw))
        elif code == NATIONAL_CODE:
            out.append(text("common.indonesia", lang))
        elif how == "short" and code in shorts:
            out.append(shorts[code])
        elif how in ("name", "short"):
            name = region_name(code, lang)
            out.append(name if name != code else str(raw))
        else:
            raise ValueError(f"region_labels must be 'name', 'short', 'code' or a mapping, not {how!r}")
    return out


def one_row_per(data: pd.DataFrame, keys: Sequence[str], what: str) -> None:
    """Raise a clear error when a chart meant for one cut gets several."""
    dup = data.duplicated(list(keys), keep=False)
    if dup.any():
        example = data.loc[dup, list(keys)].iloc[0].to_dict()
        varying = [c for c in ("indicator_id", "period", "disaggregation", "level")
                   if c in data.columns and data.loc[dup, c].nunique() > 1]
        hint = f" (they differ in {varying}: filter first)" if varying else ""
        raise ValueError(f"{what} needs one row per {list(keys)}; {int(dup.sum())} rows repeat, "
                         f"e.g. {example}{hint}")


def region_status(data: pd.DataFrame, *, value: str, region_col: str, suppressed: str | None,
                  what: str) -> pd.DataFrame:
    """Per region code: ``value`` (float) and ``status`` ('value', 'suppressed', 'missing').

    Codes are normalised (``3604`` -> ``'36.04'``); the national row is dropped; a row
    flagged suppressed never shows its value; a row with no value and no flag is missing.
    """
    require_columns(data, [value, region_col], what)
    data = data.reset_index(drop=True)
    codes = pd.Series([region_code(c) for c in data[region_col]], dtype="object")
    bad = codes.isna() & data[region_col].notna()
    if bad.any():
        raise ValueError(f"{what}: {region_col} values are not region codes: "
                         f"{data.loc[bad, region_col].astype(str).unique()[:5].tolist()}")
    keep = (codes.notna() & (codes != NATIONAL_CODE)).to_numpy()
    others = data.drop(columns=[c for c in (region_col, value, suppressed) if c is not None and c in data.columns])
    one_row_per(others.loc[keep].assign(region_code=codes[keep]), ["region_code"], what)
    frame = pd.DataFrame({"region_code": codes, "value": floats(data[value]),
                          "suppressed": suppressed_mask(data, suppressed)}).loc[keep]
    status = np.where(frame["suppressed"], "suppressed", np.where(np.isfinite(frame["value"]), "value", "missing"))
    frame = frame.assign(status=status)
    frame.loc[frame["status"] != "value", "value"] = np.nan
    return frame.set_index("region_code")[["value", "status"]]


def national_value(data: pd.DataFrame, *, value: str, region_col: str, suppressed: str | None) -> float | None:
    """The value of the national row (region ``'ID'``), if there is exactly one unsuppressed."""
    if region_col not in data.columns:
        return None
    rows = data.loc[data[region_col].astype("string").str.upper() == NATIONAL_CODE]
    if len(rows) != 1 or suppressed_mask(rows, suppressed).any():
        return None
    number = floats(rows[value])[0]
    return float(number) if np.isfinite(number) else None
