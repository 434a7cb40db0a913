"""``notes.md`` of a qualitative ingest: what was read, kept, left out and why (id and en)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from .ingest import VoicesIngest

TEXT = {
    "title": {"id": "Catatan ingest data kualitatif", "en": "Qualitative ingest notes"},
    "synthetic": {"id": "DATA SINTETIS: korpus contoh, tidak menggambarkan orang sungguhan.",
                  "en": "SYNTHETIC DATA: a demonstration corpus; it describes no real person."},
    "counts": {"id": "{files} berkas dibaca. Sumber: {sa} diterima, {sq} dikarantina, {ss} dilewati. "
                     "Segmen: {ga} diterima, {gq} dikarantina, {gs} dilewati. Pengodean: {c}.",
               "en": "{files} files read. Sources: {sa} accepted, {sq} quarantined, {ss} skipped. "
                     "Segments: {ga} accepted, {gq} quarantined, {gs} skipped. Codings: {c}."},
    "consent": {"id": "{n} sumber tanpa persetujuan: teksnya tidak disimpan, hanya jumlahnya. "
                      "{p} segmen boleh dikutip (persetujuan dan tanda boleh dikutip).",
                "en": "{n} sources without consent: their text is not stored, only counts. "
                      "{p} segments may be quoted (consent and a publishable mark)."},
    "redactions": {"id": "Penyamaran teks (jumlah temuan per aturan): {r}.",
                   "en": "Text redaction (matches per rule): {r}."},
    "unmapped": {"id": "Kode tanpa tema ({n}): {codes}. Petakan di kkbm-voices.yaml (themes:) bila perlu.",
                 "en": "Codes without a theme ({n}): {codes}. Map them in kkbm-voices.yaml (themes:) if needed."},
    "quarantine": {"id": "Dikarantina menurut aturan: {r}. Rincian di quarantine.csv.",
                   "en": "Quarantined by rule: {r}. Details in quarantine.csv."},
    "findings": {"id": "Temuan (data tetap dipakai) menurut aturan: {r}. Rincian di findings.csv.",
                 "en": "Findings (data kept) by rule: {r}. Details in findings.csv."},
    "codebook": {"id": "Buku kode tema: {name} versi {version}.", "en": "Theme codebook: {name} version {version}."},
    "none": {"id": "tidak ada", "en": "none"},
}


def ingest_notes(result: "VoicesIngest") -> str:
    """The notes in Indonesian, then English."""
    m, c = result.manifest, result.manifest["counts"]
    codes = result.tables["codes"]
    unmapped = codes[codes["theme_id"].isna() & (codes["theme_rule"] == "unmapped")] if len(codes) else codes
    lines = []
    for lang in ("id", "en"):
        t = {k: v[lang] for k, v in TEXT.items()}
        lines += [f"# {t['title']}", ""]
        if m["synthetic"]:
            lines += [f"**{t['synthetic']}**", ""]
        lines.append(t["codebook"].format(name=m["codebook"]["name"], version=m["codebook"]["version"]))
        lines.append(t["counts"].format(files=c["files"], sa=c["sources_accepted"], sq=c["sources_quarantined"],
                                        ss=c["sources_skipped"], ga=c["segments_accepted"],
                                        gq=c["segments_quarantined"], gs=c["segments_skipped"], c=c["codings"]))
        lines.append(t["consent"].format(n=c["sources_without_consent"], p=c["segments_publishable"]))
        lines.append(t["redactions"].format(r=_counts(pd.Series(m["redactions"])) or t["none"]))
        if len(unmapped):
            shown = ", ".join(sorted(set(unmapped["path"].astype(str)))[:20])
            lines.append(t["unmapped"].format(n=len(unmapped), codes=shown))
        lines.append(t["quarantine"].format(r=_counts(result.quarantine.get("rule", pd.Series(dtype=str))
                                                      .value_counts()) or t["none"]))
        if len(result.findings):
            lines.append(t["findings"].format(r=_counts(result.findings["rule"].value_counts())))
        lines.append("")
    return "\n".join(lines)


def _counts(series: pd.Series) -> str:
    return ", ".join(f"{k} {int(v)}" for k, v in series.sort_index().items() if v)
