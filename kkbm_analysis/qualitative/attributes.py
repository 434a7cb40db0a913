"""Source attributes: from variables and spreadsheet columns to typed, privacy-safe fields.

A source's attributes come from its own variables, else from the cases that group it
(:meth:`QualProject.source_attributes`). Each variable is recognised as a field
(:data:`.mapping.FIELDS`) and read:

``province``, ``regency``  Kemendagri codes through :func:`kkbm_analysis.regions.harmonise_regions`
                      (names, codes, old spellings); a source that cannot be placed is
                      quarantined (``unknown_region``, ``ambiguous_region``, ``region_mismatch``),
                      as rows are in the tabular ingest;
``role``              member, penggerak, co, village_official, agency_officer (several
                      different roles across a source's cases: ``mixed``);
``sex``               female, male (or ``mixed``);
``source_type``       interview, fgd, document, observation;
``date``              a date (Indonesian formats);
``consent``           yes/no; missing: the mapping's ``consent_default``, else no consent;
``publishable``       yes/no (default no);
``community``         kept only as a keyed pseudonym (community names are often village names).

Values that do not parse become missing with a finding naming the source and the value.
Identifier fields (name, NIK, phone, e-mail, address, village, district) are never stored:
their values join the redaction lists. Other variables are kept as attributes, redacted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import parsing, regions
from ..i18n import LANGS, text
from .mapping import IDENTIFIER_FIELDS, VoicesMapping

__all__ = ["ROLES", "SEXES", "SOURCE_TYPES", "SourceFields", "read_source_fields", "vocabulary_label",
           "vocabulary"]

#: key -> synonyms people write; the labels (``voices.role.<key>`` ... in the string catalogue) are read too.
ROLES: dict[str, tuple[str, ...]] = {
    "member": ("anggota", "anggota kkbm", "pmi purna", "purna pmi", "mantan pmi", "calon pmi", "keluarga pmi",
               "keluarga", "member", "returned migrant", "pmi", "anggota pmi purna"),
    "penggerak": ("penggerak komunitas", "relawan", "kawan pmi", "volunteer", "mover"),
    "co": ("community organizer", "community organiser", "pendamping komunitas", "organizer",
           "community organizer co"),
    "village_official": ("perangkat desa", "kepala desa", "kades", "sekdes", "sekretaris desa", "aparat desa",
                         "pemerintah desa", "lurah", "kadus", "village head"),
    "agency_officer": ("petugas lp3tki", "petugas bp3tki", "lp3tki", "bp3tki", "upt bp2mi", "bp2mi", "bnp2tki",
                       "disnaker", "disnakertrans", "dinas tenaga kerja", "petugas dinas", "officer", "petugas",
                       "petugas upt bp2mi"),
    "mixed": ("campuran", "beragam"),
    "other": ("lainnya", "lain lain"),
}
SEXES: dict[str, tuple[str, ...]] = {
    "female": ("perempuan", "p", "wanita", "f", "female", "woman"),
    "male": ("laki laki", "l", "pria", "m", "male", "man"),
    "mixed": ("campuran",),
}
SOURCE_TYPES: dict[str, tuple[str, ...]] = {
    "interview": ("wawancara", "wawancara mendalam", "in depth interview", "interview"),
    "fgd": ("fgd", "focus group", "focus group discussion", "diskusi kelompok terfokus", "diskusi kelompok"),
    "document": ("dokumen", "dokumentasi", "document", "notulen", "laporan", "arsip"),
    "observation": ("observasi", "observation", "catatan lapangan", "field notes"),
}
_VOCABS = {"role": ROLES, "sex": SEXES, "source_type": SOURCE_TYPES}
FIELD_COLUMNS = ["province_code", "regency_code", "community", "role", "sex", "source_type", "collected_on",
                 "consent", "publishable"]


def vocabulary_label(vocab: str, key: str, lang: str = "en") -> str:
    """Label of a role, sex or source type in ``'id'`` or ``'en'`` (the key itself when it has none)."""
    return text(f"voices.{vocab}.{key}", lang) if key in _VOCABS[vocab] else str(key)


def vocabulary(vocab: str) -> dict[str, tuple[str, ...]]:
    """What a ``role``, ``sex`` or ``source_type`` value may be written as: its labels, then its synonyms."""
    return {key: (*(vocabulary_label(vocab, key, lang) for lang in LANGS), *synonyms)
            for key, synonyms in _VOCABS[vocab].items()}


@dataclass
class SourceFields:
    """Typed fields per source and what reading them found.

    Attributes
    ----------
    fields : DataFrame
        Indexed by ``source_guid``: :data:`FIELD_COLUMNS`.
    other : DataFrame
        ``source_guid, variable, value, origin`` of variables that are no field.
    names, places : set of str
        Person and place names seen in identifier variables (for redaction).
    problems : list of dict
        ``source_guid, column, rule, message, severity`` (``'quarantine'`` or ``'finding'``).
    """

    fields: pd.DataFrame
    other: pd.DataFrame
    names: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)
    problems: list[dict] = field(default_factory=list)


def read_source_fields(attrs: pd.DataFrame, source_guids: list[str], mapping: VoicesMapping) -> SourceFields:
    """Read the attributes of every source (see the module docstring).

    Parameters
    ----------
    attrs : DataFrame
        ``source_guid, variable, value, origin`` (from :meth:`QualProject.source_attributes`).
    source_guids : list of str
        Every source, also those without attributes.
    mapping : VoicesMapping
    """
    attrs = attrs.assign(field=attrs["variable"].map(mapping.field_of))
    attrs = attrs[attrs["field"] != "drop"]
    out = SourceFields(pd.DataFrame(index=pd.Index(source_guids, name="source_guid")), pd.DataFrame())
    ident = attrs[attrs["field"].isin(IDENTIFIER_FIELDS)]
    out.names = set(ident.loc[ident["field"] == "name", "value"].dropna().astype(str))
    out.places = set(ident.loc[ident["field"].isin(["village", "district"]), "value"].dropna().astype(str))
    out.other = attrs[attrs["field"].isna()][["source_guid", "variable", "value", "origin"]].reset_index(drop=True)
    known = attrs[attrs["field"].notna() & ~attrs["field"].isin(IDENTIFIER_FIELDS)]
    values = _one_value(known, out)
    _regions(values, out)
    for name in _VOCABS:
        _category(values, name, vocabulary(name), out)
    _date(values, out)
    _flag(values, "consent", mapping.consent_default, out)
    _flag(values, "publishable", False, out)
    community = values.get("community", pd.Series(dtype=object))
    out.fields["community"] = community.reindex(out.fields.index).astype("string")
    out.fields = out.fields[FIELD_COLUMNS]
    return out


def _one_value(known: pd.DataFrame, out: SourceFields) -> dict[str, pd.Series]:
    """field -> Series by source: the value, 'mixed' where cases disagree on role/sex."""
    values: dict[str, pd.Series] = {}
    for name, grp in known.groupby("field"):
        distinct = grp.dropna(subset=["value"]).groupby("source_guid")["value"].agg(lambda v: sorted(set(map(str, v))))
        single = distinct.map(lambda v: v[0] if len(v) == 1 else None)
        many = distinct[distinct.map(len) > 1]
        for guid, vals in many.items():
            if name in ("role", "sex"):
                single[guid] = "mixed"
            else:
                out.problems.append({"source_guid": guid, "column": name, "rule": "conflicting_attribute",
                                     "severity": "quarantine" if name in ("province", "regency") else "finding",
                                     "message": f"the cases of this source give different {name} values "
                                                f"({len(vals)} values); none is used"})
        values[name] = single
    return values


def _regions(values: dict[str, pd.Series], out: SourceFields) -> None:
    cols = {k: values[k] for k in ("province", "regency") if k in values}
    idx = out.fields.index
    if not cols:
        out.fields["province_code"] = pd.Series(pd.NA, index=idx, dtype="string")
        out.fields["regency_code"] = pd.Series(pd.NA, index=idx, dtype="string")
        return
    frame = pd.DataFrame({k: v.reindex(idx) for k, v in cols.items()}, index=idx)
    match = regions.harmonise_regions(frame, **{k: k for k in cols})
    for rec in match.problems.itertuples(index=False):
        out.problems.append({"source_guid": rec.index, "column": rec.column, "rule": rec.rule,
                             "message": rec.message, "severity": "quarantine"})
    out.fields["province_code"] = match.codes["province_code"].astype("string")
    out.fields["regency_code"] = match.codes["regency_code"].astype("string")


def _category(values: dict[str, pd.Series], name: str, vocab: dict[str, tuple[str, ...]], out: SourceFields) -> None:
    raw = values.get(name, pd.Series(dtype=object)).reindex(out.fields.index)
    parsed = parsing.parse_category(raw, {k: v for k, v in vocab.items()})
    for guid in raw.index[parsed.invalid.to_numpy(dtype=bool)]:
        out.problems.append({"source_guid": guid, "column": name, "rule": "invalid_category", "severity": "finding",
                             "message": f"{name} {raw[guid]!r} is not one of {', '.join(vocab)}; left empty"})
    out.fields[name] = parsed.values.astype("string")


def _date(values: dict[str, pd.Series], out: SourceFields) -> None:
    raw = values.get("date", pd.Series(dtype=object)).reindex(out.fields.index)
    parsed = parsing.parse_date(raw)
    for guid in raw.index[parsed.invalid.to_numpy(dtype=bool)]:
        out.problems.append({"source_guid": guid, "column": "date", "rule": "invalid_date", "severity": "finding",
                             "message": f"date {raw[guid]!r} is not a date (write e.g. 26/07/2019); left empty"})
    out.fields["collected_on"] = pd.to_datetime(parsed.values).astype("datetime64[ms]")


def _flag(values: dict[str, pd.Series], name: str, default: bool | None, out: SourceFields) -> None:
    raw = values.get(name, pd.Series(dtype=object)).reindex(out.fields.index)
    parsed = parsing.parse_bool(raw)
    for guid in raw.index[parsed.invalid.to_numpy(dtype=bool)]:
        out.problems.append({"source_guid": guid, "column": name, "rule": "invalid_boolean", "severity": "finding",
                             "message": f"{name} {raw[guid]!r} is not yes/no; taken as no"})
    flag = parsed.values.astype("boolean")
    if name == "consent":
        missing = flag.isna() & ~parsed.invalid
        if default is None and missing.any():
            for guid in flag.index[missing.to_numpy(dtype=bool)]:
                out.problems.append({"source_guid": guid, "column": "consent", "rule": "no_consent_recorded",
                                     "severity": "finding", "message": "no consent recorded: its text is not "
                                     "stored, only counts (set consent_default in kkbm-voices.yaml if your "
                                     "ethics approval covers every source)"})
        flag = flag.fillna(bool(default))
    out.fields[name] = flag.fillna(False).astype(bool)
