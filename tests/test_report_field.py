"""The resilience and "voices from the field" report sections (issues 10 and 11), and the joint display product.

The sections render from the analysis products of the shared demo project (voices analysed
with it, as ``kkbm demo`` does), in both languages, for a province and for the brief. Checked:
every tagged number is a published cell (or a stored fit number) and a withheld one shows
only the mark; no withheld resilience value appears beside its label; the convergence
verdicts in the report are the product's; only publishable, redacted excerpts reach the
product and the report; without a resilience survey or voices the sections say so in one line.
"""
from __future__ import annotations

import re
import types

import pandas as pd
import pytest

from kkbm_analysis.products import Products

pytestmark = pytest.mark.usefixtures("project")

_TAGGED = re.compile(r'<span class="kkbm-cell" ([^>]*)>((?:<span class="kkbm-supp">[^<]*</span>)|[^<]*)</span>')
_ATTR = re.compile(r'(data-[a-z-]+)="([^"]*)"')
_CONVERGENCE = re.compile(r'<span class="kkbm-convergence [a-z_]+" ([^>]*)>')
KEY = ["measure_id", "region_code", "period", "disaggregation"]


@pytest.fixture(scope="module")
def products(demo_project) -> Products:
    return Products.open(demo_project.processed)


@pytest.fixture(scope="module")
def province(products) -> str:
    """A province with coded voices and resilience interviews."""
    joint = products.joint_display()
    res = products.resilience(level="province")
    return sorted(set(joint["region_code"]) & set(res["region_code"].astype(str)))[0]


@pytest.fixture(scope="module")
def period(products) -> str:
    return products.years[len(products.years) // 2]


@pytest.fixture(scope="module")
def sections(demo_project, products, province, period) -> dict[tuple[str, str], str]:
    """(report, lang) -> HTML of the two sections."""
    import kkbm_analysis.reports as rp
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KKBM_ROOT", str(demo_project.root))
        out = {}
        for lang in ("id", "en"):
            r = rp.ProvinceReport.from_parameters(province=province, period=period, lang=lang,
                                                  data_dir=str(demo_project.processed))
            b = rp.NationalBrief.from_parameters(period=period, lang=lang, data_dir=str(demo_project.processed))
            out[("province", lang)] = str(r.resilience()) + str(r.voices())
            out[("national", lang)] = str(b.resilience()) + str(b.voices())
    return out


def _report_on(products: Products, demo_project, province: str, period: str, lang: str):
    """The shared project's province report, reading ``products`` (a variant of the shared products) instead."""
    import kkbm_analysis.reports as rp
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KKBM_ROOT", str(demo_project.root))
        report = rp.ProvinceReport.from_parameters(province=province, period=period, lang=lang,
                                                   data_dir=str(demo_project.processed))
    report.products = products
    return report


def _published(products: Products) -> dict[str, pd.DataFrame]:
    tags = {"data-indicator": ("indicators", "resilience", "voices"), "data-barrier": ("barriers", "mentoring_points")}
    return {tag: pd.concat([products.cells(n, disaggregation=None) for n in names if products.has(n)],
                           ignore_index=True).set_index(KEY) for tag, names in tags.items()}


# =========================================================================== the products
def test_demo_products_carry_resilience_fits_and_the_joint_display(products):
    fits = products.fits()
    for fit_id in ("resilience_items", "resilience_cfa", "resilience_invariance_sex",
                   "resilience_invariance_province", "resilience_drivers", "resilience_recovery"):
        assert fit_id in fits, fit_id
    assert fits["resilience_cfa"].ok and set(fits["resilience_cfa"].numbers["fit_indices"]) >= {"cfi", "rmsea"}
    assert products.manifest["resilience"]["rounds"][0] == "baseline"
    assert products.has_joint_display() and len(products.joint_display()) > 0
    res = products.resilience()
    assert set(res["verdict"].dropna()) <= {"better", "worse", "no_clear_difference", "too_few", "not_applicable"}
    assert (res.loc[res["level"] == "province", "verdict"] != "not_applicable").any()


def test_joint_display_copies_published_numbers_and_follows_its_rule(products):
    joint = products.joint_display()
    bar = products.barriers(disaggregation="all").set_index(["measure_id", "region_code", "period"])
    voices = products.voices(period="all").set_index(["measure_id", "region_code"])
    for r in joint.itertuples():
        cell = bar.loc[(r.measure_id, r.region_code, r.period)]
        assert bool(cell["suppressed"]) == bool(r.suppressed) and cell["verdict"] == r.verdict
        same = pd.isna(cell["value"]) and pd.isna(r.value) or float(cell["value"]) == float(r.value)
        assert same, (r.measure_id, r.region_code, r.period)
        share = voices.loc[(r.voices_measure, r.region_code)]
        assert (pd.isna(share["value"]) and pd.isna(r.share)) or float(share["value"]) == float(r.share)
        raised = voices.loc[(f"voices_sources:{r.theme_id}", r.region_code)]
        if bool(r.suppressed) or bool(raised["suppressed"]) or r.verdict in ("too_few", "not_applicable"):
            assert r.convergence == "too_small" and r.rule == "R0", r
        if r.convergence == "convergent":
            assert r.verdict in ("better", "worse") and r.qual in ("raised", "absent")
    assert {"convergent", "too_small"} <= set(joint["convergence"])


def test_only_publishable_redacted_excerpts_reach_the_product_and_the_report(products, demo_project, sections):
    from html import unescape

    from kkbm_analysis.qualitative import Voices
    voices = Voices.load(demo_project.voices)
    seg, src = voices.segments, voices.sources.set_index("source_id")
    consent = seg["source_id"].map(src["consent"]).fillna(False).astype(bool)
    publishable = seg.loc[seg["publishable"].astype(bool) & consent & seg["text"].notna()]
    assert len(publishable) < len(seg)  # the corpus has segments that may not be quoted
    joint = products.joint_display()
    ids = pd.concat([joint["segment_1"], joint["segment_2"]]).dropna()
    assert len(ids) > 0 and set(ids) <= set(publishable["segment_id"].astype(str))
    text_of = publishable.set_index("segment_id")["text"].astype(str)
    for k in (1, 2):
        quoted = joint.dropna(subset=[f"segment_{k}"])
        assert (quoted[f"excerpt_{k}"] == quoted[f"segment_{k}"].map(text_of)).all()
    assert (joint["excerpt_1"] != joint["excerpt_2"]).fillna(True).all()
    # the report quotes only what the product carries
    allowed = set(pd.concat([joint["excerpt_1"], joint["excerpt_2"]]).dropna())
    shown = [unescape(q) for page in sections.values()
             for q in re.findall(r'<blockquote class="kkbm-excerpt">“(.*?)”</blockquote>', page, flags=re.S)]
    assert shown and set(shown) <= allowed
    # redacted at ingest: no NIK or phone number in what is quoted
    assert not re.search(r"\b\d{16}\b|\b08\d{8,11}\b", "".join(allowed))


def test_unpublishable_segments_never_become_excerpts(products, demo_project):
    """Constructed cases: a marker planted in every segment that may not be quoted never reaches the joint
    display, nor do quoted segments once unmarked; with nothing publishable nothing is quoted, verdicts unchanged."""
    import dataclasses
    from kkbm_analysis.analyse.joint import joint_display_cells
    from kkbm_analysis.qualitative import Voices
    voices = Voices.load(demo_project.voices)
    barriers = types.SimpleNamespace(frame=products.barriers(disaggregation=None))
    published = types.SimpleNamespace(frame=products.voices(disaggregation=None))
    opened = joint_display_cells(barriers, published, voices)
    quoted = set(pd.concat([opened["segment_1"], opened["segment_2"]]).dropna())
    seg = voices.segments.copy()
    unmark = seg["segment_id"].isin(sorted(quoted)[::2])
    seg.loc[unmark, "publishable"] = False
    secret = ~seg["publishable"].astype(bool) & seg["text"].notna()
    seg.loc[secret, "text"] = "TIDAK-BOLEH-DIKUTIP " + seg.loc[secret, "segment_id"].astype(str)
    planted = joint_display_cells(barriers, published, dataclasses.replace(voices, segments=seg))
    assert unmark.any() and planted["excerpt_1"].notna().any()
    for k in (1, 2):
        assert not planted[f"excerpt_{k}"].str.contains("TIDAK-BOLEH-DIKUTIP", na=False).any()
        assert not planted[f"segment_{k}"].isin(sorted(quoted)[::2]).any()
    closed = joint_display_cells(barriers, published, dataclasses.replace(voices, segments=seg.assign(
        publishable=False)))
    assert closed["excerpt_1"].isna().all() and closed["excerpt_2"].isna().all()
    assert closed["convergence"].tolist() == opened["convergence"].tolist() == \
        products.joint_display()["convergence"].tolist()


# =========================================================================== the sections
@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("report", ["province", "national"])
def test_sections_render_with_every_number_a_published_cell(sections, products, report, lang):
    html = sections[(report, lang)]
    cells = _published(products)
    fits = products.fits()
    tagged = [(dict(_ATTR.findall(m.group(1))), m.group(2)) for m in _TAGGED.finditer(html)]
    kinds = {"model": 0, "resilience": 0, "voices": 0, "barrier": 0}
    for attrs, shown in tagged:
        if "data-model" in attrs:
            table = fits[attrs["data-model"]].table(attrs.get("data-table", "estimates")).set_index("term")
            assert float(attrs["data-value"]) == float(table.at[attrs["data-term"], attrs["data-statistic"]])
            kinds["model"] += 1
            continue
        tag = "data-indicator" if "data-indicator" in attrs else "data-barrier"
        key = (attrs[tag], attrs["data-region"], attrs["data-period"], attrs["data-disaggregation"])
        cell = cells[tag].loc[key]
        if attrs["data-value"] == "":
            assert bool(cell["suppressed"]) and "kkbm-supp" in shown, key
        else:
            assert not bool(cell["suppressed"]) and float(attrs["data-value"]) == float(cell["value"]), key
        kinds["barrier" if tag == "data-barrier" else "voices" if key[0].startswith("voices") else "resilience"] += 1
    assert all(kinds.values()) if report == "province" else kinds["model"] and kinds["resilience"] and kinds["voices"]
    title = {"id": ("Ketahanan pekerja migran", "Suara dari lapangan"),
             "en": ("Resilience of migrant workers", "Voices from the field")}[lang]
    assert all(t in html for t in title)
    assert ("indeks kapasitas ketahanan" in html.lower()) == (lang == "id")


def test_no_withheld_resilience_value_beside_its_label(products, province, period, demo_project):
    """The demo publishes every overall resilience cell of the latest round; withhold the province's (as the one
    suppression would: numbers NA, verdict too_few) and its true values appear nowhere in their rows."""
    from kkbm_analysis.reports.cells import cell_text
    from kkbm_analysis.reports.field_resilience import latest_round

    round_ = latest_round(products, period)  # the round a report of `period` shows
    real = products.resilience(region=province, period=round_)
    real = real.loc[~real["suppressed"].astype(bool)]  # the published ones, to withhold here
    assert (~real["measure_id"].str.startswith("resilience_risk:")).sum() >= 5

    class Withheld(Products):
        def _frame(self, product: str) -> pd.DataFrame:
            f = super()._frame(product)
            if product != "resilience":
                return f
            f = f.copy()
            hit = (f["region_code"] == province) & (f["period"] == round_) & (f["disaggregation"] == "all")
            for c in ("value", "numerator", "denominator", "n", "ci_low", "ci_high"):
                f.loc[hit, c] = pd.NA
            f.loc[hit, "suppressed"] = True
            f.loc[hit, "verdict"] = "too_few"
            return f

    withheld = Withheld(products.folder, products.manifest)
    for lang in ("id", "en"):
        html = str(_report_on(withheld, demo_project, province, period, lang).resilience())
        rows = re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)
        checked = 0
        for _, cell in real.iterrows():
            tag = f'data-indicator="{cell["measure_id"]}" data-region="{province}" data-period="{round_}"'
            mine = [row for row in rows if tag in row]
            risk = cell["measure_id"].startswith("resilience_risk:")
            assert len(mine) <= 1 if risk else len(mine) == 1, cell["measure_id"]
            if not mine:  # a risk below the most frequent ones
                continue
            checked += 1
            secrets = [cell_text(cell, "resilience", lang), cell_text(cell, "resilience", lang, field="ci_low")]
            assert 'data-value=""' in mine[0] and "kkbm-supp" in mine[0]
            assert 'data-verdict="too_few"' in mine[0]
            national = "".join(m.group(0) for m in _TAGGED.finditer(mine[0]) if 'data-value=""' not in m.group(1))
            rest = re.sub(r"<[^>]+>", " ", mine[0].replace(national, ""))
            for secret in secrets:
                assert secret not in rest, (lang, cell["measure_id"], secret)
        index_rows = int((~real["measure_id"].str.startswith("resilience_risk:")).sum())
        assert checked == index_rows + 5  # the index table and the five risks shown


def test_convergence_verdicts_in_the_report_are_the_products(sections, products, province, period):
    joint = products.joint_display(region=province, period=period).set_index(["measure_id", "theme_id"])
    for lang in ("id", "en"):
        found = [dict(_ATTR.findall(m.group(1))) for m in _CONVERGENCE.finditer(sections[("province", lang)])]
        assert len(found) == len(joint) > 0
        for a in found:
            assert (a["data-region"], a["data-period"]) == (province, period)
            assert joint.loc[(a["data-joint-barrier"], a["data-theme"]), "convergence"] == a["data-convergence"]
        counts = re.findall(r'<span class="kkbm-joint-count" data-region="([^"]+)" data-period="([^"]+)" '
                            r'data-convergence="([a-z_]+)" data-value="(\d+)"', sections[("national", lang)])
        assert counts
        every = products.joint_display(period=period)
        for region, p, verdict, n in counts:
            assert p == period
            assert int(n) == int(((every["region_code"] == region) & (every["convergence"] == verdict)).sum())


def test_sections_say_so_without_a_survey_or_voices(products, province, period, demo_project):
    """A products folder without resilience cells and joint display: one line each, no failure."""
    from kkbm_analysis.i18n import text

    class Without(Products):
        def has(self, product: str) -> bool:
            return product not in ("resilience", "voices") and super().has(product)

        def has_joint_display(self) -> bool:
            return False

    stripped = Without(products.folder, products.manifest)
    for lang in ("id", "en"):
        r = _report_on(stripped, demo_project, province, period, lang)
        res, voi = str(r.resilience()), str(r.voices())
        assert text("field.resilience.none", lang) in res and "kkbm-cell" not in res
        assert text("field.voices.none", lang) in voi and "kkbm-cell" not in voi
