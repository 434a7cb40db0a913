"""The joint display product: each province's barrier measures beside the voices on the matching theme.

Built by ``kkbm analyse`` after the one suppression, from published numbers only: the
barrier cells (value, 95 % interval, interval verdict) and the voices cells (sources raising
each theme, their proportion), through :func:`kkbm_analysis.qualitative.joint.joint_display`
(the convergence rule, documented there). One row per period of the barrier cells (every
year and ``'all'``; the voices cover their whole collection, period ``'all'``), province,
barrier measure and linked theme:

keys          ``period, region_code, measure_id`` (the barrier cell), ``theme_id``,
              ``voices_measure`` (the ``voices_share:<theme>`` cell beside it)
numbers       copies of the published cells: ``value, ci_low, ci_high, n, national_value,
              verdict, suppressed`` (barrier), ``sources, sources_total, share`` (voices;
              NA when withheld)
verdict       ``quant`` (numbers' signal), ``qual`` (voices' signal), ``polarity`` of the
              theme, ``convergence`` (convergent / complementary / divergent / too_small),
              ``rule`` (R0-R3) and the rule in words (``rule_id``, ``rule_en``)
excerpts      ``excerpt_1, excerpt_2`` (two different texts) and their ``segment_1, segment_2`` (pseudonymous ids):
              only segments marked publishable (consent and a publishable mark) whose text
              was redacted at ingest, shown only when the theme's source count is published.

A numbers-only row never reveals a withheld number: both signals are read from the
suppressed products.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from ..config import MIN_PUBLISHED_COUNT
from ..io import write_csv, write_parquet
from ..products.layout import JOINT_COLUMNS, JOINT_DISPLAY
from ..suppression import PublishedTable

__all__ = ["joint_display_cells", "write_joint_display", "JOINT_PARAMETERS"]

#: Thresholds of the voices' signal (see :func:`kkbm_analysis.qualitative.joint.joint_display`).
JOINT_PARAMETERS: dict[str, Any] = {"min_sources": MIN_PUBLISHED_COUNT, "raised_share": 0.5, "absent_share": 0.1,
                                    "excerpts": 2}


def _metrics(barriers: pd.DataFrame, period: str) -> pd.DataFrame:
    """The barrier-metrics frame of :mod:`kkbm_analysis.qualitative.joint` from published province cells."""
    f = barriers.loc[(barriers["level"] == "province") & (barriers["period"] == period)
                     & (barriers["disaggregation"] == "all")]
    return pd.DataFrame({
        "region_code": f["region_code"].astype(str), "barrier_id": f["measure_id"].astype(str),
        "value": f["value"].astype("Float64"), "ci_low": f["ci_low"].astype("Float64"),
        "ci_high": f["ci_high"].astype("Float64"), "n": f["n"].astype("Float64"),
        "national": f["national_value"].astype("Float64"), "verdict": f["verdict"].astype(str),
        "suppressed": f["suppressed"].astype(bool), "label_id": f["label_id"], "label_en": f["label_en"]}
    ).reset_index(drop=True)


def _publishable_segments(voices: Any) -> set[str]:
    """Segments that may be quoted: marked publishable, from a source with consent, with (redacted) text."""
    seg = voices.segments
    src = voices.sources.set_index("source_id")
    consent = seg["source_id"].map(src["consent"]).fillna(False).astype(bool)
    ok = seg["publishable"].astype(bool) & consent & seg["text"].notna()
    return set(seg.loc[ok, "segment_id"].astype(str))


def _coded_once(voices: Any) -> Any:
    """A copy of ``voices`` whose :meth:`coded` table is built once (the joint display asks for it per row)."""
    import dataclasses
    coded = voices.coded()
    copy = dataclasses.replace(voices)
    copy.coded = lambda roll_up=True: coded if roll_up else voices.coded(roll_up=False)  # type: ignore[method-assign]
    return copy


def joint_display_cells(barriers: PublishedTable, voices_published: PublishedTable, voices: Any) -> pd.DataFrame:
    """Every period's joint display (module docstring), columns :data:`~kkbm_analysis.products.layout.JOINT_COLUMNS`."""
    from ..qualitative.joint import joint_display

    cells = barriers.frame
    voices = _coded_once(voices)
    allowed = _publishable_segments(voices)
    by_text = voices.segments.loc[voices.segments["segment_id"].astype(str).isin(allowed)].drop_duplicates(
        "text").set_index("text")["segment_id"].astype(str)
    p = JOINT_PARAMETERS
    parts = []
    for period in pd.unique(cells["period"].astype(str)):
        metrics = _metrics(cells, period)
        if metrics.empty:
            continue
        table = joint_display(metrics, voices, min_sources=p["min_sources"], raised_share=p["raised_share"],
                              absent_share=p["absent_share"], excerpts=2 * p["excerpts"],
                              published=voices_published).table
        if table.empty:
            continue
        parts.append(table.assign(period=period))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in JOINT_COLUMNS})
    t = pd.concat(parts, ignore_index=True)
    out = pd.DataFrame({
        "period": t["period"].astype(str), "region_code": t["region_code"].astype(str),
        "measure_id": t["barrier_id"].astype(str), "theme_id": t["theme_id"].astype(str),
        "voices_measure": "voices_share:" + t["theme_id"].astype(str), "polarity": t["polarity"].astype(str),
        "label_id": t["label_id"], "label_en": t["label_en"],
        "theme_label_id": t["theme_label_id"], "theme_label_en": t["theme_label_en"],
        "value": t["value"], "ci_low": t["ci_low"], "ci_high": t["ci_high"], "n": t["n"],
        "national_value": t["national"], "verdict": t["verdict"].astype(str), "suppressed": t["suppressed"].astype(bool),
        "sources": t["sources"], "sources_total": t["sources_total"], "share": t["share"],
        "quant": t["quant"], "qual": t["qual"], "convergence": t["convergence"], "rule": t["rule"],
        "rule_id": t["rule_id"], "rule_en": t["rule_en"]})
    distinct = [list(dict.fromkeys(e))[:p["excerpts"]] for e in t["excerpts"]]  # two segments may read alike
    for k in (1, 2):
        texts = [e[k - 1] if len(e) >= k else None for e in distinct]
        out[f"excerpt_{k}"] = pd.array(texts, dtype="string")
        out[f"segment_{k}"] = pd.array([by_text.get(x) if x is not None else None for x in texts], dtype="string")
    quoted = pd.concat([out["segment_1"], out["segment_2"]]).dropna()
    leaked = set(quoted) - allowed
    quoted_text = pd.concat([out["excerpt_1"], out["excerpt_2"]]).dropna()
    if leaked or (out["excerpt_1"].notna() & out["segment_1"].isna()).any() or len(quoted_text) != len(quoted):
        raise RuntimeError("the joint display chose an excerpt that is not a publishable, redacted segment")
    for c in ("value", "ci_low", "ci_high", "n", "national_value", "sources", "sources_total", "share"):
        out[c] = out[c].astype("Float64")
    for c in ("label_id", "label_en", "theme_label_id", "theme_label_en", "quant", "qual", "convergence", "rule",
              "rule_id", "rule_en"):
        out[c] = out[c].astype("string")
    order = {p: i for i, p in enumerate(sorted(out["period"].unique(), key=lambda x: (x == "all", x)))}
    out = out.sort_values(["period", "region_code", "measure_id", "theme_id"], key=lambda s: s.map(order)
                          if s.name == "period" else s, kind="stable").reset_index(drop=True)
    return out[list(JOINT_COLUMNS)]


def write_joint_display(table: pd.DataFrame, folder: Any, meta: dict[str, str]) -> list:
    """Write ``joint_display.parquet`` and ``.csv``; returns the files."""
    parquet, csv = folder / f"{JOINT_DISPLAY}.parquet", folder / f"{JOINT_DISPLAY}.csv"
    write_parquet(table, parquet, {**meta, "product": JOINT_DISPLAY})
    write_csv(table, csv)
    return [parquet, csv]


def convergence_counts(table: pd.DataFrame) -> dict[str, int]:
    """Rows per convergence verdict (for the products manifest)."""
    counts = table["convergence"].value_counts() if len(table) else pd.Series(dtype=int)
    return {v: int(counts.get(v, 0)) for v in ("convergent", "complementary", "divergent", "too_small")}

