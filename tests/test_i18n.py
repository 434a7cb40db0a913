"""The language module: one catalogue in every language, Babel number and date formats, region
names, and the glossary (one Indonesian term per concept)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from kkbm_analysis import i18n
from kkbm_analysis.indicators import REGISTRY
from kkbm_analysis.schema import load_mentoring_points


# =========================================================================== catalogue
def test_every_entry_has_every_language_and_the_same_fields():
    entries = i18n.entries()
    assert len(entries) > 150
    for key, entry in entries.items():
        assert set(entry) == set(i18n.LANGS), key
        fields = {lang: {f.lower() for f in re.findall(r"{(\w+)}", entry[lang])} for lang in i18n.LANGS}
        assert fields["id"] == fields["en"], key


def test_text_fills_fields_and_refuses_unknown_keys_and_languages():
    assert i18n.text("report.key_figures", "id") == "Angka kunci"
    assert i18n.text("figure.boundaries_credit", "en", source="GADM") == "Boundaries: GADM"
    with pytest.raises(KeyError, match="no catalogue text"):
        i18n.text("report.no_such_key", "id")
    with pytest.raises(ValueError, match="lang"):
        i18n.text("report.key_figures", "fr")


# =========================================================================== numbers and dates
def test_numbers_follow_cldr_per_language():
    assert i18n.number(1234567.891, 1, "id") == "1.234.567,9"
    assert i18n.number(1234567.891, 1, "en") == "1,234,567.9"
    assert i18n.number(7935, 0, "id") == "7.935"
    assert i18n.number(0.4, 1, "id") == "0,4"
    assert i18n.percent(0.4251, 1, "id") == "42,5%" and i18n.number(0.125, 1, "id", percent=True) == "12,5%"
    assert i18n.number(0.071, 1, "en", signed=True) == "+0.1" and i18n.number(-2.5, 1, "id", signed=True) == "-2,5"


def test_rounding_is_pythons_and_zero_has_no_minus_sign():
    for x in (2.675, 0.125, 1.005, 123.455, -0.45):
        assert i18n.number(x, 2, "en") == f"{x:,.2f}"
    assert i18n.number(-0.0001, 1, "en") == "0.0" and i18n.number(-0.0001, 1, "id", signed=True) == "0,0"


def test_missing_values_are_written_as_no_data():
    for missing in (None, np.nan, float("nan")):
        assert i18n.number(missing, 1, "id") == "tidak ada data"
        assert i18n.percent(missing, 1, "en") == "no data"
    assert i18n.interval(None, 0.3, 1, "id") == "—"
    assert i18n.p_value(None, "en") == "p not available"


def test_intervals_rupiah_p_values_and_dates():
    assert i18n.interval(0.1, 0.25, 0, "id", percent=True) == "10%–25%"
    assert i18n.interval(-1.2, -0.4, 1, "en") == "-1.2 to -0.4"
    assert i18n.interval(-0.5, 0.3, 1, "id") == "-0,5 s.d. 0,3"
    assert i18n.ci_label(1.25, 1.55, 2, "en") == "95% CI 1.25–1.55"
    assert i18n.rupiah(12_500_000, "id") == "Rp 12,5 juta" and i18n.rupiah(12_500_000, "en") == "Rp 12.5 million"
    assert i18n.rupiah(2.5e9, "id") == "Rp 2,5 miliar" and i18n.rupiah(950_000, "id") == "Rp 950.000"
    assert i18n.p_value(0.0004, "id") == "p < 0,001" and i18n.p_value(0.0312, "en") == "p = 0.031"
    assert i18n.date("2026-11-29", "id") == "29 November 2026"
    assert i18n.date("2018-08-17", "id") == "17 Agustus 2018" and i18n.date("2018-08-17", "en") == "17 August 2018"


# =========================================================================== region names
def test_region_names_come_from_the_region_layer():
    assert i18n.region_name("36", "id") == "Banten"
    assert i18n.region_name("3604", "en") == "Kabupaten Serang"
    assert i18n.region_name("31", "id") == "DKI Jakarta"
    assert i18n.region_name("ID", "id") == "Indonesia"
    assert i18n.region_name("99", "en") == "99"  # never invented


# =========================================================================== glossary
def test_glossary_terms_are_used_consistently():
    """No Indonesian text of the catalogue, the indicator registry or the mentoring points uses a variant
    the glossary says to avoid (e.g. 'peluang (odds)', 'IK 95%', 'non-prosedural')."""
    texts = {key: entry["id"] for key, entry in i18n.entries().items()}
    for ind in REGISTRY.values():
        texts[f"indicator {ind.id} label"] = ind.label_id
        texts[f"indicator {ind.id} definition"] = ind.definition_id
    for point in load_mentoring_points().points:
        texts[f"mentoring point {point.key}"] = point.label_id
    assert i18n.glossary_problems(texts) == []


def test_glossary_check_can_fail():
    problems = i18n.glossary_problems({"a": "meningkatkan peluang (odds) usaha; IK 95% 1–2",
                                       "b": "keberangkatan non-prosedural"})
    assert len(problems) == 3 and any("nonprosedural" in p for p in problems)
    assert {t.id.split()[0] for t in i18n.glossary()} >= {"proporsi", "peluang", "odds", "selang", "nonprosedural",
                                                            "disembunyikan"}


def test_every_catalogue_key_named_in_the_package_exists():
    """A literal key like "report.key_figures" in the source must be in the catalogue (typos fail here)."""
    from pathlib import Path

    import kkbm_analysis
    package = Path(kkbm_analysis.__file__).parent
    pattern = re.compile(r"""["'](?:common|figure|report|model|barrier|resilience|voices)(?:\.[a-z0-9_]+)+["']""")
    missing = set()
    import matplotlib
    not_keys = set(matplotlib.rcParams) | {"report.html", "report.pdf", "report.css"}  # rc settings, file names
    for path in package.rglob("*.py"):
        for hit in pattern.findall(path.read_text(encoding="utf-8")):
            key = hit.strip("\"'")
            if key.endswith("_") or key in not_keys:  # a prefix completed at run time ("common.verdict_" + v)
                continue
            if not i18n.has_text(key):
                missing.add(f"{path.relative_to(package)}: {key}")
    assert not missing, sorted(missing)


def test_resilience_and_voices_take_their_words_from_the_catalogue():
    """No module of the resilience or qualitative packages picks its words by language itself: no
    ``lang == "id"`` branches, no (Indonesian, English) tuples indexed by language, no stop-gap aliases."""
    from pathlib import Path

    import kkbm_analysis
    package = Path(kkbm_analysis.__file__).parent
    choosing = re.compile(r"""lang\s*==\s*["'](?:id|en)["']|\[\s*0 if lang|\[lang\s*==|as fmt(?:_ci)?\b""")
    offenders = [f"{path.relative_to(package)}:{n}" for folder in ("resilience", "qualitative")
                 for path in sorted((package / folder).glob("*.py"))
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if choosing.search(line)]
    assert offenders == []
    assert i18n.text("voices.joint.verdict.too_small", "id") == "terlalu sedikit untuk disimpulkan"
    assert i18n.text("resilience.capacity.absorptive", "id") == "menyerap"
