"""Words of the reports in Bahasa Indonesia and English, and how numbers are written.

Every heading, label, table header and sentence a report shows comes from
:data:`STRINGS` through :func:`t`, so a report is entirely in one language. Sentences
are templates filled with numbers formatted by :func:`num` / :func:`pct` (Indonesian:
``1.234,5`` and ``42,5%``; English: ``1,234.5`` and ``42.5%``)::

    from kkbm_analysis.reports import text
    text.t("key_figures", "id")                     # 'Angka kunci'
    text.num(1234.5, 1, "id"), text.pct(0.425, 1, "id")   # ('1.234,5', '42,5%')

Adding a language means adding its column to every entry (a test checks that every
key has both ``id`` and ``en``).
"""
from __future__ import annotations

import functools
import math
from typing import Any, Iterable

import pandas as pd

LANGS: tuple[str, ...] = ("id", "en")

#: key -> {"id": ..., "en": ...}; ``{fields}`` are filled by :func:`t`.
STRINGS: dict[str, dict[str, str]] = {
    # ------------------------------------------------------------------ banners, titles
    "synthetic_banner": {
        "id": "DATA SINTETIS — laporan ini dibuat dari data demo buatan (bukan data program yang sebenarnya). "
              "Angka-angkanya tidak boleh dikutip sebagai temuan.",
        "en": "SYNTHETIC DATA — this report was built from artificial demo data (not real programme data). "
              "Its numbers must not be quoted as findings."},
    "province_title": {"id": "Laporan Evaluasi KKBM — Provinsi {name}",
                       "en": "KKBM Evaluation Report — {name} Province"},
    "province_subtitle": {
        "id": "Komunitas Keluarga Buruh Migran (BP2MI) · periode {period} · kode wilayah {code}",
        "en": "Komunitas Keluarga Buruh Migran (migrant-worker family communities, BP2MI) · "
              "period {period} · region code {code}"},
    "national_title": {"id": "Ringkasan Kebijakan Nasional KKBM {period}",
                       "en": "KKBM National Policy Brief {period}"},
    "national_subtitle": {
        "id": "Perbandingan {n} provinsi · Komunitas Keluarga Buruh Migran (BP2MI)",
        "en": "Comparison of {n} provinces · Komunitas Keluarga Buruh Migran (BP2MI)"},
    "province_lead": {
        "id": "Pada akhir {period}, {members} anggota tergabung dalam {communities} komunitas KKBM di {villages} "
              "desa/kelurahan di {name}. Anggota yang mengikuti pelatihan awal pada {period} menerima rata-rata "
              "{points} dari {n_points} poin pendampingan yang diwajibkan (nasional: {points_nat}), dan satu "
              "CO/penggerak melayani {mpo} anggota (nasional: {mpo_nat}).",
        "en": "At the end of {period}, {members} members belonged to {communities} KKBM communities in "
              "{villages} villages in {name}. Members who took the entry training in {period} received on "
              "average {points} of the {n_points} mandated mentoring points (national: {points_nat}), and one "
              "CO/penggerak served {mpo} members (national: {mpo_nat})."},
    "national_lead": {
        "id": "Pada akhir {period}, KKBM mencakup {members} anggota dalam {communities} komunitas di {n} provinsi. "
              "Anggota yang dilatih pada {period} menerima rata-rata {points} dari {n_points} poin pendampingan "
              "yang diwajibkan ({coverage} dari mandat) dan {no_follow} tidak mendapat tindak lanjut sama sekali.",
        "en": "At the end of {period}, KKBM had {members} members in {communities} communities across {n} "
              "provinces. Members trained in {period} received on average {points} of the {n_points} mandated "
              "mentoring points ({coverage} of the mandate) and {no_follow} had no follow-up at all."},
    # ------------------------------------------------------------------ section headings
    "key_figures": {"id": "Angka kunci", "en": "Key figures"},
    "indicators": {"id": "Indikator pemberdayaan", "en": "Empowerment indicators"},
    "mentoring": {"id": "Kesenjangan pendampingan", "en": "The mentoring gap"},
    "staffing": {"id": "Ketenagaan: CO, penggerak dan petugas", "en": "Staffing: COs, penggerak and officers"},
    "other_barriers": {"id": "Faktor hambatan lain", "en": "Other barrier factors"},
    "models": {"id": "Temuan model hasil", "en": "Outcome-model findings"},
    "map": {"id": "Peta", "en": "Map"},
    "data_notes": {"id": "Catatan data", "en": "Data notes"},
    "comparison": {"id": "Perbandingan provinsi", "en": "Province comparison"},
    "recommendations": {"id": "Rekomendasi berbasis bukti", "en": "Evidence-based recommendations"},
    # ------------------------------------------------------------------ key-figure cards
    "kf_members": {"id": "Anggota (akhir {period})", "en": "Members (end of {period})"},
    "kf_communities": {"id": "Komunitas", "en": "Communities"},
    "kf_trained": {"id": "Anggota dilatih pada {period}", "en": "Members trained in {period}"},
    "kf_coverage": {"id": "Cakupan pendampingan", "en": "Mentoring coverage"},
    "kf_mpo": {"id": "Anggota per CO/penggerak", "en": "Members per CO/penggerak"},
    "kf_businesses": {"id": "Usaha aktif (akhir {period})", "en": "Active businesses (end of {period})"},
    "kf_kur": {"id": "Pemanfaatan KUR", "en": "KUR uptake"},
    "kf_no_follow": {"id": "Tanpa tindak lanjut", "en": "No follow-up"},
    "kf_provinces": {"id": "Provinsi", "en": "Provinces"},
    "national_is": {"id": "nasional: {value}", "en": "national: {value}"},
    "share_of_national": {"id": "{share} dari nasional", "en": "{share} of the national total"},
    "of_mandate": {"id": "{points} dari {n} poin", "en": "{points} of {n} points"},
    # ------------------------------------------------------------------ table headers
    "col_indicator": {"id": "Indikator", "en": "Indicator"},
    "col_domain": {"id": "Bidang", "en": "Domain"},
    "col_value": {"id": "Nilai", "en": "Value"},
    "col_ci": {"id": "IK 95%", "en": "95% CI"},
    "col_national": {"id": "Nasional", "en": "National"},
    "col_province": {"id": "Provinsi", "en": "Province"},
    "col_verdict": {"id": "Dibanding nasional", "en": "Versus national"},
    "col_point": {"id": "Poin pendampingan", "en": "Mentoring point"},
    "col_received_prov": {"id": "Menerima ({name})", "en": "Received ({name})"},
    "col_received_nat": {"id": "Menerima (nasional)", "en": "Received (national)"},
    "col_sessions": {"id": "Sesi diadakan", "en": "Sessions held"},
    "col_measure": {"id": "Ukuran", "en": "Measure"},
    "col_rank": {"id": "Peringkat", "en": "Rank"},
    "col_members": {"id": "Anggota", "en": "Members"},
    "col_trained": {"id": "Dilatih", "en": "Trained"},
    "col_coverage": {"id": "Cakupan pendampingan", "en": "Mentoring coverage"},
    "col_no_follow": {"id": "Tanpa tindak lanjut", "en": "No follow-up"},
    "col_mpo": {"id": "Anggota per CO/penggerak", "en": "Members per CO/penggerak"},
    "col_vacancy": {"id": "Bulan tanpa CO", "en": "Months without a CO"},
    "col_regeneration": {"id": "Regenerasi kader", "en": "Cadre regeneration"},
    "col_kur": {"id": "Pemanfaatan KUR", "en": "KUR uptake"},
    "col_y12": {"id": "Berusaha 12 bln setelah pelatihan", "en": "Running a business 12 months after training"},
    "col_term": {"id": "Variabel", "en": "Term"},
    "col_or": {"id": "Rasio odds", "en": "Odds ratio"},
    "col_p": {"id": "Nilai p", "en": "p-value"},
    # ------------------------------------------------------------------ domains and verdicts
    "domain_economic": {"id": "Pemberdayaan ekonomi", "en": "Economic empowerment"},
    "domain_information": {"id": "Layanan informasi", "en": "Information services"},
    "domain_advocacy": {"id": "Advokasi", "en": "Advocacy"},
    "domain_membership": {"id": "Keanggotaan", "en": "Membership"},
    "verdict_better": {"id": "lebih baik", "en": "better"},
    "verdict_worse": {"id": "lebih buruk", "en": "worse"},
    "verdict_similar": {"id": "serupa", "en": "similar"},
    "verdict_unknown": {"id": "tidak diketahui", "en": "unknown"},
    "suppressed": {"id": "disembunyikan", "en": "suppressed"},
    "no_data": {"id": "tidak ada data", "en": "no data"},
    "not_applicable": {"id": "—", "en": "—"},
    # ------------------------------------------------------------------ section texts
    "indicators_intro": {
        "id": "Indikator keberhasilan KKBM (Perka BNP2TKI 6/2017) untuk {name} pada {period}, dengan selang "
              "kepercayaan 95% untuk proporsi dan rata-rata, dan nilai nasional sebagai pembanding. Sel dengan "
              "jumlah kecil disembunyikan untuk melindungi anggota (lihat Catatan data).",
        "en": "KKBM success indicators (Perka BNP2TKI 6/2017) for {name} in {period}, with 95% confidence "
              "intervals for proportions and means, and the national value as benchmark. Cells with small "
              "numbers are suppressed to protect members (see Data notes)."},
    "indicators_figure": {
        "id": "Pemanfaatan KUR oleh anggota yang memenuhi syarat, per provinsi, akhir {period} (IK 95%).",
        "en": "KUR uptake among eligible members by province, end of {period} (95% CI)."},
    "suppressed_note": {
        "id": "“disembunyikan”: nilai tidak ditampilkan karena jumlahnya kecil (kurang dari {min_count} orang "
              "atau penyebut kurang dari {min_den}), atau karena dapat dihitung dari sel yang disembunyikan.",
        "en": "“suppressed”: the value is withheld because the numbers are small (fewer than {min_count} "
              "people or a denominator below {min_den}), or because it could be derived from a suppressed cell."},
    "mentoring_intro": {
        "id": "Perka BNP2TKI 6/2017 mewajibkan {n_points} poin pendampingan usaha setelah pelatihan awal. "
              "Di {name}, {trained} anggota mengikuti pelatihan awal pada {period}. Tabel menunjukkan berapa "
              "persen dari mereka yang menerima setiap poin (sampai akhir data).",
        "en": "Perka BNP2TKI 6/2017 mandates {n_points} business-mentoring points after the entry training. "
              "In {name}, {trained} members took the entry training in {period}. The table shows the share of "
              "them who received each point (by the end of the data)."},
    "mentoring_figure": {
        "id": "Persentase anggota yang dilatih pada {period} yang menerima setiap poin pendampingan: {name} "
              "dibanding nasional.",
        "en": "Share of members trained in {period} who received each mentoring point: {name} versus national."},
    "mentoring_mandate": {
        "id": "Dari {mandated} poin pendampingan yang diwajibkan untuk anggota yang dilatih pada {period}, "
              "{delivered} diberikan ({coverage}; nasional: {coverage_nat}).",
        "en": "Of the {mandated} mentoring points mandated for the members trained in {period}, {delivered} "
              "were delivered ({coverage}; national: {coverage_nat})."},
    "staffing_intro": {
        "id": "Jumlah tenaga menentukan apakah pendampingan rutin mungkin dilakukan. Angka untuk {period}; "
              "pembanding adalah nilai nasional.",
        "en": "Staff numbers decide whether regular mentoring is possible at all. Figures for {period}; the "
              "benchmark is the national value."},
    "staffing_figure": {
        "id": "Anggota per CO/penggerak (FTE) per provinsi, {period}; garis: nasional.",
        "en": "Members per CO/penggerak (FTE) by province, {period}; line: national."},
    "other_intro": {
        "id": "Pelatihan yang tidak menjadi praktik, sinergi dengan pemerintah, dan akses permodalan.",
        "en": "Training that does not become practice, synergy with government, and access to capital."},
    "verdict_note": {
        "id": "“serupa”: dalam {tol} dari nilai nasional.",
        "en": "“similar”: within {tol} of the national value."},
    "map_caption": {
        "id": "Cakupan pendampingan per provinsi, anggota yang dilatih pada {period} (poin diterima / poin "
              "diwajibkan). Peta petak: satu petak per provinsi, tidak berskala; provinsi tanpa KKBM berwarna "
              "putih.",
        "en": "Mentoring coverage by province, members trained in {period} (points received / points "
              "mandated). Tile grid: one equal tile per province, not to scale; provinces without KKBM are "
              "white."},
    "models_intro": {
        "id": "Model dihitung pada seluruh data nasional; di sini temuan yang menyangkut {name}. Model "
              "observasional: hubungan, bukan bukti sebab-akibat.",
        "en": "The models are fitted on the national data; shown here are the findings that concern {name}. "
              "These are observational models: associations, not proof of cause and effect."},
    "model_points_effect": {
        "id": "Setiap tambahan satu poin pendampingan berkaitan dengan peluang menjalankan usaha 12 bulan "
              "setelah pelatihan yang lebih tinggi {ame} poin persentase ({ci}; {p}).",
        "en": "Each additional mentoring point is associated with a {ame} percentage-point higher chance of "
              "running a business 12 months after training ({ci}; {p})."},
    "model_whatif": {
        "id": "Di {name}, {y12} anggota terlatih menjalankan usaha setelah 12 bulan (nasional: {y12_nat}). "
              "Anggota di sini menerima rata-rata {points} poin; bila semua {n_points} poin diberikan, model "
              "memperkirakan kenaikan sekitar {gain} poin persentase.",
        "en": "In {name}, {y12} of trained members ran a business 12 months later (national: {y12_nat}). "
              "Members here received {points} points on average; if all {n_points} points were delivered, the "
              "model predicts an increase of about {gain} percentage points."},
    "model_gap_intro": {
        "id": "Perbandingan dengan {ref} (provinsi dengan persentase usaha berjalan tertinggi):",
        "en": "Comparison with {ref} (the province with the highest share running a business):"},
    "model_gap_best": {
        "id": "{name} memiliki persentase anggota yang menjalankan usaha tertinggi; dibandingkan dengan {ref} "
              "(tertinggi berikutnya):",
        "en": "{name} has the highest share of members running a business; compared with {ref} (the next "
              "highest):"},
    "model_perdes": {
        "id": "Perdes perlindungan PMI: {interpretation} Di {name}, {with_perdes} dari {villages} desa komunitas "
              "sudah memiliki Perdes.",
        "en": "Village regulations (Perdes) on PMI protection: {interpretation} In {name}, {with_perdes} of "
              "{villages} community villages have a Perdes."},
    "model_failed": {
        "id": "Model {model} tidak dapat dihitung untuk data ini: {reason}",
        "en": "The {model} model could not be estimated on these data: {reason}"},
    "models_table_caption": {
        "id": "Model logit peluang menjalankan usaha 12 bulan setelah pelatihan (nasional; galat baku "
              "dikelompokkan per komunitas).",
        "en": "Logit model of running a business 12 months after training (national; standard errors "
              "clustered by community)."},
    "models_skipped": {"id": "Bagian model tidak disertakan (parameter show_models).",
                       "en": "The model section was left out (parameter show_models)."},
    "comparison_intro": {
        "id": "Provinsi diurutkan menurut cakupan pendampingan anggota yang dilatih pada {period} (terendah "
              "di atas).",
        "en": "Provinces ranked by mentoring coverage of the members trained in {period} (lowest first)."},
    "recommendations_intro": {
        "id": "Rekomendasi berikut dihasilkan dari angka-angka di atas: setiap rekomendasi menyebut provinsi "
              "dengan kesenjangan terbesar dan angkanya.",
        "en": "The recommendations below are generated from the numbers above: each names the provinces where "
              "the gap is largest, with the numbers."},
    "rec_mentoring": {
        "id": "Prioritaskan pendampingan usaha di {where}: cakupan pendampingan di sana paling rendah "
              "(nasional: {national}); {no_follow} anggota yang dilatih pada {period} di sana tidak mendapat "
              "tindak lanjut sama sekali.",
        "en": "Prioritise business mentoring in {where}: mentoring coverage is lowest there (national: "
              "{national}); {no_follow} members trained there in {period} had no follow-up at all."},
    "rec_staffing": {
        "id": "Tambah CO/penggerak di provinsi tempat satu CO/penggerak melayani anggota terbanyak: {where}; "
              "nasional: {national}. Untuk mencapai rasio nasional dibutuhkan sekitar {needed} CO/penggerak (FTE) "
              "tambahan.",
        "en": "Recruit more COs/penggerak where one organiser serves the most members: {where}; national: "
              "{national}. Reaching the national ratio needs about {needed} more organisers (FTE)."},
    "rec_regeneration": {
        "id": "Bangun kaderisasi di {where}: bagian CO/penggerak yang berhenti dan digantikan dalam {months} "
              "bulan paling kecil di sana (nasional: {national}).",
        "en": "Build cadre regeneration in {where}: the share of departed COs/penggerak replaced within "
              "{months} months is lowest there (national: {national})."},
    "rec_kur": {
        "id": "Fasilitasi akses KUR di {where}: bagian anggota pemilik usaha yang mengajukan KUR paling kecil "
              "di sana (nasional: {national}).",
        "en": "Facilitate access to KUR in {where}: the share of business-owning members who applied for KUR "
              "is lowest there (national: {national})."},
    "rec_perdes": {
        "id": "Dorong Perdes perlindungan PMI: {villages_without} dari {villages} desa komunitas belum "
              "memilikinya (terbanyak di {provinces}). {effect}",
        "en": "Encourage village regulations (Perdes) on PMI protection: {villages_without} of {villages} "
              "community villages have none (most in {provinces}). {effect}"},
    "rec_points_effect": {
        "id": "Menurut model, setiap poin pendampingan tambahan berkaitan dengan {ame} poin persentase lebih "
              "banyak anggota yang menjalankan usaha setelah 12 bulan.",
        "en": "According to the model, each additional mentoring point goes with {ame} percentage points more "
              "members running a business after 12 months."},
    "rec_none": {"id": "Tidak ada provinsi yang tertinggal jauh dari nilai nasional pada ukuran-ukuran ini.",
                 "en": "No province lags far behind the national value on these measures."},
    "and": {"id": "dan", "en": "and"},
    "national_indicators_caption": {
        "id": "Indikator utama per provinsi, {period}.", "en": "Main indicators by province, {period}."},
    # ------------------------------------------------------------------ data notes
    "notes_source": {
        "id": "Sumber: data pemantauan program yang sudah diolah dari {inputs} berkas ({folder}); versi data "
              "{version}, data per {as_of}.",
        "en": "Source: processed programme monitoring data from {inputs} files ({folder}); data version "
              "{version}, data as of {as_of}."},
    "notes_source_plain": {
        "id": "Sumber: data program yang sudah diolah ({folder}); versi data {version}.",
        "en": "Source: processed programme data ({folder}); data version {version}."},
    "notes_synthetic": {
        "id": "Data ini SINTETIS: dibangkitkan oleh kkbm-analysis dan dikalibrasi pada angka agregat KKBM yang "
              "dipublikasikan (2017–2018). Tidak ada orang sungguhan di dalamnya.",
        "en": "These data are SYNTHETIC: generated by kkbm-analysis and calibrated to the published KKBM "
              "aggregates (2017–2018). No real person is in them."},
    "notes_suppression": {
        "id": "Perlindungan data: tabel yang dipublikasikan melewati penyembunyian sel kecil (jumlah < "
              "{min_count}, penyebut < {min_den}; penyembunyian sekunder agar nilai tidak dapat dihitung "
              "ulang). Dalam tabel indikator yang mendasari laporan ini (semua provinsi dan tahun): {primary} sel "
              "disembunyikan (primer) dan {secondary} (sekunder). Tidak ada NIK, nama, nomor telepon atau paspor dalam data olahan.",
        "en": "Data protection: published tables go through small-cell suppression (counts < {min_count}, "
              "denominators < {min_den}; secondary suppression so that values cannot be recomputed). In the "
              "indicator table behind this report (all provinces and years): {primary} cells suppressed (primary) and "
              "{secondary} (secondary). No "
              "NIK, names, phone or passport numbers are in the processed data."},
    "notes_definitions": {
        "id": "Definisi indikator dan faktor hambatan: dokumentasi modul kkbm_analysis.indicators dan "
              "kkbm_analysis.barriers. Poin pendampingan menurut kkbm_analysis/resources/mentoring_points.yaml "
              "(bacaan kerja Perka BNP2TKI 6/2017).",
        "en": "Definitions of indicators and barrier factors: documentation of the modules "
              "kkbm_analysis.indicators and kkbm_analysis.barriers. Mentoring points as in "
              "kkbm_analysis/resources/mentoring_points.yaml (a working reading of Perka BNP2TKI 6/2017)."},
    "notes_parameters": {"id": "Parameter laporan: {params}.", "en": "Report parameters: {params}."},
    "notes_software": {
        "id": "Dibuat dengan kkbm-analysis {version} (templat {template}).",
        "en": "Made with kkbm-analysis {version} (template {template})."},
    "notes_model_sample": {
        "id": "Model dihitung pada {n} anggota terlatih dari seluruh periode data.",
        "en": "Models are fitted on {n} trained members over the whole data period."},
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is ``'id'`` or ``'en'``; raise ValueError otherwise."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    return lang


def t(key: str, lang: str, **fields: Any) -> str:
    """The string ``key`` in ``lang`` with ``{fields}`` filled in."""
    check_lang(lang)
    try:
        template = STRINGS[key][lang]
    except KeyError:
        raise KeyError(f"no report text {key!r} in {lang!r}") from None
    return template.format(**fields) if fields else template


# --------------------------------------------------------------------------- numbers
def _missing(x: Any) -> bool:
    if x is None or x is pd.NA:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _swap(text: str) -> str:
    """English ``1,234.5`` -> Indonesian ``1.234,5``."""
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def num(x: Any, decimals: int = 0, lang: str = "en", *, signed: bool = False) -> str:
    """A number with thousands separators; Indonesian uses ``.`` for thousands, ``,`` for decimals.

    >>> num(1234.5, 1, "id"), num(1234.5, 1, "en"), num(7935, 0, "id")
    ('1.234,5', '1,234.5', '7.935')
    """
    check_lang(lang)
    if _missing(x):
        return t("no_data", lang)
    value = float(x)
    out = f"{value:+,.{decimals}f}" if signed else f"{value:,.{decimals}f}"
    if out.lstrip("+-").strip("0.,") == "" and out.startswith("-"):
        out = out[1:]
    return _swap(out) if lang == "id" else out


def pct(x: Any, decimals: int = 0, lang: str = "en", *, signed: bool = False) -> str:
    """A proportion as a percentage: ``pct(0.425, 1, 'id') == '42,5%'``."""
    if _missing(x):
        return t("no_data", lang)
    return num(100 * float(x), decimals, lang, signed=signed) + "%"


def ci(lo: Any, hi: Any, decimals: int = 0, lang: str = "en", *, percent: bool = False) -> str:
    """An interval ``'12–18%'`` / ``'1.234–1.456'`` (``—`` when missing)."""
    if _missing(lo) or _missing(hi):
        return t("not_applicable", lang)
    fmt = pct if percent else num
    sep = "–" if float(lo) >= 0 else (" s.d. " if lang == "id" else " to ")
    return f"{fmt(lo, decimals, lang)}{sep}{fmt(hi, decimals, lang)}"


def rupiah(x: Any, lang: str = "en") -> str:
    """An amount in rupiah, in millions when large: ``'Rp 12,5 jt'`` / ``'Rp 12.5 m'``."""
    if _missing(x):
        return t("no_data", lang)
    value = float(x)
    if abs(value) >= 1e9:
        return f"Rp {num(value / 1e9, 1, lang)} {'miliar' if lang == 'id' else 'bn'}"
    if abs(value) >= 1e6:
        return f"Rp {num(value / 1e6, 1, lang)} {'juta' if lang == 'id' else 'million'}"
    return f"Rp {num(value, 0, lang)}"


def value_text(x: Any, unit: str, lang: str) -> str:
    """An indicator value in its unit (proportions as %, rupiah as Rp, counts as integers)."""
    if unit == "proportion":
        return pct(x, 1, lang)
    if unit.startswith("rupiah"):
        return rupiah(x, lang)
    if unit in ("count", "people"):
        return num(x, 0, lang)
    if unit == "ratio":
        return pct(x, 1, lang, signed=True)
    return num(x, 1, lang)


def join_names(names: Iterable[str], lang: str) -> str:
    """``'A'``, ``'A and B'``, ``'A, B and C'`` (``dan`` in Indonesian)."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" {t('and', lang)} " + names[-1]


def finite(x: Any) -> bool:
    """True for a real, finite number."""
    if _missing(x):
        return False
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- region names
@functools.cache
def _province_names() -> dict[str, str]:
    try:
        from ..regions import region_table
        table = region_table()
        prov = table.loc[table["level"] == 1]
        return dict(zip(prov["code"].astype(str), prov["name"].astype(str)))
    except Exception:  # noqa: BLE001 - names are decoration; codes still identify the province
        return {}


_SHORT = {"31": "DKI Jakarta", "34": "DI Yogyakarta"}


def province_name(code: str) -> str:
    """The province's name (``'36'`` -> ``'Banten'``; the code itself if unknown)."""
    code = str(code)
    return _SHORT.get(code) or _province_names().get(code, code)


def province_names() -> dict[str, str]:
    """Every Kemendagri province code -> name."""
    return {code: province_name(code) for code in _province_names()}
