"""The qualitative ingest: fates, quarantine, consent, privacy, mapping, determinism, CLI."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from kkbm_analysis.qualitative import Voices, ingest_voices
from kkbm_analysis.qualitative.codebook import CodebookError, load_codebook

from test_qualitative_refi import TEXT_A, _hand_made

ROWS = {
    "Document name": ["Wawancara Bu Siti", "Wawancara Bu Siti", "FGD Lontar", "FGD Lontar", None, "FGD Lontar"],
    "Code": ["Hambatan\\Permodalan", "Hambatan\\Didampingi sebentar", "Kaderisasi", "Latar belakang", "Kaderisasi",
             None],
    "Segment": ["Modal susah, Pak Darto bilang KUR ditolak. HP 0812-3333-4444",
                "Pendampingan cuma 6 hari di Desa Lontar, kata Siti Rahayu", "Tidak ada penerus", "Dulu di Taiwan",
                "x", "tanpa kode"],
    "Begin": [1, 5, 2, 7, 1, 9], "End": [2, 6, 3, 8, 2, 10], "Coder": ["A", "A", "B", "B", "A", "A"],
    "Provinsi": ["Jawa Timur", "Jawa Timur", "Banten", "Banten", "Banten", "Banten"],
    "Peran": ["anggota", "anggota", "penggerak", "penggerak", "x", "penggerak"],
    "Persetujuan": ["ya", "ya", "tidak", "tidak", "ya", "tidak"],
    "Boleh dikutip": ["ya", "tidak", "ya", "ya", "ya", "ya"],
    "Nama": ["Siti Rahayu", "Siti Rahayu", None, None, None, None],
}


@pytest.fixture
def raw(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("KKBM_PSEUDONYM_KEY", "a test key, long enough to be a real secret 0123456789")
    folder = tmp_path / "raw"
    folder.mkdir()
    _hand_made(folder)
    pd.DataFrame(ROWS).to_excel(folder / "segments.xlsx", index=False)
    (folder / "catatan.txt").write_text("transkrip tanpa kode", encoding="utf-8")
    (folder / "kkbm-voices.yaml").write_text('themes:\n  "Hambatan/Didampingi sebentar": mentoring_gap\n'
                                              '  "Latar belakang": none\nnames: [Darto]\n', encoding="utf-8")
    (folder / "SYNTHETIC.json").write_text("{}", encoding="utf-8")  # proves nothing: a key is still needed
    return folder


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_every_file_source_and_segment_has_a_fate(raw, tmp_path):
    res = ingest_voices(raw, tmp_path / "out")
    f = res.fates
    assert set(f["fate"]) <= {"accepted", "quarantined", "skipped"}
    assert f.loc[f["file"] == "catatan.txt", "fate"].tolist() == ["skipped"]
    assert f.loc[(f["item"] == "picture source"), "fate"].tolist() == ["skipped"]
    segs = f[f["item"] == "segment"]
    assert (segs["fate"] == "accepted").sum() == len(res.tables["segments"])
    assert sorted(res.quarantine["rule"]) == ["missing_code", "missing_source"]
    q = res.quarantine.set_index("rule")
    assert q.loc["missing_code", "location"] == "Sheet1, row 7" and q.loc["missing_code", "file"] == "segments.xlsx"
    assert q.loc["missing_code", "column"] == "Code"
    rows = f[f["item"].str.startswith("sheet")].iloc[0]
    assert rows["message"] == "6 rows read, 4 accepted, 2 quarantined"


def test_raw_files_are_untouched_and_output_is_deterministic(raw, tmp_path):
    before = _digest(raw)
    ingest_voices(raw, tmp_path / "one")
    ingest_voices(raw, tmp_path / "two")
    assert _digest(raw) == before
    for name in ("sources", "segments", "codes", "codings", "attributes", "cases"):
        assert (tmp_path / "one" / f"{name}.parquet").read_bytes() == (tmp_path / "two" / f"{name}.parquet").read_bytes()


def test_privacy_consent_redaction_and_pseudonyms(raw, tmp_path):
    out = tmp_path / "out"
    ingest_voices(raw, out)
    v = Voices.load(out)
    seg = v.segments.merge(v.sources[["source_id", "consent"]], on="source_id")
    assert seg.loc[~seg["consent"], "text"].isna().all()          # no consent: counts only
    assert seg.loc[seg["consent"], "text"].notna().all()
    assert (seg["publishable"] <= seg["consent"]).all()
    texts = " ".join(seg["text"].dropna())
    assert "Pak [NAMA]" in texts and "[TELEPON]" in texts and "Desa [DESA]" in texts
    everything = " ".join(pd.read_parquet(p).astype(str).to_csv() for p in out.glob("*.parquet"))
    everything += " ".join(p.read_text(encoding="utf-8-sig") for p in out.glob("*.csv"))
    everything += (out / "manifest.json").read_text() + (out / "notes.md").read_text()
    assert TEXT_A[18:44] in everything                            # consented text is kept (redacted)
    for secret in ("Darto", "0812-3333-4444", "Siti", "Rahayu", "Lontar", "Wawancara Bu", "Coder One", "Informan 1"):
        assert secret not in everything, secret
    assert v.sources["source_id"].str.match(r"^V[0-9a-f]{16}$").all()
    assert v.codings["coder_id"].str.match(r"^C[0-9a-f]{16}$").all()


def test_codes_map_to_themes_by_mapping_label_and_parent(raw, tmp_path):
    v = Voices.from_ingest(ingest_voices(raw, None))
    got = v.codes[v.codes["file"] == "segments.xlsx"].set_index("path")[["theme_id", "theme_rule"]]
    assert tuple(got.loc["Hambatan / Didampingi sebentar"]) == ("mentoring_gap", "mapped")
    assert got.loc["Hambatan / Permodalan", "theme_rule"] == "label"
    assert got.loc["Latar belakang", "theme_rule"] == "mapped_none"
    assert pd.isna(got.loc["Latar belakang", "theme_id"])


def test_attributes_are_read_with_findings(raw, tmp_path):
    res = ingest_voices(raw, None)
    src = res.tables["sources"]
    assert sorted(src["province_code"].dropna()) == ["35", "35", "36"]
    assert set(src["role"].dropna()) == {"member", "penggerak"}
    assert "conflicting_attribute" not in set(res.findings["rule"])
    assert "no_consent_recorded" in set(res.findings["rule"])   # the inline source of the .qdpx


def test_broken_qdpx_is_quarantined_not_fatal(raw, tmp_path):
    (raw / "rusak.qdpx").write_bytes(b"PK\x03\x04 broken")
    res = ingest_voices(raw, None)
    q = res.quarantine.set_index("file")
    assert q.loc["rusak.qdpx", "rule"] == "unreadable_file"
    assert "rusak.qdpx" in q.loc["rusak.qdpx", "message"]
    assert len(res.tables["segments"]) > 0


def test_codebook_extension_and_errors(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("version: '1.0+study.1'\nthemes:\n  - {id: transport_costs, polarity: barrier, label_id: "
                     "Biaya transportasi, label_en: Transport costs, barrier_ids: [kur_owner_uptake]}\n"
                     "  - {id: staffing, label_en: Too few organisers}\n", encoding="utf-8")
    book = load_codebook(extra)
    assert book.version == "1.0+study.1" and "transport_costs" in book.ids
    assert book.label("staffing") == "Too few organisers" and book.polarity("staffing") == "barrier"
    for body, message in [("themes:\n  - {id: x, polarity: barrier, label_id: a, label_en: b, colour: red}\n", "unknown key"),
                          ("themes:\n  - {id: staffing, polarity: support}\n", "cannot change polarity"),
                          ("themes:\n  - {id: y, polarity: barrier, label_id: a, label_en: b, barrier_ids: [nope]}\n",
                           "unknown barrier indicator"),
                          ("themes:\n  - {id: z, polarity: barrier, label_id: a, label_en: b, parent: nowhere}\n",
                           "unknown parent")]:
        extra.write_text(body, encoding="utf-8")
        with pytest.raises(CodebookError, match=message):
            load_codebook(extra)


def test_cli_user_errors_have_no_traceback(raw, tmp_path, kkbm):
    bad = kkbm("voices", "ingest", tmp_path / "nowhere")
    assert bad.returncode == 2 and "raw folder not found" in bad.stderr and "Traceback" not in bad.stderr
    (raw / "kkbm-voices.yaml").write_text("themes:\n  Kaderisasi: no_such_theme\n", encoding="utf-8")
    bad = kkbm("voices", "ingest", raw, "--out", tmp_path / "o")
    assert bad.returncode == 2 and "no_such_theme" in bad.stderr and "Traceback" not in bad.stderr
    (raw / "kkbm-voices.yaml").unlink()
    ok = kkbm("voices", "ingest", raw, "--out", tmp_path / "o")
    assert ok.returncode == 1 and "quarantined by rule" in ok.stdout   # data problems: exit 1
    book = kkbm("voices", "codebook", "--lang", "id")
    assert book.returncode == 0 and "Kesenjangan pendampingan" in book.stdout and "[mentoring_points_mean" in book.stdout
