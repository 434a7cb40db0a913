"""The notebook helpers (kkbm_analysis.notebook): the ingest's own files, names beside codes, formats, pictures."""
from __future__ import annotations

import pandas as pd
import pytest

from kkbm_analysis import notebook as explore


def test_notes_by_rule_counts_every_ingest_note(demo_project):
    out = explore.notes_by_rule(demo_project.processed)
    notes = pd.read_csv(demo_project.processed / "ingest_notes.csv", keep_default_na=False, encoding="utf-8-sig")
    assert len(notes) > 0 and out["notes"].sum() == len(notes)
    planted = demo_project.synth.expected_ingest_notes
    nik = out[(out["table"] == "members") & (out["rule"] == "invalid_nik")]["notes"]
    assert nik.tolist() == [int((planted["table"] == "members").sum())]


def test_notes_by_rule_of_a_folder_without_notes_is_empty(tmp_path):
    out = explore.notes_by_rule(tmp_path)
    assert out.empty and list(out.columns) == ["table", "rule", "notes"]


def test_table_puts_names_beside_codes_and_formats_numbers():
    frame = pd.DataFrame({"region_code": ["35", "36"], "year": [2018, 2019], "members": [166.0, 1234.0],
                          "coverage": [0.0, 0.4567], "mean_points": [1.23456, 2.5]})
    html = explore.table(frame, lang="id").to_html()
    assert "Jawa Timur" in html and "Banten" in html
    assert ">166<" in html and "1.234" in html and "166.0" not in html   # counts without ".0", id separators
    assert "0,0%" in html and "45,7%" in html and "1,2" in html and "1.23456" not in html
    assert ">2018<" in html and "2.018" not in html  # years stay years
    assert list(frame.columns) == ["region_code", "year", "members", "coverage", "mean_points"]  # unchanged


def test_figure_is_shown_as_a_picture_and_messages_pass_through():
    from matplotlib.figure import Figure
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    for shown in (explore.figure(fig), explore.figure(ax)):
        assert shown._repr_html_().startswith('<img src="data:image/png;base64,')
    message = explore.try_model(lambda: (_ for _ in ()).throw(ValueError("too few rows")))
    assert explore.figure(message) is message and "too few rows" in message


def test_data_folder_refuses_paths_outside_the_data_folder(project):
    assert explore.data_folder("data/processed/demo") == project.processed.resolve()
    for bad in ("/etc", "data/../reports"):
        with pytest.raises(ValueError, match="outside the project's data folder"):
            explore.data_folder(bad)
    assert explore.banner(explore.load("data/processed/demo"))._repr_html_().count("SYNTHETIC") == 1
