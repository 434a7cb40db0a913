"""Prevalence, co-occurrence, saturation, agreement (against hand computations) and the
joint display's convergence verdicts on constructed cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kkbm_analysis.qualitative import (Voices, cooccurrence, intercoder_agreement, joint_display, load_codebook,
                                       published_prevalence, saturation, theme_prevalence)
from kkbm_analysis.qualitative.agreement import agreement_statistics
from kkbm_analysis.qualitative.ingest import _themes_table
from kkbm_analysis.qualitative.joint import METRIC_COLUMNS


def make_voices(sources: list[dict], codings: list[tuple], *, synthetic: bool = True) -> Voices:
    """Voices from source dicts and (source_id, segment_no, theme_id, coder) codings."""
    src = pd.DataFrame([{"file": "f.qdpx", "regency_code": None, "community_id": None, "sex": None,
                         "source_type": "interview", "role": "member", "collected_on": pd.NaT, "consent": True,
                         "publishable": True, **s} for s in sources])
    seg_rows, cod_rows = {}, []
    for i, (sid, n, theme, coder) in enumerate(codings):
        seg_id = f"{sid}-s{n}"
        seg_rows.setdefault(seg_id, {"segment_id": seg_id, "source_id": sid, "start": 10 * n, "end": 10 * n + 9,
                                     "n_chars": 60, "text": f"kutipan {seg_id} tentang {theme} " + "x" * 40,
                                     "publishable": bool(src.set_index("source_id").at[sid, "publishable"]),
                                     "whole_source": False})
        cod_rows.append({"coding_id": f"c{i}", "segment_id": seg_id, "source_id": sid, "code_id": f"code-{theme}",
                         "coder_id": coder, "theme_id": theme})
    themes = _themes_table(load_codebook())
    codes = pd.DataFrame({"code_id": [f"code-{t}" for t in themes["theme_id"]], "file": "f.qdpx",
                          "path": themes["theme_id"], "theme_id": themes["theme_id"]})
    empty = pd.DataFrame(columns=["source_id", "variable", "value", "origin"])
    return Voices(src, pd.DataFrame(list(seg_rows.values())), codes, pd.DataFrame(cod_rows).astype({"theme_id": "string"}),
                  empty, pd.DataFrame(columns=["case_id", "source_id"]), themes, {"synthetic": synthetic})


def _province(code: str, n: int, raised: dict[str, int], start: int = 0) -> tuple[list[dict], list[tuple]]:
    """``n`` sources in a province; theme -> how many of them raise it."""
    sources = [{"source_id": f"{code}-{i}", "province_code": code} for i in range(start, start + n)]
    codings = [(f"{code}-{i}", 1 + j, theme, "A") for j, (theme, k) in enumerate(raised.items())
               for i in range(start, start + k)]
    return sources, codings


# ------------------------------------------------------------------ prevalence
def test_prevalence_counts_sources_segments_and_parents():
    s1, c1 = _province("35", 10, {"mentoring_gap": 7, "resilience_coping": 2})
    s2, c2 = _province("36", 6, {"mentoring_gap": 1})
    v = make_voices(s1 + s2, c1 + c2 + [("35-0", 9, "mentoring_gap", "A")])
    t = theme_prevalence(v, by="province").table.set_index(["province", "theme_id"])
    assert t.loc[("35", "mentoring_gap"), ["sources", "sources_total", "segments"]].tolist() == [7, 10, 8]
    assert t.loc[("35", "mentoring_gap"), "share"] == pytest.approx(0.7)
    assert t.loc[("35", "resilience"), "sources"] == 2  # rolled up from resilience_coping
    assert t.loc[("36", "capital_access"), "sources"] == 0
    national = theme_prevalence(v, by=None).table.set_index("theme_id")
    assert national.loc["mentoring_gap", "sources"] == 8 and national.loc["mentoring_gap", "sources_total"] == 16
    assert "SYNTHETIC" in theme_prevalence(v).summary()
    assert "proporsi" in theme_prevalence(v).interpretation("id").lower()


def test_prevalence_by_unknown_group_is_refused():
    v = make_voices(*_province("35", 3, {"mentoring_gap": 1}))
    with pytest.raises(ValueError, match="choose from"):
        theme_prevalence(v, by="village")


def test_published_prevalence_hides_small_counts_and_what_reveals_them():
    s1, c1 = _province("35", 12, {"mentoring_gap": 9, "capital_access": 3})
    s2, c2 = _province("36", 12, {"mentoring_gap": 8, "capital_access": 6})
    pub = published_prevalence(make_voices(s1 + s2, c1 + c2)).frame.set_index(["measure_id", "region_code"])
    cell = lambda i, r: pub.loc[(i, r)]  # noqa: E731
    assert cell("voices_sources:mentoring_gap", "35")["value"] == 9
    assert cell("voices_sources:capital_access", "35")["suppressed"]            # 3 sources: primary
    assert cell("voices_sources:capital_access", "35")["suppression"] == "primary"
    # national 9 = 3 + 6: publishing it and province 36 would reveal 35, so one more cell hides
    hidden = [cell("voices_sources:capital_access", "36")["suppressed"],
              cell("voices_sources:capital_access", "ID")["suppressed"]]
    assert any(hidden)
    assert cell("voices_sources:capital_access", "35")["value"] is pd.NA


# ------------------------------------------------------------------ co-occurrence, saturation
def test_cooccurrence_by_segment_and_source():
    codings = [("a", 1, "mentoring_gap", "A"), ("a", 1, "staffing", "A"), ("a", 2, "capital_access", "A"),
               ("b", 1, "mentoring_gap", "A"), ("b", 2, "staffing", "A")]
    v = make_voices([{"source_id": "a", "province_code": "35"}, {"source_id": "b", "province_code": "35"}], codings)
    seg = cooccurrence(v, unit="segment").table.set_index(["a", "b"])
    assert seg.loc[("mentoring_gap", "staffing"), "both"] == 1
    src = cooccurrence(v, unit="source")
    t = src.table.set_index(["a", "b"])
    assert t.loc[("mentoring_gap", "staffing"), "both"] == 2 and t.loc[("mentoring_gap", "staffing"), "jaccard"] == 1
    assert src.matrix.loc["capital_access", "capital_access"] == 1


def test_saturation_curve_and_point():
    sources = [{"source_id": f"s{i}", "province_code": "35", "collected_on": pd.Timestamp(2019, 1, 1 + i)}
               for i in range(8)]
    themes = [["mentoring_gap"], ["staffing"], ["mentoring_gap", "capital_access"], ["staffing"], [], ["staffing"],
              ["mentoring_gap"], ["cadre_regeneration"]]
    codings = [(f"s{i}", j, t, "A") for i, ts in enumerate(themes) for j, t in enumerate(ts)]
    res = saturation(make_voices(sources, codings), run_length=3, permutations=50, seed=1)
    assert res.table["new"].tolist() == [1, 1, 1, 0, 0, 0, 0, 1]
    assert res.saturated_at == 3 and res.total == 4
    assert (res.table["low"] <= res.table["mean_cumulative"]).all()
    assert "Jenuh setelah 3" in res.interpretation("id")


# ------------------------------------------------------------------ agreement
A = np.array([1, 1, 1, 0, 0, 0, 1, 0, 1, 0], dtype=float)
B = np.array([1, 1, 0, 0, 0, 1, 1, 0, 1, 0], dtype=float)


def _hand_kappa_alpha(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Cohen's kappa, Fleiss' kappa and Krippendorff's alpha by their textbook formulas."""
    po = (a == b).mean()
    pe = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean())
    cohen = (po - pe) / (1 - pe)
    n_units = len(a)
    p1 = (a.sum() + b.sum()) / (2 * n_units)
    pe_f = p1 ** 2 + (1 - p1) ** 2
    pi = [((x + y) ** 2 + (2 - x - y) ** 2 - 2) / 2 for x, y in zip(a, b)]
    fleiss = (np.mean(pi) - pe_f) / (1 - pe_f)
    n = 2 * n_units                                  # pairable values
    n1 = a.sum() + b.sum()
    d_o = 2 * (a != b).sum() / n                     # off-diagonal coincidences / n
    d_e = 2 * n1 * (n - n1) / (n * (n - 1))
    return cohen, fleiss, 1 - d_o / d_e


def test_statistics_match_a_hand_computation():
    cohen, fleiss, alpha = _hand_kappa_alpha(A, B)
    got = agreement_statistics(np.vstack([A, B]))
    assert got["cohen_kappa"] == pytest.approx(cohen) == pytest.approx(0.6)
    assert got["fleiss_kappa"] == pytest.approx(fleiss)
    assert got["krippendorff_alpha"] == pytest.approx(alpha) == pytest.approx(0.62)
    assert got["percent_agreement"] == pytest.approx(0.8) and got["n_units"] == 10


def test_statistics_with_missing_values_and_no_variation():
    m = np.vstack([A, B, np.r_[A[:5], [np.nan] * 5]])
    got = agreement_statistics(m)
    assert np.isnan(got["cohen_kappa"]) and got["n_coders"] == 3
    assert -1 <= got["krippendorff_alpha"] <= 1
    same = agreement_statistics(np.zeros((2, 6)))
    assert same["percent_agreement"] == 1 and np.isnan(same["krippendorff_alpha"])


def test_intercoder_agreement_per_code_from_codings():
    sources = [{"source_id": f"s{i}", "province_code": "35"} for i in range(10)]
    codings = []
    for i, (x, y) in enumerate(zip(A, B)):
        codings.append((f"s{i}", 1, "background_filler", "A"))  # every unit is coded by both coders
        codings.append((f"s{i}", 1, "background_filler", "B"))
        if x:
            codings.append((f"s{i}", 1, "mentoring_gap", "A"))
        if y:
            codings.append((f"s{i}", 1, "mentoring_gap", "B"))
    v = make_voices(sources, codings)
    v.codes = pd.concat([v.codes, pd.DataFrame({"code_id": ["code-background_filler"], "file": ["f.qdpx"],
                                                "path": ["Latar"], "theme_id": [pd.NA]})], ignore_index=True)
    res = intercoder_agreement(v, unit="segment", level="code").table.set_index("key")
    row = res.loc["code-mentoring_gap"]
    cohen, fleiss, alpha = _hand_kappa_alpha(A, B)
    assert row["cohen_kappa"] == pytest.approx(cohen)
    assert row["krippendorff_alpha"] == pytest.approx(alpha)
    assert row["n_units"] == 10 and row["reading_en"] == "not reliable"


# ------------------------------------------------------------------ joint display
def _metrics(rows: list[dict]) -> pd.DataFrame:
    base = {"ci_low": np.nan, "ci_high": np.nan, "n": 100, "suppressed": False}
    return pd.DataFrame([{**base, **r} for r in rows])[METRIC_COLUMNS]


def test_joint_display_verdicts_on_constructed_cases():
    s1, c1 = _province("35", 12, {"mentoring_gap": 10, "capital_access": 0})   # raised / absent
    s2, c2 = _province("36", 12, {"mentoring_gap": 0, "capital_access": 9})
    s3, c3 = _province("33", 8, {"staffing": 3})                               # 3 sources: a hidden count
    v = make_voices(s1 + s2 + s3, c1 + c2 + c3)
    metrics = _metrics([
        {"region_code": "35", "barrier_id": "mentoring_points_mean", "value": 0.2, "national": 1.5, "verdict": "worse"},
        {"region_code": "36", "barrier_id": "mentoring_points_mean", "value": 0.3, "national": 1.5, "verdict": "worse"},
        {"region_code": "35", "barrier_id": "kur_approval_rate", "value": 0.9, "national": 0.6, "verdict": "better"},
        {"region_code": "36", "barrier_id": "kur_approval_rate", "value": 0.62, "national": 0.6,
         "verdict": "no_clear_difference"},
        {"region_code": "33", "barrier_id": "members_per_organiser", "value": 150, "national": 90, "verdict": "worse"},
        {"region_code": "35", "barrier_id": "no_follow_up_share", "value": 0.7, "national": 0.5, "verdict": "worse",
         "ci_low": 0.4, "ci_high": 0.9},                                          # interval holds national
        {"region_code": "36", "barrier_id": "no_follow_up_share", "value": 0.7, "national": 0.5, "verdict": "worse",
         "suppressed": True},
    ])
    jd = joint_display(metrics, v, excerpts=1)
    t = jd.table[jd.table["theme_id"].isin(["mentoring_gap", "capital_access", "staffing"])].set_index(
        ["region_code", "barrier_id"])
    assert t.loc[("35", "mentoring_points_mean"), "convergence"] == "convergent"      # worse + raised
    assert t.loc[("35", "mentoring_points_mean"), "rule"] == "R1"
    assert t.loc[("36", "mentoring_points_mean"), "convergence"] == "divergent"       # worse + absent
    assert t.loc[("35", "kur_approval_rate"), "convergence"] == "convergent"          # better + absent
    assert t.loc[("36", "kur_approval_rate"), "convergence"] == "complementary"       # no clear difference + raised
    assert t.loc[("33", "members_per_organiser"), "convergence"] == "too_small"       # suppressed count
    assert t.loc[("35", "no_follow_up_share"), "convergence"] == "complementary"      # CI holds national
    assert t.loc[("36", "no_follow_up_share"), "convergence"] == "too_small"          # suppressed metric
    assert "interval" not in t.loc[("35", "mentoring_points_mean"), "rule_en"]
    assert "≥50%" in t.loc[("35", "mentoring_points_mean"), "rule_en"]
    assert len(t.loc[("35", "mentoring_points_mean"), "excerpts"]) == 1
    assert t.loc[("33", "members_per_organiser"), "excerpts"] == []                   # suppressed count: no quote


def test_joint_display_too_few_sources_in_a_province():
    v = make_voices(*_province("35", 4, {"mentoring_gap": 4}))
    m = _metrics([{"region_code": "35", "barrier_id": "mentoring_points_mean", "value": 0.2, "national": 1.5,
                   "verdict": "worse"}])
    row = joint_display(m, v).table.query("theme_id == 'mentoring_gap'").iloc[0]
    assert row["convergence"] == "too_small" and row["rule"] == "R0" and row["excerpts"] == []


def test_joint_display_shows_only_publishable_excerpts_and_renders():
    s1, c1 = _province("35", 10, {"mentoring_gap": 10})
    for s in s1[:8]:
        s["publishable"] = False
    v = make_voices(s1, c1)
    m = _metrics([{"region_code": "35", "barrier_id": "mentoring_points_mean", "value": 0.2, "national": 1.5,
                   "verdict": "worse"}])
    jd = joint_display(m, v, excerpts=2)
    row = jd.table[jd.table["theme_id"] == "mentoring_gap"].iloc[0]
    assert all(("35-8" in e) or ("35-9" in e) for e in row["excerpts"]) and len(row["excerpts"]) == 2
    md, html = jd.to_markdown("35", lang="id"), jd.to_html("35", lang="en")
    assert "konvergen" in md and "DATA SINTETIS" in md
    assert '<table class="kkbm-joint-display">' in html and "convergent" in html and "SYNTHETIC" in html


def test_joint_display_checks_its_contract():
    v = make_voices(*_province("35", 5, {"mentoring_gap": 5}))
    with pytest.raises(ValueError, match="lacks column"):
        joint_display(pd.DataFrame({"region_code": ["35"]}), v)
