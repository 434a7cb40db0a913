"""Which column or variable is which field, and which code is which theme.

Coded material arrives with the headers and variable names of the tool that exported it
("Document name", "Nama Dokumen", "Provinsi", "Peran informan"...). Common names in
Indonesian and English are recognised without configuration (:data:`FIELDS`). Anything else
is said in a small YAML file in the raw folder (default ``kkbm-voices.yaml``)::

    columns:                      # spreadsheet header or REFI-QDA variable -> field
      "Nama Transkrip": source
      "Asal provinsi": province
      "Catatan pewawancara": drop          # ignore on purpose
    themes:                       # your code (path or name) -> barrier theme (or none)
      "Hambatan/Kurang didampingi": mentoring_gap
      "Latar belakang": none
    codebook: my-themes.yaml      # extra or changed themes (see barrier_themes.yaml)
    names: [Darsono, Sukinah]     # more names to redact (participants are added by themselves)
    names_file: nama.txt          # one name per line (kept out of version control)
    consent_default: false        # sources without a consent value: no text stored
    publishable_code: "Kutipan"   # segments coded with this code are publishable
    exclude: ["arsip/*"]

Paths are relative to the file. Unknown keys, unknown fields and unknown themes are errors
that name the file and the entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..parsing import normalise_text
from .codebook import CodebookError

__all__ = ["FIELDS", "IDENTIFIER_FIELDS", "VoicesMapping", "load_voices_mapping", "field_of", "DEFAULT_NAME"]

DEFAULT_NAME = "kkbm-voices.yaml"
#: Field -> recognised header / variable names (matched ignoring case, accents, punctuation).
FIELDS: dict[str, tuple[str, ...]] = {
    "source": ("source", "document", "document name", "dokumen", "nama dokumen", "sumber", "nama sumber", "file",
               "files", "file name", "nama file", "berkas", "file/case", "transkrip", "nama transkrip",
               "primary document", "documents"),
    "code": ("code", "codes", "codename", "code name", "kode", "nama kode", "node", "nodes", "tema kode"),
    "code_parent": ("parent code", "code group", "code groups", "kategori kode", "induk kode", "category"),
    "text": ("segment", "coded segment", "coded text", "text", "content", "quotation", "quotation content",
             "kutipan", "teks", "segmen", "isi", "coded content", "reference text"),
    "coder": ("coder", "created by", "modified by", "user", "author", "owner", "pengode", "pengkode", "koder",
              "coder name"),
    "start": ("begin", "start", "start position", "pos0", "posisi awal", "awal", "mulai", "from", "start char"),
    "end": ("end", "end position", "pos1", "posisi akhir", "akhir", "selesai", "to", "end char"),
    "segment_id": ("segment id", "quotation id", "id kutipan", "id segmen", "reference"),
    "publishable": ("publishable", "quotable", "boleh dikutip", "dapat dikutip", "boleh dipublikasikan",
                    "kutipan publik", "publik"),
    "province": ("province", "provinsi", "prov", "nama provinsi", "kode provinsi"),
    "regency": ("regency", "kabupaten", "kabupaten kota", "kab kota", "kota", "kode kabupaten", "regency city"),
    "community": ("community", "komunitas", "kkbm", "nama komunitas", "community id", "id komunitas"),
    "role": ("role", "peran", "peran informan", "jabatan", "posisi", "kategori informan", "informant type",
             "informant role", "participant role", "jenis informan"),
    "sex": ("sex", "gender", "jenis kelamin", "jk", "l p", "kelamin"),
    "date": ("date", "tanggal", "tgl", "tanggal wawancara", "interview date", "tanggal pengumpulan", "waktu"),
    "source_type": ("source type", "jenis sumber", "jenis data", "metode", "teknik", "teknik pengumpulan data",
                    "data type", "method", "type"),
    "consent": ("consent", "persetujuan", "informed consent", "izin", "bersedia", "persetujuan informan",
                "consent given"),
    # identifiers: never stored; their values feed the redaction lists
    "name": ("name", "nama", "nama informan", "informant", "informan", "participant", "participants", "peserta",
             "nama peserta", "interviewee", "narasumber", "nama narasumber", "full name", "nama lengkap"),
    "nik": ("nik", "no ktp", "nomor ktp", "ktp", "national id"),
    "phone": ("phone", "telepon", "no hp", "hp", "nomor hp", "no telp", "telp", "whatsapp", "wa"),
    "email": ("email", "e mail", "surel"),
    "address": ("address", "alamat", "alamat rumah"),
    "village": ("village", "desa", "kelurahan", "desa kelurahan", "nama desa", "dusun", "kampung"),
    "district": ("district", "kecamatan", "kec", "distrik"),
}
#: Fields whose values are identifiers: dropped, their values redacted wherever they appear.
IDENTIFIER_FIELDS = ("name", "nik", "phone", "email", "address", "village", "district")
SPECIAL = ("drop",)
_KEYS = {"columns", "themes", "codebook", "names", "names_file", "consent_default", "publishable_code", "exclude"}


@dataclass(frozen=True)
class VoicesMapping:
    """A parsed ``kkbm-voices.yaml`` (empty when there is none)."""

    columns: dict[str, str] = field(default_factory=dict)
    themes: dict[str, Any] = field(default_factory=dict)
    codebook: Path | None = None
    names: tuple[str, ...] = ()
    consent_default: bool | None = None
    publishable_code: str | None = None
    exclude: tuple[str, ...] = ()
    source: Path | None = None

    def field_of(self, header: str) -> str | None:
        """The field a header or variable name stands for (None if unknown)."""
        return field_of(header, self.columns)


def field_of(header: Any, overrides: dict[str, str] | None = None) -> str | None:
    """Field of a header: the mapping file first, then :data:`FIELDS`."""
    key = normalise_text(str(header))
    for raw, target in (overrides or {}).items():
        if normalise_text(raw) == key:
            return target
    return _ALIASES.get(key)


_ALIASES = {normalise_text(alias): f for f, aliases in FIELDS.items() for alias in (f, *aliases)}


def load_voices_mapping(path: str | Path | None) -> VoicesMapping:
    """Read a ``kkbm-voices.yaml`` (a missing default file gives an empty mapping).

    Raises
    ------
    CodebookError
        The file is not valid YAML, has unknown keys or fields, or a names file is missing.
    """
    if path is None or not Path(path).exists():
        if path is not None and Path(path).name != DEFAULT_NAME:
            raise CodebookError(f"mapping file not found: {path}")
        return VoicesMapping()
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CodebookError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(spec, dict):
        raise CodebookError(f"{path}: expected a mapping with keys {sorted(_KEYS)}")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise CodebookError(f"{path}: unknown key(s) {unknown}; allowed: {sorted(_KEYS)}")
    columns = {str(k): str(v) for k, v in (spec.get("columns") or {}).items()}
    for header, target in columns.items():
        if target not in FIELDS and target not in SPECIAL:
            raise CodebookError(f"{path}: column {header!r} is mapped to unknown field {target!r}; fields are "
                                f"{', '.join(FIELDS)} (or drop)")
    names = [str(n) for n in spec.get("names") or ()]
    if spec.get("names_file"):
        names_path = (path.parent / spec["names_file"])
        if not names_path.is_file():
            raise CodebookError(f"{path}: names_file {spec['names_file']!r} not found next to it")
        names += [line.strip() for line in names_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    consent = spec.get("consent_default")
    if consent is not None and not isinstance(consent, bool):
        raise CodebookError(f"{path}: consent_default must be true or false, not {consent!r}")
    return VoicesMapping(columns=columns, themes=dict(spec.get("themes") or {}),
                         codebook=(path.parent / spec["codebook"]) if spec.get("codebook") else None,
                         names=tuple(names), consent_default=consent,
                         publishable_code=str(spec["publishable_code"]) if spec.get("publishable_code") else None,
                         exclude=tuple(spec.get("exclude") or ()), source=path)
