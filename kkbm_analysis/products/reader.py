"""Reading the analysis products: :class:`Products`, typed accessors returning frames of published cells.

::

    from kkbm_analysis.products import Products
    p = Products.open("data/processed/demo")          # refuses a folder without products: run kkbm analyse
    p.data_as_of, p.years, p.provinces                 # '2020-12-31', ['2017', ...], ['18', '32', ...]
    p.indicators(measure="members", period="2018")     # every region's cell of one measure and year
    p.cell("barriers", "members_per_organiser", "35", "2018")   # one cell (a Series)
    p.value("indicators", "kur_uptake", "36", "all")   # its value, None when withheld
    p.trend("barriers", "members_per_organiser", "35") # one region over the years, the national value beside
    p.compare("barriers", "mentoring_coverage", "2018")  # every province and the nation, one period
    p.fit("business_model").table("marginal_effects")  # a model fit: numbers, words, tables
    p.recommendations(region="35", period="2018")      # evidence-graded records

Every frame is a copy of published cells (:data:`.layout.CELL_COLUMNS`; barrier cells add
``national_value, verdict, verdict_rule``): a withheld cell has every number NA and
``suppressed`` True. Nothing here computes a number; the products are the one source.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..io import ManifestFacts, sha256
from .layout import CELL_PRODUCTS, FITS, JOINT_DISPLAY, MANIFEST, MODELS_DIR, PRODUCTS_VERSION

__all__ = ["Products", "ProductsMissing", "ModelFit", "NATIONAL"]

#: Region code of the nation.
NATIONAL = "ID"

#: The columns :meth:`Products.cells` filters on (each indexed once per product).
FILTER_COLUMNS: tuple[str, ...] = ("measure_id", "region_code", "period", "disaggregation", "level")


class ProductsMissing(FileNotFoundError):
    """A processed folder has no (usable) analysis products; the message says what to run."""


@dataclass(frozen=True)
class ModelFit:
    """One model fit as ``kkbm analyse`` stored it.

    Attributes
    ----------
    fit_id, model : str
        E.g. ``'business_model'`` / ``'business_running_model'``, ``'perdes_did'``, ``'gap_35'``.
    status : {'ok', 'failed'}
    reason : str
        Why it failed (empty when ``ok``).
    n_obs : int
    notes : list of str
        Warnings and analysis choices (fragile results say so here).
    numbers : dict
        Structured results (e.g. ``overall`` of the DiD, ``means`` of a gap decomposition).
    parameters : dict
    seed : int or None
    interpretation : dict
        The model's own reading in every language (``{'id': ..., 'en': ...}``).
    """

    fit_id: str
    model: str
    status: str
    reason: str
    n_obs: int
    notes: list[str]
    numbers: dict[str, Any]
    parameters: dict[str, Any]
    seed: int | None
    interpretation: dict[str, str]
    files: dict[str, Path] = field(default_factory=dict, repr=False)
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def text(self, lang: str) -> str:
        """The interpretation in ``lang`` (empty when the fit failed)."""
        return self.interpretation.get(lang, "")

    def table(self, name: str = "estimates") -> pd.DataFrame:
        """One of its tables (``estimates``; ``marginal_effects``, ``event_study``, ``by_factor``...)."""
        if name not in self.files:
            raise KeyError(f"fit {self.fit_id} has no table {name!r}; tables: {', '.join(self.files) or '(none)'}")
        if name not in self._tables:  # read once; every caller gets its own copy
            self._tables[name] = pd.read_parquet(self.files[name])
        return self._tables[name].copy()

    def row(self, term: str, name: str = "estimates") -> pd.Series:
        """The row of one term of a table (KeyError naming the terms)."""
        t = self.table(name)
        hit = t.loc[t["term"] == term]
        if hit.empty:
            raise KeyError(f"fit {self.fit_id} has no term {term!r} in {name}; terms: {list(t['term'])}")
        return hit.iloc[0]


class Products(ManifestFacts):
    """The analysis products of one processed folder (see the module docstring).

    Use :meth:`open`. Frames are read once per object and handed out as copies.
    """

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        self.folder = folder
        self.manifest = manifest
        self._frames: dict[str, pd.DataFrame] = {}
        self._rows: dict[str, dict[str, dict[str, np.ndarray]]] = {}
        self._keys: dict[str, dict[tuple, int]] = {}
        self._fits: dict[str, Any] | None = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, processed_dir: str | Path) -> "Products":
        """Open the products of a processed folder.

        Raises
        ------
        ProductsMissing
            No ``products.json`` (the folder was never analysed), a layout of another version,
            or a product file missing.
        """
        folder = Path(processed_dir)
        path = folder / MANIFEST
        if not path.is_file():
            raise ProductsMissing(f"{folder} has no analysis products ({MANIFEST}); run `kkbm analyse {folder}` first")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProductsMissing(f"{path} cannot be read ({type(exc).__name__}); run `kkbm analyse {folder}` again"
                                  ) from None
        if manifest.get("products_version") != PRODUCTS_VERSION:
            raise ProductsMissing(f"{path} was written by another version of kkbm-analysis (layout "
                                  f"{manifest.get('products_version')}, expected {PRODUCTS_VERSION}); run `kkbm "
                                  f"analyse {folder}` again")
        missing = [name for name in manifest.get("files", {}) if not (folder / name).exists()]
        if missing:
            raise ProductsMissing(f"{folder} is missing analysis products ({', '.join(missing[:5])}); run `kkbm "
                                  f"analyse {folder}` again")
        return cls(folder, manifest)

    def verify(self) -> list[str]:
        """Files whose SHA-256 differs from the manifest (empty when every product is as written)."""
        return [name for name, digest in self.manifest.get("files", {}).items()
                if not (self.folder / name).is_file() or sha256(self.folder / name) != digest]

    # ------------------------------------------------------------------ what the products cover


    @property
    def data_as_of(self) -> str:
        """The data's own last date (ISO): what "data as of" means in every report."""
        return str(self.manifest["data_as_of"])

    @property
    def data_window(self) -> tuple[str, str]:
        w = self.manifest["data_window"]
        return str(w["first"]), str(w["last"])

    @property
    def years(self) -> list[str]:
        """Every year of the data (the periods besides ``'all'``)."""
        return list(self.manifest.get("years", []))

    @property
    def periods(self) -> list[str]:
        return list(self.manifest.get("periods", [*self.years, "all"]))

    @property
    def provinces(self) -> list[str]:
        """Province codes with published cells."""
        return list(self.manifest.get("provinces", []))

    @property
    def thresholds(self) -> dict[str, int]:
        return dict(self.manifest.get("thresholds", {}))

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.manifest.get("parameters", {}))

    @property
    def point_ids(self) -> list[str]:
        """Ids of the mandated mentoring points, in order."""
        return list(self.manifest.get("mentoring_points", []))

    def has(self, product: str) -> bool:
        """Whether this folder has a product (resilience and voices are optional)."""
        return f"{CELL_PRODUCTS[product]}.parquet" in self.manifest.get("files", {})

    # ------------------------------------------------------------------ cells
    def _frame(self, product: str) -> pd.DataFrame:
        if product not in CELL_PRODUCTS:
            raise KeyError(f"unknown product {product!r}; products: {', '.join(CELL_PRODUCTS)}")
        if product not in self._frames:
            if not self.has(product):
                raise ProductsMissing(f"{self.folder} has no {product} product (see {MANIFEST})")
            self._frames[product] = pd.read_parquet(self.folder / f"{CELL_PRODUCTS[product]}.parquet")
        return self._frames[product]

    def _row_index(self, product: str) -> dict[str, dict[str, np.ndarray]]:
        """Row positions of a product's cells by the value of each filter column (built once per product)."""
        if product not in self._rows:
            f = self._frame(product)
            self._rows[product] = {column: f.groupby(column, sort=False).indices
                                   for column in FILTER_COLUMNS if column in f.columns}
        return self._rows[product]

    def cells(self, product: str, *, measure: str | Iterable[str] | None = None, region: str | None = None,
              period: str | Iterable[str] | None = None, disaggregation: str | None = "all",
              level: str | None = None) -> pd.DataFrame:
        """Published cells of a product, filtered (None: any). ``disaggregation='all'`` by default.

        The rows keep the product's order. Filters are looked up in an index of row positions
        (:meth:`_row_index`) rather than compared over the whole frame: a report asks for
        hundreds of single cells.
        """
        f = self._frame(product)
        index = self._row_index(product)
        rows: np.ndarray | None = None
        for column, wanted in (("measure_id", measure), ("region_code", region), ("period", period),
                               ("disaggregation", disaggregation), ("level", level)):
            if wanted is None:
                continue
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            positions = index[column]
            hit = np.unique(np.concatenate([positions.get(v, _NO_ROWS) for v in values] or [_NO_ROWS]))
            rows = hit if rows is None else np.intersect1d(rows, hit, assume_unique=True)
        return (f.copy() if rows is None else f.take(rows)).reset_index(drop=True)

    def find(self, product: str, measure: str, region: str, period: str, disaggregation: str = "all"
             ) -> pd.Series | None:
        """One published cell (a copy), or None when there is none: what :meth:`cells` gives first for
        these four values, looked up by its key (a dict built once per product)."""
        if product not in self._keys:
            groups = self._frame(product).groupby(["measure_id", "region_code", "period", "disaggregation"],
                                                  sort=False).indices
            self._keys[product] = {key: int(positions[0]) for key, positions in groups.items()}
        position = self._keys[product].get((measure, region, period, disaggregation))
        return None if position is None else self._frame(product).iloc[position].copy()

    def indicators(self, **filters: Any) -> pd.DataFrame:
        """Indicator cells (``indicators.parquet``); filters as :meth:`cells`."""
        return self.cells("indicators", **filters)

    def barriers(self, **filters: Any) -> pd.DataFrame:
        """Barrier-measure cells with ``national_value`` and ``verdict`` (``barriers.parquet``)."""
        return self.cells("barriers", **filters)

    def mentoring_points(self, **filters: Any) -> pd.DataFrame:
        """Per-point cells: ``mentoring_point:<id>`` shares and ``mentoring_sessions:<id>`` counts."""
        return self.cells("mentoring_points", **filters)

    def resilience(self, **filters: Any) -> pd.DataFrame:
        """Resilience indicator cells per survey round (when the survey is in the data)."""
        return self.cells("resilience", **filters)

    def voices(self, **filters: Any) -> pd.DataFrame:
        """Theme-prevalence cells of the coded qualitative sources (when given)."""
        return self.cells("voices", **filters)

    def cell(self, product: str, measure: str, region: str, period: str = "all",
             disaggregation: str = "all") -> pd.Series:
        """One published cell (KeyError when there is no such cell)."""
        hit = self.cells(product, measure=measure, region=region, period=period, disaggregation=disaggregation)
        if hit.empty:
            raise KeyError(f"no {product} cell {measure} / {region} / {period} / {disaggregation}")
        return hit.iloc[0]

    def value(self, product: str, measure: str, region: str, period: str = "all",
              disaggregation: str = "all") -> float | None:
        """A cell's value; None when withheld, missing or absent."""
        try:
            c = self.cell(product, measure, region, period, disaggregation)
        except KeyError:
            return None
        return None if bool(c["suppressed"]) or pd.isna(c["value"]) else float(c["value"])

    def with_national(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (cells of any product) with the national cell's ``national_value``,
        ``national_ci_low``, ``national_ci_high`` and ``national_suppressed`` beside each row."""
        key = ["measure_id", "period", "disaggregation"]
        if frame.empty:
            return frame.assign(national_value=pd.NA, national_ci_low=pd.NA, national_ci_high=pd.NA,
                                national_suppressed=pd.NA)
        product = _product_of(self, frame)
        nat = self.cells(product, measure=frame["measure_id"].unique().tolist(), level="national",
                         disaggregation=None)
        nat = nat[[*key, "value", "ci_low", "ci_high", "suppressed"]].rename(columns={
            "value": "national_value", "ci_low": "national_ci_low", "ci_high": "national_ci_high",
            "suppressed": "national_suppressed"})
        drop = [c for c in ("national_value",) if c in frame.columns]
        return frame.drop(columns=drop).merge(nat, on=key, how="left")

    def trend(self, product: str, measure: str, region: str, disaggregation: str = "all") -> pd.DataFrame:
        """One region's cells of a measure over the years (``'all'`` left out), the national value beside."""
        f = self.cells(product, measure=measure, region=region, period=self.years, disaggregation=disaggregation)
        f = self.with_national(f)
        return f.sort_values("period", kind="stable").reset_index(drop=True)

    def compare(self, product: str, measure: str | Iterable[str], period: str,
                disaggregation: str = "all") -> pd.DataFrame:
        """Every province's cells of a period (the nation last), the national value beside."""
        f = self.cells(product, measure=measure, period=period, disaggregation=disaggregation)
        f = self.with_national(f)
        f["_national"] = f["level"] == "national"
        return f.sort_values(["measure_id", "_national", "region_code"], kind="stable").drop(
            columns="_national").reset_index(drop=True)

    # ------------------------------------------------------------------ models and records
    def fits(self) -> dict[str, ModelFit]:
        """Every model fit (``models/fits.json``), by fit id."""
        if self._fits is None:
            path = self.folder / MODELS_DIR / FITS
            entries = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
            self._fits = {k: ModelFit(k, e["model"], e["status"], e.get("reason", ""), int(e.get("n_obs") or 0),
                                      list(e.get("notes") or []), dict(e.get("numbers") or {}),
                                      dict(e.get("parameters") or {}), e.get("seed"), dict(e.get("interpretation")
                                                                                          or {}),
                                      {n: self.folder / MODELS_DIR / t["file"] for n, t in
                                       (e.get("tables") or {}).items()})
                          for k, e in entries.items()}
        return dict(self._fits)

    def fit(self, fit_id: str) -> ModelFit:
        """One model fit (KeyError naming the fits there are)."""
        fits = self.fits()
        if fit_id not in fits:
            raise KeyError(f"no model fit {fit_id!r}; fits: {', '.join(sorted(fits)) or '(none)'}")
        return fits[fit_id]

    def recommendations(self, *, region: str | None = None, period: str | None = None,
                        action: str | None = None) -> pd.DataFrame:
        """Recommendation records (structured evidence; reports word them), filtered."""
        if "recommendations" not in self._frames:
            self._frames["recommendations"] = pd.read_parquet(self.folder / "recommendations.parquet")
        f = self._frames["recommendations"]
        mask = pd.Series(True, index=f.index)
        for column, wanted in (("region_code", region), ("period", period), ("action_id", action)):
            if wanted is not None:
                mask &= f[column] == wanted
        return f.loc[mask].reset_index(drop=True).copy()

    def has_joint_display(self) -> bool:
        """Whether this folder has the joint display (written when voices were analysed)."""
        return f"{JOINT_DISPLAY}.parquet" in self.manifest.get("files", {})

    def joint_display(self, *, region: str | None = None, period: str | None = None) -> pd.DataFrame:
        """Joint-display rows (barrier measure beside the matching theme, convergence verdict, rule and
        publishable excerpts; :mod:`kkbm_analysis.analyse.joint`), filtered."""
        if not self.has_joint_display():
            raise ProductsMissing(f"{self.folder} has no joint display (no voices were analysed; see {MANIFEST})")
        if JOINT_DISPLAY not in self._frames:
            self._frames[JOINT_DISPLAY] = pd.read_parquet(self.folder / f"{JOINT_DISPLAY}.parquet")
        f = self._frames[JOINT_DISPLAY]
        mask = pd.Series(True, index=f.index)
        for column, wanted in (("region_code", region), ("period", period)):
            if wanted is not None:
                mask &= f[column] == wanted
        return f.loc[mask].reset_index(drop=True).copy()

    def __repr__(self) -> str:
        flag = " SYNTHETIC" if self.synthetic else ""
        return (f"<Products{flag} {self.folder.name}: data {self.data_version} as of {self.data_as_of}, "
                f"{len(self.provinces)} provinces, periods {', '.join(self.periods)}>")


#: No rows (the positions of a value a product does not have).
_NO_ROWS = np.array([], dtype=np.intp)


def _product_of(products: Products, frame: pd.DataFrame) -> str:
    """Which product a frame of cells came from (by its first measure)."""
    first = str(frame["measure_id"].iloc[0]) if len(frame) else ""
    for name in CELL_PRODUCTS:
        if products.has(name) and first in set(products._frame(name)["measure_id"].astype(str)):
            return name
    raise KeyError(f"measure {first!r} is in no product of {products.folder}")
