"""The index pages: data date, language switch, links, headline figures from the published cells, problems."""
from __future__ import annotations

import re

import pytest

from kkbm_analysis.i18n import date, region_name, text
from kkbm_analysis.products import NATIONAL, Products
from kkbm_analysis.reports.index import HEADLINES, INDEX_PAGES, IndexEntry, index_html, write_index


@pytest.fixture
def products(demo_project):
    return Products.open(demo_project.processed)


def _entries(provinces):
    rows = [IndexEntry("brief-national-2018-id", "national", None, None, "2018", "id", "brief-national-2018-id.html",
                       "brief-national-2018-id.pdf", "ok")]
    for code in provinces[:2]:
        for lang in ("id", "en"):
            stem = f"province-{code}-x-2018-{lang}"
            rows.append(IndexEntry(stem, "province", code, region_name(code), "2018", lang, f"{stem}.html",
                                   f"{stem}.pdf", "ok"))
    return rows


def test_index_pages_in_both_languages_with_data_date_switch_and_links(products, tmp_path):
    entries = _entries(products.provinces)
    path = write_index(tmp_path, entries, synthetic=True, products=products)
    assert path == tmp_path / "index.html"
    pages = {lang: (tmp_path / name).read_text(encoding="utf-8") for lang, name in INDEX_PAGES.items()}
    assert '<html lang="id">' in pages["id"] and '<html lang="en">' in pages["en"]
    assert 'href="index-en.html"' in pages["id"] and 'href="index.html"' in pages["en"]  # the language switch
    for lang, page in pages.items():
        assert date(products.data_as_of, lang) in page  # the data's own last date, in words
        assert "SYNTHETIC DATA" in page and text("index.all_built", lang) in page
        for e in entries:
            assert f'href="{e.html}"' in page and f'href="{e.pdf}"' in page
    assert "31 Desember" in pages["id"] or re.search(r"\d{1,2} [A-Z][a-z]+ \d{4}", pages["id"])
    assert "Data per " in pages["id"] and "Data as of " in pages["en"]


def test_headline_figures_are_the_published_cells_and_withheld_ones_show_only_the_mark(products):
    frame = products._frame("indicators")  # withhold one headline cell, as the suppression would
    code = products.provinces[0]
    hit = (frame["measure_id"] == "kur_uptake") & (frame["region_code"] == code) & (frame["period"] == "all") & (
        frame["disaggregation"] == "all")
    assert hit.sum() == 1
    frame.loc[hit, ["value", "numerator", "denominator"]] = None
    frame.loc[hit, "suppressed"] = True
    page = index_html(_entries(products.provinces), lang="en", products=products)
    tags = re.findall(r'(data-(?:indicator|barrier))="([^"]+)" data-region="([^"]+)" data-period="([^"]+)" '
                      r'data-disaggregation="([^"]+)" data-value="([^"]*)">(.*?)</span>', page)
    assert len(tags) == len(HEADLINES) * (len(products.provinces) + 1)
    for attr, measure, region, period, dis, value, shown in tags:
        product = "indicators" if attr == "data-indicator" else "barriers"
        cell = products.cell(product, measure, region, period, dis)
        if bool(cell["suppressed"]):
            assert value == "" and "suppressed" in shown
        else:
            assert float(value) == pytest.approx(float(cell["value"]))
    withheld = [t for t in tags if t[1] == "kur_uptake" and t[2] == code]
    assert withheld and withheld[0][5] == "" and "suppressed" in withheld[0][6]
    assert {t[2] for t in tags} == {*products.provinces, NATIONAL}


def test_failed_not_run_and_pdf_less_reports_are_listed_with_the_reason(products):
    entries = _entries(products.provinces)
    entries[1] = IndexEntry(entries[1].stem, "province", entries[1].province, None, "2018", "id", None, None, "failed",
                            "RuntimeError in cell 5: deliberate failure")
    entries[2] = IndexEntry(entries[2].stem, "province", entries[2].province, None, "2018", "en",
                            entries[2].html, None, "ok")
    entries.append(IndexEntry("province-99-none-2018-id", "province", entries[3].province, None, "2019", "id", None,
                              None, "not run"))
    page = index_html(entries, lang="id", products=products, notes=["skipped: WeasyPrint cannot run here"])
    box = page[page.index('class="kkbm-problems"'):page.index("</div>", page.index('class="kkbm-problems"'))]
    assert f"{entries[1].stem}: gagal dibuat (RuntimeError in cell 5: deliberate failure)" in box
    assert f"{entries[2].stem}: hanya HTML, PDF tidak dibuat." in box
    assert "province-99-none-2018-id: tidak dijalankan" in box
    assert "PDF: skipped: WeasyPrint cannot run here" in box
    assert text("index.all_built", "id") not in page
    quiet = index_html(entries[:1], lang="en", products=products, pdf_wanted=True)
    assert 'class="kkbm-problems"' not in quiet and text("index.all_built", "en") in quiet
