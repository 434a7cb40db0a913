"""A SYNTHETIC corpus of coded interviews, focus groups and documents, with known prevalence.

The corpus is generated from the templates in ``resources/voices_templates.yaml`` for the
provinces of the synthetic programme data (:func:`kkbm_analysis.synth.program_data`), so
that the voices are correlated with the numbers by construction:

* every province gets ``sources_per_province`` sources: interviews (member, penggerak, CO,
  village official, agency officer), focus-group discussions (members) and documents
  (meeting notes by the CO);
* a source raises a barrier theme with probability ``0.15 + 0.6 x s``, where ``s`` is the
  share of the theme's barrier indicators
  (:meth:`~kkbm_analysis.qualitative.Codebook.barrier_links`) on which the province is
  *worse* than national (:func:`kkbm_analysis.barriers.barrier_profiles`); a
  supporting factor with ``0.10 + 0.6 x`` the share on which it is *better*; themes without
  indicators with 0.3. The probabilities and the realised counts are in ``ground_truth.json``;
* each raised theme gives one passage, coded with the study's own code for it (some need
  the mapping file ``kkbm-voices.yaml``, some are recognised by name); a background passage
  (mapped to no theme) opens every source;
* identifiers are planted on purpose: the informant's name (also a case variable), names
  after an honorific that are in no gazetteer, names from the names gazetteer, the
  community's real village and district names, phone numbers, NIKs and e-mail addresses.
  Each is listed in ``ground_truth.json`` (``planted``) so that tests can check that none
  reaches an output. A bare village or district name is planted only where the gazetteer
  rule of :mod:`kkbm_analysis.qualitative.redact` applies (not a generic place word, not a
  province or regency name); otherwise it is written after ``Desa`` or ``Kecamatan``;
* about 10 % of sources have no consent, 60 % of the rest are publishable; a quarter of the
  sources are coded by a second coder who omits each coding with probability 0.15 (the
  agreement data are in the ground truth);
* the first provinces (by code) are written as a REFI-QDA project
  ``SYNTHETIC_voices_qualcoder.qdpx``, the others as a MAXQDA-style coded-segments workbook
  ``SYNTHETIC_voices_segments.xlsx`` (segments sheet plus a document-variables sheet), so
  both readers are exercised; planted defects (a selection outside its text, a coding of an
  unknown code, a row without a code, a source in an unknown province) are listed in
  ``expected_quarantine.csv``.

Every file says SYNTHETIC. Same seed, same files (byte-identical).
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..config import DEFAULT_SEED, RESOURCES_DIR
from ..io import save_workbook, sha256, write_csv, write_json, write_text
from ..qualitative.codebook import load_codebook
from ..qualitative.model import QualProject
from ..qualitative.redact import _places
from ..qualitative.refi import write_qdpx

__all__ = ["generate_voices_demo", "VoicesDemo", "NOTICE"]

#: Starts like the tabular demo's generator, so its checksummed marker proves the demo the same way.
GENERATOR = "kkbm_analysis.synth.voices"
NOTICE = "SYNTHETIC DATA: invented interviews for demonstration and testing; they describe no real person."
QDPX_NAME = "SYNTHETIC_voices_qualcoder.qdpx"
XLSX_NAME = "SYNTHETIC_voices_segments.xlsx"
ROLES_INTERVIEW = ("member", "member", "member", "penggerak", "co", "village_official", "agency_officer")
ROLE_WORDS = {"member": "anggota (PMI purna)", "penggerak": "penggerak", "co": "community organizer (CO)",
              "village_official": "perangkat desa", "agency_officer": "petugas UPT BP2MI"}


@dataclass(frozen=True)
class VoicesDemo:
    """What :func:`generate_voices_demo` wrote."""

    folder: Path
    files: list[Path]
    truth: dict[str, Any]


def _templates() -> dict[str, Any]:
    return yaml.safe_load((RESOURCES_DIR / "voices_templates.yaml").read_text(encoding="utf-8"))


def _names() -> dict[str, list[str]]:
    return yaml.safe_load((RESOURCES_DIR / "synth_names.yaml").read_text(encoding="utf-8"))


def theme_probabilities(profiles: pd.DataFrame) -> pd.DataFrame:
    """Probability that a source of a province raises each theme (see the module docstring)."""
    book = load_codebook()
    links = book.barrier_links()
    rows = []
    for prov, grp in profiles.groupby("region_code"):
        verdict = grp.set_index("barrier_id")["verdict"]
        for t in book.themes.itertuples():
            if t.theme_id in ("resilience", "supporting_factors"):
                continue  # parents: raised through their sub-themes
            ids = links.loc[links["theme_id"] == t.theme_id, "barrier_id"]
            known = verdict.reindex(ids)
            known = known[known.isin(["worse", "better", "similar"])]
            if t.polarity == "barrier" and len(known):
                p = 0.15 + 0.6 * float((known == "worse").mean())
            elif t.polarity == "support" and len(known):
                p = 0.10 + 0.6 * float((known == "better").mean())
            else:
                p = 0.3
            rows.append({"province_code": prov, "theme_id": t.theme_id, "probability": round(p, 4)})
    return pd.DataFrame(rows)


def generate_voices_demo(out_dir: str | Path, *, seed: int = DEFAULT_SEED, sources_per_province: int = 20,
                         data: Any = None, qdpx_provinces: int = 4) -> VoicesDemo:
    """Write the synthetic corpus (see the module docstring) into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Created if needed; files of the same name are replaced.
    seed : int
        Seed of the programme data and of every draw here.
    sources_per_province : int
    data : ProgramData, optional
        The programme data (default ``kkbm_analysis.synth.program_data(seed=seed)``).
    qdpx_provinces : int
        How many provinces (lowest codes first) go into the ``.qdpx``; the rest into the workbook.
    """
    from ..barriers import barrier_profiles
    from .processed import program_data

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = data if data is not None else program_data(seed=seed)
    profiles = barrier_profiles(data, level="province")
    probs = theme_probabilities(profiles)
    gen = _Generator(np.random.default_rng([seed, 2024]), data, probs, sources_per_province)
    corpus = gen.corpus()
    provinces = sorted(corpus["province_code"].unique())
    in_qdpx = set(provinces[:qdpx_provinces])
    files = [_write_qdpx(gen, corpus[corpus["province_code"].isin(in_qdpx)], out / QDPX_NAME),
             _write_xlsx(gen, corpus[~corpus["province_code"].isin(in_qdpx)], out / XLSX_NAME)]
    truth = gen.truth(corpus, probs, seed, in_qdpx)
    write_json(truth, out / "ground_truth.json")
    write_csv(pd.DataFrame(gen.defects, columns=["file", "rule", "count"]), out / "expected_quarantine.csv")
    write_text(_mapping_yaml(gen.templates), out / "kkbm-voices.yaml")
    write_json({"generator": GENERATOR, "notice": NOTICE, "seed": seed,  # the checksums prove the demo
                "sha256": {f.name: sha256(f) for f in files}}, out / "SYNTHETIC.json")
    return VoicesDemo(out, files + [out / n for n in ("ground_truth.json", "expected_quarantine.csv",
                                                       "kkbm-voices.yaml", "SYNTHETIC.json")], truth)


def _mapping_yaml(templates: dict) -> str:
    lines = ["# SYNTHETIC demo: the study's codes that the barrier-theme codebook does not recognise by name.",
             "themes:"]
    for c in templates["codes"]:
        if c["mapped"]:
            lines.append(f'  "{c["path"]}": {c["theme"]}')
    return "\n".join(lines) + "\n"


class _Generator:
    """Draws sources, passages, codings and planted identifiers."""

    def __init__(self, rng: np.random.Generator, data: Any, probs: pd.DataFrame, per_province: int) -> None:
        self.rng, self.data, self.probs, self.per_province = rng, data, probs, per_province
        self.templates, self.names = _templates(), _names()
        self.code_of = {c["theme"]: c["path"] for c in self.templates["codes"]}
        self.planted: list[dict] = []
        self.omissions = 0
        self.defects: list[tuple[str, str, int]] = []
        from ..regions import region_table
        self.region_names = region_table().set_index("code")["name"]

    def guid(self) -> str:
        return str(uuid.UUID(int=int(self.rng.integers(0, 2**63)) << 64 | int(self.rng.integers(0, 2**63)), version=4))

    def pick(self, items: list) -> Any:
        return items[int(self.rng.integers(len(items)))]

    def plant(self, kind: str, value: str) -> str:
        self.planted.append({"kind": kind, "value": value})
        return value

    # ------------------------------------------------------------------ sources
    def corpus(self) -> pd.DataFrame:
        rows = []
        com = self.data.communities.sort_values("community_id")
        for prov, coms in com.groupby("province_code"):
            p = self.probs[self.probs["province_code"] == prov].set_index("theme_id")["probability"]
            for i in range(self.per_province):
                c = coms.iloc[int(self.rng.integers(len(coms)))]
                kind = "interview" if i % 7 < 5 else "fgd" if i % 7 < 6 else "document"
                role = self.pick(list(ROLES_INTERVIEW)) if kind == "interview" else "member" if kind == "fgd" else "co"
                themes = [t for t in p.index if self.rng.random() < p[t]]
                rows.append(self._source(prov, i, c, kind, role, themes))
        return pd.DataFrame(rows)

    def _source(self, prov: str, i: int, c: pd.Series, kind: str, role: str, themes: list[str]) -> dict:
        female = bool(self.rng.random() < 0.6)
        informant = f"{self.pick(self.names['female_first' if female else 'male_first'])} " \
                    f"{self.pick(self.names['female_second' if female else 'male_second'])}"
        date = pd.Timestamp("2019-03-01") + pd.Timedelta(days=int(self.rng.integers(0, 540)))
        slots = {"informant": informant, "desa": self.region_names.get(c["village_code"], "Lontar"),
                 "kecamatan": self.region_names.get(c["district_code"], "Tirtayasa")}
        header = self.templates["headers"][kind].format(date=f"{date:%d/%m/%Y}", role_label=ROLE_WORDS[role],
                                                        n=int(self.rng.integers(5, 11)))
        parts = [(header + "\n\n", None)]
        for theme in ["background", *themes]:
            text = self._fill(self.pick(self.templates["passages"][theme]), slots, prov)
            parts.append(("P: " if kind != "document" else "", None))
            parts.append((text, "none" if theme == "background" else theme))
            parts.append(("\n\n", None))
        consent = bool(self.rng.random() >= 0.10)
        return {"source_guid": self.guid(), "name": f"{kind.upper()} {informant} {prov}-{i + 1:02d}",
                "province_code": prov, "regency_code": c["regency_code"], "community": c["community_name"],
                "kind": kind, "role": role, "sex": "female" if female else "male", "date": date,
                "consent": consent, "publishable": consent and bool(self.rng.random() < 0.6),
                "second_coder": bool(self.rng.random() < 0.25), "informant": self.plant("informant", informant),
                "parts": parts, "themes": themes}

    def _fill(self, template: str, slots: dict, prov: str) -> str:
        """Fill a passage's slots, planting (and recording) only what the passage uses."""
        sex = "male" if self.rng.random() < 0.5 else "female"
        makers = {
            "informant": lambda: self.plant("participant", slots["informant"]),
            "desa": lambda: self._place(slots["desa"], prov, template, "desa"),
            "kecamatan": lambda: self._place(slots["kecamatan"], prov, template, "kecamatan"),
            "honorific_name": lambda: ("Pak " if sex == "male" else "Bu ") + self.plant(
                "honorific_name", self.pick(self.templates["honorific_names"][sex])),
            "gazetteer_name": lambda: self.plant("gazetteer_name",
                                                 self.pick(self.names["male_first"] + self.names["female_first"])),
            "hp": lambda: self.plant("phone", f"08{self.rng.integers(11, 99)}-{self.rng.integers(1000, 9999)}-"
                                              f"{self.rng.integers(1000, 9999)}"),
            "nik": lambda: self.plant("nik", f"{prov}{self.rng.integers(10, 99)}{self.rng.integers(10, 99)}"
                                             f"{self.rng.integers(10**9, 10**10 - 1)}"),
            "email": lambda: self.plant("email", f"komunitas{self.rng.integers(100, 999)}@contoh.id"),
        }
        return template.format(**{k: make() for k, make in makers.items() if "{" + k + "}" in template})

    def _place(self, name: str, prov: str, template: str, slot: str) -> str:
        """The village or district name, bare where the gazetteer rule applies, else after its marker."""
        from ..parsing import normalise_text

        places, generic = _places((prov,))
        key = normalise_text(name)
        self.plant("village" if slot == "desa" else "district", name)
        marker = "Desa" if slot == "desa" else "Kecamatan"
        if template.split("{" + slot + "}")[0].rstrip().endswith(marker):
            return name  # the template writes the marker itself
        bare_ok = key in places and (" " in key or key not in generic)
        return name if bare_ok else f"{marker} {name}"

    # ------------------------------------------------------------------ truth
    def truth(self, corpus: pd.DataFrame, probs: pd.DataFrame, seed: int, in_qdpx: set) -> dict:
        raised = corpus.explode("themes").dropna(subset=["themes"])
        counts = raised.groupby(["province_code", "themes"]).size()
        totals = corpus.groupby("province_code").size()
        planted = pd.DataFrame(self.planted).drop_duplicates()
        return {"notice": NOTICE, "seed": seed, "generator": GENERATOR,
                "rule": "p(theme) = 0.15 + 0.6 x share of its indicators worse than national (barriers); 0.10 + 0.6 x "
                        "share better (supporting factors); 0.3 without indicators",
                "qdpx_provinces": sorted(in_qdpx),
                "sources_per_province": {k: int(v) for k, v in totals.items()},
                "probabilities": probs.to_dict("records"),
                "raised": [{"province_code": p, "theme_id": t, "sources": int(n)} for (p, t), n in counts.items()],
                "consent_false": int((~corpus["consent"]).sum()), "publishable": int(corpus["publishable"].sum()),
                "second_coder_sources": int(corpus["second_coder"].sum()),
                "omissions": self.omissions,
                "planted": planted.sort_values(["kind", "value"]).to_dict("records")}

    def second_coding(self) -> bool:
        """Does the second coder apply this code (0.85)?"""
        keep = bool(self.rng.random() >= 0.15)
        self.omissions += not keep
        return keep


# =========================================================================== writers
_USERS = {"A": "b7e3f0a2-1c44-4f5e-9a7d-0c5e1f2a3b4c", "B": "c8f4a1b3-2d55-4a6f-8b8e-1d6f2a3b4c5d"}


def _codes(gen: _Generator) -> tuple[list[dict], dict[str, str]]:
    rows, guid_of = [], {}
    for c in gen.templates["codes"]:
        parts = c["path"].split("/")
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            if path not in guid_of:
                guid_of[path] = str(uuid.uuid5(uuid.NAMESPACE_URL, "kkbm-voices-demo/" + path))
                rows.append({"code_guid": guid_of[path], "name": parts[depth - 1], "is_codable": depth == len(parts),
                             "parent_guid": guid_of["/".join(parts[:depth - 1])] if depth > 1 else None})
    return rows, guid_of


def _segments(gen: _Generator, src: pd.Series) -> tuple[str, list[tuple[int, int, str]]]:
    text, pos, segs = "", 0, []
    for piece, theme in src["parts"]:
        if theme is not None:
            segs.append((pos, pos + len(piece), theme))
        text += piece
        pos += len(piece)
    return text, segs


def _write_qdpx(gen: _Generator, corpus: pd.DataFrame, path: Path) -> Path:
    codes, guid_of = _codes(gen)
    variables = {name: str(uuid.uuid5(uuid.NAMESPACE_URL, "kkbm-voices-demo/var/" + name)) for name in (
        "Provinsi", "Kabupaten", "Komunitas", "Peran", "Jenis kelamin", "Tanggal", "Jenis sumber", "Persetujuan",
        "Boleh dikutip", "Nama informan")}
    recs: dict[str, list] = {k: [] for k in ("sources", "selections", "codings", "values", "cases", "case_members")}
    for _, s in corpus.iterrows():
        text, segs = _segments(gen, s)
        recs["sources"].append({"source_guid": s["source_guid"], "name": s["name"], "kind": "text", "text": text})
        for name, value in (("Provinsi", gen.region_names.get(s["province_code"])), ("Kabupaten", s["regency_code"]),
                            ("Komunitas", s["community"]), ("Jenis sumber", s["kind"]),
                            ("Tanggal", f"{s['date']:%d/%m/%Y}"), ("Persetujuan", "Ya" if s["consent"] else "Tidak"),
                            ("Boleh dikutip", "Ya" if s["publishable"] else "Tidak")):
            recs["values"].append({"entity": "source", "entity_guid": s["source_guid"],
                                   "variable_guid": variables[name], "value": value})
        case = gen.guid()
        recs["cases"].append({"case_guid": case, "name": s["informant"]})
        recs["case_members"].append({"case_guid": case, "member_guid": s["source_guid"], "member_kind": "source"})
        for name, value in (("Peran", s["role"]), ("Jenis kelamin", s["sex"]), ("Nama informan", s["informant"])):
            recs["values"].append({"entity": "case", "entity_guid": case, "variable_guid": variables[name],
                                   "value": value})
        for start, end, theme in segs:
            sel = gen.guid()
            recs["selections"].append({"selection_guid": sel, "source_guid": s["source_guid"], "start": start,
                                       "end": end, "creating_user": _USERS["A"]})
            code = guid_of[gen.code_of[theme]]
            recs["codings"].append({"coding_guid": gen.guid(), "selection_guid": sel, "code_guid": code,
                                    "creating_user": _USERS["A"]})
            if s["second_coder"] and gen.second_coding():
                recs["codings"].append({"coding_guid": gen.guid(), "selection_guid": sel, "code_guid": code,
                                        "creating_user": _USERS["B"]})
    # planted defects: a selection beyond its text, a coding of a code that does not exist
    first = recs["sources"][0]
    recs["selections"].append({"selection_guid": gen.guid(), "source_guid": first["source_guid"], "start": 5,
                               "end": len(first["text"]) + 40, "creating_user": _USERS["A"]})
    recs["codings"].append({"coding_guid": gen.guid(), "selection_guid": recs["selections"][-1]["selection_guid"],
                            "code_guid": guid_of["Latar belakang"], "creating_user": _USERS["A"]})
    recs["codings"].append({"coding_guid": gen.guid(), "selection_guid": recs["selections"][0]["selection_guid"],
                            "code_guid": str(uuid.uuid5(uuid.NAMESPACE_URL, "deleted-code")), "creating_user": _USERS["A"]})
    gen.defects += [(path.name, "invalid_position", 1), (path.name, "unknown_code", 1)]
    project = QualProject.from_records(
        name="SYNTHETIC KKBM voices (QualCoder export)", origin="kkbm-analysis synthetic demo",
        description=NOTICE, users=[{"user_guid": g, "name": f"Pengode {k}"} for k, g in _USERS.items()],
        codes=codes, variables=[{"variable_guid": g, "name": n, "type": "Text"} for n, g in variables.items()],
        **recs)
    return write_qdpx(project, path, check=False)


def _write_xlsx(gen: _Generator, corpus: pd.DataFrame, path: Path) -> Path:
    import openpyxl

    rows, docs = [], []
    for _, s in corpus.iterrows():
        text, segs = _segments(gen, s)
        for start, end, theme in segs:
            code = gen.code_of[theme].replace("/", "\\")
            rows.append([s["name"], code, start, end, text[start:end], "Pengode A"])
            if s["second_coder"] and gen.second_coding():
                rows.append([s["name"], code, start, end, text[start:end], "Pengode B"])
        docs.append([s["name"], gen.region_names.get(s["province_code"]), s["regency_code"], s["community"],
                     ROLE_WORDS[s["role"]], "Perempuan" if s["sex"] == "female" else "Laki-laki",
                     f"{s['date']:%d/%m/%Y}", {"interview": "Wawancara", "fgd": "FGD", "document": "Dokumen"}[s["kind"]],
                     "Ya" if s["consent"] else "Tidak", "Ya" if s["publishable"] else "Tidak", s["informant"]])
    rows.append([corpus.iloc[0]["name"], None, 0, 10, "tanpa kode", "Pengode A"])  # planted: no code
    docs.append(["WAWANCARA tambahan", "Atlantis", None, None, "anggota", "Perempuan", "01/02/2020", "Wawancara",
                 "Ya", "Tidak", "Tukinah Sarmi"])  # planted: unknown province
    rows.append(["WAWANCARA tambahan", "Hambatan\\Permodalan", 0, 12, "Modal sulit.", "Pengode A"])
    gen.defects += [(path.name, "missing_code", 1), (path.name, "unknown_region", 1)]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Coded segments"
    ws.append(["SYNTHETIC DATA — " + NOTICE])
    ws.append(["Document name", "Code", "Begin", "End", "Segment", "Created by"])
    for r in rows:
        ws.append(r)
    dv = wb.create_sheet("Document variables")
    dv.append(["Document name", "Provinsi", "Kabupaten", "Komunitas", "Peran", "Jenis kelamin", "Tanggal",
               "Jenis sumber", "Persetujuan", "Boleh dikutip", "Nama informan"])
    for d in docs:
        dv.append(d)
    save_workbook(wb, path)
    return path


def load_truth(folder: str | Path) -> dict:
    """The ``ground_truth.json`` of a generated corpus."""
    return json.loads((Path(folder) / "ground_truth.json").read_text(encoding="utf-8"))
