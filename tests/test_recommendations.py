"""The recommendation policy on constructed cases: records only from published cells judged worse by the
interval rule, with their evidence, design and window; causal only for the DiD."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from kkbm_analysis.recommendations import RECORD_COLUMNS, recommend


def cell(measure, region, value, lo, hi, national, verdict, *, n=200, suppressed=False, num=None, den=None,
         period="2018"):
    return {"product": "barriers", "measure_id": measure, "level": "national" if region == "ID" else "province",
            "region_code": region, "period": period, "disaggregation": "all", "value": value, "ci_low": lo,
            "ci_high": hi, "n": n, "numerator": num, "denominator": den, "national_value": national,
            "verdict": verdict, "suppressed": suppressed, "kind": "proportion",
            "window_start": pd.Timestamp("2018-01-01"), "window_end": pd.Timestamp("2018-12-31")}


def frame(*rows):
    return pd.DataFrame(list(rows))


def fits(ame=(0.07, 0.05, 0.09, 0.001), att=(-0.6, -0.9, -0.3, 0.001)):
    me = pd.DataFrame([{"term": "points", "ame": ame[0], "ci_low": ame[1], "ci_high": ame[2], "p_value": ame[3]}])
    est = pd.DataFrame([{"term": "ATT (overall)", "estimate": att[0], "ci_low": att[1], "ci_high": att[2],
                         "p_value": att[3]}])
    return {"business_model": {"status": "ok", "tables": {"marginal_effects": me}},
            "perdes_did": {"status": "ok", "tables": {"estimates": est}}}


def test_only_worse_cells_make_records():
    barriers = frame(
        cell("mentoring_coverage", "ID", 0.30, 0.29, 0.31, 0.30, "not_applicable", n=5000),
        cell("mentoring_coverage", "35", 0.05, 0.03, 0.08, 0.30, "worse"),
        cell("mentoring_coverage", "36", 0.28, 0.20, 0.36, 0.30, "no_clear_difference"),
        cell("mentoring_coverage", "33", None, None, None, 0.30, "too_few", n=None, suppressed=True),
        cell("mentoring_coverage", "32", 0.50, 0.45, 0.55, 0.30, "better"))
    recs = recommend(barriers, fits())
    assert tuple(recs.columns) == RECORD_COLUMNS
    assert recs["region_code"].tolist() == ["35"] and recs["action_id"].tolist() == ["strengthen_mentoring"]
    r = recs.iloc[0]
    assert r["gap"] == pytest.approx(0.25 / 0.30) and r["priority"] == 1
    assert r["strength"] == "association" and not r["causal"]          # the logit: an association only
    assert r["support_fit"] == "business_model" and r["support_estimate"] == 0.07
    ev = json.loads(r["evidence"])
    assert [e.get("region_code") for e in ev] == ["35", "ID", None] and ev[2] == {"fit": "business_model",
                                                                                   "term": "points"}
    assert r["window_start"] == pd.Timestamp("2018-01-01")


def test_a_too_few_cell_drives_nothing_even_when_its_value_looks_bad():
    barriers = frame(cell("members_per_organiser", "ID", 100, 98, 102, 100, "not_applicable"),
                     cell("members_per_organiser", "35", None, None, None, 100, "too_few", suppressed=True))
    assert recommend(barriers, fits()).empty


def test_unsupported_association_stays_descriptive():
    barriers = frame(cell("mentoring_coverage", "ID", 0.3, 0.29, 0.31, 0.3, "not_applicable"),
                     cell("mentoring_coverage", "35", 0.05, 0.03, 0.08, 0.3, "worse"))
    recs = recommend(barriers, fits(ame=(0.01, -0.02, 0.04, 0.4)))      # not significant
    assert recs.iloc[0]["strength"] == "descriptive" and len(json.loads(recs.iloc[0]["evidence"])) == 2


def test_organisers_needed_come_from_the_published_ratio():
    barriers = frame(cell("members_per_organiser", "ID", 100.0, 99, 101, 100.0, "not_applicable"),
                     cell("members_per_organiser", "35", 200.0, 190, 210, 100.0, "worse", num=1000, den=5.0))
    r = recommend(barriers, fits()).iloc[0]
    assert r["action_id"] == "recruit_organisers" and r["quantity"] == 5 and r["quantity_unit"] == "organisers_fte"


def test_the_national_perdes_record_is_the_only_causal_one_and_needs_a_significant_did():
    barriers = frame(cell("perdes_share", "ID", 0.4, 0.3, 0.5, 0.4, "not_applicable", n=50, num=20, den=50,
                          period="all"))
    recs = recommend(barriers, fits(), did_window=(pd.Timestamp("2017-01-01"), pd.Timestamp("2020-12-31")))
    r = recs.iloc[0]
    assert r["level"] == "national" and r["causal"] and r["strength"] == "quasi_experimental"
    assert r["quantity"] == 30 and r["quantity_unit"] == "villages"
    assert recommend(barriers, fits(att=(-0.1, -0.5, 0.3, 0.6))).empty          # no effect: no record
    assert recommend(barriers, fits(att=(0.5, 0.2, 0.8, 0.001))).empty          # the wrong way: none either
