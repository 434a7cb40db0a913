"""REFI-QDA project exchange files (``.qdpx``): read and write.

A ``.qdpx`` is a zip holding ``project.qde`` (XML, namespace ``urn:QDA-XML:project:1.0``,
schema ``Project.xsd`` of 18 March 2019) and a flat ``sources/`` folder whose files are
named by GUID (REFI-QDA 1.5, sections 8-10). NVivo, ATLAS.ti, MAXQDA and QualCoder write
it. What is read (everything the evaluation uses, and written back the same way):

* ``Users/User`` (coders), ``CodeBook/Codes/Code`` with its hierarchy, ``isCodable``,
  ``color`` and ``Description``;
* ``Variables/Variable`` (``typeOfVariable``) and ``VariableValue`` on sources and cases;
* ``Cases/Case`` with ``SourceRef`` and ``SelectionRef`` members;
* ``Sources/TextSource`` with its text from ``PlainTextContent`` or ``plainTextPath``
  (``internal://<file>`` in ``sources/``, matched without regard to case, as vendors
  differ), ``PlainTextSelection`` (``startPosition``/``endPosition``: Unicode code points
  from 0, end exclusive, so ``text[start:end]`` is the segment, as QualCoder reads them)
  with ``Coding/CodeRef``, and ``Coding`` directly on a source (a whole-source coding);
* ``PDFSource``: the text selections of its plain-text ``Representation``.

Not imported, and recorded in :attr:`QualProject.skipped` with the reason: picture, audio
and video sources and their selections, PDF area selections, notes, links, sets and
graphs. ATLAS.ti writes code groups as ``"Group::Code"`` names rather than nesting; the
theme mapping treats ``::`` as a path separator.

Untrusted input is parsed with :mod:`defusedxml` (no DTDs, entities or external
references), and the zip is checked before anything is decompressed (size limits, no
encrypted entries). A broken file raises :class:`QdpxError` naming the file and the
element, never a traceback for the user.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, Iterator
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .model import QualProject, VARIABLE_TYPES, WHOLE_SOURCE

__all__ = ["QdpxError", "read_qdpx", "write_qdpx", "NAMESPACE"]

NAMESPACE = "urn:QDA-XML:project:1.0"
_NS = f"{{{NAMESPACE}}}"
#: Limits for untrusted files (bytes, uncompressed).
MAX_PROJECT_XML = 256 * 2**20
MAX_TOTAL = 2 * 2**30
MAX_ENTRIES = 100_000
_VALUE_TAGS = {f"{t}Value": t for t in VARIABLE_TYPES}
_MEDIA = {"PictureSource": "picture", "AudioSource": "audio", "VideoSource": "video"}


class QdpxError(ValueError):
    """A ``.qdpx`` file cannot be read (the message names the file and the element)."""


# =========================================================================== reading
def read_qdpx(path: str | Path) -> QualProject:
    """Read a REFI-QDA project file (``.qdpx``, or a bare ``project.qde``).

    Parameters
    ----------
    path : path
        The file; never modified.

    Returns
    -------
    QualProject
        Everything listed in the module docstring; ``location`` columns say
        ``"<file>: TextSource 3 (<guid>), PlainTextSelection 2"`` and similar (never a
        source's name, which often names a person).

    Raises
    ------
    QdpxError
        Not a zip, no ``project.qde``, unsafe or malformed XML, wrong root element, a
        missing source text file, or a required attribute missing or not a number.
    """
    path = Path(path)
    if path.suffix.lower() == ".qde":
        return _Reader(path, path.read_bytes(), {}).read()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise QdpxError(f"{path.name}: not a readable .qdpx (zip) file ({exc})") from None
    with archive:
        infos = _check_archive(path, archive)
        qde = next((i for i in infos if i.filename.lower() in ("project.qde", "./project.qde")), None)
        if qde is None:
            raise QdpxError(f"{path.name}: no project.qde inside; a .qdpx must hold project.qde and sources/")
        texts = {Path(i.filename).name.lower(): i for i in infos
                 if not i.is_dir() and i.filename.lower() != qde.filename.lower()}
        return _Reader(path, archive.read(qde), {k: (archive, v) for k, v in texts.items()}).read()


def _check_archive(path: Path, archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise QdpxError(f"{path.name}: {len(infos):,} entries in the zip (limit {MAX_ENTRIES:,})")
    if sum(i.file_size for i in infos) > MAX_TOTAL:
        raise QdpxError(f"{path.name}: the zip would unpack to more than {MAX_TOTAL // 2**30} GiB")
    for i in infos:
        if i.flag_bits & 0x1:
            raise QdpxError(f"{path.name}: entry {i.filename!r} is encrypted")
        if i.filename.lower().endswith("project.qde") and i.file_size > MAX_PROJECT_XML:
            raise QdpxError(f"{path.name}: project.qde is larger than {MAX_PROJECT_XML // 2**20} MiB")
    return infos


class _Reader:
    """One pass over project.qde, collecting rows per table."""

    def __init__(self, path: Path, xml: bytes, files: dict[str, tuple[zipfile.ZipFile, zipfile.ZipInfo]]) -> None:
        self.path, self.files = path, files
        self.name = path.name
        try:
            self.root = SafeET.fromstring(xml)
        except DefusedXmlException as exc:
            raise QdpxError(f"{self.name}: project.qde uses forbidden XML features ({type(exc).__name__}: "
                            "DTDs, entities or external references); refused for safety") from None
        except ET.ParseError as exc:
            raise QdpxError(f"{self.name}: project.qde is not well-formed XML ({exc})") from None
        if self.root.tag != _NS + "Project":
            raise QdpxError(f"{self.name}: root element is {self.root.tag!r}, expected Project in namespace "
                            f"{NAMESPACE}")
        self.rows: dict[str, list[dict]] = {k: [] for k in (
            "users", "codes", "sources", "selections", "codings", "variables", "values", "cases",
            "case_members", "skipped")}

    def read(self) -> QualProject:
        root = self.root
        for user in _children(root, "Users", "User"):
            self.rows["users"].append({"user_guid": self._req(user, "guid"), "name": user.get("name")})
        codebook = root.find(_NS + "CodeBook")
        if codebook is not None:
            for code in _children(codebook, "Codes", "Code"):
                self._code(code, None)
        for var in _children(root, "Variables", "Variable"):
            vtype = var.get("typeOfVariable", "Text")
            if vtype not in VARIABLE_TYPES:
                raise QdpxError(f"{self.name}: Variable {var.get('name')!r} has typeOfVariable {vtype!r}; "
                                f"allowed: {', '.join(VARIABLE_TYPES)}")
            self.rows["variables"].append({"variable_guid": self._req(var, "guid"), "name": self._req(var, "name"),
                                           "type": vtype, "description": _text(var, "Description")})
        for case in _children(root, "Cases", "Case"):
            self._case(case)
        sources = root.find(_NS + "Sources")
        for i, src in enumerate(list(sources) if sources is not None else [], 1):
            self._source(src, i)
        for kind in ("Notes", "Links", "Sets", "Graphs"):
            element = root.find(_NS + kind)
            if element is not None and len(element):
                self.rows["skipped"].append({"location": f"{self.name}: {kind}", "item": kind.lower(),
                                             "reason": f"{len(element)} {kind.lower()} are not used by the evaluation"})
        return QualProject.from_records(name=root.get("name", ""), origin=root.get("origin", ""),
                                        description=_text(root, "Description"), **self.rows)

    # ------------------------------------------------------------------ elements
    def _req(self, element: Any, attr: str) -> str:
        value = element.get(attr)
        if value is None or not str(value).strip():
            tag = element.tag.replace(_NS, "")
            raise QdpxError(f"{self.name}: {tag} {element.get('name')!r} lacks the required attribute {attr!r}")
        return str(value)

    def _int(self, element: Any, attr: str, where: str) -> int:
        raw = self._req(element, attr)
        try:
            return int(raw)
        except ValueError:
            raise QdpxError(f"{where}: {attr}={raw!r} is not a whole number") from None

    def _code(self, code: Any, parent: str | None) -> None:
        guid = self._req(code, "guid")
        self.rows["codes"].append({
            "code_guid": guid, "parent_guid": parent, "name": self._req(code, "name"),
            "is_codable": code.get("isCodable", "true").strip().lower() in ("true", "1"),
            "color": code.get("color"), "description": _text(code, "Description")})
        for child in code.findall(_NS + "Code"):
            self._code(child, guid)

    def _case(self, case: Any) -> None:
        guid = self._req(case, "guid")
        self.rows["cases"].append({"case_guid": guid, "name": case.get("name"),
                                   "description": _text(case, "Description")})
        self._values(case, "case", guid)
        for ref, kind in (("SourceRef", "source"), ("SelectionRef", "selection")):
            for r in case.findall(_NS + ref):
                self.rows["case_members"].append({"case_guid": guid, "member_guid": self._req(r, "targetGUID"),
                                                  "member_kind": kind})

    def _values(self, element: Any, entity: str, guid: str) -> None:
        for vv in element.findall(_NS + "VariableValue"):
            ref = vv.find(_NS + "VariableRef")
            if ref is None:
                raise QdpxError(f"{self.name}: a VariableValue of {entity} {guid} lacks VariableRef")
            value = next((child.text or "" for child in vv if child.tag.replace(_NS, "") in _VALUE_TAGS), None)
            self.rows["values"].append({"entity": entity, "entity_guid": guid,
                                        "variable_guid": self._req(ref, "targetGUID"), "value": value})

    def _source(self, src: Any, i: int) -> None:
        tag = src.tag.replace(_NS, "")
        where = f"{self.name}: {tag} {i} ({src.get('guid')})"  # never the name: it may name a person
        if tag in _MEDIA:
            n = len(list(src.iter(_NS + "Coding")))
            self.rows["skipped"].append({"location": where, "item": f"{_MEDIA[tag]} source",
                                         "reason": f"not a text source; its {n} coding(s) are not imported"})
            return
        if tag == "PDFSource":
            n_area = len(src.findall(_NS + "PDFSelection"))
            if n_area:
                self.rows["skipped"].append({"location": where, "item": "PDF area selections",
                                             "reason": f"{n_area} area selection(s) of the PDF page are not text"})
            rep = src.find(_NS + "Representation")
            if rep is None:
                self.rows["skipped"].append({"location": where, "item": "PDF source",
                                             "reason": "no plain-text Representation to read selections from"})
                return
            self._text_source(rep, self._req(src, "guid"), src.get("name"), "pdf", where, src)
            return
        if tag != "TextSource":
            raise QdpxError(f"{where}: unknown source element")
        self._text_source(src, self._req(src, "guid"), src.get("name"), "text", where, src)

    def _text_source(self, element: Any, guid: str, name: str | None, kind: str, where: str, outer: Any) -> None:
        text = self._source_text(element, where)
        self.rows["sources"].append({
            "source_guid": guid, "name": name, "kind": kind, "text": text,
            "description": _text(outer, "Description"), "creating_user": outer.get("creatingUser"),
            "created": outer.get("creationDateTime"), "location": where})
        self._values(outer, "source", guid)
        for j, sel in enumerate(element.findall(_NS + "PlainTextSelection"), 1):
            sel_where = f"{where}, PlainTextSelection {j}"
            sguid = self._req(sel, "guid")
            self.rows["selections"].append({
                "selection_guid": sguid, "source_guid": guid, "start": self._int(sel, "startPosition", sel_where),
                "end": self._int(sel, "endPosition", sel_where), "text": None, "name": sel.get("name"),
                "description": _text(sel, "Description"), "creating_user": sel.get("creatingUser"),
                "created": sel.get("creationDateTime"), "location": sel_where})
            self._codings(sel, sguid, sel_where)
        whole = outer.findall(_NS + "Coding")
        if whole:
            wguid = WHOLE_SOURCE + guid
            self.rows["selections"].append({
                "selection_guid": wguid, "source_guid": guid, "start": 0, "end": len(text or ""), "text": None,
                "name": None, "description": None, "creating_user": None, "created": None,
                "location": f"{where}, whole source"})
            self._codings(outer, wguid, f"{where}, whole source")

    def _codings(self, element: Any, selection: str, where: str) -> None:
        for k, coding in enumerate(element.findall(_NS + "Coding"), 1):
            ref = coding.find(_NS + "CodeRef")
            if ref is None:
                raise QdpxError(f"{where}, Coding {k}: lacks CodeRef")
            self.rows["codings"].append({
                "coding_guid": self._req(coding, "guid"), "selection_guid": selection,
                "code_guid": self._req(ref, "targetGUID"), "creating_user": coding.get("creatingUser"),
                "created": coding.get("creationDateTime"), "location": f"{where}, Coding {k}"})

    def _source_text(self, element: Any, where: str) -> str:
        inline = element.find(_NS + "PlainTextContent")
        if inline is not None:
            return inline.text or ""
        ref = element.get("plainTextPath")
        if not ref:
            raise QdpxError(f"{where}: neither PlainTextContent nor plainTextPath is given")
        if not ref.lower().startswith("internal://"):
            raise QdpxError(f"{where}: plainTextPath {ref!r} points outside the .qdpx; only internal:// text "
                            "files can be read")
        key = Path(ref[len("internal://"):].replace("\\", "/")).name.lower()
        if key not in self.files:
            raise QdpxError(f"{where}: its text file {ref[len('internal://'):]!r} is not in the sources/ folder")
        archive, info = self.files[key]
        raw = archive.read(info)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QdpxError(f"{where}: text file {info.filename!r} is not UTF-8 (byte {exc.start}); REFI-QDA "
                            "requires UTF-8") from None
        return text[1:] if text.startswith("\ufeff") else text


def _children(parent: Any, group: str, item: str) -> Iterator[Any]:
    element = parent.find(_NS + group)
    return iter(element.findall(_NS + item)) if element is not None else iter(())


def _text(element: Any, tag: str) -> str | None:
    child = element.find(_NS + tag)
    return None if child is None else (child.text or "")


# =========================================================================== writing
def write_qdpx(project: QualProject, path: str | Path, *, check: bool = True) -> Path:
    """Write a project as a ``.qdpx`` (deterministic bytes: same project, same file).

    Source texts go to ``sources/<guid>.txt`` (UTF-8) referenced as
    ``plainTextPath="internal://<guid>.txt"``; every element is written in the order
    ``Project.xsd`` prescribes, so the file validates against the schema. Sources without a
    full text (read from a spreadsheet) cannot be written. PDF sources are written as text
    sources (their PDF file is not kept); per-segment values of spreadsheets are left out
    (REFI-QDA has no selection variables).

    ``check=False`` writes selections outside their source's text as they are (the
    synthetic demo plants such a defect on purpose).

    Raises
    ------
    ValueError
        A source has no text, or (with ``check``) a selection lies outside its source's text.
    """
    from ..io import atomic_path

    path = Path(path)
    root = _project_element(project, check)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            _add(z, "project.qde", xml)
            for src in project.sources.sort_values("source_guid").itertuples():
                _add(z, f"sources/{src.source_guid}.txt", src.text.encode("utf-8"))
    return path


def _add(z: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    z.writestr(info, data)


def _el(parent: Any, tag: str, attrs: dict[str, Any] | None = None, text: str | None = None) -> Any:
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in (attrs or {}).items() if _present(v)})
    if text is not None:
        element.text = text
    return element


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and value != value)


def _project_element(p: QualProject, check: bool = True) -> Any:
    ET.register_namespace("", NAMESPACE)
    root = ET.Element(_NS + "Project", {k: v for k, v in (("name", p.name or "project"), ("origin", p.origin)) if v})
    if len(p.users):
        users = _el(root, _NS + "Users")
        for u in p.users.itertuples():
            _el(users, _NS + "User", {"guid": u.user_guid, "name": u.name})
    if len(p.codes):
        codes = _el(_el(root, _NS + "CodeBook"), _NS + "Codes")
        _write_codes(codes, p.codes, None)
    if len(p.variables):
        variables = _el(root, _NS + "Variables")
        for v in p.variables.itertuples():
            var = _el(variables, _NS + "Variable", {"guid": v.variable_guid, "name": v.name, "typeOfVariable": v.type})
            _description(var, v.description)
    types = dict(zip(p.variables["variable_guid"], p.variables["type"]))
    if len(p.cases):
        cases = _el(root, _NS + "Cases")
        for c in p.cases.itertuples():
            case = _el(cases, _NS + "Case", {"guid": c.case_guid, "name": c.name})
            _description(case, c.description)
            _write_values(case, p.values, "case", c.case_guid, types)
            members = p.case_members[p.case_members["case_guid"] == c.case_guid]
            for kind, tag in (("source", "SourceRef"), ("selection", "SelectionRef")):
                for m in members.loc[members["member_kind"] == kind, "member_guid"]:
                    _el(case, _NS + tag, {"targetGUID": m})
    if len(p.sources):
        sources = _el(root, _NS + "Sources")
        for s in p.sources.itertuples():
            _write_source(sources, p, s, types, check)
    if p.description:
        _el(root, _NS + "Description", text=p.description)
    return root


def _description(element: Any, text: Any) -> None:
    if _present(text):
        _el(element, _NS + "Description", text=str(text))


def _write_codes(parent: Any, codes: Any, parent_guid: str | None) -> None:
    level = codes[codes["parent_guid"].isna()] if parent_guid is None else codes[codes["parent_guid"] == parent_guid]
    for c in level.itertuples():
        code = _el(parent, _NS + "Code", {"guid": c.code_guid, "name": c.name,
                                          "isCodable": "true" if c.is_codable else "false", "color": c.color})
        _description(code, c.description)
        _write_codes(code, codes, c.code_guid)


def _write_values(element: Any, values: Any, entity: str, guid: str, types: dict[str, str]) -> None:
    rows = values[(values["entity"] == entity) & (values["entity_guid"] == guid)]
    for v in rows.itertuples():
        vv = _el(element, _NS + "VariableValue")
        _el(vv, _NS + "VariableRef", {"targetGUID": v.variable_guid})
        _el(vv, _NS + f"{types.get(v.variable_guid, 'Text')}Value", text="" if v.value is None else str(v.value))


def _write_source(parent: Any, p: QualProject, s: Any, types: dict[str, str], check: bool) -> None:
    if not isinstance(s.text, str):
        raise ValueError(f"source {s.name!r} has no text; only projects with source texts can be written as .qdpx")
    src = _el(parent, _NS + "TextSource", {"guid": s.source_guid, "name": s.name,
                                            "plainTextPath": f"internal://{s.source_guid}.txt",
                                            "creatingUser": s.creating_user, "creationDateTime": s.created})
    _description(src, s.description)
    sels = p.selections[p.selections["source_guid"] == s.source_guid]
    for sel in sels.itertuples():
        if str(sel.selection_guid).startswith(WHOLE_SOURCE):
            continue
        if check and not 0 <= int(sel.start) <= int(sel.end) <= len(s.text):
            raise ValueError(f"selection {sel.selection_guid} ({sel.start}-{sel.end}) lies outside source "
                             f"{s.name!r} ({len(s.text)} characters)")
        element = _el(src, _NS + "PlainTextSelection", {
            "guid": sel.selection_guid, "name": sel.name, "startPosition": int(sel.start),
            "endPosition": int(sel.end), "creatingUser": sel.creating_user, "creationDateTime": sel.created})
        _description(element, sel.description)
        _write_codings(element, p.codings[p.codings["selection_guid"] == sel.selection_guid])
    _write_codings(src, p.codings[p.codings["selection_guid"] == WHOLE_SOURCE + s.source_guid])
    _write_values(src, p.values, "source", s.source_guid, types)


def _write_codings(element: Any, codings: Any) -> None:
    for c in codings.itertuples():
        coding = _el(element, _NS + "Coding", {"guid": c.coding_guid, "creatingUser": c.creating_user,
                                               "creationDateTime": c.created})
        _el(coding, _NS + "CodeRef", {"targetGUID": c.code_guid})


def qde_bytes(project: QualProject) -> bytes:
    """The ``project.qde`` XML of a project (for schema validation and inspection)."""
    buffer = io.BytesIO()
    ET.ElementTree(_project_element(project)).write(buffer, encoding="utf-8", xml_declaration=True)
    return buffer.getvalue()
