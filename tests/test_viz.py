"""House style, charts, choropleth and tile-grid maps (Agg backend; small figures only)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402
from shapely import affinity  # noqa: E402

from kkbm_analysis.regions import region_table  # noqa: E402
from kkbm_analysis.viz import boundaries as bd  # noqa: E402
from kkbm_analysis.viz import charts, maps, theme, tilegrid  # noqa: E402

SHARED_GEOJSON = Path(__file__).resolve().parents[2] / "shared/data/boundaries/indonesia-38-provinces.geojson"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(autouse=True)
def _no_configured_boundaries(tmp_path: Path, monkeypatch):
    """Maps see no KKBM_BOUNDARIES and no cached download unless a test sets one."""
    monkeypatch.delenv(bd.ENV_VAR, raising=False)
    monkeypatch.setenv("KKBM_ROOT", str(tmp_path / "project"))


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def _gids(ax, gid: str) -> list:
    return [p for p in ax.patches if p.get_gid() == gid]


def indicator_table() -> pd.DataFrame:
    """compute_indicators-shaped: 5 provinces, one suppressed, plus the national row."""
    num = np.array([40, 30, np.nan, 12, 50, 150])
    den = np.array([100, 60, 6, 40, 80, 400])
    lo, hi = charts.wilson_interval(num, den)
    return pd.DataFrame({
        "indicator_id": "kur_uptake_test", "level": ["province"] * 5 + ["national"],
        "region_code": ["32", "33", "34", "35", "52", "ID"], "period": "2018", "disaggregation": "all",
        "value": num / den, "numerator": num, "denominator": den, "ci_low": lo, "ci_high": hi,
        "suppressed": [False, False, True, False, False, False],
    })


# =========================================================================== theme

def test_axis_number_formats():
    formatter = theme.LocaleFormatter(lang="id", percent=True)
    formatter.set_locs([0.0, 0.125, 0.25])
    assert formatter(0.125) == "12,5%"
    formatter = theme.LocaleFormatter(lang="en")
    formatter.set_locs([0, 1000, 2000])
    assert formatter(1000) == "1,000"
    with pytest.raises(ValueError, match="lang"):
        theme.LocaleFormatter(lang="fr")


def test_house_style_is_scoped_and_set_theme_applies():
    before = dict(matplotlib.rcParams)
    with theme.house_style():
        assert matplotlib.rcParams["font.sans-serif"][0] == "DejaVu Sans"
        first = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0]
        assert matplotlib.colors.to_hex(first) == theme.PALETTE[0].lower()
        assert matplotlib.rcParams["svg.hashsalt"] == "kkbm"
    assert matplotlib.rcParams["svg.hashsalt"] == before["svg.hashsalt"]
    with theme.house_style(context="talk"):
        assert matplotlib.rcParams["axes.labelsize"] > 11


def test_synthetic_banner_once():
    fig, ax = plt.subplots()
    stamp = theme.synthetic_banner(ax)
    assert stamp.get_text() == "SYNTHETIC DATA / DATA SINTETIS"
    theme.synthetic_banner(fig)
    assert [t.get_text() for t in fig.texts].count("SYNTHETIC DATA / DATA SINTETIS") == 2  # stamp + watermark


def test_save_figure_writes_png_and_svg(tmp_path: Path):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, 1])
    paths = theme.save_figure(fig, "trend.png", directory=tmp_path / "figs")
    assert [p.name for p in paths] == ["trend.png", "trend.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = paths[1].read_text()
    assert "<svg" in svg and "<dc:date>" not in svg  # no date: same figure, same file
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["trend.png", "trend.svg"]
    # default folder: figures/ of the project root
    default = theme.save_figure(ax, "default", formats=("png",))
    assert default == [tmp_path / "project" / "figures" / "default.png"] and default[0].exists()
    with pytest.raises(ValueError):
        theme.save_figure(fig, "../escape", directory=tmp_path)


def test_save_figure_is_atomic(tmp_path: Path, monkeypatch):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    target = theme.save_figure(fig, "f", formats=("png",), directory=tmp_path)[0]
    good = target.read_bytes()

    def broken(out, **kwargs):
        out.write(b"half a file")
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError):
        theme.save_figure(fig, "f", formats=("png",), directory=tmp_path)
    assert target.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png"]


# =========================================================================== indicator bars

def test_indicator_bars_english():
    table = indicator_table()
    ax = charts.indicator_bars(table)
    bars = [c for c in ax.containers if isinstance(c, BarContainer)][0]
    assert len(bars) == 4  # 5 provinces, one suppressed (not a zero bar), national not a bar
    assert all(b.get_width() > 0 for b in bars)
    errs = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(errs) == 1 and len(errs[0].lines[2][0].get_segments()) == 4
    line = [ln for ln in ax.lines if ln.get_gid() == "benchmark"][0]
    assert line.get_xdata()[0] == pytest.approx(150 / 400)
    assert len(_gids(ax, "suppressed")) == 1
    assert "suppressed (small numbers)" in _texts(ax)
    legend = _legend_texts(ax)
    assert "National: 37.5%" in legend and "95% CI" in legend and "suppressed (small numbers)" in legend
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Nusa Tenggara Barat"  # largest first (50/80)
    assert labels[-1] == "DI Yogyakarta"  # suppressed last; the name reports use too (i18n.region_name)
    assert "%" in ax.xaxis.get_major_formatter()(0.5)


def test_indicator_bars_indonesian_and_wilson_fallback():
    table = indicator_table().drop(columns=["ci_low", "ci_high"])
    ax = charts.indicator_bars(table, lang="id", kind="dot", region_labels="short")
    assert "Nasional: 37,5%" in _legend_texts(ax) and "SK 95%" in _legend_texts(ax)
    assert "disembunyikan (jumlah kecil)" in _texts(ax)
    assert ax.xaxis.get_major_formatter()(0.125) == "12,5%"
    assert "Jabar" in [t.get_text() for t in ax.get_yticklabels()]
    seg = [c for c in ax.containers if isinstance(c, ErrorbarContainer)][0].lines[2][0].get_segments()
    lo, hi = charts.wilson_interval(40, 100)
    assert any(np.allclose([s[0][0], s[1][0]], [lo, hi]) for s in seg)


def test_wilson_interval_known_values():
    lo, hi = charts.wilson_interval(5, 10)
    assert (lo, hi) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    lo, hi = charts.wilson_interval(0, 0)
    assert np.isnan(lo) and np.isnan(hi)


def test_indicator_bars_rejects_several_cuts():
    table = pd.concat([indicator_table(), indicator_table().assign(period="2019")])
    with pytest.raises(ValueError, match="period"):
        charts.indicator_bars(table)


# =========================================================================== trend

def test_indicator_trend():
    rows = [{"region_code": c, "period": p, "value": v, "ci_low": v - 0.05, "ci_high": v + 0.05, "suppressed": False}
            for c in ("32", "35", "ID") for p, v in (("2017", 0.3), ("2018", 0.4), ("2019", 0.5))]
    frame = pd.DataFrame(rows)
    frame.loc[1, ["value", "ci_low", "ci_high"]] = np.nan
    frame.loc[1, "suppressed"] = True
    ax = charts.indicator_trend(frame, lang="id")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2017", "2018", "2019"]
    series = [ln for ln in ax.lines if not ln.get_label().startswith("_")]
    assert len(series) == 3 and any(ln.get_gid() == "benchmark" for ln in series)
    jabar = [ln for ln in series if ln.get_label() == "Jawa Barat"][0]
    assert np.isnan(jabar.get_ydata()[1])  # suppressed: a gap, not zero
    # the two points left alone by the gap keep their intervals as error bars
    assert sum(len(c.lines[2][0].get_segments()) for c in ax.containers if isinstance(c, ErrorbarContainer)) == 2
    assert len(_gids(ax, "suppressed")) == 1
    assert {"Nasional", "disembunyikan (jumlah kecil)"} <= set(_legend_texts(ax))


# =========================================================================== mentoring gap

def by_point() -> pd.DataFrame:
    rows = []
    for code in ("ID", "32", "35"):
        for pid, li, le, share in (("p1", "Usaha", "Business", 0.8), ("p2", "Keuangan", "Finance", 0.5),
                                   ("p3", "Migrasi aman", "Safe migration", 0.3), ("p4", "Advokasi", "Advocacy", 0.1)):
            rows.append({"region_code": code, "point_id": pid, "label_id": li, "label_en": le,
                         "member_share": share, "suppressed": False})
    frame = pd.DataFrame(rows)
    frame.loc[5, ["member_share", "suppressed"]] = [np.nan, True]
    return frame


def test_mentoring_gap_heatmap():
    ax = charts.mentoring_gap_chart(by_point())
    image = ax.images[0]
    assert image.get_array().shape == (3, 4)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Business", "Finance", "Safe migration", "Advocacy"]
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "Indonesia"
    assert len([t for t in _texts(ax) if t.endswith("%")]) == 11  # 12 cells, one suppressed
    assert len(_gids(ax, "suppressed")) == 1
    assert "suppressed (small numbers)" in _legend_texts(ax)


def test_mentoring_gap_bars_indonesian():
    frame = by_point().rename(columns={"point_id": "point", "member_share": "share"})
    ax = charts.mentoring_gap_chart(frame, kind="bars", lang="id")
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == 4 and sum(len(b) for b in bars) == 11
    assert ax.get_legend().get_title().get_text() == "Poin pendampingan"
    assert "Usaha" in _legend_texts(ax)
    assert len(_gids(ax, "suppressed")) == 1


# =========================================================================== funnel

def funnel() -> pd.DataFrame:
    return pd.DataFrame({"stage_no": [2, 1, 3], "stage": ["trained", "identified", "started"],
                         "label_en": ["Trained", "Identified", "Started"],
                         "label_id": ["Dilatih", "Teridentifikasi", "Memulai usaha"], "reached": [80, 100, 20]})


def test_funnel_chart():
    ax = charts.funnel_chart(funnel())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Identified", "Trained", "Started"]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)][0]
    assert [b.get_width() for b in bars] == [100, 80, 20]
    assert "80  (80% of previous stage)" in _texts(ax) and "20  (25% of previous stage)" in _texts(ax)
    ax = charts.funnel_chart(funnel().assign(suppressed=[False, False, True], reached=[80, 100, np.nan]), lang="id")
    assert "80  (80% dari tahap sebelumnya)" in _texts(ax)
    assert len(_gids(ax, "suppressed")) == 1 and "disembunyikan (jumlah kecil)" in _texts(ax)


# =========================================================================== staffing

def test_staffing_scatter():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"community_id": [f"C{i}" for i in range(12)], "province_code": ["32", "35"] * 6,
                          "members_per_organiser": np.linspace(10, 120, 12)})
    frame["coverage"] = np.clip(0.9 - frame["members_per_organiser"] / 200 + rng.normal(0, 0.02, 12), 0, 1)
    frame.loc[0, "coverage"] = np.nan
    ax = charts.staffing_scatter(frame, hue="province_code", lang="id")
    points = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
    assert points == 11
    trend = [ln for ln in ax.lines if ln.get_gid() == "trend"][0]
    assert trend.get_ydata()[-1] < trend.get_ydata()[0]
    assert any("1 tidak digambar" in t for t in _texts(ax))
    assert ax.get_ylabel() == "Cakupan pendampingan" and {"Jabar", "Jatim", "Tren linear"} <= set(_legend_texts(ax))


# =========================================================================== survival, event study, forest

def test_survival_chart():
    rows = [pd.DataFrame({"group": g, "time_days": [0.0, 100.0, 365.25, 730.5], "survival": s,
                          "ci_low": np.array(s) - 0.05, "ci_high": np.minimum(1, np.array(s) + 0.05)})
            for g, s in (("0", [1, 0.8, 0.6, 0.4]), ("3–4", [1, 0.95, 0.9, 0.85]))]
    ax = charts.survival_chart(pd.concat(rows), lang="id")
    assert len(ax.lines) == 2 and len(ax.collections) == 2  # curves and bands
    assert ax.lines[0].get_xdata().max() == pytest.approx(24.0)  # days shown as months
    assert ax.get_xlabel() == "Bulan" and _legend_texts(ax) == ["0", "3–4"]


def test_event_study_chart():
    e = np.array([-4, -3, -2, 0, 1, 2])
    frame = pd.DataFrame({"event_time": e, "att": [0.01, -0.02, 0.0, 0.3, 0.35, 0.32]})
    frame["ci_low"], frame["ci_high"] = frame["att"] - 0.1, frame["att"] + 0.1
    ax = charts.event_study_chart(frame)
    legend = _legend_texts(ax)
    assert legend == ["Before (pre-trend test)", "After (effect)", "Reference period"]
    assert len([c for c in ax.containers if isinstance(c, ErrorbarContainer)]) == 2
    ref = [ln for ln in ax.lines if ln.get_gid() == "reference"][0]
    assert (ref.get_xdata()[0], ref.get_ydata()[0]) == (-1, 0)
    ax = charts.event_study_chart(frame, lang="id")
    assert ax.get_ylabel() == "Efek (ATT; SK 95%)"


def test_forest_chart_odds_ratios():
    frame = pd.DataFrame({"term": ["Intercept", "points", "female"], "estimate": [-1.0, np.log(1.5), np.log(0.8)],
                          "ci_low": [-1.2, np.log(1.2), np.log(0.6)], "ci_high": [-0.8, np.log(1.9), np.log(1.05)]})
    ax = charts.forest_chart(frame, exponentiate=True, term_labels={"points": "Mentoring points"})
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Mentoring points", "female"]  # intercept dropped
    ref = [ln for ln in ax.lines if ln.get_gid() == "reference"][0]
    assert ref.get_xdata()[0] == 1
    assert "1.50 (1.20–1.90)" in _texts(ax)
    assert ax.get_xlabel() == "Odds ratio (95% CI)"
    ticks = [ax.xaxis.get_major_formatter()(t) for t in ax.get_xticks()]
    assert len(set(ticks)) == len(ticks) >= 3
    ax = charts.forest_chart(frame, lang="id")
    assert ax.get_xscale() == "linear" and ax.get_xlabel() == "Estimasi (SK 95%)"


# =========================================================================== classification

def test_classify_schemes():
    values = pd.Series(np.arange(38, dtype=float))
    for scheme in maps.SCHEMES:
        classes = maps.classify(values, scheme=scheme, k=5)
        assert classes.k == 5 and set(classes.classes) == set(range(5))
    fixed = maps.classify(pd.Series([0.1, 0.4, np.nan, 0.9]), bins=[0.25, 0.5, 1.0])
    assert fixed.classes.tolist()[:2] == [0, 1] and pd.isna(fixed.classes.iloc[2])
    assert fixed.labels(lang="id", percent=True, decimals=0) == ["10%–25%", "26%–50%", "51%–100%"]
    with pytest.raises(ValueError, match="scheme"):
        maps.classify(values, scheme="jenks")


def test_zero_is_a_class_of_its_own_and_class_labels_do_not_overlap():
    values = pd.Series([0.0, 0.25, 0.27, 0.41, 0.5, 0.8, np.nan])
    classes = maps.classify(values, k=4)
    assert classes.bins[0] == 0 and classes.classes.iloc[0] == 0
    assert (classes.classes.iloc[1:6] > 0).all()  # 25 % never shares the zero class
    labels = classes.labels(lang="id", percent=True)
    assert labels[0] == "0%" and labels[1].startswith("1%–")
    shown = [[int(x.rstrip("%")) for x in lab.split("–")] for lab in labels[1:]]
    assert all(hi < nxt_lo for (_, hi), (nxt_lo, _) in zip(shown, shown[1:]))  # no shared edge
    fixed = maps.classify(pd.Series([0.1, 0.2]), bins=[0, 0.27, 0.5, 1]).labels(lang="en", percent=True)
    assert fixed == ["0%", "1%–27%", "28%–50%", "51%–100%"]
    no_zero = maps.classify(pd.Series([0.1, 0.25, 0.4, 0.9]), k=2)
    assert no_zero.k == 2 and no_zero.bins[0] > 0  # nothing forced when no region is at 0


def test_zero_tile_is_coloured_apart_from_positive_tiles():
    frame = pd.DataFrame({"region_code": ["32", "33", "35", "36"], "value": [0.25, 0.3, 0.0, 0.6]})
    ax = tilegrid.tile_map(frame, k=3, lang="en")
    face = {p.get_gid(): p.get_facecolor() for p in ax.patches if str(p.get_gid()).startswith("tile-")}
    assert face["tile-35"] not in {face["tile-32"], face["tile-33"], face["tile-36"]}
    assert _legend_texts(ax)[0] == "0%"


def test_zero_bars_say_zero_and_suppressed_bars_say_suppressed():
    frame = indicator_table().assign(value=lambda d: d["value"].where(d["region_code"] != "35", 0.0))
    ax = charts.indicator_bars(frame, lang="id")
    assert [t.get_text().strip() for t in ax.texts if t.get_gid() == "zero-label"] == ["0%"]
    shares = by_point().rename(columns={"point_id": "point", "member_share": "share"})
    shares.loc[shares.index[-1], "share"] = 0.0
    ax = charts.mentoring_gap_chart(shares, kind="bars", lang="en")
    written = [t.get_text() for t in ax.texts]
    assert "0%" in written and written.count("suppressed") == 1


# =========================================================================== tile grid

def test_tile_grid_has_the_38_official_provinces():
    grid = tilegrid.tile_grid()
    table = region_table()
    official = sorted(table.loc[table["level"] == 1, "code"])
    assert len(official) == 38
    assert sorted(grid["code"]) == official
    assert grid["abbreviation"].is_unique and not grid[["row", "col"]].duplicated().any()
    at = grid.set_index("code")
    assert (at.loc["11", "row"], at.loc["11", "col"]) == (0, 0)  # Aceh top-left
    papua = at.loc[["91", "92", "93", "94", "95", "96"], "col"]
    assert papua.min() > at.drop(papua.index)["col"].max()  # Papua provinces on the right
    assert at.loc["33", "col"] > at.loc["32", "col"] > at.loc["36", "col"]  # Java west -> east


def province_values(seed: int = 1) -> pd.DataFrame:
    """All 38 provinces with values; Riau suppressed, DKI Jakarta absent."""
    rng = np.random.default_rng(seed)
    codes = sorted(tilegrid.tile_grid()["code"])
    frame = pd.DataFrame({"region_code": codes, "value": rng.uniform(0.1, 0.9, len(codes)), "suppressed": False})
    frame.loc[frame["region_code"] == "14", ["value", "suppressed"]] = [np.nan, True]
    return frame.loc[frame["region_code"] != "31"].reset_index(drop=True)


def test_tile_map():
    ax = tilegrid.tile_map(province_values(), k=4, lang="id", labels="short_name")
    tiles = [p for p in ax.patches if str(p.get_gid()).startswith("tile-")]
    assert len(tiles) == 38
    riau = [p for p in tiles if p.get_gid() == "tile-14"][0]
    assert riau.get_hatch() == theme.SUPPRESSED_HATCH
    jakarta = [p for p in tiles if p.get_gid() == "tile-31"][0]
    assert jakarta.get_hatch() == theme.MISSING_HATCH
    assert len({p.get_facecolor() for p in tiles if p.get_hatch() is None}) == 4
    legend = _legend_texts(ax)
    assert len(legend) == 4 + 2 and legend[-2:] == ["disembunyikan (jumlah kecil)", "tidak ada data"]
    assert "Jabar" in _texts(ax)
    with pytest.raises(ValueError, match="provinces only"):
        tilegrid.tile_map(pd.DataFrame({"region_code": ["32.01"], "value": [1.0]}))
    two_periods = pd.concat([province_values().assign(period="2017"), province_values().assign(period="2018")])
    with pytest.raises(ValueError, match="period"):
        tilegrid.tile_map(two_periods)
    as_numbers = tilegrid.tile_map(pd.DataFrame({"region_code": [32, 35], "value": [0.2, 0.4]}), k=2)
    filled = [p for p in as_numbers.patches if p.get_hatch() is None]
    assert sorted(p.get_gid() for p in filled) == ["tile-32", "tile-35"]


# =========================================================================== choropleth

def _boundary_path(tmp_path: Path) -> Path:
    """The shared file, or 38 generated squares (region_code/name columns) when it is absent."""
    if SHARED_GEOJSON.exists():
        return SHARED_GEOJSON
    squares = tilegrid.tile_geodataframe()
    squares["geometry"] = [affinity.affine_transform(g, [3, 0, 0, 1.5, 95, 6]) for g in squares.geometry]
    squares = squares.set_crs(4326)
    path = tmp_path / "squares.geojson"
    squares[["region_code", "short_name", "geometry"]].to_file(path, driver="GeoJSON")
    return path


def test_choropleth_on_boundaries(tmp_path: Path):
    path = _boundary_path(tmp_path)
    ax = maps.choropleth(province_values(), boundaries=path, scheme="natural_breaks", k=5, title="KUR")
    values = [c for c in ax.collections if c.get_gid() == "values"][0]
    assert len(values.get_paths()) >= 36  # 36 provinces with values (multi-part shapes add paths)
    assert len({tuple(np.round(fc, 4)) for fc in values.get_facecolors()}) == 5
    hatched = [c for c in ax.collections if c.get_gid() == "suppressed"][0]
    assert hatched.get_hatch() == theme.SUPPRESSED_HATCH
    missing = [c for c in ax.collections if c.get_gid() == "missing"][0]
    assert missing.get_hatch() == theme.MISSING_HATCH
    legend = _legend_texts(ax)
    assert len(legend) == 5 + 2 and legend[-2:] == ["suppressed (small numbers)", "no data"]
    credit = [t for t in ax.texts if t.get_gid() == maps.CREDIT_GID]
    expected = "Boundaries: denyherianto, CC BY 4.0" if path == SHARED_GEOJSON else "Boundaries: squares.geojson"
    assert [t.get_text() for t in credit] == [expected]
    assert ax.get_title() == "KUR"


def test_choropleth_uses_the_configured_file_then_falls_back_to_tiles(tmp_path: Path, monkeypatch):
    ax = maps.choropleth(province_values(), k=3, lang="id")  # nothing configured: tile grid
    assert len([p for p in ax.patches if str(p.get_gid()).startswith("tile-")]) == 38
    assert "Peta petak" in " ".join(_texts(ax))
    monkeypatch.setenv(bd.ENV_VAR, str(_boundary_path(tmp_path)))
    ax = maps.choropleth(province_values(), k=3, credit="Batas: uji")
    assert any(c.get_gid() == "values" for c in ax.collections)
    assert [t.get_text() for t in ax.texts if t.get_gid() == maps.CREDIT_GID] == ["Batas: uji"]


def test_choropleth_warns_about_regions_without_shapes(tmp_path: Path):
    old = tilegrid.tile_geodataframe()
    old = old.loc[~old["region_code"].isin(["93", "94", "95", "96"])].set_crs(4326)
    bset = bd.match_boundaries(old, source="old")
    with pytest.warns(UserWarning, match="predates the 2022 Papua split"):
        maps.choropleth(province_values(), boundaries=bset, credit=False)
    with pytest.raises(ValueError, match="regency"):
        maps.choropleth(pd.DataFrame({"region_code": ["32.01"], "value": [1.0]}), level="regency")


def test_map_caption_names_the_legend_entry_for_provinces_without_data():
    from kkbm_analysis.i18n import text
    for lang in ("id", "en"):
        legend = _legend_texts(tilegrid.tile_map(province_values(), k=3, lang=lang))
        caption = text("report.map_caption", lang, period="2018")
        assert text("common.no_data", lang) in legend and f"“{text('common.no_data', lang)}”" in caption
