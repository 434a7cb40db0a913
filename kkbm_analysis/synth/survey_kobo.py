"""The resilience survey as a KoboToolbox export of its XLSForm, with planted defects.

Layout of a Kobo "XML values and headers" .xlsx export: one sheet named after the form
title (31 characters at most), columns ``start``, ``end``, then every question as its
group path (``grp_kapasitas/a_tabungan``), a select-multiple question followed by one
0/1 column per choice (``grp_guncangan/jenis_guncangan/job_loss``), then the metadata
``__version__``, ``meta/instanceID``, ``_id``, ``_uuid``, ``_submission_time``,
``_validation_status``, ``_notes``, ``_status``, ``_submitted_by``, ``_tags``,
``_index``. Values are choice names (``ya``, ``3``, ``followup_1``), dates ISO.

Planted defects (:data:`DEFECTS`): extra rows, each with exactly one defect and a key of
its own (a register member outside the sample), except the duplicate submission, which
repeats a clean interview after it. Removing them leaves the clean table exactly.
"""
from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import write_sheets
from ..item_bank import ItemBank, load_item_bank

#: Defects planted in the export (rule names as the ingest reports them).
DEFECTS: tuple[str, ...] = ("invalid_category", "invalid_date", "invalid_boolean", "out_of_range",
                            "missing_value", "unknown_reference", "duplicate_key", "recovery_consistent",
                            "shock_consistent", "choices_in_form")
TABLE = "resilience_surveys"


def sheet_name(bank: ItemBank | None = None) -> str:
    """Kobo names the main sheet after the form title, cut to Excel's 31 characters."""
    return (bank or load_item_bank()).form["title_id"][:31]


def _columns(bank: ItemBank) -> list[tuple[str, object, str | None]]:
    """(header, item, choice) for every exported question column, in form order."""
    cols: list[tuple[str, object, str | None]] = []
    for group in bank.groups:
        for item in group.items:
            cols.append((f"{group.name}/{item.name}", item, None))
            if item.base_type == "select_multiple":
                cols += [(f"{group.name}/{item.name}/{c.name}", item, c.name) for c in bank.choices[item.list_name]]
    return cols


def _cell(value: object, item, bank: ItemBank) -> str | None:
    if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
        return None
    if bank.is_yes_no(item):
        return "ya" if bool(value) else "tidak"
    if item.base_type == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, (int, np.integer, float, np.floating)):
        return str(int(value))
    return str(value)


def export_frame(surveys: pd.DataFrame, nik_of: pd.Series, bank: ItemBank | None = None) -> pd.DataFrame:
    """Question columns of the export for processed survey rows (NIKs put back)."""
    bank = bank or load_item_bank()
    out = {}
    for header, item, choice in _columns(bank):
        values = surveys[item.field]
        if item.field == "member_id":
            values = values.astype(str).map(nik_of)
        if choice is None:
            out[header] = [_cell(v, item, bank) for v in values]
        else:
            out[header] = [None if pd.isna(v) else ("1" if choice in str(v).split() else "0") for v in values]
    return pd.DataFrame(out, index=surveys.index)


def write_kobo_export(path: str | Path, surveys: pd.DataFrame, data, nik_of: pd.Series, *, seed: int,
                      dirty_share: float = 0.02) -> pd.DataFrame:
    """Write the export; return the expected quarantine (``file, sheet, row, table, rule``)."""
    bank = load_item_bank()
    rng = np.random.default_rng([int(seed), zlib.crc32(b"resilience-kobo")])
    clean = export_frame(surveys, nik_of, bank)
    clean["_uuid"] = surveys["submission_id"].astype(str).to_numpy()
    clean["_when"] = pd.to_datetime(surveys["interviewed_on"]).to_numpy() + pd.to_timedelta(
        rng.integers(8 * 3600, 20 * 3600, len(surveys)), unit="s")
    clean = clean.sort_values("_when", kind="stable").reset_index(drop=True)
    dirty = _defects(clean, surveys, data, nik_of, rng, dirty_share, bank)
    rows = _interleave(clean, dirty, rng)
    frame = _with_meta(rows, rng)
    sheet = sheet_name(bank)
    write_sheets(path, {sheet: frame}, title="SYNTHETIC DATA — resilience survey (not real people)",
                 creator="kkbm_analysis.synth")
    bad = rows["_rule"].notna().to_numpy()
    return pd.DataFrame({"file": Path(path).name, "sheet": sheet, "row": np.flatnonzero(bad) + 2,
                         "table": TABLE, "rule": rows.loc[bad, "_rule"].to_numpy()})


def _defects(clean: pd.DataFrame, surveys: pd.DataFrame, data, nik_of: pd.Series, rng: np.random.Generator,
             share: float, bank: ItemBank) -> pd.DataFrame:
    k = 0 if share <= 0 else max(len(DEFECTS), int(round(share * len(clean))))
    if k == 0:
        return clean.iloc[:0].assign(_rule=pd.Series(dtype=object), _after=pd.Series(dtype=int))
    g = {i.field: f"{i.group}/{i.name}" for i in bank.items}
    free = _free_keys(surveys, data, rng)
    shocked = np.flatnonzero(clean[g["shocks"]].notna().to_numpy())
    parts, used = [], 0
    for i, rule in enumerate(DEFECTS):
        m = k // len(DEFECTS) + (i < k % len(DEFECTS))
        pool = shocked if rule in ("shock_consistent", "choices_in_form") and len(shocked) else np.arange(len(clean))
        pick = np.sort(rng.choice(pool, m, replace=m > len(pool)))
        rows = clean.iloc[pick].copy()
        rows["_after"] = pick
        if rule != "duplicate_key":  # a (member, round) of its own: nothing collides with it
            rows["_after"] = rng.integers(-1, len(clean), m)
            keys = free.iloc[used:used + m]
            used += m
            rows[g["member_id"]] = keys["member_id"].astype(str).map(nik_of).to_numpy()
            rows[g["community_id"]] = keys["community_id"].astype(str).to_numpy()
            rows[g["round"]] = keys["round"].to_numpy()
        _spoil(rows, rule, g, bank, nik_of, rng)
        rows["_uuid"] = uuids(rng, len(rows))
        parts.append(rows.assign(_rule=rule))
    return pd.concat(parts, ignore_index=True)


def _free_keys(surveys: pd.DataFrame, data, rng: np.random.Generator) -> pd.DataFrame:
    """(member, round) pairs of the register that the clean survey does not use, shuffled."""
    from ..resilience.frames import ROUNDS

    mem = data.members[["member_id", "community_id"]].astype(str)
    pairs = mem.merge(pd.DataFrame({"round": list(ROUNDS)}), how="cross")
    taken = pd.MultiIndex.from_frame(surveys[["member_id", "round"]].astype(str))
    free = pairs[~pd.MultiIndex.from_frame(pairs[["member_id", "round"]]).isin(taken)]
    return free.iloc[rng.permutation(len(free))].reset_index(drop=True)


def _spoil(rows: pd.DataFrame, rule: str, g: dict[str, str], bank: ItemBank, nik_of: pd.Series,
           rng: np.random.Generator) -> None:
    likert = [f"{i.group}/{i.name}" for i in bank.items if bank.is_likert(i)]
    if rule == "invalid_category":
        rows[g["round"]] = "lanjutan_3"
    elif rule == "invalid_date":
        rows[g["interviewed_on"]] = rng.choice(["2019-02-30", "2019-13-05"], len(rows))
    elif rule == "invalid_boolean":
        rows[g["worked_abroad"]] = "mungkin"
    elif rule == "out_of_range":
        rows[likert[int(rng.integers(len(likert)))]] = "7"
    elif rule == "missing_value":
        rows[g["community_id"]] = None
    elif rule == "unknown_reference":
        known = set(nik_of.to_numpy())
        fresh = [n[:12] + f"9{j:03d}" for j, n in enumerate(rows[g["member_id"]].astype(str))]
        rows[g["member_id"]] = [f if f not in known else f[:-4] + "9999" for f in fresh]
    elif rule == "recovery_consistent":
        rows[g["recovered"]] = "ya"
        rows[g["months_to_recover"]] = None
        rows[g["any_shock"]] = rows[g["any_shock"]].fillna("tidak")
    elif rule == "shock_consistent":
        listed = rows[g["shocks"]].astype(str).str.split()
        shocks = [c.name for c in bank.choices["shock_type"]]
        rows[g["main_shock"]] = [next(s for s in shocks if s not in ls) for ls in listed]
    elif rule == "choices_in_form":
        rows[g["shocks"]] = rows[g["shocks"]].astype(str) + " banjir_rob"


def _interleave(clean: pd.DataFrame, dirty: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Clean rows in submission order, each defect row after clean row ``_after`` (-1: first)."""
    c = clean.assign(_rule=None, _pos=np.arange(len(clean), dtype=float))
    d = dirty.assign(_pos=dirty["_after"].to_numpy(dtype=float) + 0.5 + rng.random(len(dirty)) * 0.4)
    return pd.concat([c, d], ignore_index=True).sort_values("_pos", kind="stable").reset_index(drop=True)


def _with_meta(rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(rows)
    when = pd.to_datetime(rows["_when"])
    local = lambda t: t.dt.strftime("%Y-%m-%dT%H:%M:%S.000+07:00")  # noqa: E731
    head = pd.DataFrame({"start": local(when - pd.to_timedelta(rng.integers(900, 2700, n), unit="s")),
                         "end": local(when - pd.to_timedelta(60, unit="s"))})
    questions = rows.drop(columns=[c for c in rows.columns if c.startswith("_")])
    meta = pd.DataFrame({"__version__": "vKdQ8sYt3ketahanan", "meta/instanceID": [f"uuid:{u}" for u in rows["_uuid"]],
                         "_id": (20_000_000 + np.arange(n) * 3 + rng.integers(0, 3, n)).astype(str),
                         "_uuid": rows["_uuid"].to_numpy(), "_submission_time": (when - pd.Timedelta(hours=7)).dt.strftime(
                             "%Y-%m-%dT%H:%M:%S"),
                         "_validation_status": None, "_notes": None, "_status": "submitted_via_web",
                         "_submitted_by": None, "_tags": None, "_index": np.arange(1, n + 1)})
    return pd.concat([head, questions.reset_index(drop=True), meta], axis=1)


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` version-4-shaped UUIDs drawn from ``rng`` (reproducible, unlike :func:`uuid.uuid4`)."""
    hexes = np.array(list("0123456789abcdef"))[rng.integers(0, 16, (n, 32))]
    return np.array([f"{''.join(h[:8])}-{''.join(h[8:12])}-4{''.join(h[13:16])}-a{''.join(h[17:20])}-"
                     f"{''.join(h[20:32])}" for h in hexes], dtype=object)
