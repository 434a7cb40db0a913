"""Writing the products beside the processed tables: one file pair per product, the records, the manifest.

Every cell file is written from the one :class:`~kkbm_analysis.suppression.PublishedTable`
(Parquet, with key-value metadata, and a plain CSV with the header first); the products
manifest ``products.json`` records what the reports need to say where the numbers come from:
data version, the data's own window (its last date is "data as of"), package version,
parameters, thresholds, suppression counts and every file with its SHA-256. Nothing in it
depends on when it was written, so the same data and seed give byte-identical products.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..config import package_version
from ..io import sha256, write_csv, write_json, write_parquet
from ..products.layout import (BARRIER_COLUMNS, CELL_COLUMNS, CELL_PRODUCTS, MANIFEST, PRODUCTS_VERSION,
                               RECOMMENDATION_COLUMNS)
from ..suppression import PublishedTable, write_published_csv, write_published_parquet
from ..verdicts import VERDICT_RULE

__all__ = ["write_products", "remove_stale", "write_manifest"]

LEGACY = ("barrier_profiles.parquet", "barrier_profiles.csv")


def _columns(product: str, frame: pd.DataFrame) -> list[str]:
    base = BARRIER_COLUMNS if product in ("barriers", "mentoring_points") else CELL_COLUMNS
    extra = {"mentoring_points": ["point_id"], "indicators": ["domain"], "resilience": ["domain"]}.get(product, [])
    return [c for c in (*base, *extra) if c in frame.columns]


def write_products(products: dict[str, PublishedTable], folder: Path, meta: dict[str, str]) -> list[Path]:
    """Write each product's Parquet and CSV; returns the files."""
    files = []
    for name, published in products.items():
        stem = CELL_PRODUCTS[name]
        frame = published.frame
        ordered = published.select(pd.Series(True, index=range(len(frame))), _columns(name, frame))
        files.append(write_published_parquet(ordered, folder / f"{stem}.parquet", {**meta, "product": name}))
        files.append(write_published_csv(ordered, folder / f"{stem}.csv"))
    return files


def write_records(records: pd.DataFrame, folder: Path, meta: dict[str, str]) -> list[Path]:
    """Write the recommendation records (structured; values copied from published cells only)."""
    frame = records[list(RECOMMENDATION_COLUMNS)]
    write_parquet(frame, folder / "recommendations.parquet", {**meta, "product": "recommendations"})
    write_csv(frame, folder / "recommendations.csv")
    return [folder / "recommendations.parquet", folder / "recommendations.csv"]


def remove_stale(folder: Path, made: set[str]) -> list[Path]:
    """Remove product files of earlier runs that this run did not make (e.g. voices no longer given)."""
    removed = []
    names = [f"{stem}.{ext}" for stem in CELL_PRODUCTS.values() for ext in ("parquet", "csv")] + list(LEGACY)
    for name in names:
        path = folder / name
        if name not in made and path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def write_manifest(folder: Path, *, data: Any, span: tuple[pd.Timestamp, pd.Timestamp], years: list[str],
                   parameters: dict[str, Any], points: list[str], published: PublishedTable,
                   products: dict[str, PublishedTable], fits: list[Any], files: list[Path],
                   voices: dict[str, Any] | None, notes: list[str]) -> Path:
    """Write ``products.json`` (see the module docstring)."""
    def counts(p: PublishedTable) -> dict[str, int]:
        return {"cells": int(p.metadata["rows"]), "primary": int(p.metadata["primary"]),
                "secondary": int(p.metadata["secondary"])}

    indicators = products["indicators"].frame
    provinces = sorted(indicators.loc[indicators["level"] == "province", "region_code"].astype(str).unique())
    manifest = {
        "products_version": PRODUCTS_VERSION, "tool": "kkbm-analysis", "package_version": package_version(),
        "data_version": data.data_version, "synthetic": bool(data.synthetic),
        "data_window": {"first": str(span[0].date()), "last": str(span[1].date())},
        "data_as_of": str(span[1].date()), "years": years, "periods": [*years, "all"], "provinces": provinces,
        "parameters": parameters, "mentoring_points": points, "thresholds": published.thresholds.as_dict(),
        "suppression": {**counts(published), "by_product": {k: counts(v) for k, v in products.items()}},
        "verdict_rule": VERDICT_RULE,
        "models": {r.fit_id: {"model": r.model, "status": r.status, "reason": r.reason} for r in fits},
        "voices": voices, "notes": list(notes),
        "files": {p.relative_to(folder).as_posix(): sha256(p) for p in sorted(files)},
    }
    path = folder / MANIFEST
    write_json(manifest, path)
    return path
