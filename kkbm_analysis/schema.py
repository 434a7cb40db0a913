"""The data model: one typed schema per programme table, and the codebook made from them.

Each table is a pandera ``DataFrameModel``. A field carries, besides its type and checks,
its meaning in English (``description``) and Indonesian (``title``), and in ``metadata``:

``aliases``
    Raw column headers that mean this field (matched after :func:`header_key`), so
    common Indonesian headers are recognised without a mapping file.
``kind``
    How the raw text is read: ``text``, ``code``, ``int``, ``number``, ``rupiah``,
    ``date``, ``month``, ``bool``, ``category``, ``region`` or ``pseudonym``.
``vocab``
    For categories, the name of the controlled vocabulary in :data:`VOCABULARIES`.

The processed tables hold no direct identifiers: members and staff are known only by
keyed pseudonyms (``member_id``, ``staff_id``), see :mod:`kkbm_analysis.privacy`.
Schemas are strict, so a column that is not declared here can never reach processed data.
"""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import pandera.pandas as pa
import yaml
from pandera.typing import Series

from .config import RESOURCES_DIR
from .frame_models import pandas_schema

SCHEMA_VERSION = "1.0"


# --------------------------------------------------------------------------- vocabularies
@dataclass(frozen=True)
class Category:
    """One allowed value of a controlled vocabulary."""

    key: str
    label_id: str
    label_en: str
    synonyms: tuple[str, ...] = ()


def _vocab(*items: tuple[str, str, str, Iterable[str]]) -> dict[str, Category]:
    return {key: Category(key, lid, len_, tuple(syn)) for key, lid, len_, syn in items}


@dataclass(frozen=True)
class MentoringPoints:
    """The entry training and the mandated mentoring points (see the YAML resource)."""

    entry_training: Category
    points: tuple[Category, ...]
    source: Path

    @property
    def point_ids(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.points)


def load_mentoring_points(path: str | Path | None = None) -> MentoringPoints:
    """Read the configurable list of mandated mentoring points.

    Parameters
    ----------
    path : str or Path, optional
        A YAML file shaped like ``kkbm_analysis/resources/mentoring_points.yaml``.
        Default: ``$KKBM_MENTORING_POINTS`` or the packaged file.
    """
    path = Path(path or os.environ.get("KKBM_MENTORING_POINTS")
                or RESOURCES_DIR / "mentoring_points.yaml")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))

    def cat(d: dict[str, Any]) -> Category:
        return Category(d["id"], d["label_id"], d["label_en"], tuple(d.get("aliases", ())))

    return MentoringPoints(cat(spec["entry_training"]), tuple(cat(p) for p in spec["points"]), path)


def _session_kinds() -> dict[str, Category]:
    mp = load_mentoring_points()
    kinds = {c.key: c for c in (mp.entry_training, *mp.points)}
    kinds["other_training"] = Category(
        "other_training", "Pelatihan/pendampingan lain", "Other training or mentoring",
        ("pelatihan lain", "lainnya", "other"))
    return kinds


VOCABULARIES: dict[str, dict[str, Category]] = {
    "program": _vocab(
        ("KKBM", "Komunitas Keluarga Buruh Migran (BNP2TKI/BP2MI)", "Migrant Worker Family Community",
         ["kkbm", "komunitas keluarga buruh migran"]),
        ("Desmigratif", "Desa Migran Produktif (Kemnaker)", "Productive Migrant Village",
         ["desmigratif", "desa migran produktif"]),
        ("KBMI", "Kampung Buruh Migran Indonesia", "Indonesian Migrant Worker Village",
         ["kbmi", "kampung buruh migran"]),
        ("KAWAN-PMI", "Relawan KAWAN PMI", "KAWAN-PMI volunteers", ["kawan pmi", "kawan-pmi"]),
    ),
    "member_status": _vocab(
        ("calon_pmi", "Calon PMI", "Prospective migrant worker", ["calon pmi", "cpmi", "calon", "calon tki"]),
        ("pmi_aktif", "PMI aktif (sedang bekerja di luar negeri)", "Migrant worker abroad",
         ["pmi aktif", "aktif", "pmi", "tki", "sedang bekerja", "masih bekerja"]),
        ("pmi_purna", "PMI purna", "Returned migrant worker",
         ["pmi purna", "purna", "purna pmi", "mantan pmi", "eks pmi", "tki purna", "purna tki"]),
        ("keluarga", "Keluarga PMI", "Family member",
         ["keluarga", "keluarga pmi", "anggota keluarga", "family"]),
    ),
    "sex": _vocab(
        ("L", "Laki-laki", "Male", ["l", "laki laki", "laki", "lk", "pria", "m", "male"]),
        ("P", "Perempuan", "Female", ["p", "perempuan", "pr", "wanita", "f", "female"]),
    ),
    "staff_role": _vocab(
        ("co", "Community organizer (CO)", "Community organizer",
         ["co", "community organizer", "pendamping", "pendamping kkbm"]),
        ("penggerak", "Penggerak", "Community mover", ["penggerak", "kader", "kader penggerak"]),
        ("officer", "Petugas LP3TKI/BP3TKI/UPT BP2MI", "Agency field officer",
         ["petugas", "petugas lp3tki", "petugas bp3tki", "staf upt", "staf lp3tki", "officer"]),
    ),
    "end_reason": _vocab(
        ("resigned", "Mengundurkan diri", "Resigned", ["mengundurkan diri", "berhenti", "resign"]),
        ("migrated", "Bekerja ke luar negeri", "Left to work abroad", ["bekerja ke luar negeri", "berangkat", "menjadi pmi"]),
        ("moved", "Pindah", "Moved away", ["pindah", "pindah domisili"]),
        ("contract_ended", "Kontrak selesai", "Contract ended", ["kontrak selesai", "masa tugas selesai"]),
        ("other", "Lainnya", "Other", ["lainnya", "lain lain", "meninggal"]),
    ),
    "session_kind": {},  # filled from the mentoring-points resource below
    "sector": _vocab(
        ("agriculture", "Pertanian", "Agriculture", ["pertanian", "tani", "perkebunan", "bertani", "sawah", "kebun"]),
        ("livestock", "Peternakan", "Livestock", ["peternakan", "ternak", "beternak", "ternak kambing", "ternak sapi",
                                                  "ternak ayam", "ternak bebek", "ternak itik"]),
        ("fishery", "Perikanan", "Fishery", ["perikanan", "budidaya ikan", "ikan", "budidaya lele", "tambak"]),
        ("food", "Makanan olahan/kuliner", "Food processing", ["kuliner", "makanan", "makanan olahan", "olahan pangan"]),
        ("trade", "Perdagangan/warung", "Trade and retail", ["perdagangan", "dagang", "warung", "toko", "kelontong",
                                                             "berdagang", "jualan", "berjualan", "warung sembako",
                                                             "toko sembako", "toko kelontong", "retail"]),
        ("handicraft", "Kerajinan", "Handicraft", ["kerajinan", "konveksi", "jahit", "menjahit", "kerajinan tangan"]),
        ("services", "Jasa", "Services", ["jasa", "bengkel", "salon", "transportasi", "laundry", "ojek", "rental"]),
        ("other", "Lainnya", "Other", ["lainnya", "lain lain"]),
    ),
    "business_status": _vocab(
        ("active", "Aktif", "Active", ["aktif", "berjalan", "jalan"]),
        ("dormant", "Vakum", "Dormant", ["vakum", "tidak aktif", "berhenti sementara"]),
        ("closed", "Tutup", "Closed", ["tutup", "berhenti", "bangkrut", "gulung tikar"]),
    ),
    "group_kind": _vocab(
        ("business_group", "Kelompok usaha bersama (KUB)", "Joint business group",
         ["kub", "kelompok usaha bersama", "kelompok usaha", "kelompok"]),
        ("cooperative", "Koperasi", "Cooperative", ["koperasi", "kopwan"]),
    ),
    "partner_type": _vocab(
        ("bank", "Bank/lembaga keuangan", "Bank or finance institution", ["bank", "lembaga keuangan", "bpr"]),
        ("government", "Instansi pemerintah", "Government office",
         ["pemerintah", "dinas", "dinas koperasi", "disnakertrans", "pemda"]),
        ("university", "Perguruan tinggi", "University", ["perguruan tinggi", "universitas", "kampus"]),
        ("ngo", "LSM/organisasi masyarakat", "NGO", ["lsm", "ngo", "ormas"]),
        ("private", "Swasta", "Private company", ["swasta", "perusahaan", "csr"]),
        ("other", "Lainnya", "Other", ["lainnya"]),
    ),
    "service_kind": _vocab(
        ("dissemination", "Diseminasi/sosialisasi", "Dissemination event",
         ["diseminasi", "sosialisasi", "penyuluhan"]),
        ("information_service", "Layanan informasi", "Information service",
         ["layanan informasi", "informasi", "konsultasi migrasi"]),
        ("placement_facilitation", "Fasilitasi penempatan prosedural", "Procedural placement facilitation",
         ["fasilitasi penempatan", "penempatan", "fasilitasi"]),
    ),
    "case_type": _vocab(
        ("unpaid_wages", "Gaji tidak dibayar", "Unpaid wages", ["gaji tidak dibayar", "gaji", "upah"]),
        ("abuse", "Kekerasan/penganiayaan", "Abuse", ["kekerasan", "penganiayaan", "pelecehan"]),
        ("trafficking", "TPPO/perdagangan orang", "Trafficking", ["tppo", "perdagangan orang", "trafficking"]),
        ("documents", "Masalah dokumen", "Document problems", ["dokumen", "masalah dokumen", "overstay"]),
        ("contract", "Pelanggaran kontrak/PHK", "Contract breach or dismissal", ["kontrak", "phk", "pelanggaran kontrak"]),
        ("lost_contact", "Hilang kontak", "Lost contact", ["hilang kontak", "putus komunikasi"]),
        ("death_illness", "Sakit/meninggal", "Illness or death", ["sakit", "meninggal", "meninggal dunia"]),
        ("other", "Lainnya", "Other", ["lainnya"]),
    ),
    "case_outcome": _vocab(
        ("resolved", "Selesai", "Resolved", ["selesai", "tuntas", "terselesaikan"]),
        ("referred", "Dirujuk", "Referred", ["dirujuk", "rujuk"]),
        ("unresolved", "Tidak selesai", "Unresolved", ["tidak selesai", "gagal"]),
        ("ongoing", "Dalam proses", "Ongoing", ["proses", "dalam proses", "berjalan"]),
    ),
}
VOCABULARIES["session_kind"] = _session_kinds()


# --------------------------------------------------------------------------- field helper
def header_key(text: Any) -> str:
    """Normalise a column header for matching: lower case, ASCII, words only.

    >>> header_key(" Tgl. Bergabung (dd/mm/yyyy) ")
    'tgl bergabung dd mm yyyy'
    """
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", s.lower()).split())


def col(en: str, id_: str, *aliases: str, kind: str | None = None, vocab: str | None = None,
        level: int | None = None, **checks: Any) -> Any:
    """Declare a field with its bilingual meaning, raw-header aliases and reading rule."""
    if vocab:
        checks.setdefault("isin", list(VOCABULARIES[vocab]))
        kind = kind or "category"
    meta = {"aliases": [header_key(a) for a in aliases], "kind": kind, "vocab": vocab, "level": level}
    checks.setdefault("nullable", False)
    return pa.Field(description=en, title=id_, metadata=meta, **checks)


Date = pd.Timestamp
Str = str
Int = pd.Int64Dtype
Float = pd.Float64Dtype
Bool = pd.BooleanDtype


class _Base(pa.DataFrameModel):
    class Config:
        strict = True
        coerce = True


def _region_fields(village_required: bool = False, optional: bool = False) -> dict[str, Any]:
    """Region code fields; their raw inputs are names or codes at each level.

    ``optional`` makes the province optional too (members' location).
    """
    return {
        "province_code": col("Kemendagri province code", "Kode provinsi (Kemendagri)",
                             "provinsi", "kode provinsi", "prov", "nama provinsi", "province", kind="region",
                             level=1, nullable=optional),
        "regency_code": col("Kemendagri regency/city code", "Kode kabupaten/kota",
                            "kabupaten kota", "kabupaten", "kab kota", "kota kabupaten", "kode kabupaten",
                            "nama kabupaten", "kabupaten kota asal", "regency", "regency city", "kab",
                            kind="region", level=2, nullable=True),
        "district_code": col("Kemendagri district code", "Kode kecamatan", "kecamatan", "kode kecamatan",
                             "kec", "nama kecamatan", "district", "sub district", "subdistrict", kind="region", level=3, nullable=True),
        "village_code": col("Kemendagri village code", "Kode desa/kelurahan", "desa kelurahan", "desa",
                            "kelurahan", "kode desa", "nama desa", "desa kel", "village", "ds", kind="region", level=4,
                            nullable=not village_required),
    }


# --------------------------------------------------------------------------- tables
class Community(_Base):
    """A programme unit (one KKBM, Desmigratif village, KBMI...)."""

    community_id: Series[Str] = col("Community id", "Kode komunitas", "kode kkbm", "id kkbm", "id komunitas",
                                    "kode komunitas", "kode", kind="code", unique=True)
    community_name: Series[Str] = col("Community name", "Nama komunitas", "nama kkbm", "nama komunitas")
    program: Series[Str] = col("Programme", "Program", "program", "jenis program", vocab="program")
    province_code: Series[Str] = _region_fields()["province_code"]
    regency_code: Series[Str] = _region_fields()["regency_code"]
    district_code: Series[Str] = _region_fields()["district_code"]
    village_code: Series[Str] = _region_fields()["village_code"]
    unit: Series[Str] = col("Agency regional unit responsible (LP3TKI/BP3TKI/UPT BP2MI)",
                            "Unit pelaksana (LP3TKI/BP3TKI/UPT BP2MI)", "lp3tki", "bp3tki", "upt",
                            "unit pelaksana", "lp3tki bp3tki", nullable=True)
    formed_on: Series[Date] = col("Date the community was formed", "Tanggal pembentukan",
                                  "tanggal pembentukan", "tgl pembentukan", "tanggal dibentuk", "tgl dibentuk",
                                  "tanggal terbentuk")
    village_gov_involved: Series[Bool] = col(
        "Village government involved in the community's work", "Pemerintah desa terlibat",
        "pemerintah desa terlibat", "keterlibatan pemdes", "pemdes terlibat", "keterlibatan pemerintah desa",
        nullable=True)


class Member(_Base):
    """A member (PMI, prospective PMI, returned PMI or family), known by pseudonym only."""

    member_id: Series[Str] = col("Member pseudonym (keyed hash of the NIK)", "Pseudonim anggota",
                                 "nik", "nik anggota", "no ktp", "nomor ktp", "nomor induk kependudukan",
                                 kind="pseudonym", unique=True)
    community_id: Series[Str] = col("Community id", "Kode komunitas", "kode kkbm", "id kkbm", "kode komunitas",
                                    kind="code")
    status: Series[Str] = col("Migration status", "Status migrasi", "status", "status anggota", "status pmi",
                              "kategori anggota", "member status", vocab="member_status")
    sex: Series[Str] = col("Sex", "Jenis kelamin", "jenis kelamin", "jk", "l p", "sex", "gender", "jenis kel",
                           "kelamin", vocab="sex")
    birth_year: Series[Int] = col("Year of birth (the full date is not kept)", "Tahun lahir",
                                  "tahun lahir", "thn lahir", "tanggal lahir", "tgl lahir", "year of birth",
                                  "birth year", "date of birth", "birth date", "dob", kind="birth_year",
                                  ge=1920, le=2015, nullable=True)
    destination_country: Series[Str] = col("Country of (last) placement", "Negara penempatan",
                                           "negara tujuan", "negara penempatan", "negara", nullable=True)
    departed_on: Series[Date] = col("Date of (last) departure abroad", "Tanggal berangkat",
                                    "tanggal berangkat", "tgl berangkat", "tanggal keberangkatan", nullable=True)
    returned_on: Series[Date] = col("Date of return", "Tanggal kepulangan", "tanggal kembali", "tgl kembali",
                                    "tanggal pulang", "tgl pulang", "tanggal kepulangan", nullable=True)
    joined_on: Series[Date] = col("Date joined the community", "Tanggal bergabung", "tanggal bergabung",
                                  "tgl bergabung", "tanggal masuk", "tgl masuk", "tanggal menjadi anggota",
                                  "date joined", "join date", "joined on")
    # where the member lives (optional): harmonised to Kemendagri codes like the communities
    province_code: Series[Str] = _region_fields(optional=True)["province_code"]
    regency_code: Series[Str] = _region_fields()["regency_code"]
    district_code: Series[Str] = _region_fields()["district_code"]
    village_code: Series[Str] = _region_fields()["village_code"]

    @pa.dataframe_check(error="returned_on is before departed_on")
    def return_after_departure(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["returned_on"] < df["departed_on"]).fillna(False)


class Staff(_Base):
    """A community organizer, penggerak or agency officer, known by pseudonym only."""

    staff_id: Series[Str] = col("Staff pseudonym (keyed hash of the NIK, else of the name)", "Pseudonim petugas",
                                "nik", "nik petugas", "no ktp", kind="pseudonym", unique=True)
    role: Series[Str] = col("Role", "Peran", "peran", "jabatan", "posisi", vocab="staff_role")
    community_id: Series[Str] = col("Community id (empty for unit officers)", "Kode komunitas",
                                    "kode kkbm", "id kkbm", "kode komunitas", kind="code", nullable=True)
    unit: Series[Str] = col("Agency regional unit", "Unit pelaksana", "unit", "lp3tki", "bp3tki", "upt",
                            "unit pelaksana", nullable=True)
    province_code: Series[Str] = _region_fields()["province_code"]
    sex: Series[Str] = col("Sex", "Jenis kelamin", "jenis kelamin", "jk", "l p", vocab="sex", nullable=True)
    started_on: Series[Date] = col("Start of service", "Mulai bertugas", "mulai bertugas", "tanggal mulai",
                                   "tmt", "tgl mulai")
    ended_on: Series[Date] = col("End of service (empty while serving)", "Selesai bertugas", "selesai bertugas",
                                 "tanggal berhenti", "tgl berhenti", "tanggal selesai", nullable=True)
    end_reason: Series[Str] = col("Reason service ended", "Alasan berhenti", "alasan berhenti",
                                  "alasan keluar", vocab="end_reason", nullable=True)
    fte: Series[Float] = col("Full-time equivalent (0-1]", "Beban kerja (FTE)", "fte", "beban kerja",
                             "persen waktu", gt=0, le=1, nullable=True)

    @pa.dataframe_check(error="ended_on is before started_on")
    def end_after_start(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["ended_on"] < df["started_on"]).fillna(False)


class Session(_Base):
    """A training or mentoring session held for a community."""

    session_id: Series[Str] = col("Session id", "Kode kegiatan", "kode kegiatan", "id kegiatan", "kode sesi",
                                  kind="code", unique=True)
    community_id: Series[Str] = col("Community id", "Kode komunitas", "kode kkbm", "id kkbm", "kode komunitas",
                                    kind="code")
    kind: Series[Str] = col("Kind: entry training, one of the mandated mentoring points, or other",
                            "Jenis kegiatan: pelatihan awal, poin pendampingan wajib, atau lainnya",
                            "jenis kegiatan", "jenis", "kegiatan", "materi", vocab="session_kind")
    held_on: Series[Date] = col("Date held (first day)", "Tanggal pelaksanaan", "tanggal", "tanggal kegiatan",
                                "tgl kegiatan", "tanggal pelaksanaan", "tanggal mulai")
    duration_days: Series[Float] = col("Duration in days", "Lama (hari)", "lama hari", "durasi hari", "lama",
                                       "durasi", ge=0, le=60, nullable=True)
    facilitator: Series[Str] = col("Facilitating organisation", "Penyelenggara/fasilitator", "penyelenggara",
                                   "fasilitator", "narasumber", nullable=True)
    participants: Series[Int] = col("Participants reported", "Jumlah peserta", "jumlah peserta", "peserta",
                                    ge=0, nullable=True)


class Attendance(_Base):
    """Which member attended which session."""

    session_id: Series[Str] = col("Session id", "Kode kegiatan", "kode kegiatan", "id kegiatan", "kode sesi",
                                  kind="code")
    member_id: Series[Str] = col("Member pseudonym", "Pseudonim anggota", "nik", "nik peserta", "nik anggota",
                                 kind="pseudonym")


STAGES: tuple[tuple[str, str, str], ...] = (
    ("identified_on", "Identifikasi masalah", "Problem identification"),
    ("potential_on", "Pengenalan potensi", "Recognising potential"),
    ("trained_on", "Pelatihan", "Training"),
    ("implemented_on", "Implementasi", "Implementation"),
    ("evaluated_on", "Evaluasi", "Evaluation"),
)


class Stage(_Base):
    """Dates a member reached each empowerment stage (seed 003)."""

    member_id: Series[Str] = col("Member pseudonym", "Pseudonim anggota", "nik", "nik anggota", kind="pseudonym",
                                 unique=True)
    identified_on: Series[Date] = col("Reached problem identification", "Tahap identifikasi masalah",
                                      "identifikasi masalah", "tgl identifikasi masalah", nullable=True)
    potential_on: Series[Date] = col("Reached recognising potential", "Tahap pengenalan potensi",
                                     "pengenalan potensi", "mengenali potensi", "tgl pengenalan potensi",
                                     nullable=True)
    trained_on: Series[Date] = col("Reached training", "Tahap pelatihan", "pelatihan", "tgl pelatihan",
                                   nullable=True)
    implemented_on: Series[Date] = col("Reached implementation", "Tahap implementasi", "implementasi",
                                       "tgl implementasi", "penerapan", nullable=True)
    evaluated_on: Series[Date] = col("Reached evaluation", "Tahap evaluasi", "evaluasi", "tgl evaluasi",
                                     nullable=True)

    @pa.dataframe_check(error="a stage is dated before the stage preceding it, or reached without it")
    def stages_in_order(cls, df: pd.DataFrame) -> Series[bool]:
        ok = pd.Series(True, index=df.index)
        cols = [c for c, _, _ in STAGES]
        for earlier, later in zip(cols, cols[1:]):
            skipped = df[later].notna() & df[earlier].isna()
            backwards = (df[later] < df[earlier]).fillna(False)
            ok &= ~(skipped | backwards)
        return ok


class Business(_Base):
    """A business unit owned by a member or a group."""

    business_id: Series[Str] = col("Business id", "Kode usaha", "kode usaha", "id usaha", "no usaha",
                                   kind="code", unique=True)
    community_id: Series[Str] = col("Community id", "Kode komunitas", "kode kkbm", "id kkbm", "kode komunitas",
                                    kind="code")
    owner_member_id: Series[Str] = col("Owner's member pseudonym (empty for group businesses)",
                                       "Pseudonim pemilik", "nik pemilik", "nik", kind="pseudonym", nullable=True)
    group_id: Series[Str] = col("Owning group or cooperative id", "Kode kelompok", "kode kelompok",
                                "id kelompok", kind="code", nullable=True)
    sector: Series[Str] = col("Sector", "Bidang usaha", "bidang usaha", "jenis usaha", "sektor", vocab="sector")
    started_on: Series[Date] = col("Start date", "Tanggal mulai usaha", "tanggal mulai usaha", "mulai usaha",
                                   "tgl mulai usaha", "tanggal mulai")
    status: Series[Str] = col("Status", "Status usaha", "status usaha", "status", "kondisi usaha",
                              vocab="business_status")
    closed_on: Series[Date] = col("Closure date", "Tanggal tutup", "tanggal tutup", "tgl tutup",
                                  "tanggal berhenti", nullable=True)

    @pa.dataframe_check(error="a business needs an owner member or an owning group")
    def has_owner(cls, df: pd.DataFrame) -> Series[bool]:
        return df["owner_member_id"].notna() | df["group_id"].notna()

    @pa.dataframe_check(error="closed_on is before started_on, or a closed business has no closed_on")
    def closure_consistent(cls, df: pd.DataFrame) -> Series[bool]:
        backwards = (df["closed_on"] < df["started_on"]).fillna(False)
        undated = (df["status"] == "closed") & df["closed_on"].isna()
        return ~(backwards | undated)


class BusinessReport(_Base):
    """A periodic (monthly) report of a business's volume and workers."""

    business_id: Series[Str] = col("Business id", "Kode usaha", "kode usaha", "id usaha", kind="code")
    period: Series[Date] = col("Reporting month (first day)", "Bulan laporan", "bulan", "periode",
                               "bulan laporan", "periode laporan", kind="month")
    revenue_idr: Series[Float] = col("Business volume (turnover) in rupiah for the month",
                                     "Omzet/volume usaha (Rp) per bulan", "omzet", "omset", "omzet rp",
                                     "volume usaha", "volume usaha rp", "pendapatan", kind="rupiah", ge=0,
                                     nullable=True)
    workers: Series[Int] = col("Workers employed", "Jumlah tenaga kerja", "jumlah tenaga kerja",
                               "tenaga kerja", "jumlah pekerja", ge=0, le=10_000, nullable=True)


class Group(_Base):
    """A business group (KUB) or cooperative."""

    group_id: Series[Str] = col("Group id", "Kode kelompok", "kode kelompok", "id kelompok", kind="code",
                                unique=True)
    community_id: Series[Str] = col("Community id", "Kode komunitas", "kode kkbm", "id kkbm", "kode komunitas",
                                    kind="code")
    group_name: Series[Str] = col("Group name", "Nama kelompok", "nama kelompok", "nama koperasi")
    kind: Series[Str] = col("Kind", "Jenis kelompok", "jenis kelompok", "bentuk", "jenis", vocab="group_kind")
    formed_on: Series[Date] = col("Date formed", "Tanggal dibentuk", "tanggal dibentuk", "tgl dibentuk",
                                  "tanggal pembentukan")
    member_count: Series[Int] = col("Members", "Jumlah anggota", "jumlah anggota", ge=0, nullable=True)
    legal_entity: Series[Bool] = col("Registered legal entity", "Berbadan hukum", "berbadan hukum",
                                     "badan hukum", nullable=True)


class KurLoan(_Base):
    """An application for Kredit Usaha Rakyat (KUR)."""

    loan_id: Series[Str] = col("Application id", "Nomor pengajuan", "no pengajuan", "nomor pengajuan",
                               "kode kur", "id kur", kind="code", unique=True)
    member_id: Series[Str] = col("Applicant's member pseudonym", "Pseudonim pemohon", "nik", "nik debitur",
                                 "nik pemohon", kind="pseudonym")
    bank: Series[Str] = col("Lending bank", "Bank penyalur", "bank", "bank penyalur", nullable=True)
    applied_on: Series[Date] = col("Application date", "Tanggal pengajuan", "tanggal pengajuan",
                                   "tgl pengajuan")
    approved: Series[Bool] = col("Approved", "Disetujui", "disetujui", "status persetujuan", "acc")
    approved_on: Series[Date] = col("Approval date", "Tanggal persetujuan", "tanggal persetujuan",
                                    "tgl persetujuan", "tanggal akad", nullable=True)
    amount_idr: Series[Float] = col("Approved amount in rupiah (KUR ceiling Rp 500 juta)",
                                    "Plafon disetujui (Rp)", "plafon", "jumlah pinjaman", "nilai kur",
                                    "plafon rp", "jumlah kredit", kind="rupiah", ge=0, le=500_000_000,
                                    nullable=True)

    @pa.dataframe_check(error="approval data inconsistent: approved_on before applied_on, or an amount/"
                              "approval date on a refused application")
    def approval_consistent(cls, df: pd.DataFrame) -> Series[bool]:
        backwards = (df["approved_on"] < df["applied_on"]).fillna(False)
        refused_with_data = (~df["approved"].fillna(False)) & (df["approved_on"].notna()
                                                               | (df["amount_idr"].fillna(0) > 0))
        return ~(backwards | refused_with_data)


class Consultation(_Base):
    """A business-development consultation with an outside party."""

    consultation_id: Series[Str] = col("Consultation id", "Kode konsultasi", "kode konsultasi",
                                       "id konsultasi", kind="code", unique=True)
    community_id: Series[Str] = col("Community id", "Kode komunitas", "kode kkbm", "id kkbm", "kode komunitas",
                                    kind="code")
    business_id: Series[Str] = col("Business consulted about", "Kode usaha", "kode usaha", "id usaha",
                                   kind="code", nullable=True)
    held_on: Series[Date] = col("Date", "Tanggal", "tanggal", "tanggal konsultasi", "tgl konsultasi")
    partner_type: Series[Str] = col("Kind of outside party", "Jenis mitra", "jenis mitra", "mitra",
                                    vocab="partner_type")
    topic: Series[Str] = col("Topic", "Topik", "topik", "materi konsultasi", nullable=True)


class InfoService(_Base):
    """A dissemination event, information service or placement facilitation."""

    event_id: Series[Str] = col("Event id", "Kode kegiatan layanan", "kode layanan", "id layanan",
                                "kode kegiatan layanan", "kobo uuid", kind="code", unique=True)
    community_id: Series[Str] = col("Community id", "Kode komunitas", "kode kkbm", "id kkbm", "kode komunitas",
                                    kind="code")
    held_on: Series[Date] = col("Date", "Tanggal", "tanggal", "tanggal kegiatan", "tgl kegiatan")
    kind: Series[Str] = col("Kind of service", "Jenis layanan", "jenis layanan", "jenis kegiatan",
                            vocab="service_kind")
    attendees: Series[Int] = col("People reached", "Jumlah peserta/penerima", "jumlah peserta",
                                 "jumlah penerima", "peserta", ge=0, nullable=True)
    placements_facilitated: Series[Int] = col("Procedural placements facilitated",
                                              "Penempatan prosedural difasilitasi", "jumlah difasilitasi",
                                              "penempatan difasilitasi", ge=0, nullable=True)


class AdvocacyCase(_Base):
    """A case of a PMI in trouble that the community helped with."""

    case_id: Series[Str] = col("Case id", "Nomor kasus", "no kasus", "nomor kasus", "kode kasus", "kobo uuid",
                               kind="code", unique=True)
    community_id: Series[Str] = col("Community id", "Kode komunitas", "kode kkbm", "id kkbm", "kode komunitas",
                                    kind="code")
    member_id: Series[Str] = col("Member concerned (pseudonym), if a member", "Pseudonim anggota",
                                 "nik", "nik pmi", "nik anggota", kind="pseudonym", nullable=True)
    case_type: Series[Str] = col("Type of case", "Jenis kasus", "jenis kasus", "jenis masalah",
                                 vocab="case_type")
    opened_on: Series[Date] = col("Date reported", "Tanggal pengaduan", "tanggal pengaduan", "tanggal lapor",
                                  "tgl pengaduan", "tanggal kasus")
    closed_on: Series[Date] = col("Date closed", "Tanggal selesai", "tanggal selesai", "tgl selesai",
                                  nullable=True)
    outcome: Series[Str] = col("Outcome", "Hasil penanganan", "hasil", "hasil penanganan", "status kasus",
                               vocab="case_outcome")
    disnakertrans_informed: Series[Bool] = col("Regency labour office (Disnakertrans) informed",
                                               "Disnakertrans diberitahu", "disnakertrans diberitahu",
                                               "dilaporkan ke disnakertrans", "koordinasi disnakertrans",
                                               nullable=True)
    assistance: Series[Str] = col("Assistance given (space-separated choices)", "Bentuk bantuan",
                                  "bentuk bantuan", "bantuan", nullable=True)

    @pa.dataframe_check(error="closed_on is before opened_on")
    def close_after_open(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["closed_on"] < df["opened_on"]).fillna(False)


class PreventionEvent(_Base):
    """An activity to prevent non-procedural (irregular) placement."""

    event_id: Series[Str] = col("Event id", "Kode kegiatan pencegahan", "kode pencegahan",
                                "kode kegiatan pencegahan", kind="code", unique=True)
    community_id: Series[Str] = col("Community id", "Kode komunitas", "kode kkbm", "id kkbm", "kode komunitas",
                                    kind="code")
    held_on: Series[Date] = col("Date", "Tanggal", "tanggal", "tanggal kegiatan")
    people_reached: Series[Int] = col("People reached", "Jumlah orang dijangkau", "jumlah dijangkau",
                                      "jumlah peserta", ge=0, nullable=True)
    people_dissuaded: Series[Int] = col("People dissuaded from non-procedural departure",
                                        "Jumlah batal berangkat non-prosedural", "jumlah dicegah",
                                        "batal berangkat", "jumlah batal berangkat", ge=0, nullable=True)

    @pa.dataframe_check(error="people_dissuaded exceeds people_reached")
    def dissuaded_within_reached(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["people_dissuaded"] > df["people_reached"]).fillna(False)


class VillageRegulation(_Base):
    """A village regulation (Perdes) on PMI protection."""

    province_code: Series[Str] = _region_fields()["province_code"]
    regency_code: Series[Str] = _region_fields()["regency_code"]
    district_code: Series[Str] = _region_fields()["district_code"]
    village_code: Series[Str] = _region_fields(village_required=True)["village_code"]
    title: Series[Str] = col("Title or number", "Judul/nomor Perdes", "judul", "nomor perdes", "judul perdes",
                             "perdes")
    adopted_on: Series[Date] = col("Date adopted", "Tanggal ditetapkan", "tanggal ditetapkan", "tanggal",
                                   "tgl ditetapkan", "tanggal pengesahan")


class Departure(_Base):
    """Monthly departures abroad recorded by a village, procedural or not."""

    province_code: Series[Str] = _region_fields()["province_code"]
    regency_code: Series[Str] = _region_fields()["regency_code"]
    district_code: Series[Str] = _region_fields()["district_code"]
    village_code: Series[Str] = _region_fields(village_required=True)["village_code"]
    period: Series[Date] = col("Month (first day)", "Bulan", "bulan", "periode", kind="month")
    procedural: Series[Int] = col("Procedural departures", "Keberangkatan prosedural", "prosedural",
                                  "berangkat prosedural", "keberangkatan prosedural", ge=0)
    non_procedural: Series[Int] = col("Non-procedural (irregular) departures",
                                      "Keberangkatan non-prosedural", "non prosedural",
                                      "berangkat non prosedural", "keberangkatan non prosedural", ge=0)


class Placement(_Base):
    """Published context counts, e.g. BP2MI placements by region, year, sex, destination."""

    year: Series[Int] = col("Year", "Tahun", "tahun", ge=2000, le=2100)
    province_code: Series[Str] = _region_fields()["province_code"]
    regency_code: Series[Str] = _region_fields()["regency_code"]
    sex: Series[Str] = col("Sex", "Jenis kelamin", "jenis kelamin", "jk", vocab="sex", nullable=True)
    destination_country: Series[Str] = col("Destination country", "Negara penempatan", "negara penempatan",
                                           "negara tujuan", "negara", nullable=True)
    placements: Series[Int] = col("Placements", "Jumlah penempatan", "jumlah penempatan", "penempatan",
                                  "jumlah", ge=0)
    source: Series[Str] = col("Publication the count comes from", "Sumber", "sumber", nullable=True)


# --------------------------------------------------------------------------- table registry
@dataclass(frozen=True)
class Reference:
    """A cross-table rule: values of ``columns`` must exist in ``table``'s ``target``."""

    columns: tuple[str, ...]
    table: str
    target: tuple[str, ...]


@dataclass(frozen=True)
class TableSpec:
    """Everything the suite knows about one table."""

    name: str
    model: type[_Base]
    key: tuple[str, ...]
    label_id: str
    label_en: str
    sheet_aliases: tuple[str, ...]
    references: tuple[Reference, ...] = ()

    @property
    def schema(self) -> pa.DataFrameSchema:
        return _schema(self.model)

    @property
    def columns(self) -> list[str]:
        return list(self.schema.columns)

    @property
    def region_columns(self) -> list[str]:
        """Fields read from region names or codes (harmonised to Kemendagri codes)."""
        return [c for c, f in self.schema.columns.items() if (f.metadata or {}).get("kind") == "region"]


@cache
def _schema(model: type[_Base]) -> pa.DataFrameSchema:
    return pandas_schema(model)   # pandera's own build, without its import of Dask


def _ref(column: str, table: str, target: str | None = None) -> Reference:
    return Reference((column,), table, (target or column,))



TABLES: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("communities", Community, ("community_id",), "Komunitas", "Communities",
              ("komunitas", "kkbm", "data kkbm", "profil kkbm", "profil komunitas", "daftar kkbm")),
    TableSpec("members", Member, ("member_id",), "Anggota", "Members",
              ("anggota", "data anggota", "daftar anggota", "register anggota"),
              (_ref("community_id", "communities"),)),
    TableSpec("staff", Staff, ("staff_id",), "Pengurus dan petugas", "Staff",
              ("pengurus", "penggerak", "co", "petugas", "sdm", "pendamping", "data pengurus"),
              (_ref("community_id", "communities"),)),
    TableSpec("sessions", Session, ("session_id",), "Pelatihan dan pendampingan", "Trainings and mentoring",
              ("kegiatan", "pelatihan", "pendampingan", "pelatihan dan pendampingan", "sesi"),
              (_ref("community_id", "communities"),)),
    TableSpec("attendance", Attendance, ("session_id", "member_id"), "Kehadiran", "Attendance",
              ("kehadiran", "daftar hadir", "absensi", "peserta kegiatan"),
              (_ref("session_id", "sessions"), _ref("member_id", "members"))),
    TableSpec("stages", Stage, ("member_id",), "Tahapan pemberdayaan", "Empowerment stages",
              ("tahapan", "tahap pemberdayaan", "tahapan pemberdayaan"),
              (_ref("member_id", "members"),)),
    TableSpec("groups", Group, ("group_id",), "Kelompok usaha dan koperasi", "Groups and cooperatives",
              ("kelompok", "koperasi", "kelompok usaha", "kub"),
              (_ref("community_id", "communities"),)),
    TableSpec("businesses", Business, ("business_id",), "Usaha", "Businesses",
              ("usaha", "data usaha", "unit usaha"),
              (_ref("community_id", "communities"), _ref("owner_member_id", "members", "member_id"),
               _ref("group_id", "groups"))),
    TableSpec("business_reports", BusinessReport, ("business_id", "period"), "Laporan usaha",
              "Business reports", ("laporan usaha", "omzet", "perkembangan usaha", "laporan bulanan"),
              (_ref("business_id", "businesses"),)),
    TableSpec("kur_loans", KurLoan, ("loan_id",), "Pengajuan KUR", "KUR loans",
              ("kur", "kredit", "pinjaman kur", "pengajuan kur"),
              (_ref("member_id", "members"),)),
    TableSpec("consultations", Consultation, ("consultation_id",), "Konsultasi usaha", "Consultations",
              ("konsultasi", "konsultasi usaha"),
              (_ref("community_id", "communities"), _ref("business_id", "businesses"))),
    TableSpec("info_services", InfoService, ("event_id",), "Layanan informasi", "Information services",
              ("layanan informasi", "sosialisasi", "diseminasi", "layanan"),
              (_ref("community_id", "communities"),)),
    TableSpec("advocacy_cases", AdvocacyCase, ("case_id",), "Kasus advokasi", "Advocacy cases",
              ("advokasi", "kasus", "pengaduan", "kasus advokasi"),
              (_ref("community_id", "communities"), _ref("member_id", "members"))),
    TableSpec("prevention_events", PreventionEvent, ("event_id",), "Pencegahan non-prosedural",
              "Prevention of non-procedural placement", ("pencegahan", "pencegahan non prosedural"),
              (_ref("community_id", "communities"),)),
    TableSpec("village_regulations", VillageRegulation, ("village_code", "title"), "Peraturan desa",
              "Village regulations", ("perdes", "peraturan desa")),
    TableSpec("departures", Departure, ("village_code", "period"), "Keberangkatan", "Departures",
              ("keberangkatan", "data keberangkatan", "keberangkatan desa")),
    TableSpec("placements", Placement, ("year", "province_code", "regency_code", "sex", "destination_country"),
              "Penempatan PMI (BP2MI)", "Placements (published)",
              ("penempatan", "data penempatan", "penempatan bp2mi")),
)}

# --------------------------------------------------------------------------- resilience survey (issue 10)
# Everything the resilience survey adds to the data model sits in this block. Its item fields
# derive from the item bank resources/resilience_items.yaml, the same file the XLSForm is
# built from (kkbm_analysis.resilience.instrument), so form, table and codebook cannot drift.
from .item_bank import load_item_bank  # noqa: E402  (light: yaml and dataclasses only)

RESILIENCE_ITEMS = load_item_bank()
VOCABULARIES.update({name: _vocab(*((k, lid, len_, syn) for k, (lid, len_, syn) in options.items()))
                     for name, options in RESILIENCE_ITEMS.vocabularies().items()})
#: Survey fields that every row needs (the rest may be empty: not relevant, or not asked).
_SURVEY_REQUIRED = ("member_id", "community_id", "round", "interviewed_on")


def _survey_field(item: Any) -> tuple[Any, Any]:
    """(annotation, pandera Field) of one item of the item bank."""
    bank = RESILIENCE_ITEMS
    where = item.scale and bank.scales[item.scale].label_en or (
        item.domain and bank.risk_domains[item.domain][1])
    en = item.meaning_en or (f"{item.label_en} [{where}]" if where else item.label_en)
    id_ = item.meaning_id or (f"{item.label_id} [{bank.scales[item.scale].label_id}]" if item.scale else
                              f"{item.label_id} [{bank.risk_domains[item.domain][0]}]" if item.domain else
                              item.label_id)
    aliases = tuple(dict.fromkeys((item.name, *item.aliases)))
    opt = {"nullable": item.field not in _SURVEY_REQUIRED}
    if bank.is_likert(item):
        lo, hi = bank.likert_range
        return Series[Int], col(en, id_, *aliases, kind="int", ge=lo, le=hi, **opt)
    if bank.is_yes_no(item):
        return Series[Bool], col(en, id_, *aliases, **opt)
    if item.base_type == "select_one":
        return Series[Str], col(en, id_, *aliases, vocab=item.list_name, **opt)
    if item.base_type == "date":
        return Series[Date], col(en, id_, *aliases, kind=item.kind, **opt)
    if item.base_type == "integer":
        bounds = {k: v for k, v in (("ge", item.minimum), ("le", item.maximum)) if v is not None}
        return Series[Int], col(en, id_, *aliases, kind="int", **bounds, **opt)
    return Series[Str], col(en, id_, *aliases, kind=item.kind or "text", **opt)


def _tokens_allowed(series: pd.Series, list_name: str) -> pd.Series:
    allowed = {c.name for c in RESILIENCE_ITEMS.choices[list_name]}
    return series.map(lambda v: pd.isna(v) or set(str(v).split()) <= allowed).astype(bool)


def _survey_checks() -> dict[str, Any]:
    """Row rules of the survey (their names are the quarantine rules)."""

    @pa.dataframe_check(error="a multiple-choice answer holds a choice that is not in the survey form")
    def choices_in_form(cls, df: pd.DataFrame) -> Series[bool]:
        ok = pd.Series(True, index=df.index)
        for item in RESILIENCE_ITEMS.items:
            if item.base_type == "select_multiple":
                ok &= _tokens_allowed(df[item.field], item.list_name)
        return ok

    @pa.dataframe_check(error="shock answers inconsistent: the most serious shock is not among the shocks "
                              "listed, or it began after the interview")
    def shock_consistent(cls, df: pd.DataFrame) -> Series[bool]:
        listed = [pd.isna(m) or m in str(s).split() for m, s in zip(df["main_shock"], df["shocks"])]
        after = (df["main_shock_month"] > df["interviewed_on"]).fillna(False)
        return pd.Series(listed, index=df.index, dtype=bool) & ~after

    @pa.dataframe_check(error="recovery answers inconsistent: months to recover given without recovery, "
                              "or recovery without the months")
    def recovery_consistent(cls, df: pd.DataFrame) -> Series[bool]:
        recovered = df["recovered"].fillna(False).astype(bool)
        return recovered == df["months_to_recover"].notna()

    return {"choices_in_form": choices_in_form, "shock_consistent": shock_consistent,
            "recovery_consistent": recovery_consistent}


def _survey_model() -> type[_Base]:
    """The ``ResilienceSurvey`` model: submission id, then every item of the item bank."""
    annotations: dict[str, Any] = {"submission_id": Series[Str]}
    attrs: dict[str, Any] = {"submission_id": col(
        "Submission id (KoboToolbox _uuid)", "Kode pengiriman formulir (_uuid KoboToolbox)", "kobo uuid",
        "uuid", "id pengiriman", kind="code", unique=True)}
    for item in RESILIENCE_ITEMS.items:
        annotations[item.field], attrs[item.field] = _survey_field(item)
    attrs.update(__annotations__=annotations, __module__=__name__, __qualname__="ResilienceSurvey",
                 __doc__="One resilience interview of a member in one survey round (baseline, follow-ups): "
                         "risk exposure, protective factors, the three capacities, shocks and outcomes.",
                 **_survey_checks())
    return type("ResilienceSurvey", (_Base,), attrs)


ResilienceSurvey = _survey_model()
TABLES["resilience_surveys"] = TableSpec(
    "resilience_surveys", ResilienceSurvey, ("member_id", "round"), "Survei ketahanan PMI dan keluarga",
    "Resilience survey", ("ketahanan", "survei ketahanan", "ketahanan pmi", "resiliensi", "resilience"),
    (_ref("member_id", "members"), _ref("community_id", "communities")))
# --------------------------------------------------------------------------- end of resilience block


#: Tables in the order they are validated (a table after those it references).
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)


# --------------------------------------------------------------------------- direct identifiers
#: Raw headers that hold direct identifiers (examples per kind; :func:`identifier_kind`
#: also recognises them with suffixes, notes in brackets, numbered duplicates and in
#: English). They are read only to build pseudonyms (NIK) and otherwise dropped at ingest;
#: they never reach processed data or any message.
IDENTIFIER_HEADERS: dict[str, tuple[str, ...]] = {
    "nik": ("nik", "no ktp", "nomor ktp", "nomor induk kependudukan", "nik anggota", "nik peserta",
            "nik pemilik", "nik debitur", "nik pemohon", "nik petugas", "nik pmi", "national id", "id number"),
    "name": ("nama", "nama lengkap", "nama anggota", "nama peserta", "nama pemilik", "nama pmi",
             "nama petugas", "nama debitur", "nama pemohon", "nama ibu kandung", "name", "full name"),
    "phone": ("no hp", "nomor hp", "no telp", "nomor telepon", "telepon", "hp", "no wa", "whatsapp",
              "phone", "mobile"),
    "passport": ("no paspor", "nomor paspor", "paspor", "passport"),
    "address": ("alamat", "alamat lengkap", "alamat rumah", "rt rw", "dusun", "address"),
    "family_card": ("no kk", "nomor kk", "kartu keluarga"),
    "email": ("email", "e mail", "surel"),
    "birth_place": ("tempat lahir", "place of birth", "ttl", "tempat tanggal lahir"),
    "other_id": ("npwp", "no bpjs", "no sim", "no rekening", "nomor rekening", "account number"),
}

#: Words of a header that make it an identifier, whatever else it says ("NIK (16 digit)",
#: "No. HP/WA", "Nomor Paspor PMI", "E-mail address"), by kind.
_IDENTIFIER_WORDS: dict[str, frozenset[str]] = {
    "nik": frozenset({"nik", "ktp", "ektp", "nkk"}),
    "phone": frozenset({"hp", "wa", "whatsapp", "telp", "tlp", "telpon", "telepon", "telephone", "phone",
                        "handphone", "ponsel", "mobile", "kontak", "contact", "cellphone"}),
    "passport": frozenset({"paspor", "passport", "pasport"}),
    "email": frozenset({"email", "surel"}),
    "address": frozenset({"alamat", "address", "domisili", "dusun", "rt", "rw", "jalan", "jl"}),
    "other_id": frozenset({"npwp", "bpjs", "rekening", "rek", "sim", "iban"}),
    "photo": frozenset({"foto", "photo", "selfie"}),
    "signature": frozenset({"ttd", "tandatangan", "signature", "paraf"}),
}
#: Phrases (consecutive words) with the same role.
_IDENTIFIER_PHRASES: tuple[tuple[str, str], ...] = (
    ("nomor induk kependudukan", "nik"), ("national id", "nik"), ("id number", "nik"), ("identity number", "nik"),
    ("id card", "nik"), ("no kk", "family_card"), ("nomor kk", "family_card"), ("kartu keluarga", "family_card"),
    ("family card", "family_card"), ("e mail", "email"), ("tempat lahir", "birth_place"),
    ("place of birth", "birth_place"), ("birth place", "birth_place"), ("tanda tangan", "signature"),
    ("ibu kandung", "name"), ("account number", "other_id"), ("tempat tanggal lahir", "birth_place"),
)
#: "Nama ..." / "... name" headers that name an organisation or a place, not a person.
_NOT_PERSON = frozenset({"kkbm", "komunitas", "kelompok", "koperasi", "usaha", "desa", "kelurahan", "kecamatan",
                         "kabupaten", "kota", "provinsi", "bank", "program", "kegiatan", "mitra", "lembaga",
                         "instansi", "perusahaan", "negara", "unit", "dusun", "community", "group", "business",
                         "village", "district", "regency", "province", "country", "organisation",
                         "organization", "company", "partner", "event", "file", "sheet", "upt", "lp3tki",
                         "bp3tki", "kub", "produk", "product", "penyelenggara", "sekolah", "agen", "pt", "p3mi"})
_PERSON_WORDS = frozenset({"nama", "name", "surname", "fullname"})


def _identifier_words(key: str) -> str | None:
    words = key.split()
    joined = f" {key} "
    for phrase, kind in _IDENTIFIER_PHRASES:
        if f" {phrase} " in joined:
            return kind
    if key in ("ttl",):
        return "birth_place"
    if words and words[0] in _PERSON_WORDS or (len(words) > 1 and words[-1] in _PERSON_WORDS):
        if not set(words) & _NOT_PERSON:
            return "name"
    for kind, vocabulary in _IDENTIFIER_WORDS.items():
        if set(words) & vocabulary:
            return kind
    return None


@cache
def identifier_kind(header: str) -> str | None:
    """Which direct identifier a raw header holds, if any (``'nik'``, ``'name'``, ``'phone'`` ...).

    Recognised with notes in brackets (``NIK (16 digit)``), punctuation (``No. HP/WA``),
    numbered duplicates (``No KTP.2``, ``Nama 2``), Indonesian or English words and extra
    words around them (``Nomor Paspor PMI``, ``Mother's maiden name``). Organisation and
    place names (``Nama KKBM``, ``Nama Desa``) are not identifiers.
    """
    text = re.sub(r"\([^)]*\)|\[[^]]*\]", " ", str(header))
    text = re.sub(r"[._ -]+\d{1,2}$", "", text.strip())  # numbered duplicates: "No KTP.2", "Nama 2"
    for key in dict.fromkeys((header_key(text), header_key(header))):
        if not key:
            continue
        for kind, names in IDENTIFIER_HEADERS.items():
            if key in names:
                return kind
        kind = _identifier_words(key)
        if kind:
            return kind
    return None


# --------------------------------------------------------------------------- codebook
def field_meta(table: str, column: str) -> dict[str, Any]:
    """Metadata of one field (aliases, kind, vocab, level)."""
    return dict(TABLES[table].schema.columns[column].metadata or {})


def codebook() -> pd.DataFrame:
    """The codebook: one row per table column, generated from the schemas.

    Returns
    -------
    DataFrame
        Columns ``table, column, type, required, allowed, meaning_id, meaning_en,
        raw_headers``. ``allowed`` lists the checks and vocabulary (key = label).
    """
    rows = []
    for spec in TABLES.values():
        for name, c in spec.schema.columns.items():
            meta = c.metadata or {}
            allowed = [_describe_check(ch) for ch in c.checks if "isin" not in ch.name]
            if meta.get("vocab"):
                allowed.append("; ".join(f"{k} = {v.label_id} / {v.label_en}"
                                         for k, v in VOCABULARIES[meta["vocab"]].items()))
            if meta.get("kind") == "pseudonym":
                allowed.append("keyed pseudonym (HMAC-SHA256); the raw identifier is dropped at ingest")
            if name == "kind" and spec.name == "sessions":
                allowed.append("mentoring-point labels are a configurable working reading: the wording of "
                               "Perka BNP2TKI 6/2017 was not at hand (resources/mentoring_points.yaml)")
            rows.append({
                "table": spec.name, "column": name, "type": str(c.dtype),
                "required": not c.nullable, "allowed": " | ".join(allowed),
                "meaning_id": c.title, "meaning_en": c.description,
                "raw_headers": ", ".join(meta.get("aliases", [])),
            })
    return pd.DataFrame(rows)


def _describe_check(check: Any) -> str:
    stats = getattr(check, "statistics", None) or {}
    return f"{check.name}({', '.join(f'{k}={v}' for k, v in stats.items())})"
