"""The products reader: opening, typed accessors (per region x period x measure, trends, national beside),
model fits, records, and refusing a folder without (current) products."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from kkbm_analysis.products import NATIONAL, Products, ProductsMissing


@pytest.fixture(scope="module")
def products(demo_project) -> Products:
    return Products.open(demo_project.processed)


def test_open_refuses_a_folder_without_products(tmp_path, demo_project):
    with pytest.raises(ProductsMissing, match="kkbm analyse"):
        Products.open(tmp_path)
    shutil.copytree(demo_project.processed, tmp_path / "p")
    (tmp_path / "p" / "barriers.parquet").unlink()
    with pytest.raises(ProductsMissing, match="barriers.parquet"):
        Products.open(tmp_path / "p")
    manifest = json.loads((demo_project.processed / "products.json").read_text())
    (tmp_path / "p" / "products.json").write_text(json.dumps({**manifest, "products_version": 0}))
    with pytest.raises(ProductsMissing, match="another version"):
        Products.open(tmp_path / "p")


def test_what_the_products_cover(products, demo_data):
    assert products.years == ["2017", "2018", "2019", "2020"] and products.periods[-1] == "all"
    assert products.provinces == sorted(demo_data.communities["province_code"].dropna().astype(str).unique())
    assert products.synthetic and products.data_version == demo_data.data_version
    assert products.data_window[1] == products.data_as_of
    assert products.point_ids == ["mentoring_1", "mentoring_2", "mentoring_3", "mentoring_4"]
    assert "SYNTHETIC" in repr(products)


def test_cell_value_and_filters(products):
    f = products.indicators(measure="members", period="2018")
    assert set(f["region_code"]) == {*products.provinces, NATIONAL} and (f["disaggregation"] == "all").all()
    nat = products.cell("indicators", "members", NATIONAL, "2018")
    assert products.value("indicators", "members", NATIONAL, "2018") == float(nat["value"])
    assert float(nat["value"]) == pytest.approx(f.loc[f["level"] == "province", "value"].sum())  # provinces add up
    withheld = products.indicators(disaggregation=None).query("suppressed").iloc[0]
    assert products.value("indicators", withheld["measure_id"], withheld["region_code"], withheld["period"],
                          withheld["disaggregation"]) is None
    with pytest.raises(KeyError):
        products.cell("indicators", "members", "99", "2018")
    with pytest.raises(KeyError, match="unknown product"):
        products.cells("nothing")


def _filtered(frame: pd.DataFrame, **wanted) -> pd.DataFrame:
    """The cells a plain boolean filter over the whole frame selects (what the index must give)."""
    mask = pd.Series(True, index=frame.index)
    for column, values in wanted.items():
        if values is not None:
            mask &= frame[column].isin([values] if isinstance(values, str) else list(values))
    return frame.loc[mask].reset_index(drop=True)


@pytest.mark.parametrize("product", ["indicators", "barriers", "mentoring_points"])
def test_indexed_filters_select_what_a_boolean_filter_selects(products, product):
    frame = products._frame(product)
    measures, regions = sorted(frame["measure_id"].unique()), sorted(frame["region_code"].unique())
    requests = [
        {"measure_id": measures[0], "region_code": regions[0], "period": "2018", "disaggregation": "all"},
        {"measure_id": [measures[-1], measures[0], "no-such-measure"], "period": ["all", "2017"],
         "disaggregation": "all"},
        {"region_code": NATIONAL, "disaggregation": None, "level": "national"},
        {"measure_id": measures[1], "region_code": "99", "disaggregation": "all"},
        {"disaggregation": None},
    ]
    for wanted in requests:
        got = products.cells(product, measure=wanted.get("measure_id"), region=wanted.get("region_code"),
                             period=wanted.get("period"), disaggregation=wanted["disaggregation"],
                             level=wanted.get("level"))
        pd.testing.assert_frame_equal(got, _filtered(frame, **wanted))
    got["value"] = -1.0  # a copy: the product is untouched
    assert not (products._frame(product)["value"] == -1.0).any()


def test_find_gives_the_first_matching_cell_or_none(products):
    frame = products._frame("barriers")
    for row in frame.iloc[:: max(1, len(frame) // 40)].itertuples():
        key = (row.measure_id, row.region_code, row.period, row.disaggregation)
        expected = _filtered(frame, measure_id=key[0], region_code=key[1], period=key[2],
                             disaggregation=key[3]).iloc[0]
        pd.testing.assert_series_equal(products.find("barriers", *key), expected, check_names=False)
    assert products.find("barriers", "members_per_organiser", "99", "2018") is None
    cell = products.find("barriers", "members_per_organiser", NATIONAL, "2018")
    cell["value"] = -1.0
    assert products.find("barriers", "members_per_organiser", NATIONAL, "2018")["value"] != -1.0


def test_trend_has_every_year_and_the_national_value_beside(products):
    code = products.provinces[0]
    tr = products.trend("barriers", "members_per_organiser", code)
    assert tr["period"].tolist() == products.years
    nat = products.barriers(measure="members_per_organiser", region=NATIONAL).set_index("period")["value"]
    assert (tr["national_value"].to_numpy() == nat.reindex(tr["period"]).to_numpy()).all()
    ind = products.trend("indicators", "members", code)
    assert {"national_value", "national_suppressed", "national_ci_low"} <= set(ind.columns)


def test_compare_lists_every_province_then_the_nation(products):
    cmp = products.compare("barriers", "mentoring_coverage", "2018")
    assert cmp["region_code"].tolist() == [*products.provinces, NATIONAL]
    assert (cmp["national_value"] == cmp["value"].iloc[-1]).all()


def test_model_fits_and_records(products):
    fit = products.fit("business_model")
    assert fit.ok and fit.n_obs > 100 and fit.text("id") and fit.text("en")
    assert "points" in set(fit.table("marginal_effects")["term"])
    assert fit.row("points", "marginal_effects")["ame"] > 0
    table = fit.table("marginal_effects")
    table["ame"] = 0.0  # each call gives its own copy of the table, read once
    assert fit.row("points", "marginal_effects")["ame"] > 0
    with pytest.raises(KeyError, match="no model fit"):
        products.fit("nothing")
    did = products.fit("perdes_did")
    assert did.numbers["overall"]["estimate"] == pytest.approx(did.row("ATT (overall)")["estimate"])
    recs = products.recommendations(period="all")
    assert len(recs) and (recs["period"] == "all").all()


def test_reports_reanalyse_products_of_another_version_or_data(tmp_path, demo_project):
    """`kkbm reports` analyses first when the products are older than the data or than the products' layout."""
    from kkbm_analysis.cli import _products_current
    from kkbm_analysis.products.layout import PRODUCTS_VERSION

    folder = tmp_path / "p"
    shutil.copytree(demo_project.processed, folder)
    assert _products_current(folder)
    manifest = json.loads((folder / "products.json").read_text())
    (folder / "products.json").write_text(json.dumps({**manifest, "products_version": PRODUCTS_VERSION - 1}))
    assert not _products_current(folder)
    (folder / "products.json").write_text(json.dumps({**manifest, "data_version": "older"}))
    assert not _products_current(folder)
