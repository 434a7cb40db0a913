"""What a policy reader reads: sections, time, the data date, wording, and the contradictions of issue 8.

Reports are rendered in this process by running the template's own code cells (parameters,
then one call per section), on the shared SYNTHETIC demo project; the HTML is then read as
text. The papermill batch is tested in ``test_reports.py``.
"""
from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re

import pandas as pd
import pytest

from kkbm_analysis.i18n import date as fmt_date
from kkbm_analysis.i18n import entries, glossary, glossary_problems
from kkbm_analysis.products import Products
from kkbm_analysis.reports.planning import TEMPLATES_DIR

pytestmark = pytest.mark.usefixtures("project")

#: (template, province, period, lang) of the reports read here.
REPORTS = (("province", "35", "2018", "en"), ("province", "35", "2018", "id"), ("province", "52", "2018", "id"),
           ("province", "18", "all", "en"), ("national", None, "2018", "en"), ("national", None, "2018", "id"),
           ("national", None, "all", "id"))
_TAG = re.compile(r'<span class="kkbm-cell" ([^>]*)>(.*?)</span>', re.S)
_ATTR = re.compile(r'(data-[a-z-]+)="([^"]*)"')


def render(kind: str, province: str | None, period: str, lang: str, data_dir: str) -> list[tuple[str, str]]:
    """(section call, HTML) for each section of a template, run as the kernel runs it."""
    name = "report_province" if kind == "province" else "brief_national"
    nb = json.loads((TEMPLATES_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    ns: dict = {}
    exec(code[0], ns)
    ns.update(period=period, lang=lang, data_dir=data_dir, n_boot=60, figure_dir=None)
    if province:
        ns["province"] = province
    out = []
    for source in code[1:]:
        lines = source.strip().splitlines()
        exec("\n".join(lines[:-1]), ns)
        out.append((lines[-1], str(eval(lines[-1], ns))))
    return out


def text_of(html: str) -> str:
    """The words of an HTML piece (tags dropped, entities resolved, whitespace collapsed)."""
    html = re.sub(r"<style>.*?</style>|<img[^>]*>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", html))).strip()


@pytest.fixture(scope="module")
def reports(demo_project):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KKBM_ROOT", str(demo_project.root))
        return {key: render(*key[:1], key[1], key[2], key[3], str(demo_project.processed)) for key in REPORTS}


@pytest.fixture(scope="module")
def products(demo_project) -> Products:
    return Products.open(demo_project.processed)


def whole(sections: list[tuple[str, str]]) -> str:
    return "".join(h for _, h in sections)


def section(sections: list[tuple[str, str]], name: str) -> str:
    hit = [h for call, h in sections if call.endswith(f".{name}()")]
    assert len(hit) == 1, name
    return hit[0]


def tags(html: str) -> list[dict[str, str]]:
    return [dict(_ATTR.findall(m.group(1))) | {"shown": m.group(2)} for m in _TAG.finditer(html)]


# =========================================================================== sections and their order
def test_sections_in_reading_order(reports):
    for key, sections in reports.items():
        calls = [c.split(".")[-1].rstrip("()") for c, _ in sections]
        assert calls[0] == "header" and calls[1] == "key_messages", key
        assert calls[-4:] == ["methods", "limitations", "data_quality", "colophon"], key
        assert {"findings", "trend", "recommendations", "models"} <= set(calls), key
        items = re.findall(r"<li>", section(sections, "key_messages"))
        assert 3 <= len(items) <= 5, key


def test_settings_only_in_the_colophon(reports):
    for key, sections in reports.items():
        for call, html in sections:
            words = text_of(html)
            if call.endswith(".colophon()"):
                assert "n_boot=60" in words and "seed=" in words, key
            else:
                assert not re.search(r"\bn_boot\b|\bseed=|show_models=|kkbm_analysis", words), (key, call)
        methods = text_of(section(sections, "methods"))
        assert ".py" not in methods and "kkbm_analysis" not in methods and "=" not in methods


# =========================================================================== time
def test_data_date_is_the_datas_last_date_never_today(reports, products, demo_project):
    ingest_as_of = json.loads((demo_project.processed / "manifest.json").read_text())["as_of"]
    today = dt.date.today()
    for (kind, _, _, lang), sections in reports.items():
        header = text_of(section(sections, "header"))
        assert fmt_date(products.data_as_of, lang) in header, header
        words = text_of(whole(sections))
        for day in {today, dt.date.fromisoformat(ingest_as_of)}:
            assert fmt_date(day, lang) not in words and day.isoformat() not in words
    assert fmt_date("2020-12-31", "id") == "31 Desember 2020"


def test_a_year_report_holds_no_later_data(reports):
    """A 2018 report: no cell of a later year, mentoring windows end with 2018, and the models' wider window is
    said in words."""
    for key in (("province", "35", "2018", "en"), ("national", None, "2018", "en")):
        sections = reports[key]
        registers = [(call, h) for call, h in sections if not call.endswith(".voices()")]
        periods = {t.get("data-period") for t in tags(whole(registers))} - {None}
        assert periods <= {"2017", "2018"}, (key, periods)
        # the voices (period 'all': the whole collection) are shown beside the year's numbers, and say when
        # they were collected
        voices = text_of(section(sections, "voices"))
        assert re.search(r"collected|No coded", voices), voices[:300]
        mentoring = text_of(section(sections, "findings"))
        assert "1 January 2018 – 31 December 2018" in mentoring
        models = text_of(section(sections, "models"))
        assert "extends beyond the report's period (2018)" in models


def test_trend_section_shows_every_year_with_intervals(reports, products):
    trend = section(reports[("province", "18", "all", "en")], "trend")
    cells = [t for t in tags(trend) if t.get("data-barrier") == "members_per_organiser" and t["data-region"] == "18"]
    assert [c["data-period"] for c in cells] == products.years
    for c in cells:
        published = products.cell("barriers", "members_per_organiser", "18", c["data-period"])
        assert c["data-value"] == ("" if published["suppressed"] else repr(float(published["value"])))
    assert trend.count('class="kkbm-ci"') >= len(products.years)  # intervals (and the national values) shown
    national = section(reports[("national", None, "all", "id")], "trend")
    by_province = [t for t in tags(national) if t.get("data-barrier") == "members_per_organiser"]
    assert {t["data-region"] for t in by_province} == {*products.provinces, "ID"}
    one_year = text_of(section(reports[("province", "35", "2018", "en")], "trend"))
    assert "2019" not in one_year and "2020" not in one_year


# =========================================================================== contradictions of issue 8
def test_kur_card_and_column_name_one_measure(reports, products):
    brief = reports[("national", None, "2018", "en")]
    cards = section(brief, "key_figures")
    kur = re.search(r'<div class="kkbm-card-value">(<span[^>]*data-barrier="kur_owner_uptake"[^>]*>.*?</span>)</div>'
                    r'<div class="kkbm-card-label">([^<]*)</div>', cards)
    assert kur, "the brief's KUR card shows the comparison column's measure"
    header = re.findall(r"<th[^>]*>([^<]*)</th>", section(brief, "comparison"))
    assert htmllib.unescape(kur.group(2)) in header
    assert 'data-indicator="kur_uptake"' not in cards
    province = section(reports[("province", "35", "2018", "en")], "key_figures")
    label = products.cell("indicators", "kur_uptake", "35", "2018")["label_en"]
    assert re.search(r'data-indicator="kur_uptake".*?<div class="kkbm-card-label">' + re.escape(str(label)), province,
                     re.S)


def test_comparison_rows_lead_with_the_province(reports, products):
    """The first column is the one a phone keeps pinned while the table scrolls: it names the row."""
    from kkbm_analysis.i18n import region_name
    table = section(reports[("national", None, "2018", "en")], "comparison")
    assert re.findall(r"<th[^>]*>([^<]*)</th>", table)[:2] == ["Province", "Rank"]
    firsts = re.findall(r"<tr[^>]*><td>([^<]*)</td>", table)
    assert set(firsts[:-1]) == {region_name(c, "en") for c in products.provinces} and firsts[-1] == "National"


def test_follow_up_is_defined_and_consistent_with_mentoring(reports, products):
    for key, sections in reports.items():
        methods = text_of(section(sections, "methods"))
        lang = key[3]
        assert (("Follow-up: any session" in methods) if lang == "en" else ("Tindak lanjut: sesi apa pun" in methods))
        assert "no follow-up at all" not in text_of(whole(sections))
    # the province with no mentoring: the follow-up share is consistent with the definition (other trainings count)
    cov = products.cell("barriers", "mentoring_coverage", "35", "2018")
    nofu = products.cell("barriers", "no_follow_up_share", "35", "2018")
    assert float(cov["value"]) == 0.0 and float(nofu["value"]) <= 1.0
    findings = text_of(section(reports[("province", "35", "2018", "en")], "findings"))
    assert "Trained members without follow-up" in findings


def test_model_wording_is_an_association_with_odds_ratio_and_interval(reports, products):
    fit = products.fit("business_model")
    est = fit.table("estimates").set_index("term").loc["points"]
    for key, sections in reports.items():
        words = text_of(whole(sections))
        assert not re.search(r"raises the odds|menaikkan odds|meningkatkan odds", words), key
        km = text_of(section(sections, "key_messages"))
        ratio = f"{est['odds_ratio']:.2f}" if key[3] == "en" else f"{est['odds_ratio']:.2f}".replace(".", ",")
        assert ratio in km, key
        assert ("association" in km) if key[3] == "en" else ("hubungan" in km), key


def test_no_counterfactual_extrapolation(reports):
    assert not any(k.endswith("model_whatif") for k in entries())
    for key, sections in reports.items():
        words = text_of(whole(sections))
        assert not re.search(r"if all \d+ points|bila semua \d+ poin|model predicts an increase", words), key


def test_no_finding_is_stated_twice(reports):
    for key, sections in reports.items():
        blocks = [text_of(b) for b in re.findall(r"<li>.*?</li>|<p(?: class=\"(?!kkbm-note)[^\"]*\")?>.*?</p>",
                                                 whole(sections), flags=re.S)]  # sentences (notes are table keys)
        long = [b for b in blocks if len(b) >= 40]
        repeated = {b for b in long if long.count(b) > 1}
        assert not repeated, (key, repeated)


def test_did_paragraph_appears_once(reports, products):
    did = products.fit("perdes_did")
    for key, sections in reports.items():
        words = text_of(whole(sections))
        assert words.count(did.text(key[3])) == 1, key


def test_perdes_small_cell_gets_no_badge_and_no_number(reports, products):
    """"Perdes in 1 of 7 villages": a share of fewer villages than the small-cell rule allows gets no badge."""
    from kkbm_analysis.suppression import small_cells
    judged = 0
    for key, sections in reports.items():
        for m in re.finditer(r'<span class="kkbm-badge [a-z_]+" ([^>]*)>', whole(sections)):
            attrs = dict(_ATTR.findall(m.group(1)))
            measure = attrs.get("data-barrier") or attrs["data-indicator"]  # barrier or resilience badges
            product = "barriers" if "data-barrier" in attrs else "resilience"
            cell = products.cell(product, measure, attrs["data-region"], attrs["data-period"])
            if bool(cell["suppressed"]) or small_cells(cell.to_frame().T).any():
                assert attrs["data-verdict"] in ("too_few", "not_applicable"), (key, attrs)
            if attrs.get("data-barrier") == "perdes_share":
                judged += 1
                if float(cell["denominator"] if pd.notna(cell["denominator"]) else 0) < 10:
                    assert attrs["data-verdict"] == "too_few", (key, attrs)
    assert judged >= 2
    perdes = products.cell("barriers", "villages_with_perdes", "35", "2018")
    assert bool(perdes["suppressed"])
    models = text_of(section(reports[("province", "35", "2018", "en")], "models"))
    assert "number of community villages with a Perdes is withheld" in models
    assert "suppressed of" not in models


# =========================================================================== data quality
def test_data_quality_counts_rules_in_words_and_unknown_sex(reports, demo_project, products):
    manifest = json.loads((demo_project.processed / "manifest.json").read_text())
    q = pd.read_parquet(demo_project.processed / "quarantine.parquet", columns=["rule"])
    for key, sections in reports.items():
        quality = section(sections, "data_quality")
        words = text_of(quality)
        total = f"{manifest['rows']['rows_quarantined']:,}"
        assert (total if key[3] == "en" else total.replace(",", ".")) in words, key
        for rule in q["rule"].unique():
            assert rule not in words, (key, rule)   # rules are named in words, not ids
    unknown = products.cell("indicators", "advocacy_cases", "35", "2018", "sex=unknown")
    quality = section(reports[("province", "35", "2018", "en")], "data_quality")
    if not bool(unknown["suppressed"]) and float(unknown["value"]) > 0:
        assert 'data-disaggregation="sex=unknown"' in quality and "sex unknown for" in text_of(quality)


# =========================================================================== Indonesian wording
def test_rendered_indonesian_follows_the_glossary(reports):
    texts = {}
    for key, sections in reports.items():
        if key[3] != "id":
            continue
        for call, html in sections:
            for i, block in enumerate(re.findall(r"<li>.*?</li>|<p[^>]*>.*?</p>|<t[hd][^>]*>.*?</t[hd]>|<h\d>.*?</h\d>",
                                                 html, flags=re.S)):
                texts[f"{key}:{call}:{i}"] = text_of(block)
    assert len(texts) > 200
    assert glossary_problems(texts) == []
    concepts = {g.concept.split(" (")[0] for g in glossary()}
    assert {"modelling findings", "turnover", "follow-up", "a date", "share"} <= concepts
    words = " ".join(texts.values())
    assert "Temuan pemodelan" in words and "proporsi" in words


def test_recommendations_show_their_strength_of_evidence(reports):
    graded = 0
    for key, sections in reports.items():
        recs = re.findall(r"<li>(.*?)</li>", section(sections, "recommendations"), flags=re.S)
        label = "Strength of evidence:" if key[3] == "en" else "Kekuatan bukti:"
        for rec in recs:
            words = text_of(rec)
            if label in words:
                graded += 1
                assert re.search(r"n = [\d.,]+", words) and (("data window" in words) or ("periode data" in words))
            else:   # the one sentence saying there is none
                assert "No measure" in words or "Tidak ada ukuran" in words, (key, words)
    assert graded >= 3


def test_national_findings_are_a_table_of_the_provinces_clearly_worse_and_better(reports, products):
    """One row per measure: its national value, then every province whose published verdict is 'worse' in one
    column and 'better' in the next (none missing, none extra), each with its own published cell."""
    for key in (("national", None, "2018", "en"), ("national", None, "2018", "id")):
        table = section(reports[key], "findings")
        assert '<table class="kkbm-table findings' in table and "<li>" not in table
        rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
        assert rows, key
        for row in rows:
            cells = re.findall(r"<td>(.*?)</td>", row, re.S)
            national, worse, better = (tags(c) for c in cells[1:])
            measure = national[0]["data-barrier"]
            assert [t["data-region"] for t in national] == ["ID"]
            published = products.barriers(measure=measure, period="2018", level="province")
            for shown, verdict in ((worse, "worse"), (better, "better")):
                expected = set(published.loc[published["verdict"] == verdict, "region_code"].astype(str))
                assert {t["data-region"] for t in shown} == expected, (key, measure, verdict)
                assert all(t["data-barrier"] == measure and t["data-period"] == "2018" for t in shown)
