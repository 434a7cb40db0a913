"""The synthetic world: scale, random streams, latent variables, the ground truth being built, and where communities are."""
from __future__ import annotations

import functools
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..config import RESOURCES_DIR
from .calibration import DEMO_REGENCIES, LONTAR, NATIONAL, NATIONAL_WEIGHTS, PUBLISHED, UNITS


@dataclass(frozen=True)
class _Scale:
    """How much to generate.

    ``national`` False: the demo geography (7 provinces, 49 villages) with ``multiplier``
    times the demo's members. ``national`` True: the national geography (38 provinces) at
    ``multiplier`` of its size (villages and members in proportion; 1.0 is the full
    6,000 communities and 1,000,000 members).
    """

    label: str
    national: bool
    multiplier: float


#: How a fraction of the national scale is written: ``"national:0.1"``.
NATIONAL_PREFIX = "national:"


def _resolve_scale(scale: str | float) -> _Scale:
    if isinstance(scale, str) and scale in ("demo", "national"):
        return _Scale(scale, scale == "national", 1.0)
    national = isinstance(scale, str) and scale.startswith(NATIONAL_PREFIX)
    try:
        mult = float(scale[len(NATIONAL_PREFIX):] if national else scale)
    except (TypeError, ValueError):
        raise ValueError(f"scale must be 'demo', 'national', 'national:<fraction>' (e.g. 'national:0.1') or a "
                         f"positive number, not {scale!r}") from None
    if not np.isfinite(mult) or mult <= 0:
        raise ValueError(f"scale must be positive, not {scale!r}")
    if national:
        return _Scale("national" if mult == 1 else f"national x {mult:g}", True, mult)
    return _Scale(f"demo x {mult:g}", False, mult)


def national_size(fraction: float) -> tuple[int, int]:
    """(communities, members) of the national geography at ``fraction`` of its full size.

    At least one community per province and one member per community; otherwise in
    proportion to the full 6,000 communities and 1,000,000 members.
    """
    provinces = _village_catalogue()["province_code"].nunique()
    communities = max(provinces, int(round(NATIONAL["communities"] * fraction)))
    return communities, max(communities, int(round(NATIONAL["members"] * fraction)))


@dataclass
class _World:
    """Settings, random streams, latent variables and the ground truth being built."""

    seed: int
    scale: _Scale
    start_year: int
    end_year: int
    truth: dict = field(default_factory=dict)
    lat: dict = field(default_factory=dict)

    def rng(self, name: str) -> np.random.Generator:
        """An independent, reproducible random stream per table group."""
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    @property
    def start(self) -> np.datetime64:
        return np.datetime64(f"{self.start_year}-01-01", "D")

    @property
    def end(self) -> np.datetime64:
        return np.datetime64(f"{self.end_year}-12-31", "D")

    @property
    def join_end(self) -> np.datetime64:
        return np.datetime64(f"{self.start_year + 1}-12-31", "D")

    def record(self, section: str, name: str, value: Any, description: str) -> None:
        """Write one parameter or true effect to the ground truth."""
        self.truth.setdefault(section, {})[name] = {"value": _jsonable(value), "description": description}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else round(float(value), 6)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.datetime64):
        return str(value.astype("datetime64[D]"))
    return value


def _days(x: Any) -> np.ndarray:
    """Whole days as timedelta64[D]."""
    return np.round(np.asarray(x, dtype=float)).astype("int64").astype("timedelta64[D]")


def _ns(a: np.ndarray) -> np.ndarray:
    return np.asarray(a).astype("datetime64[D]").astype("datetime64[ns]")


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _months(a: np.ndarray) -> np.ndarray:
    """Month index (months since 1970-01) of datetime64 values."""
    return a.astype("datetime64[M]").astype("int64")


def _block_seq(groups: np.ndarray) -> np.ndarray:
    """1-based running number within runs of equal, sorted group labels."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype="int64")
    starts = np.r_[True, groups[1:] != groups[:-1]]
    idx = np.arange(n)
    return idx - np.maximum.accumulate(np.where(starts, idx, 0)) + 1


@functools.cache
def _words() -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load((RESOURCES_DIR / "synth_names.yaml").read_text(encoding="utf-8"))
    return {k: tuple(v) for k, v in data.items()}


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _name_key(text: str) -> str:
    """Lower-case words of a name, for comparing spellings."""
    return " ".join(_NON_ALNUM.sub(" ", str(text).lower()).split())


def _name_keys(names: pd.Series) -> pd.Series:
    return names.str.lower().str.replace(_NON_ALNUM.pattern, " ", regex=True).str.strip()


@functools.cache
def _village_catalogue() -> pd.DataFrame:
    """All Kemendagri villages with parent names and an ``eligible`` flag.

    Eligible villages have plain names (letters, spaces, hyphens; no level prefix such
    as "Desa ..."), unique within their district, in a district whose name is plain and
    unique within its regency, so every written spelling resolves to exactly one code.
    """
    from lokal import wilayah

    base, desa = wilayah._base(), wilayah._desa()
    codes = pd.Series(sorted(desa), dtype=str)
    df = pd.DataFrame({"village_code": codes, "village_name": codes.map(desa)})
    for level, width in (("district", 8), ("regency", 5), ("province", 2)):
        df[f"{level}_code"] = codes.str[:width]
        df[f"{level}_name"] = df[f"{level}_code"].map(base)
    plain = r"[A-Z][A-Za-z -]*[a-z]"
    prefix = r"(?:desa|ds|kel|kelurahan|kec|kecamatan|distrik)\b"
    vkey, dkey = _name_keys(df["village_name"]), _name_keys(df["district_name"])
    ok_v = df["village_name"].str.fullmatch(plain) & ~vkey.str.match(prefix)
    ok_d = df["district_name"].str.fullmatch(plain) & ~dkey.str.match(prefix)
    uniq_v = ~pd.DataFrame({"d": df["district_code"], "k": vkey}).duplicated(keep=False)
    dist = pd.DataFrame({"r": df["regency_code"], "d": df["district_code"], "k": dkey}).drop_duplicates("d")
    bad_d = set(dist.loc[dist.duplicated(["r", "k"], keep=False), "d"])
    df["eligible"] = ok_v & ok_d & uniq_v & ~df["district_code"].isin(bad_d)
    df["is_desa"] = codes.str[9] == "2"
    return df


def _select_villages(w: _World) -> pd.DataFrame:
    """The community villages: the 49 demo villages, or the national geography (see :func:`_national_villages`)."""
    cat = _village_catalogue()
    rng = w.rng("villages")
    demo = []
    for _, regency, required in DEMO_REGENCIES:
        pool = cat[(cat["regency_code"] == regency) & cat["eligible"] & cat["is_desa"]
                   & ~cat["village_code"].isin(required)]["village_code"].to_numpy()
        chosen = rng.choice(pool, PUBLISHED["villages"] // PUBLISHED["provinces"] - len(required), replace=False)
        demo.append([*required, *sorted(chosen)])
    picks = (_national_villages(rng, cat, demo, national_size(w.scale.multiplier)[0]) if w.scale.national
             else [v for villages in demo for v in villages])
    out = cat.set_index("village_code").loc[picks].reset_index()
    return out.sort_values("village_code", ignore_index=True)


def _national_villages(rng: np.random.Generator, cat: pd.DataFrame, demo: list[list[str]], total: int) -> list[str]:
    """``total`` villages over all 38 provinces: one each, the rest by :data:`NATIONAL_WEIGHTS`.

    A demo province starts with its demo villages (Lontar and Tracap first), as many as its
    share allows; the other villages are drawn from the eligible villages of the province.
    The same code path serves every fraction of the national scale.
    """
    provinces = sorted(cat["province_code"].unique())
    rest = 1.0 - sum(NATIONAL_WEIGHTS.values())
    others = [p for p in provinces if p not in NATIONAL_WEIGHTS]
    weights = np.array([NATIONAL_WEIGHTS.get(p, rest / len(others)) for p in provinces])
    spread = max(0, total - len(provinces))
    counts = np.floor(weights * spread).astype(int)
    counts[np.argsort(-(weights * spread - counts), kind="stable")[: spread - counts.sum()]] += 1
    counts += 1
    first = {prov: villages for (prov, _, _), villages in zip(DEMO_REGENCIES, demo)}
    taken = {v for villages in demo for v in villages}
    pool = cat[cat["eligible"] & ~cat["village_code"].isin(taken)]
    picks = []
    for prov, k in zip(provinces, counts):
        kept = first.get(prov, [])[:k]
        codes = pool.loc[pool["province_code"] == prov, "village_code"].to_numpy()
        picks += kept + sorted(rng.choice(codes, min(k - len(kept), len(codes)), replace=False))
    return picks


def _communities(w: _World) -> pd.DataFrame:
    """One KKBM per village, formed in ``start_year`` at staggered dates."""
    v = _select_villages(w)
    rng = w.rng("communities")
    n = len(v)
    formed = np.datetime64(f"{w.start_year}-01-15", "D") + _days(rng.integers(0, 245, n))
    gov = rng.random(n) < 0.5
    gov[v["village_code"].to_numpy() == LONTAR] = True  # pro-active village government (seed 004)
    seq = v.groupby("province_code").cumcount().to_numpy() + 1
    prov = v["province_code"].to_numpy()
    cid = np.char.add(np.char.add("KKBM-", prov.astype(str)), np.char.add("-", np.char.zfill(seq.astype(str), 3)))
    w.lat["community_ids"] = cid
    w.record("calibration", "village_gov_involved_share", 0.5,
             "Probability that the village government is involved (Lontar always is).")
    return pd.DataFrame({
        "community_id": cid, "community_name": "KKBM " + v["village_name"], "program": "KKBM",
        "province_code": prov, "regency_code": v["regency_code"], "district_code": v["district_code"],
        "village_code": v["village_code"], "unit": [_unit(p) for p in prov],
        "formed_on": _ns(formed), "village_gov_involved": pd.array(gov, dtype="boolean"),
    })


def _unit(province: str) -> str:
    from lokal import wilayah
    return UNITS.get(province) or f"UPT BP2MI {wilayah._base()[province]}"
