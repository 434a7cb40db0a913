"""Where each analysis product lives in a processed folder, and the columns it has.

Shared by the writer (:mod:`kkbm_analysis.analyse`) and the reader (:class:`.Products`), so
a file name or a column is decided in one place.
"""
from __future__ import annotations

__all__ = ["MANIFEST", "MODELS_DIR", "FITS", "CELL_PRODUCTS", "TAGS", "CELL_COLUMNS", "BARRIER_COLUMNS",
           "RECOMMENDATION_COLUMNS", "JOINT_DISPLAY", "JOINT_COLUMNS", "FILES", "PRODUCTS_VERSION"]

#: Version of the products layout (bumped when a file or a column changes meaning).
PRODUCTS_VERSION = 2  # 2: year-end mentoring windows, resilience verdicts and fits, the joint display
#: The products manifest.
MANIFEST = "products.json"
#: Folder of model results (estimate tables and ``fits.json``).
MODELS_DIR = "models"
#: Per fit: key, inputs hash, parameters, seed, n, notes, numbers, interpretation, tables.
FITS = "fits.json"

#: Cell products: name -> file stem (``<stem>.parquet`` and ``<stem>.csv``).
CELL_PRODUCTS: dict[str, str] = {
    "indicators": "indicators",
    "barriers": "barriers",
    "mentoring_points": "mentoring_points",
    "resilience": "resilience",
    "voices": "voices",
}
#: HTML attribute that names a cell of each product (``data-indicator`` / ``data-barrier``).
TAGS: dict[str, str] = {"indicators": "data-indicator", "resilience": "data-indicator", "voices": "data-indicator",
                        "barriers": "data-barrier", "mentoring_points": "data-barrier"}

#: Columns of every published cell, in file order.
CELL_COLUMNS: tuple[str, ...] = (
    "measure_id", "level", "region_code", "period", "disaggregation",
    "value", "numerator", "denominator", "n", "ci_low", "ci_high",
    "kind", "unit", "direction", "stock", "window_start", "window_end",
    "region_name", "label_id", "label_en", "suppressed", "suppression")
#: Indicator and resilience cells add ``domain``; mentoring-point cells add ``point_id``.
#: Barrier cells (and mentoring points) add the national value and the verdict.
BARRIER_COLUMNS: tuple[str, ...] = (*CELL_COLUMNS, "national_value", "verdict", "verdict_rule")

#: Columns of ``recommendations.parquet`` (structured records, no words).
RECOMMENDATION_COLUMNS: tuple[str, ...] = (
    "record_id", "action_id", "level", "region_code", "period", "measure_id", "product", "value", "ci_low", "ci_high",
    "n", "national_value", "verdict", "gap", "priority", "window_start", "window_end", "evidence", "design",
    "strength", "causal", "support_fit", "support_term", "support_design", "support_estimate", "support_ci_low",
    "support_ci_high", "support_p_value", "quantity", "quantity_unit")

#: The joint display (numbers beside voices, per period and province; written when there are voices).
JOINT_DISPLAY = "joint_display"
#: Its columns (see :mod:`kkbm_analysis.analyse.joint`).
JOINT_COLUMNS: tuple[str, ...] = (
    "period", "region_code", "measure_id", "theme_id", "voices_measure", "polarity", "label_id", "label_en",
    "theme_label_id", "theme_label_en", "value", "ci_low", "ci_high", "n", "national_value", "verdict", "suppressed",
    "sources", "sources_total", "share", "quant", "qual", "convergence", "rule", "rule_id", "rule_en",
    "excerpt_1", "segment_1", "excerpt_2", "segment_2")

#: Every file ``kkbm analyse`` may write into a processed folder (the store counts them as ours).
FILES: tuple[str, ...] = (
    *(f"{stem}.{ext}" for stem in CELL_PRODUCTS.values() for ext in ("parquet", "csv")),
    "recommendations.parquet", "recommendations.csv", f"{JOINT_DISPLAY}.parquet", f"{JOINT_DISPLAY}.csv", MANIFEST,
    MODELS_DIR)
