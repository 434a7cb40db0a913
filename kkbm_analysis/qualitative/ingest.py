"""Coded interviews, focus groups and documents -> pseudonymised, redacted Parquet tables.

:func:`ingest_voices` reads every ``.qdpx`` (:mod:`.refi`) and coded-segments spreadsheet
(:mod:`.spreadsheet`) under a raw folder, never modifying it, and writes to an output folder
(replaced atomically):

``sources.parquet``     one row per accepted text source: ``source_id`` (keyed pseudonym),
                        ``file``, ``source_type``, ``province_code``, ``regency_code``,
                        ``community_id`` (pseudonym), ``role``, ``sex``, ``collected_on``,
                        ``consent``, ``publishable``, ``n_segments``, ``n_chars``
``segments.parquet``    ``segment_id, source_id, start, end, n_chars, text, publishable``;
                        ``text`` is redacted (:mod:`.redact`) and NA for a source without
                        consent; ``publishable`` needs consent and the source's (or the
                        segment's) publishable flag, or the ``publishable_code``
``codes.parquet``       ``code_id, parent_id, file, name`` (redacted), ``path``,
                        ``is_codable, theme_id, theme_rule`` (:mod:`.codebook`)
``codings.parquet``     ``coding_id, segment_id, source_id, code_id, coder_id, theme_id``
``attributes.parquet``  other variables: ``source_id, variable, value`` (redacted), ``origin``
``cases.parquet``       ``case_id, source_id`` (pseudonyms; case names are not kept)
``themes.parquet``      the codebook used
``quarantine.csv``      what was not accepted: ``file, location, item, column, rule, message``
``fates.csv``           every file, source and segment: accepted, quarantined or skipped, why
``redactions.csv``      matches per source and redaction rule (counts only)
``manifest.json``, ``notes.md``  inputs with SHA-256, counts, versions, key id; a summary

Source names, case names, coder names and identifier variables never reach an output; a
source, segment or case is known only by a keyed pseudonym of its file and GUID
(:func:`kkbm_analysis.privacy.pseudonymise`, the same key as the tabular ingest).
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..inventory import FileEntry, is_embedded_demo
from ..io import sha256, write_csv, write_json, write_parquet, write_text
from ..privacy import PseudonymKey, pseudonymise
from ..readers import RawFileError
from .attributes import read_source_fields
from ..config import package_version
from .codebook import Codebook, load_codebook, load_theme_mapping, map_codes
from .files import QDPX_SUFFIXES, SHEET_SUFFIXES, discover
from .mapping import DEFAULT_NAME, VoicesMapping, load_voices_mapping
from .model import QualProject, WHOLE_SOURCE
from .redact import RULES, Redactor
from .refi import QdpxError, read_qdpx
from .spreadsheet import read_segments_file

__all__ = ["VoicesIngest", "ingest_voices", "QDPX_SUFFIXES", "SHEET_SUFFIXES"]

QUARANTINE_COLUMNS = ["file", "location", "item", "column", "rule", "message"]
FATE_COLUMNS = ["file", "location", "item", "fate", "rule", "message"]


@dataclass
class VoicesIngest:
    """What :func:`ingest_voices` produced (the tables as written)."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    fates: pd.DataFrame
    redactions: pd.DataFrame
    manifest: dict[str, Any]
    findings: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ok(self) -> bool:
        """True when nothing was quarantined."""
        return self.quarantine.empty

    def summary(self) -> str:
        m = self.manifest
        c = m["counts"]
        lines = [f"kkbm-analysis voices ingest ({'SYNTHETIC demo data' if m['synthetic'] else 'data'}, data "
                 f"version {m['data_version']}, codebook {m['codebook']['name']} {m['codebook']['version']})",
                 f"files {c['files']}: sources {c['sources_accepted']} accepted, {c['sources_quarantined']} "
                 f"quarantined, {c['sources_skipped']} skipped; segments {c['segments_accepted']} accepted, "
                 f"{c['segments_quarantined']} quarantined, {c['segments_skipped']} skipped; "
                 f"codings {c['codings']}",
                 f"sources without consent (counts only, no text): {c['sources_without_consent']}; "
                 f"publishable segments: {c['segments_publishable']}",
                 "redactions: " + (", ".join(f"{k} {v}" for k, v in m["redactions"].items() if v) or "none")]
        if len(self.quarantine):
            lines.append("quarantined by rule: " + ", ".join(
                f"{r} {n}" for r, n in self.quarantine["rule"].value_counts().sort_index().items()))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# =========================================================================== entry point
def ingest_voices(raw_dir: str | Path, out_dir: str | Path | None = None, *, mapping: str | Path | None = None,
                  codebook: Codebook | None = None, key: PseudonymKey | None = None) -> VoicesIngest:
    """Ingest coded qualitative material (see the module docstring).

    Parameters
    ----------
    raw_dir : path
        Folder of ``.qdpx`` files and coded-segments spreadsheets (read only).
    out_dir : path, optional
        Output folder, replaced as a whole and atomically; None writes nothing.
    mapping : path, optional
        ``kkbm-voices.yaml`` (default: the one in ``raw_dir``, if any).
    codebook : Codebook, optional
        Default: the built-in codebook, extended by the mapping's ``codebook:`` file.
    key : PseudonymKey, optional
        Default: the demo key for synthetic data, else the configured secret key.

    Raises
    ------
    FileNotFoundError
        ``raw_dir`` does not exist.
    kkbm_analysis.qualitative.codebook.CodebookError
        The mapping or codebook file is malformed.
    kkbm_analysis.privacy.MissingKeyError
        Real data and no pseudonym key.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw folder not found: {raw_dir}")
    rules = load_voices_mapping(mapping or raw_dir / DEFAULT_NAME)
    book = codebook or load_codebook(rules.codebook)
    theme_map = load_theme_mapping(rules.themes, book, str(rules.source or DEFAULT_NAME))
    files, skipped = discover(raw_dir, rules)
    synthetic = is_embedded_demo(raw_dir, [FileEntry(f.relative_to(raw_dir).as_posix(), f, "read") for f in files])
    key = key or PseudonymKey.for_data(synthetic)
    run = _Run(book, theme_map, rules, key)
    for path, reason in skipped:
        run.fate(path.relative_to(raw_dir).as_posix(), "", "file", "skipped", "not_read", reason)
    for path in files:
        run.file(path, path.relative_to(raw_dir).as_posix())
    result = run.result(raw_dir, files, synthetic)
    if out_dir is not None:
        _write(result, Path(out_dir))
    return result


# =========================================================================== one run
class _Run:
    """Accumulates the tables of every file."""

    def __init__(self, book: Codebook, theme_map: dict, rules: VoicesMapping, key: PseudonymKey) -> None:
        self.book, self.theme_map, self.rules, self.key = book, theme_map, rules, key
        self.parts: dict[str, list[pd.DataFrame]] = {k: [] for k in (
            "sources", "segments", "codes", "codings", "attributes", "cases")}
        self.quarantined: list[dict] = []
        self.findings: list[dict] = []
        self.fates: list[dict] = []
        self.redactions: list[dict] = []

    def fate(self, file: str, location: str, item: str, fate: str, rule: str, message: str) -> None:
        self.fates.append({"file": file, "location": location, "item": item, "fate": fate, "rule": rule,
                           "message": message})

    def problem(self, file: str, location: str, item: str, column: str, rule: str, message: str,
                severity: str = "quarantine") -> None:
        row = {"file": file, "location": location, "item": item, "column": column, "rule": rule, "message": message}
        (self.quarantined if severity == "quarantine" else self.findings).append(row)
        if severity == "quarantine":
            self.fate(file, location, item, "quarantined", rule, message)

    def pseudonym(self, values: pd.Series, entity: str) -> pd.Series:
        return pseudonymise(values.astype("string"), self.key, entity)

    # ------------------------------------------------------------------ files
    def file(self, path: Path, rel: str) -> None:
        try:
            if path.suffix.lower() in QDPX_SUFFIXES:
                project = read_qdpx(path)
            else:
                read = read_segments_file(path, rel, self.rules)
                project = read.project
                for p in read.problems:
                    self.problem(p["file"], p["location"], p["item"], p["column"], p["rule"], p["message"],
                                 p["severity"])
                for acc in read.rows:
                    self.fate(rel, acc["sheet"], f"sheet ({acc['kind']})", "accepted", "",
                              f"{acc['rows_read']} rows read, {acc['rows_accepted']} accepted, "
                              f"{acc['rows_quarantined']} quarantined")
        except (QdpxError, RawFileError) as exc:
            self.problem(rel, "", "file", "", "unreadable_file", str(exc))
            return
        self.fate(rel, "", "file", "accepted", "", _counts(project))
        for s in project.skipped.itertuples():
            self.fate(rel, _loc(s.location), s.item, "skipped", "not_text", s.reason)
        _ProjectIngest(self, project, rel).ingest()

    # ------------------------------------------------------------------ result
    def result(self, raw_dir: Path, files: list[Path], synthetic: bool) -> VoicesIngest:
        tables = {name: _concat(parts, name) for name, parts in self.parts.items()}
        tables["themes"] = _themes_table(self.book)
        quarantine = pd.DataFrame(self.quarantined, columns=QUARANTINE_COLUMNS)
        fates = pd.DataFrame(self.fates, columns=FATE_COLUMNS)
        redactions = pd.DataFrame(self.redactions, columns=["source_id", "rule", "matches"])
        redactions = redactions.sort_values(["source_id", "rule"], kind="stable").reset_index(drop=True)
        manifest = _manifest(raw_dir, files, tables, fates, redactions, self, synthetic)
        findings = pd.DataFrame(self.findings, columns=QUARANTINE_COLUMNS)
        return VoicesIngest(tables, quarantine, fates, redactions, manifest, findings)


def _concat(parts: list[pd.DataFrame], name: str) -> pd.DataFrame:
    keys = {"sources": ["source_id"], "segments": ["segment_id"], "codes": ["code_id"], "codings": ["coding_id"],
            "attributes": ["source_id", "variable", "value"], "cases": ["case_id", "source_id"]}[name]
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=_EMPTY[name])
    return df.sort_values(keys, kind="stable").reset_index(drop=True)


_EMPTY = {"sources": ["source_id"], "segments": ["segment_id"], "codes": ["code_id"], "codings": ["coding_id"],
          "attributes": ["source_id", "variable", "value", "origin"], "cases": ["case_id", "source_id"]}


def _themes_table(book: Codebook) -> pd.DataFrame:
    t = book.themes.copy()
    for c in ("synonyms", "barrier_ids", "sources"):
        t[c] = t[c].map(", ".join)
    return t.astype({"parent_id": "string"}).assign(codebook=book.name, codebook_version=book.version)


class _ProjectIngest:
    """Validation, privacy and tables of one file's project."""

    def __init__(self, run: _Run, project: QualProject, rel: str) -> None:
        self.run, self.p, self.rel = run, project, rel

    def ingest(self) -> None:
        p = self.p
        fields = read_source_fields(p.source_attributes(), p.sources["source_guid"].tolist(), self.run.rules)
        bad_sources = self._source_problems(fields)
        sources = p.sources[~p.sources["source_guid"].isin(bad_sources)]
        codes = self._codes()
        sel = self._selections(sources, codes)
        redactor_names = self._names(fields)
        self._tables(sources, fields, sel, codes, redactor_names)

    # ------------------------------------------------------------------ checks
    def _where(self, guid: str) -> str:
        loc = self.p.sources.set_index("source_guid")["location"].get(guid)
        return str(loc).split(": ", 1)[-1] if loc else guid

    def _source_problems(self, fields) -> set[str]:
        bad = set()
        for prob in fields.problems:
            self.run.problem(self.rel, self._where(prob["source_guid"]), "source", prob["column"], prob["rule"],
                             prob["message"], prob["severity"])
            if prob["severity"] == "quarantine":
                bad.add(prob["source_guid"])
        for guid in self.p.sources["source_guid"]:
            if guid not in bad:
                self.run.fate(self.rel, self._where(guid), "source", "accepted", "", "")
        self.fields = fields
        return bad

    def _codes(self) -> pd.DataFrame:
        codes = self.p.codes.rename(columns={"code_guid": "code_id", "parent_guid": "parent_id"})
        mapped = map_codes(codes[["code_id", "parent_id", "name"]], self.run.book, self.run.theme_map)
        return codes.merge(mapped, on="code_id", how="left")

    def _selections(self, sources: pd.DataFrame, codes: pd.DataFrame) -> pd.DataFrame:
        """Selections of accepted sources with a valid position and at least one valid coding."""
        p = self.p
        sel = p.selections.merge(sources[["source_guid", "text"]].rename(columns={"text": "source_text"}),
                                 on="source_guid", how="left", indicator=True)
        dropped = sel[sel["_merge"] == "left_only"]
        for s in dropped.itertuples():
            self.run.fate(self.rel, _loc(s.location), "segment", "quarantined", "source_quarantined",
                          "its source was quarantined")
        sel = sel[sel["_merge"] == "both"].drop(columns="_merge")
        length = sel["source_text"].map(lambda t: len(t) if isinstance(t, str) else None)
        has_text = length.notna()
        bad_pos = has_text & ((sel["start"].astype(int) < 0) | (sel["end"].astype(int) > length.fillna(0))
                              | (sel["start"].astype(int) >= sel["end"].astype(int)))
        for s, n in zip(sel[bad_pos].itertuples(), length[bad_pos]):
            self.run.problem(self.rel, _loc(s.location), "segment", "startPosition,endPosition", "invalid_position",
                             f"positions {s.start}-{s.end} do not lie inside the source text ({int(n)} characters)")
        sel = sel[~bad_pos].copy()
        sel["segment_text"] = [t[int(a):int(b)] if isinstance(t, str) else own
                               for t, a, b, own in zip(sel["source_text"], sel["start"].fillna(0),
                                                       sel["end"].fillna(0), sel["text"])]
        codings = p.codings[p.codings["selection_guid"].isin(sel["selection_guid"])]
        unknown = ~codings["code_guid"].isin(codes["code_id"])
        for c in codings[unknown].itertuples():
            self.run.problem(self.rel, _loc(c.location), "coding", "CodeRef", "unknown_code",
                             f"the coding refers to code {c.code_guid}, which is not in the codebook")
        self.codings = codings[~unknown]
        uncoded = ~sel["selection_guid"].isin(self.codings["selection_guid"])
        for s in sel[uncoded].itertuples():
            self.run.fate(self.rel, _loc(s.location), "segment", "skipped", "no_coding", "the selection has no "
                          "(valid) coding")
        sel = sel[~uncoded]
        for s in sel.itertuples():
            self.run.fate(self.rel, _loc(s.location), "segment", "accepted", "", "")
        return sel

    def _names(self, fields) -> tuple[set[str], set[str]]:
        names = set(fields.names) | set(self.run.rules.names)
        names |= set(self.p.cases["name"].dropna().astype(str)) | set(self.p.users["name"].dropna().astype(str))
        names |= set(self.p.sources["name"].dropna().astype(str).str.replace(r"\.\w+$", "", regex=True))
        return names, set(fields.places)

    # ------------------------------------------------------------------ tables
    def _tables(self, sources: pd.DataFrame, fields, sel: pd.DataFrame, codes: pd.DataFrame,
                names: tuple[set[str], set[str]]) -> None:
        run, rel = self.run, self.rel
        ids = lambda s, entity: run.pseudonym(rel + "|" + s.astype(str), entity)  # noqa: E731
        f = fields.fields.loc[sources["source_guid"]]
        source_id = dict(zip(sources["source_guid"], ids(sources["source_guid"], "voice_source")))
        seg_id = dict(zip(sel["selection_guid"], ids(sel["selection_guid"], "voice_segment")))
        code_id = dict(zip(codes["code_id"], ids(codes["code_id"], "voice_code")))
        theme = dict(zip(codes["code_id"], codes["theme_id"]))
        # segments: redacted text where consent
        consent = f["consent"].to_dict()
        publishable = self._publishable(sel, f, codes)
        texts, n_chars = [], []
        for s in sel.itertuples():
            red = self._redactor(names, f.at[s.source_guid, "province_code"])
            n_chars.append(len(s.segment_text) if isinstance(s.segment_text, str) else pd.NA)
            if consent[s.source_guid]:
                text, counts = red.redact(s.segment_text)
                for rule, k in counts.items():
                    run.redactions.append({"source_id": source_id[s.source_guid], "rule": rule, "matches": k})
            else:
                text = None
            texts.append(text)
        segments = pd.DataFrame({
            "segment_id": sel["selection_guid"].map(seg_id).astype("string"),
            "source_id": sel["source_guid"].map(source_id).astype("string"),
            "start": pd.array(sel["start"], dtype="Int64"), "end": pd.array(sel["end"], dtype="Int64"),
            "n_chars": pd.array(n_chars, dtype="Int64"), "text": pd.array(texts, dtype="string"),
            "publishable": pd.array(publishable, dtype="boolean").fillna(False).astype(bool),
            "whole_source": sel["selection_guid"].str.startswith(WHOLE_SOURCE).to_numpy()})
        run.parts["segments"].append(segments)
        codings = self.codings
        run.parts["codings"].append(pd.DataFrame({
            "coding_id": ids(codings["coding_guid"], "voice_coding"),
            "segment_id": codings["selection_guid"].map(seg_id).astype("string"),
            "source_id": codings["selection_guid"].map(dict(zip(sel["selection_guid"], sel["source_guid"])))
                                                   .map(source_id).astype("string"),
            "code_id": codings["code_guid"].map(code_id).astype("string"),
            "coder_id": run.pseudonym(rel + "|" + codings["creating_user"].fillna("(unknown coder)").astype(str),
                                      "coder"),
            "theme_id": codings["code_guid"].map(theme).astype("string")}))
        self._code_table(codes, code_id, names)
        self._source_table(sources, f, source_id, segments)
        self._attributes(fields, source_id, names)
        self._cases(source_id, ids)

    def _redactor(self, names: tuple[set[str], set[str]], province: Any) -> Redactor:
        key = None if pd.isna(province) else str(province)
        cache = self.__dict__.setdefault("_redactors", {})
        if key not in cache:
            cache[key] = Redactor(participants=sorted(names[0] | names[1]), provinces=[key] if key else [])
        return cache[key]

    def _publishable(self, sel: pd.DataFrame, f: pd.DataFrame, codes: pd.DataFrame) -> list[bool]:
        """Consent and (segment flag, else source flag, or coded with the publishable code)."""
        from .. import parsing

        vals = self.p.values[self.p.values["entity"] == "selection"]
        names = dict(zip(self.p.variables["variable_guid"], self.p.variables["name"]))
        own = vals[vals["variable_guid"].map(names).map(self.run.rules.field_of) == "publishable"]
        seg_flag = dict(zip(own["entity_guid"], parsing.parse_bool(own["value"]).values))
        marked: set[str] = set()
        if self.run.rules.publishable_code:
            from .codebook import match_key
            target = match_key(self.run.rules.publishable_code)
            pub_codes = set(codes.loc[codes["name"].map(match_key) == target, "code_id"])
            marked = set(self.codings.loc[self.codings["code_guid"].isin(pub_codes), "selection_guid"])
        out = []
        for guid, src in zip(sel["selection_guid"], sel["source_guid"]):
            flag = seg_flag.get(guid)
            flag = bool(f.at[src, "publishable"]) if flag is None or pd.isna(flag) else bool(flag)
            out.append(bool(f.at[src, "consent"]) and (flag or guid in marked))
        return out

    def _code_table(self, codes: pd.DataFrame, code_id: dict, names) -> None:
        red = self._redactor(names, None)
        self.run.parts["codes"].append(pd.DataFrame({
            "code_id": codes["code_id"].map(code_id).astype("string"),
            "parent_id": codes["parent_id"].map(code_id).astype("string"), "file": self.rel,
            "name": pd.array([red.redact(n)[0] for n in codes["name"]], dtype="string"),
            "path": pd.array([red.redact(n)[0] for n in codes["path"]], dtype="string"),
            "is_codable": codes["is_codable"].astype(bool),
            "theme_id": codes["theme_id"].astype("string"), "theme_rule": codes["theme_rule"].astype("string")}))

    def _source_table(self, sources: pd.DataFrame, f: pd.DataFrame, source_id: dict, segments: pd.DataFrame) -> None:
        n_seg = segments.groupby("source_id").size()
        sid = sources["source_guid"].map(source_id)
        community = f["community"].reindex(sources["source_guid"])
        self.run.parts["sources"].append(pd.DataFrame({
            "source_id": sid.astype("string").to_numpy(), "file": self.rel,
            "source_kind": sources["kind"].astype("string").to_numpy(),
            "source_type": f["source_type"].to_numpy(), "province_code": f["province_code"].to_numpy(),
            "regency_code": f["regency_code"].to_numpy(),
            "community_id": self.run.pseudonym(community.reset_index(drop=True), "voice_community").to_numpy(),
            "role": f["role"].to_numpy(), "sex": f["sex"].to_numpy(),
            "collected_on": f["collected_on"].to_numpy(), "consent": f["consent"].to_numpy(dtype=bool),
            "publishable": (f["publishable"] & f["consent"]).to_numpy(dtype=bool),
            "n_segments": pd.array(sid.map(n_seg).fillna(0).to_numpy(), dtype="Int64"),
            "n_chars": pd.array(sources["text"].map(lambda t: len(t) if isinstance(t, str) else None), dtype="Int64"),
        }).astype({"source_type": "string", "province_code": "string", "regency_code": "string",
                   "community_id": "string", "role": "string", "sex": "string"}))

    def _attributes(self, fields, source_id: dict, names) -> None:
        other = fields.other[fields.other["source_guid"].isin(source_id)]
        red = self._redactor(names, None)
        self.run.parts["attributes"].append(pd.DataFrame({
            "source_id": other["source_guid"].map(source_id).astype("string"),
            "variable": pd.array([red.redact(v)[0] for v in other["variable"]], dtype="string"),
            "value": pd.array([red.redact(None if pd.isna(v) else str(v))[0] for v in other["value"]], dtype="string"),
            "origin": other["origin"].astype("string")}))

    def _cases(self, source_id: dict, ids) -> None:
        links = self.p.case_members[(self.p.case_members["member_kind"] == "source")
                                    & self.p.case_members["member_guid"].isin(source_id)]
        self.run.parts["cases"].append(pd.DataFrame({
            "case_id": ids(links["case_guid"], "voice_case").astype("string"),
            "source_id": links["member_guid"].map(source_id).astype("string")}))


def _counts(p: QualProject) -> str:
    """What a file held, in counts only (project and source names may name people)."""
    return (f"{len(p.sources)} text sources, {len(p.codes)} codes, {len(p.selections)} selections, "
            f"{len(p.codings)} codings, {len(p.cases)} cases, {len(p.skipped)} items not imported")


def _loc(location: Any) -> str:
    return str(location).split(": ", 1)[-1]


# =========================================================================== outputs
def _manifest(raw_dir: Path, files: list[Path], tables: dict, fates: pd.DataFrame, redactions: pd.DataFrame,
              run: _Run, synthetic: bool) -> dict[str, Any]:
    import hashlib
    import json

    inputs = [{"file": f.relative_to(raw_dir).as_posix(), "sha256": sha256(f), "bytes": f.stat().st_size}
              for f in files]
    data_version = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]
    by = fates.groupby(["item", "fate"]).size()
    count = lambda item, fate: int(by.get((item, fate), 0))  # noqa: E731
    seg, src = tables["segments"], tables["sources"]
    return {
        "tool": "kkbm-analysis voices", "package_version": package_version(), "data_version": data_version,
        "synthetic": synthetic, "pseudonym_key_id": run.key.key_id,
        "pseudonym_note": "demo key: synthetic data only" if run.key.is_demo else "keyed HMAC-SHA256 pseudonyms",
        "mapping_file": str(run.rules.source) if run.rules.source else None,
        "codebook": {"name": run.book.name, "version": run.book.version, "files": [Path(p).name for p in run.book.files]},
        "inputs": inputs,
        "counts": {"files": len(files), "sources_accepted": count("source", "accepted"),
                   "sources_quarantined": count("source", "quarantined"),
                   "sources_skipped": int(by[by.index.get_level_values(1) == "skipped"]
                                          .loc[lambda s: s.index.get_level_values(0).str.contains("source")].sum()),
                   "segments_accepted": count("segment", "accepted"),
                   "segments_quarantined": count("segment", "quarantined"),
                   "segments_skipped": count("segment", "skipped"), "codings": len(tables["codings"]),
                   "sources_without_consent": int((~src["consent"].astype(bool)).sum()) if len(src) else 0,
                   "segments_publishable": int(seg["publishable"].sum()) if len(seg) else 0},
        "redactions": {r: int(redactions.loc[redactions["rule"] == r, "matches"].sum()) for r in RULES},
        "tables": {t: {"rows": len(df), "columns": list(df.columns)} for t, df in sorted(tables.items())},
    }


def _write(result: VoicesIngest, out_dir: Path) -> None:
    from .notes import ingest_notes

    out_dir = out_dir.resolve()
    staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    meta = {"synthetic": str(result.manifest["synthetic"]).lower(), "data_version": result.manifest["data_version"],
            "codebook_version": result.manifest["codebook"]["version"]}
    try:
        for name, df in result.tables.items():
            write_parquet(df, staging / f"{name}.parquet", {**meta, "table": name})
        write_csv(result.quarantine, staging / "quarantine.csv")
        write_csv(result.findings, staging / "findings.csv")
        write_csv(result.fates, staging / "fates.csv")
        write_csv(result.redactions, staging / "redactions.csv")
        write_json(result.manifest, staging / "manifest.json")
        write_text(ingest_notes(result), staging / "notes.md")
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        if out_dir.exists():
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

