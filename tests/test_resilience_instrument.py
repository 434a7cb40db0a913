"""The resilience instrument: one item bank -> the committed XLSForm, the schema and the codebook."""
from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from kkbm_analysis.resilience import instrument
from kkbm_analysis.item_bank import CAPACITIES, load_item_bank
from kkbm_analysis.schema import TABLES, VOCABULARIES, codebook


@pytest.fixture(scope="module")
def bank():
    return load_item_bank()


def test_committed_form_is_built_from_the_item_bank(tmp_path):
    rebuilt = instrument.write_xlsform(tmp_path / "form.xlsx")
    assert rebuilt.read_bytes() == instrument.form_path().read_bytes(), \
        "resources/resilience_survey.xlsx is stale: run python -m kkbm_analysis.resilience.instrument"


def test_form_sheets_and_language_columns():
    sheets = instrument.read_xlsform(instrument.form_path())
    assert {"survey", "choices", "settings"} <= set(sheets)
    for sheet in ("survey", "choices"):
        assert {"label::Indonesian (id)", "label::English (en)"} <= set(sheets[sheet].columns)
    assert sheets["settings"]["form_id"].iloc[0] == "kkbm_ketahanan_pmi"
    assert sheets["settings"]["default_language"].iloc[0] == "Indonesian (id)"


def test_committed_form_passes_the_structural_checks():
    assert instrument.check_xlsform(instrument.form_path()) == []


@pytest.mark.skipif(importlib.util.find_spec("pyxform") is None, reason="pyxform (test extra) not installed")
def test_pyxform_converts_the_form_without_warnings():
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    xform = convert(xlsform=str(instrument.form_path()), warnings=warnings).xform
    assert warnings == []
    assert "<h:title>Survei Ketahanan PMI dan Keluarga</h:title>" in xform
    assert 'lang="English (en)"' in xform and 'lang="Indonesian (id)"' in xform
    assert "jenis_guncangan" in xform and "selected(" in xform


def _broken(change):
    sheets = {k: v.copy() for k, v in instrument.xlsform_sheets().items()}
    change(sheets)
    return [p.message for p in instrument.check_xlsform(sheets)]


def test_checks_catch_broken_forms():
    def unknown_list(s):
        s["survey"].loc[s["survey"]["name"] == "putaran", "type"] = "select_one no_such_list"

    def duplicate(s):
        s["survey"].loc[s["survey"]["name"] == "a_aset", "name"] = "a_tabungan"

    def bad_reference(s):
        s["survey"].loc[s["survey"]["name"] == "r_kekerasan", "relevant"] = "${pernah_kerja} = 'ya'"

    def unclosed(s):
        s["survey"] = s["survey"][s["survey"]["type"] != "end_group"].iloc[:-1]

    def missing_english(s):
        s["choices"].loc[0, "label::English (en)"] = None

    def bad_name(s):
        s["survey"].loc[s["survey"]["name"] == "nik", "name"] = "1nik"

    assert any("does not exist" in m for m in _broken(unknown_list))
    assert any("used twice" in m for m in _broken(duplicate))
    assert any("unknown question '${pernah_kerja}'" in m for m in _broken(bad_reference))
    assert any("never closed" in m for m in _broken(unclosed))
    assert any("label::English (en)" in m for m in _broken(missing_english))
    assert any("not a valid XML name" in m for m in _broken(bad_name))
    assert _broken(lambda s: None) == []


def test_schema_fields_derive_from_the_item_bank(bank):
    columns = TABLES["resilience_surveys"].columns
    assert columns == ["submission_id", *(i.field for i in bank.items)]
    schema = TABLES["resilience_surveys"].schema.columns
    for item in bank.items:
        aliases = schema[item.field].metadata["aliases"]
        assert item.name.replace("_", " ") in aliases   # the Kobo column name finds the field
    lo, hi = bank.likert_range
    likert = [i.field for i in bank.items if bank.is_likert(i)]
    assert len(likert) == 20 and str(schema[likert[0]].dtype) == "Int64"
    assert {c.name for c in schema[likert[0]].checks} >= {"greater_than_or_equal_to", "less_than_or_equal_to"}
    assert set(VOCABULARIES["shock_type"]) == {c.name for c in bank.choices["shock_type"]}


def test_scales_and_risk_domains(bank):
    for cap in CAPACITIES:
        assert len(bank.scale_fields(cap)) == 4
    assert {bank.item(f).domain for f in bank.risk_fields()} == {"economic", "household", "abroad"}
    abroad = [bank.item(f) for f in bank.risk_fields("abroad")]
    assert all(i.relevant == "${pernah_bekerja_ln} = 'ya'" for i in abroad)


def test_codebook_has_the_survey(bank):
    cb = codebook()
    rows = cb[cb["table"] == "resilience_surveys"]
    assert len(rows) == len(bank.items) + 1
    debt = rows.set_index("column").loc["risk_debt"]
    assert "Economic risk" in debt["meaning_en"] and "Risiko ekonomi" in debt["meaning_id"]
    assert "job_loss = Kehilangan pekerjaan" in rows.set_index("column").loc["main_shock", "allowed"]


def test_item_bank_errors_name_the_problem(tmp_path):
    text = (instrument.RESOURCES_DIR / "resilience_items.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "items.yaml"
    bad.write_text(text.replace("type: select_one survey_round", "type: select_one rounds"), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown choice list 'rounds'"):
        load_item_bank(bad)


def test_schema_rules_on_survey_rows(bank):
    from kkbm_analysis.synth.survey import demo_data

    rows = demo_data(seed=5, scale=0.05).resilience_surveys.head(30).copy()
    schema = TABLES["resilience_surveys"].schema
    schema.validate(rows)
    shocked = rows[rows["any_shock"].fillna(False)].index[0]
    bad = rows.copy()
    bad.loc[shocked, "months_to_recover"] = pd.NA
    bad.loc[shocked, "recovered"] = True
    with pytest.raises(Exception, match="recovery answers inconsistent"):
        schema.validate(bad)
    bad = rows.copy()
    bad.loc[shocked, "shocks"] = str(rows.loc[shocked, "shocks"]) + " banjir"
    with pytest.raises(Exception, match="choice that is not in the survey form"):
        schema.validate(bad)
