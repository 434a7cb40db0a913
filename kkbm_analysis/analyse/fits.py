"""Model fits that several products use, computed once per data version and cached on disk.

The national business model (:func:`kkbm_analysis.models.business_running_model`), the
Perdes DiD (:func:`kkbm_analysis.models.perdes_effect`) and one gap decomposition per
province (:func:`kkbm_analysis.models.province_gap_decomposition`, with its bootstrap) are
fitted here, never in a report. Each fit is stored in ``models/`` of the processed folder
as its tables (Parquet) and an entry of ``models/fits.json``: the cache key, the SHA-256 of
its inputs (the analysis frame it was fitted on), its parameters and seed, ``n``, notes,
structured numbers and its interpretation in every language. The key hashes the inputs,
the parameters, the seed and the code (the model and word sources): ``kkbm analyse`` reuses
a fit whose key is unchanged and whose tables are intact (a cache hit), and fits again
otherwise. A fit that cannot run on the data is recorded as ``failed`` with the reason.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..i18n import LANGS
from ..io import read_parquet_metadata, sha256, write_json, write_parquet
from ..models import DEFAULT_COVARIATES, business_running_model, departures_panel, perdes_effect
from ..models import province_gap_decomposition
from ..products.layout import FITS, MODELS_DIR
from .shared import Shared

__all__ = ["FitRecord", "FitCache", "PendingFit", "fit_all", "independent_fits", "run_fit", "code_fingerprint",
           "frame_sha256"]


@dataclass
class FitRecord:
    """One model fit as stored: numbers, words and tables (see the module docstring)."""

    fit_id: str
    model: str
    status: str
    key: str
    inputs_sha256: str
    parameters: dict[str, Any]
    seed: int | None = None
    n_obs: int = 0
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    interpretation: dict[str, str] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    cached: bool = False

    def entry(self, files: dict[str, dict[str, str]]) -> dict[str, Any]:
        """The ``fits.json`` entry (tables by file name and SHA-256)."""
        return {"model": self.model, "status": self.status, "key": self.key, "inputs_sha256": self.inputs_sha256,
                "parameters": self.parameters, "seed": self.seed, "n_obs": self.n_obs, "reason": self.reason,
                "notes": list(self.notes), "numbers": self.numbers, "interpretation": self.interpretation,
                "tables": files}


_CODE: dict[str, str] = {}


def code_fingerprint() -> str:
    """SHA-256 of the code a fit depends on: the model sources and the word catalogue."""
    if not _CODE:
        pkg = Path(__file__).resolve().parent.parent
        h = hashlib.sha256()
        for p in sorted([*(pkg / "models").glob("*.py"), *(pkg / "resilience").glob("*.py"),
                         pkg / "i18n" / "catalogue.yaml", pkg / "item_bank.py", pkg / "resources" / "resilience_items.yaml",
                         pkg / "barriers" / "mentoring.py"]):
            h.update(p.name.encode())
            h.update(p.read_bytes())
        _CODE["sha"] = h.hexdigest()
    return _CODE["sha"]


def frame_sha256(frame: pd.DataFrame, row_hashes: np.ndarray | None = None) -> str:
    """SHA-256 of a frame's columns, types and values (row order matters, the index does not).

    ``row_hashes``: the frame's row hashes (``pd.util.hash_pandas_object(frame, index=False)``), when
    already known, e.g. taken from those of a larger frame the rows come from (a row's hash depends
    on that row's values alone).
    """
    h = hashlib.sha256(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    if row_hashes is None:
        row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    h.update(np.ascontiguousarray(row_hashes, dtype=np.uint64).tobytes())
    return h.hexdigest()


def _key(model: str, inputs: str, parameters: dict, seed: int | None) -> str:
    blob = json.dumps({"model": model, "inputs": inputs, "parameters": parameters, "seed": seed,
                       "code": code_fingerprint()}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _plain(x: Any) -> Any:
    """JSON-safe numbers (NaN -> None) in nested dicts and lists."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


class FitCache:
    """``models/fits.json`` and the tables beside it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder) / MODELS_DIR
        path = self.folder / FITS
        try:
            self.entries: dict[str, dict] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (OSError, ValueError):
            self.entries = {}

    def get(self, fit_id: str, key: str) -> FitRecord | None:
        """The stored fit when its key matches and its tables are intact, else None."""
        e = self.entries.get(fit_id)
        if not e or e.get("key") != key:
            return None
        tables = {}
        for name, meta in (e.get("tables") or {}).items():
            path = self.folder / meta["file"]
            if not path.exists() or sha256(path) != meta["sha256"]:
                return None
            tables[name] = pd.read_parquet(path)
        return FitRecord(fit_id, e["model"], e["status"], e["key"], e["inputs_sha256"], e["parameters"], e["seed"],
                         e["n_obs"], e["reason"], e["notes"], e["numbers"], e["interpretation"], tables, cached=True)

    def write(self, records: list[FitRecord], *, synthetic: bool) -> list[Path]:
        """Write every record's tables (unchanged ones are left as they are) and ``fits.json``; remove
        tables of fits no longer made. Each table says whether it was fitted on synthetic data."""
        self.folder.mkdir(parents=True, exist_ok=True)
        entries, files = {}, []
        for rec in records:
            meta = {}
            for name, table in rec.tables.items():
                path = self.folder / f"{rec.fit_id}{'' if name == 'estimates' else '_' + name}.parquet"
                marks = {"fit_id": rec.fit_id, "key": rec.key, "synthetic": str(bool(synthetic)).lower()}
                if not (rec.cached and path.exists() and read_parquet_metadata(path) == marks):
                    write_parquet(table, path, marks)
                meta[name] = {"file": path.name, "sha256": sha256(path)}
                files.append(path)
            entries[rec.fit_id] = rec.entry(meta)
        kept = {p.name for p in files} | {FITS}
        for old in self.folder.glob("*.parquet"):  # only our own tables: they carry our key metadata
            if old.name not in kept and "fit_id" in read_parquet_metadata(old):
                old.unlink()
        write_json(_plain(entries), self.folder / FITS)
        return [*files, self.folder / FITS]


@dataclass
class PendingFit:
    """A fit the cache does not hold: all :func:`run_fit` needs (picklable, so a Dask worker can run it)."""

    fit_id: str
    model: str
    key: str
    inputs_sha256: str
    parameters: dict[str, Any]
    seed: int | None
    run: Callable[[], tuple[Any, dict[str, pd.DataFrame], dict[str, Any]]]


def _fit(cache: FitCache, fit_id: str, model: str, inputs: pd.DataFrame, parameters: dict, seed: int | None,
         run: Callable[[], tuple[Any, dict[str, pd.DataFrame], dict[str, Any]]],
         row_hashes: np.ndarray | None = None) -> FitRecord | PendingFit:
    """A cache hit, or the fit still to run (``row_hashes``: see :func:`frame_sha256`)."""
    inputs_sha = frame_sha256(inputs, row_hashes)
    key = _key(model, inputs_sha, parameters, seed)
    hit = cache.get(fit_id, key)
    return hit if hit is not None else PendingFit(fit_id, model, key, inputs_sha, parameters, seed, run)


def run_fit(p: PendingFit) -> FitRecord:
    """Run a fit (a :class:`ModelInputError` or ``ValueError`` becomes a failed record).

    With one BLAS thread, as all of :func:`~kkbm_analysis.analyse.analyse`, also on a Dask worker.
    """
    from threadpoolctl import threadpool_limits

    from ..models import ModelInputError
    try:
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            warnings.simplefilter("ignore")  # fragile results carry their notes
            result, tables, numbers = p.run()
    except (ModelInputError, ValueError, np.linalg.LinAlgError) as exc:
        return FitRecord(p.fit_id, p.model, "failed", p.key, p.inputs_sha256, p.parameters, p.seed, 0, str(exc))
    words = {lang: result.interpretation(lang) for lang in LANGS}
    return FitRecord(p.fit_id, p.model, "ok", p.key, p.inputs_sha256, p.parameters, p.seed, int(result.n_obs), "",
                     list(result.notes), _plain(numbers), words, tables)


def _business(shared: Shared, cache: FitCache) -> FitRecord | PendingFit:
    cols = ["y12", "community_id", *DEFAULT_COVARIATES]
    frame = shared.outcome
    inputs = frame[cols] if frame is not None else pd.DataFrame(columns=cols)

    def run():
        r = business_running_model(inputs)
        return r, {"estimates": r.estimates, "marginal_effects": r.marginal_effects}, {
            "method": r.method, "scale": r.scale, "n_clusters": r.n_clusters, "outcome_rate": r.outcome_rate,
            "covariates": list(DEFAULT_COVARIATES)}
    return _fit(cache, "business_model", "business_running_model", inputs,
                {"method": "glm", "covariates": list(DEFAULT_COVARIATES)}, None, run)


def _did(shared: Shared, cache: FitCache) -> FitRecord | PendingFit:
    p = shared.parameters
    try:
        panel = departures_panel(shared.data)
    except ValueError:  # ModelInputError: no departures
        panel = pd.DataFrame(columns=["village_code", "month", "y", "cohort"])

    def run():
        r = perdes_effect(panel, event_window=p.did_event_window, n_boot=p.did_n_boot, seed=p.seed)
        return r, {"estimates": r.estimates, "event_study": r.event_study}, {
            "overall": r.overall, "relative": r.relative, "pretrend": r.pretrend, "twfe": r.twfe,
            "n_treated": r.n_treated, "n_never_treated": r.n_never_treated, "n_cohorts": r.n_cohorts,
            "periods": list(r.periods), "estimator": r.estimator, "outcome": r.outcome}
    params = {"outcome": "non_procedural", "estimator": "imputation", "event_window": list(p.did_event_window),
              "n_boot": p.did_n_boot}
    return _fit(cache, "perdes_did", "perdes_effect", panel, params, p.seed, run)


#: The outcome frame's columns a gap decomposition reads.
GAP_COLUMNS = ["y12", "community_id", "province_code", *DEFAULT_COVARIATES]


def _gap(shared: Shared, cache: FitCache, province: str, reference: str,
         row_hashes: np.ndarray) -> FitRecord | PendingFit:
    """``row_hashes``: those of the outcome frame's :data:`GAP_COLUMNS` (made once for every province)."""
    p = shared.parameters
    rows = [shared.outcome_rows.get(code, np.array([], dtype=np.int64)) for code in (province, reference)]
    rows = np.sort(np.concatenate(rows))
    inputs = shared.outcome[GAP_COLUMNS].take(rows).reset_index(drop=True)

    def run():
        r = province_gap_decomposition(inputs, reference, province, n_boot=p.gap_n_boot, seed=p.seed)
        tables = {"estimates": r.estimates, "by_factor": r.by_factor, "detailed": r.detailed}
        return r, tables, {"province_a": r.province_a, "province_b": r.province_b, "means": r.means, "n_a": r.n_a,
                           "n_b": r.n_b, "n_boot": r.n_boot, "threefold": r.threefold is not None}
    params = {"province_a": reference, "province_b": province, "n_boot": p.gap_n_boot,
              "covariates": list(DEFAULT_COVARIATES)}
    return _fit(cache, f"gap_{province}", "province_gap_decomposition", inputs, params, p.seed, run, row_hashes[rows])


def gap_references(outcome_cells: pd.DataFrame) -> dict[str, str]:
    """For every province, the province it is compared with: the highest published 12-month business
    share (the next highest for the top one). Provinces without a published share get none."""
    cut = outcome_cells.loc[(outcome_cells["level"] == "province") & (outcome_cells["period"] == "all")
                            & ~outcome_cells["suppressed"].astype(bool) & outcome_cells["value"].notna()]
    ranked = cut.sort_values(["value", "region_code"], ascending=[False, True])["region_code"].astype(str).tolist()
    if len(ranked) < 2:
        return {}
    return {code: ranked[1] if code == ranked[0] else ranked[0] for code in ranked}


def independent_fits(shared: Shared, folder: Path, which: str) -> list[FitRecord]:
    """The fits that need no published cell, fitted here (or read from the cache): ``'national'`` (the
    business model and the Perdes DiD) or ``'resilience'`` (:func:`.resilience_fits.resilience_fits`).

    :func:`~kkbm_analysis.analyse.analyse` runs them on a second thread beside the steps before the
    suppression and hands them to :func:`fit_all`.
    """
    cache = FitCache(folder)
    if which == "national":
        items = [_business(shared, cache), _did(shared, cache)]
    elif which == "resilience":
        from .resilience_fits import resilience_fits
        items = resilience_fits(shared, cache)
    else:
        raise ValueError(f"which is 'national' or 'resilience', not {which!r}")
    return [x if isinstance(x, FitRecord) else run_fit(x) for x in items]


#: What gives the records of fits made elsewhere (e.g. a future's ``result``).
Made = Callable[[], list[FitRecord]]


def fit_all(shared: Shared, folder: Path, outcome_cells: pd.DataFrame, client: Any = None,
            national: Made | None = None, resilience: Made | None = None) -> tuple[list[FitRecord], list[Path]]:
    """Every fit (cache hits reused), written to ``models/``; returns the records and the files.

    ``client``: a :class:`distributed.Client`, or a callable opening one as a context manager
    (called only when a fit must run, so that a cluster is started only then); the fits the cache
    does not hold then run on its workers (the gap decompositions are one per province),
    otherwise one after the other here. Either way each fit is the same (each is seeded).
    ``national``, ``resilience``: give the records of :func:`independent_fits` made elsewhere (e.g.
    on another thread); asked for once the other fits have run.
    """
    cache = FitCache(folder)
    from .resilience_fits import resilience_fits
    gaps = []
    if shared.outcome is not None:
        hashes = pd.util.hash_pandas_object(shared.outcome[GAP_COLUMNS], index=False).to_numpy()
        gaps = [_gap(shared, cache, province, reference, hashes)
                for province, reference in sorted(gap_references(outcome_cells).items())]
    parts = [national or [_business(shared, cache), _did(shared, cache)], gaps,
             resilience or resilience_fits(shared, cache)]
    pending = [x for part in parts if isinstance(part, list) for x in part if isinstance(x, PendingFit)]
    done = _on_dask(client, pending) if client is not None and len(pending) > 1 else [run_fit(p) for p in pending]
    ran = {p.fit_id: r for p, r in zip(pending, done)}
    records = [ran[x.fit_id] if isinstance(x, PendingFit) else x
               for part in parts for x in (part if isinstance(part, list) else part())]
    return records, cache.write(records, synthetic=shared.data.synthetic)


def _on_dask(client: Any, pending: list[PendingFit]) -> list[FitRecord]:
    """:func:`run_fit` of each pending fit on a Dask cluster (``client``: see :func:`fit_all`), in order."""
    from distributed import Client
    if not isinstance(client, Client):
        with client() as opened:
            return _on_dask(opened, pending)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sending large graph")  # the fits' inputs travel with them
        futures = client.map(run_fit, pending, key=[f"fit-{p.fit_id}-{p.key[:12]}" for p in pending])
    return client.gather(futures)
