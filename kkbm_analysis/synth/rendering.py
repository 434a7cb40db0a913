"""Raw-file rendering: sheet layouts, Indonesian vocabularies and cell formats of the files users bring."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..schema import load_mentoring_points
from .activities import ASSISTANCE
from .world import _name_key, _World

_BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")


_BLN = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


_PROVINCE_ABBR = {"11": "NAD", "12": "Sumut", "13": "Sumbar", "16": "Sumsel", "19": "Babel", "21": "Kepri",
                  "31": "DKI Jakarta", "32": "Jabar", "33": "Jateng", "34": "DIY", "35": "Jatim", "52": "NTB",
                  "53": "NTT", "61": "Kalbar", "62": "Kalteng", "63": "Kalsel", "64": "Kaltim", "65": "Kaltara",
                  "71": "Sulut", "72": "Sulteng", "73": "Sulsel", "74": "Sultra", "76": "Sulbar", "82": "Malut"}


#: Raw labels per vocabulary key (each is a synonym of schema.VOCABULARIES); first = most common.
_LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "program": {"KKBM": ("KKBM", "Komunitas Keluarga Buruh Migran")},
    "member_status": {"pmi_purna": ("PMI Purna", "Purna", "Mantan PMI", "Purna TKI"),
                      "pmi_aktif": ("PMI Aktif", "Masih Bekerja", "TKI"),
                      "calon_pmi": ("Calon PMI", "CPMI", "Calon TKI"),
                      "keluarga": ("Keluarga PMI", "Keluarga")},
    "sex": {"L": ("L", "Laki-laki", "LK"), "P": ("P", "Perempuan", "PR")},
    "staff_role": {"co": ("CO", "Community Organizer", "Pendamping KKBM"),
                   "penggerak": ("Penggerak", "Kader Penggerak"),
                   "officer": ("Petugas BP3TKI", "Petugas LP3TKI", "Staf UPT")},
    "end_reason": {"resigned": ("Mengundurkan diri", "Resign"), "migrated": ("Bekerja ke luar negeri", "Menjadi PMI"),
                   "moved": ("Pindah", "Pindah domisili"), "contract_ended": ("Kontrak selesai", "Masa tugas selesai"),
                   "other": ("Lainnya", "Meninggal")},
    "sector": {"agriculture": ("Pertanian", "Tani"), "livestock": ("Peternakan", "Ternak"),
               "fishery": ("Perikanan", "Budidaya ikan"), "food": ("Kuliner", "Makanan olahan"),
               "trade": ("Perdagangan", "Warung", "Dagang"), "handicraft": ("Kerajinan", "Konveksi", "Jahit"),
               "services": ("Jasa", "Bengkel", "Salon"), "other": ("Lainnya",)},
    "business_status": {"active": ("Aktif", "Berjalan"), "dormant": ("Vakum", "Tidak aktif"),
                        "closed": ("Tutup", "Gulung tikar", "Bangkrut")},
    "group_kind": {"business_group": ("KUB", "Kelompok Usaha Bersama"), "cooperative": ("Koperasi",)},
    "partner_type": {"bank": ("Bank", "BPR"), "government": ("Dinas Koperasi", "Disnakertrans", "Pemda"),
                     "university": ("Perguruan Tinggi", "Universitas"), "ngo": ("LSM", "Ormas"),
                     "private": ("Swasta", "CSR", "Perusahaan"), "other": ("Lainnya",)},
}


#: KoboToolbox choice names (underscored synonyms).
_KOBO = {
    "case_type": {"unpaid_wages": "gaji_tidak_dibayar", "abuse": "kekerasan", "trafficking": "tppo",
                  "documents": "dokumen", "contract": "phk", "lost_contact": "hilang_kontak",
                  "death_illness": "sakit", "other": "lainnya"},
    "case_outcome": {"resolved": "selesai", "referred": "dirujuk", "unresolved": "tidak_selesai",
                     "ongoing": "dalam_proses"},
    "service_kind": {"dissemination": "diseminasi", "information_service": "layanan_informasi",
                     "placement_facilitation": "fasilitasi_penempatan"},
}


def _session_labels() -> dict[str, tuple[str, ...]]:
    """Raw session-kind labels, taken from the mentoring-points resource's aliases."""
    mp = load_mentoring_points()
    wanted = {mp.entry_training.key: ("Pelatihan 6 hari", "Pelatihan awal", "Bimtek")}
    for i, p in enumerate(mp.points, 1):
        wanted[p.key] = (f"Pendampingan {i}", f"Poin {i}")
    out = {}
    for cat in (mp.entry_training, *mp.points):
        known = {_name_key(a) for a in cat.synonyms}
        ok = tuple(x for x in wanted.get(cat.key, ()) if _name_key(x) in known)
        out[cat.key] = ok or (cat.synonyms[0].capitalize(),)
    out["other_training"] = ("Pelatihan lain", "Lainnya")
    return out


def _labels(vocab: str) -> dict[str, tuple[str, ...]]:
    return _session_labels() if vocab == "session_kind" else _LABELS[vocab]


@dataclass(frozen=True)
class _Col:
    """One raw column: where its values come from, candidate headers, how it is written."""

    source: str
    headers: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class _SheetSpec:
    table: str
    names: tuple[str, ...]     # sheet names (sheet aliases of the table)
    title: str
    columns: tuple[_Col, ...]
    csv_name: str              # national / CSV file stem
    optional: tuple[str, ...] = ()  # columns a sheet has only when some of its rows have a value


def _c(source: str, kind: str, *headers: str) -> _Col:
    return _Col(source, headers, kind)


_CID = _c("community_id", "code", "Kode KKBM", "ID KKBM", "Kode Komunitas")


SHEETS: tuple[_SheetSpec, ...] = (
    _SheetSpec("communities", ("Komunitas", "Profil KKBM", "Data KKBM"), "PROFIL KKBM", (
        _CID, _c("community_name", "text", "Nama KKBM", "Nama Komunitas"), _c("program", "cat:program", "Program"),
        _c("province_code", "prov", "Provinsi", "Nama Provinsi"),
        _c("regency_code", "reg", "Kabupaten/Kota", "Kab/Kota", "Kabupaten"),
        _c("district_code", "dist", "Kecamatan", "Kec"), _c("village_code", "vill", "Desa/Kelurahan", "Desa"),
        _c("unit", "text", "Unit Pelaksana", "LP3TKI/BP3TKI"),
        _c("formed_on", "date", "Tanggal Pembentukan", "Tgl Dibentuk", "Tanggal Terbentuk"),
        _c("village_gov_involved", "bool", "Pemerintah Desa Terlibat", "Keterlibatan Pemdes")), "komunitas"),
    _SheetSpec("members", ("Anggota", "Data Anggota", "Daftar Anggota"), "REKAP DATA ANGGOTA KKBM", (
        _CID, _c("member_id", "nik", "NIK", "No KTP", "NIK Anggota"),
        _c("name", "text", "Nama", "Nama Lengkap", "Nama Anggota"),
        _c("sex", "cat:sex", "Jenis Kelamin", "JK", "L/P"), _c("birth_date", "date", "Tanggal Lahir", "Tgl Lahir"),
        _c("address", "text", "Alamat", "Alamat Lengkap"),
        _c("district_code", "dist", "Kecamatan", "Kec"), _c("village_code", "vill", "Desa", "Desa/Kelurahan"),
        _c("phone", "text", "No HP", "Nomor HP", "No WA"),
        _c("status", "cat:member_status", "Status", "Status Anggota", "Kategori Anggota"),
        _c("destination_country", "text", "Negara Tujuan", "Negara Penempatan"),
        _c("passport_no", "text", "No Paspor", "Nomor Paspor"),
        _c("departed_on", "date", "Tanggal Berangkat", "Tgl Berangkat"),
        _c("returned_on", "date", "Tanggal Pulang", "Tgl Pulang", "Tanggal Kepulangan"),
        _c("joined_on", "date", "Tanggal Bergabung", "Tgl Bergabung", "Tanggal Masuk")), "anggota",
        optional=("district_code", "village_code")),
    _SheetSpec("staff", ("Pengurus", "Data Pengurus", "SDM"), "DATA PENGURUS, CO DAN PETUGAS", (
        _c("staff_id", "nik", "NIK", "NIK Petugas", "No KTP"), _c("name", "text", "Nama", "Nama Petugas"),
        _c("phone", "text", "No HP", "Nomor Telepon"), _c("role", "cat:staff_role", "Peran", "Jabatan", "Posisi"),
        _CID, _c("unit", "text", "Unit", "Unit Pelaksana", "UPT"), _c("province_code", "prov", "Provinsi", "Prov"),
        _c("sex", "cat:sex", "Jenis Kelamin", "JK", "L/P"),
        _c("started_on", "date", "Mulai Bertugas", "TMT", "Tgl Mulai"),
        _c("ended_on", "date", "Selesai Bertugas", "Tanggal Berhenti", "Tgl Berhenti"),
        _c("end_reason", "cat:end_reason", "Alasan Berhenti", "Alasan Keluar"),
        _c("fte", "float", "Beban Kerja", "FTE")), "pengurus"),
    _SheetSpec("sessions", ("Kegiatan", "Pelatihan dan Pendampingan", "Pelatihan"),
               "DAFTAR KEGIATAN PELATIHAN DAN PENDAMPINGAN", (
        _c("session_id", "code", "Kode Kegiatan", "ID Kegiatan", "Kode Sesi"), _CID,
        _c("kind", "cat:session_kind", "Jenis Kegiatan", "Materi", "Jenis"),
        _c("held_on", "date", "Tanggal Pelaksanaan", "Tanggal Kegiatan", "Tgl Kegiatan"),
        _c("duration_days", "float", "Lama (hari)", "Durasi (hari)", "Lama"),
        _c("facilitator", "text", "Penyelenggara", "Fasilitator", "Narasumber"),
        _c("participants", "int", "Jumlah Peserta", "Peserta")), "kegiatan"),
    _SheetSpec("attendance", ("Daftar Hadir", "Kehadiran", "Absensi"), "DAFTAR HADIR PESERTA", (
        _c("session_id", "code", "Kode Kegiatan", "ID Kegiatan", "Kode Sesi"),
        _c("member_id", "nik", "NIK Peserta", "NIK", "NIK Anggota"),
        _c("name", "text", "Nama Peserta", "Nama")), "daftar_hadir"),
    _SheetSpec("stages", ("Tahapan", "Tahapan Pemberdayaan"), "TAHAPAN PEMBERDAYAAN ANGGOTA", (
        _c("member_id", "nik", "NIK", "NIK Anggota"), _c("name", "text", "Nama", "Nama Anggota"),
        _c("identified_on", "date", "Identifikasi Masalah", "Tgl Identifikasi Masalah"),
        _c("potential_on", "date", "Pengenalan Potensi", "Mengenali Potensi", "Tgl Pengenalan Potensi"),
        _c("trained_on", "date", "Pelatihan", "Tgl Pelatihan"),
        _c("implemented_on", "date", "Implementasi", "Tgl Implementasi", "Penerapan"),
        _c("evaluated_on", "date", "Evaluasi", "Tgl Evaluasi")), "tahapan"),
    _SheetSpec("groups", ("Kelompok", "Kelompok Usaha"), "KELOMPOK USAHA DAN KOPERASI", (
        _c("group_id", "code", "Kode Kelompok", "ID Kelompok"), _CID,
        _c("group_name", "text", "Nama Kelompok", "Nama Koperasi"),
        _c("kind", "cat:group_kind", "Jenis Kelompok", "Bentuk", "Jenis"),
        _c("formed_on", "date", "Tanggal Dibentuk", "Tgl Dibentuk", "Tanggal Pembentukan"),
        _c("member_count", "int", "Jumlah Anggota"),
        _c("legal_entity", "bool", "Berbadan Hukum", "Badan Hukum")), "kelompok"),
    _SheetSpec("businesses", ("Usaha", "Data Usaha", "Unit Usaha"), "DATA USAHA ANGGOTA", (
        _c("business_id", "code", "Kode Usaha", "ID Usaha", "No Usaha"), _CID,
        _c("owner_member_id", "nik", "NIK Pemilik"), _c("name", "text", "Nama Pemilik"),
        _c("group_id", "code", "Kode Kelompok", "ID Kelompok"),
        _c("sector", "cat:sector", "Bidang Usaha", "Jenis Usaha", "Sektor"),
        _c("started_on", "date", "Tanggal Mulai Usaha", "Mulai Usaha", "Tgl Mulai Usaha"),
        _c("status", "cat:business_status", "Status Usaha", "Kondisi Usaha", "Status"),
        _c("closed_on", "date", "Tanggal Tutup", "Tgl Tutup")), "usaha"),
    _SheetSpec("kur_loans", ("KUR", "Pengajuan KUR"), "PENGAJUAN KUR", (
        _c("loan_id", "code", "No Pengajuan", "Nomor Pengajuan", "ID KUR"),
        _c("member_id", "nik", "NIK Debitur", "NIK Pemohon"), _c("name", "text", "Nama Debitur", "Nama Pemohon"),
        _c("bank", "text", "Bank Penyalur", "Bank"), _c("applied_on", "date", "Tanggal Pengajuan", "Tgl Pengajuan"),
        _c("approved", "bool", "Disetujui", "Status Persetujuan", "ACC"),
        _c("approved_on", "date", "Tanggal Persetujuan", "Tanggal Akad", "Tgl Persetujuan"),
        _c("amount_idr", "rupiah", "Plafon (Rp)", "Jumlah Pinjaman", "Nilai KUR")), "kur"),
    _SheetSpec("consultations", ("Konsultasi", "Konsultasi Usaha"), "KONSULTASI PENGEMBANGAN USAHA", (
        _c("consultation_id", "code", "Kode Konsultasi", "ID Konsultasi"), _CID,
        _c("business_id", "code", "Kode Usaha", "ID Usaha"),
        _c("held_on", "date", "Tanggal Konsultasi", "Tgl Konsultasi", "Tanggal"),
        _c("partner_type", "cat:partner_type", "Jenis Mitra", "Mitra"),
        _c("topic", "text", "Topik", "Materi Konsultasi")), "konsultasi"),
    _SheetSpec("prevention_events", ("Pencegahan", "Pencegahan Non Prosedural"),
               "KEGIATAN PENCEGAHAN PENEMPATAN NON-PROSEDURAL", (
        _c("event_id", "code", "Kode Pencegahan", "Kode Kegiatan Pencegahan"), _CID,
        _c("held_on", "date", "Tanggal Kegiatan", "Tanggal"),
        _c("people_reached", "int", "Jumlah Dijangkau", "Jumlah Peserta"),
        _c("people_dissuaded", "int", "Jumlah Batal Berangkat", "Jumlah Dicegah", "Batal Berangkat")), "pencegahan"),
)


REPORT_SPEC = _SheetSpec("business_reports", ("Laporan Usaha",), "LAPORAN PERKEMBANGAN USAHA KKBM", (
    _c("business_id", "code", "Kode Usaha", "ID Usaha"), _c("period", "month", "Bulan", "Periode", "Bulan Laporan"),
    _c("revenue_idr", "rupiah_text", "Omzet (Rp)", "Omset", "Volume Usaha (Rp)"),
    _c("workers", "int", "Jumlah Tenaga Kerja", "Tenaga Kerja", "Jumlah Pekerja")), "laporan_usaha")


PERDES_SPEC = _SheetSpec("village_regulations", ("Perdes",), "", (
    _c("province_code", "prov_mixed", "Provinsi"), _c("regency_code", "reg_mixed", "Kabupaten/Kota"),
    _c("district_code", "dist_mixed", "Kecamatan"), _c("village_code", "vill_mixed", "Desa"),
    _c("title", "text", "Judul Perdes"), _c("adopted_on", "date_text", "Tanggal Ditetapkan")), "perdes")


DEPARTURES_SPEC = _SheetSpec("departures", ("Keberangkatan",), "", (
    _c("province_code", "prov_mixed", "Provinsi"), _c("regency_code", "reg_mixed", "Kabupaten/Kota"),
    _c("district_code", "dist_mixed", "Kecamatan"), _c("village_code", "vill_mixed", "Desa"),
    _c("period", "month_mixed", "Bulan"), _c("procedural", "int", "Berangkat Prosedural"),
    _c("non_procedural", "int", "Berangkat Non Prosedural")), "keberangkatan_desa")


PLACEMENTS_SPEC = _SheetSpec("placements", ("Penempatan",), "", (
    _c("year", "int", "Tahun"), _c("province_code", "prov_mixed", "Provinsi"),
    _c("sex", "cat:sex", "Jenis Kelamin"), _c("placements", "int", "Jumlah Penempatan"),
    _c("source", "text", "Sumber")), "penempatan_bp2mi")


ADVOCACY_SPEC = _SheetSpec("advocacy_cases", ("advokasi",), "", (
    _c("kobo_start", "text", "start"), _c("kobo_end", "text", "end"),
    _c("community_id", "code", "grp_identitas/kode_kkbm"), _c("member_id", "nik", "grp_identitas/nik_pmi"),
    _c("name", "text", "grp_identitas/nama_pmi"), _c("case_type", "kobo:case_type", "grp_kasus/jenis_kasus"),
    _c("opened_on", "iso", "grp_kasus/tanggal_pengaduan"), _c("closed_on", "iso", "grp_kasus/tanggal_selesai"),
    _c("outcome", "kobo:case_outcome", "grp_kasus/hasil_penanganan"),
    _c("disnakertrans_informed", "kobo_bool", "grp_kasus/disnakertrans_diberitahu"),
    _c("assistance", "text", "grp_kasus/bentuk_bantuan"),
    *(_c(f"assist_{a}", "text", f"grp_kasus/bentuk_bantuan/{a}") for a in ASSISTANCE),
    _c("kobo_id", "text", "_id"), _c("case_id", "code", "_uuid"), _c("kobo_submitted", "text", "_submission_time"),
    _c("kobo_status", "text", "_status"), _c("kobo_index", "int", "_index")), "kobo_advokasi")


INFO_SPEC = _SheetSpec("info_services", ("layanan_informasi",), "", (
    _c("kobo_start", "text", "start"), _c("kobo_end", "text", "end"),
    _c("community_id", "code", "grp_layanan/kode_kkbm"), _c("kind", "kobo:service_kind", "grp_layanan/jenis_layanan"),
    _c("held_on", "iso", "grp_layanan/tanggal_kegiatan"), _c("attendees", "int", "grp_layanan/jumlah_peserta"),
    _c("placements_facilitated", "int", "grp_layanan/jumlah_difasilitasi"),
    _c("kobo_id", "int", "_id"), _c("event_id", "code", "_uuid"), _c("kobo_submitted", "text", "_submission_time"),
    _c("kobo_status", "text", "_status"), _c("kobo_index", "int", "_index")), "kobo_layanan_informasi")


ALL_SPECS = (*SHEETS, REPORT_SPEC, ADVOCACY_SPEC, INFO_SPEC, PERDES_SPEC, DEPARTURES_SPEC, PLACEMENTS_SPEC)


_BOOL_STYLES = (("Ya", "Tidak"), ("YA", "TIDAK"), ("Ya", "Tdk"), ("ya", "tidak"))


_DATE_TEXT = ("dmy_slash", "dmy_dash", "d_month_y")


@functools.cache
def _region_names() -> pd.Series:
    """Official names of all regions, indexed by dotted code."""
    from lokal import wilayah
    names = {**wilayah._base(), **wilayah._desa()}
    return pd.Series(list(names.values()), index=list(names.keys()), dtype=object)


def _choose_styles(spec: _SheetSpec, rng: np.random.Generator, excel: bool) -> dict[str, Any]:
    """Per-column writing style of one sheet/file (drawn once, so files differ between provinces)."""
    styles: dict[str, Any] = {}
    for col in spec.columns:
        k = col.kind
        if k == "date":
            options = (("excel",) if excel else ()) + _DATE_TEXT
            styles[col.source] = options[rng.integers(len(options))]
        elif k == "rupiah":
            options = ("number", "rp_text", "dotted") if excel else ("rp_text", "dotted")
            styles[col.source] = options[rng.integers(len(options))]
        elif k == "month":
            styles[col.source] = ("mon_yy", "month_yyyy")[rng.integers(2)]
        elif k in ("bool", "prov", "reg", "dist", "vill") or k.startswith("cat:"):
            styles[col.source] = int(rng.integers(0, 5))
    return styles


def _by_unique(v: pd.Series, fn: Callable[[pd.Series], Any]) -> np.ndarray:
    """Apply a formatter to each distinct value once, then spread the results (fast on big columns)."""
    codes, uniques = pd.factorize(v, sort=False)
    return np.asarray(fn(pd.Series(uniques)), dtype=object)[codes]


def _dotted(x: pd.Series) -> np.ndarray:
    """Indonesian thousands separators: 1250000 -> '1.250.000'."""
    return _by_unique(x, lambda u: [f"{int(a):,}".replace(",", ".") for a in u.tolist()])


def _date_strings(v: pd.Series, style: str) -> np.ndarray:
    def fmt(u: pd.Series) -> Any:
        d = pd.DatetimeIndex(u)
        if style == "d_month_y":
            return [f"{a.day} {_BULAN[a.month - 1]} {a.year}" for a in d]
        if style == "excel":
            return list(d.to_pydatetime())
        return d.strftime({"dmy_slash": "%d/%m/%Y", "dmy_dash": "%d-%m-%Y", "iso": "%Y-%m-%d"}[style])
    return _by_unique(v, fmt)


def _fmt_dates(v: pd.Series, style: str, rng: np.random.Generator, excel: bool) -> np.ndarray:
    """Dates in the column's style; 15 % of cells typed differently (as people do)."""
    alt = "d_month_y" if style != "d_month_y" else "dmy_slash"
    mixed = rng.random(len(v)) < 0.15
    out = _date_strings(v, style)
    if mixed.any():
        out[mixed] = _date_strings(v[mixed], alt)
    return out


def _fmt_months(v: pd.Series, style: str) -> np.ndarray:
    def fmt(u: pd.Series) -> list[str]:
        d = pd.DatetimeIndex(u)
        pattern = {"mon_yy": "{b}-{yy:02d}", "month_yyyy": "{B} {y}", "mon_yyyy": "{b}-{y}",
                   "iso_month": "{y}-{m:02d}"}[style]
        return [pattern.format(b=_BLN[a.month - 1], B=_BULAN[a.month - 1], y=a.year, yy=a.year % 100, m=a.month)
                for a in d]
    return _by_unique(v, fmt)


def _region_text(codes: np.ndarray, level: int, style: np.ndarray) -> np.ndarray:
    """Region names from codes, spelled in one of several common ways per cell."""
    names = _region_names().reindex(codes).to_numpy().astype(str)
    up = np.char.upper(names)
    if level == 1:
        abbr = np.array([_PROVINCE_ABBR.get(c, n) for c, n in zip(codes, names)])
        variants = [names, up, np.char.add("Prov. ", names), abbr, np.char.add("Provinsi ", names)]
    elif level == 2:
        kota = np.char.startswith(names, "Kota ")
        core = np.where(kota, np.char.replace(names, "Kota ", "", count=1),
                        np.char.replace(names, "Kabupaten ", "", count=1))
        core = np.char.replace(core, "Administrasi ", "", count=1)  # DKI: "Kota Administrasi Jakarta Pusat"
        kind = np.where(kota, "Kota", "Kab")
        variants = [names, up, np.where(kota, names, np.char.add("Kab. ", core)),
                    np.char.add(np.char.add(np.char.add(core, " ("), kind), ")"),
                    np.char.add(np.char.add(core, ", "), np.where(kota, "Kota", "Kab."))]
    elif level == 3:
        variants = [names, np.char.add("Kec. ", names), up, np.char.add("Kecamatan ", names), names]
    else:
        variants = [names, np.char.add("Desa ", names), np.char.add("Ds. ", names), up, names]
    stacked = np.stack([np.asarray(x, dtype=object) for x in variants])
    return stacked[np.asarray(style) % len(variants), np.arange(len(codes))]


def _fmt_category(v: pd.Series, vocab: str, style: int, rng: np.random.Generator) -> np.ndarray:
    labels = _labels(vocab)
    keys = v.astype(str).to_numpy()
    main = {k: lab[style % len(lab)] for k, lab in labels.items()}
    alt = {k: lab[(style + 1) % len(lab)] for k, lab in labels.items()}
    use_alt = rng.random(len(v)) < 0.1
    return np.where(use_alt, pd.Series(keys).map(alt).to_numpy(), pd.Series(keys).map(main).to_numpy())


def _format(values: pd.Series, col: _Col, style: Any, rng: np.random.Generator, excel: bool) -> np.ndarray:
    """Raw cells for one column: str (CSV) or str/int/float/datetime (Excel); None = blank."""
    out = np.full(len(values), None, dtype=object)
    mask = values.notna().to_numpy()
    if not mask.any():
        return out
    v, k = values[mask], col.kind
    if k in ("code", "text", "nik"):
        cells = _by_unique(v, lambda u: u.astype(str).tolist())
    elif k in ("date", "date_text"):
        cells = _fmt_dates(v, style if k == "date" else _DATE_TEXT[rng.integers(3)], rng, excel)
    elif k == "iso":
        cells = _date_strings(v, "iso")
    elif k in ("month", "month_mixed"):
        cells = _fmt_months(v, style) if k == "month" else np.where(
            rng.random(len(v)) < 0.5, _fmt_months(v, "iso_month"), _fmt_months(v, "mon_yyyy"))
    elif k in ("rupiah", "rupiah_text"):
        x = pd.Series(np.round(v.to_numpy(dtype=float)).astype("int64"))
        style = "dotted" if k == "rupiah_text" else style
        cells = (x.to_numpy(dtype=object) if style == "number" else _dotted(x) if style == "dotted" else
                 _by_unique(x, lambda u: [f"Rp {int(a):,}".replace(",", ".") for a in u.tolist()]))
    elif k == "int":
        x = pd.Series(v.to_numpy(dtype="int64"))
        cells = x.to_numpy(dtype=object) if excel else _by_unique(x, lambda u: u.astype(str).tolist())
    elif k == "float":
        x = pd.Series(v.to_numpy(dtype=float))
        num = lambda u: [int(a) if a.is_integer() else a for a in u.tolist()]  # noqa: E731
        text = lambda u: [str(int(a)) if a.is_integer() else repr(a).replace(".", ",") for a in u.tolist()]  # noqa
        cells = _by_unique(x, num if excel else text)
    elif k in ("bool", "kobo_bool"):
        yes, no = _BOOL_STYLES[style % len(_BOOL_STYLES)] if k == "bool" else ("ya", "tidak")
        cells = np.where(v.to_numpy(dtype=bool), yes, no).astype(object)
    elif k.startswith("cat:"):
        cells = _fmt_category(v, k[4:], style, rng)
    elif k.startswith("kobo:"):
        cells = v.map(_KOBO[k[5:]]).to_numpy(dtype=object)
    else:  # region names
        level = {"prov": 1, "reg": 2, "dist": 3, "vill": 4}[k.split("_")[0]]
        per_cell = rng.integers(0, 5, len(v)) if k.endswith("_mixed") else np.full(len(v), style)
        cells = _region_text(v.astype(str).to_numpy(), level, per_cell)
    out[mask] = cells
    return out


def _write_frames(tables: dict[str, pd.DataFrame], w: _World) -> dict[str, pd.DataFrame]:
    """Tables joined with what the raw files show (names, Kobo metadata) and their province (_prov)."""
    comm, mem = tables["communities"], tables["members"]
    c_prov = pd.Series(comm["province_code"].to_numpy(), index=comm["community_id"])
    m_prov = mem["community_id"].map(c_prov)
    m_prov.index = mem["member_id"]
    name = pd.Series(mem["name"].to_numpy(), index=mem["member_id"])
    s_prov = tables["sessions"]["community_id"].map(c_prov)
    s_prov.index = tables["sessions"]["session_id"]
    bus = tables["businesses"]
    b_prov = pd.Series(bus["community_id"].map(c_prov).to_numpy(), index=bus["business_id"])
    bad = w.lat["malformed_nik"]
    by_comm = lambda t: tables[t].assign(_prov=tables[t]["community_id"].map(c_prov).to_numpy())  # noqa: E731
    f = {
        "communities": comm.assign(_prov=comm["province_code"]),
        "members": mem.assign(_prov=m_prov.to_numpy()),
        "staff": tables["staff"].assign(_prov=tables["staff"]["province_code"]),
        "sessions": by_comm("sessions"),
        "attendance": tables["attendance"].assign(_prov=tables["attendance"]["session_id"].map(s_prov).to_numpy(),
                                                  name=tables["attendance"]["member_id"].map(name).to_numpy()),
        "groups": by_comm("groups"),
        "consultations": by_comm("consultations"),
        "prevention_events": by_comm("prevention_events"),
        "businesses": by_comm("businesses").assign(name=bus["owner_member_id"].map(name).to_numpy()),
        "business_reports": tables["business_reports"].assign(
            _prov=tables["business_reports"]["business_id"].map(b_prov).to_numpy()),
    }
    for t in ("stages", "kur_loans"):
        f[t] = tables[t].assign(_prov=tables[t]["member_id"].map(m_prov).to_numpy(),
                                name=tables[t]["member_id"].map(name).to_numpy())
    f["advocacy_cases"] = _kobo_frame(w, by_comm("advocacy_cases"), "opened_on", name)
    f["info_services"] = _kobo_frame(w, by_comm("info_services"), "held_on", None)
    for t in ("village_regulations", "departures", "placements"):
        f[t] = tables[t].assign(_prov="")
    for t, frame in f.items():
        niks = [c.source for spec in ALL_SPECS if spec.table == t for c in spec.columns if c.kind == "nik"]
        frame["_bad_nik"] = frame[niks].isin(bad).any(axis=1).to_numpy() if niks else False
    w.lat["member_frame"] = f["members"]
    return f


def _kobo_frame(w: _World, df: pd.DataFrame, date_col: str, names: pd.Series | None) -> pd.DataFrame:
    """Add KoboToolbox metadata: start/end, _id, _submission_time, _status, select-multiple columns."""
    rng = w.rng(f"kobo:{date_col}")
    n = len(df)
    day = df[date_col].to_numpy().astype("datetime64[D]")
    sub = day.astype("datetime64[s]") + (rng.integers(0, 3, n) * 86400 + rng.integers(0, 86400, n)).astype(
        "timedelta64[s]")
    start = sub - rng.integers(120, 1800, n).astype("timedelta64[s]")
    local = lambda t: np.char.add(np.datetime_as_string(t + np.timedelta64(7, "h"), unit="ms"), "+07:00")  # noqa
    out = df.assign(kobo_start=local(start), kobo_end=local(sub - np.timedelta64(30, "s")),
                    kobo_submitted=np.datetime_as_string(sub, unit="s"),
                    kobo_id=(10_000_000 + np.arange(n) * 7 + rng.integers(0, 7, n)).astype(str),
                    kobo_status="submitted_via_web")
    if names is not None:
        member_names = out["member_id"].map(names).to_numpy()
        out["name"] = np.where(pd.isna(member_names), w.lat["case_non_member_names"], member_names)
        chosen = out["assistance"].str.split(" ")
        for a in ASSISTANCE:
            out[f"assist_{a}"] = chosen.map(lambda xs, a=a: "1" if a in xs else "0").to_numpy()
    return out
