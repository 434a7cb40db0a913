"""REFI-QDA .qdpx reading and writing: a hand-made project in the structure the standard
describes, the suite's own writer, lossless round trips, schema validity and unsafe input."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from kkbm_analysis.qualitative.model import QualProject
from kkbm_analysis.qualitative.refi import QdpxError, qde_bytes, read_qdpx, write_qdpx

XSD = Path(__file__).parent / "data" / "refi" / "Project-mrt2019.xsd"

# Two sources: one with its text in sources/ (upper-case file name, as ATLAS.ti writes
# them), one inline; a non-ASCII character before a selection so positions must count code
# points; a CRLF line end; a whole-source coding; a picture source that must be skipped.
TEXT_A = "Pak Lurah bilang: pendampingan hanya 6 hari.\r\nModal usaha sulit — KUR ditolak."
TEXT_B = "Kaderisasi gagal, tidak ada penerus. Kepala desa mendukung Perdes."
U1, U2 = "088B08AC-D5CD-4ADB-8B71-B4F3459C177F", "C32A2BD5-537F-4838-8B17-DF9EFBAFDF4B"
QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Hand-made" origin="hand, following REFI-QDA 1.5">
  <Users>
    <User guid="{U1}" name="Coder One"/>
    <User guid="{U2}" name="Coder Two"/>
  </Users>
  <CodeBook>
    <Codes>
      <Code guid="a0000000-0000-4000-8000-000000000001" name="Hambatan" isCodable="false" color="#FF0000">
        <Description>Faktor penghambat</Description>
        <Code guid="a0000000-0000-4000-8000-000000000002" name="Kurang pendampingan" isCodable="true"/>
        <Code guid="a0000000-0000-4000-8000-000000000003" name="Permodalan" isCodable="true"/>
      </Code>
      <Code guid="a0000000-0000-4000-8000-000000000004" name="Kaderisasi" isCodable="true"/>
    </Codes>
  </CodeBook>
  <Variables>
    <Variable guid="b0000000-0000-4000-8000-000000000001" name="Provinsi" typeOfVariable="Text"/>
    <Variable guid="b0000000-0000-4000-8000-000000000002" name="Usia" typeOfVariable="Integer">
      <Description>umur informan</Description>
    </Variable>
    <Variable guid="b0000000-0000-4000-8000-000000000003" name="Bersedia" typeOfVariable="Boolean"/>
  </Variables>
  <Cases>
    <Case guid="c0000000-0000-4000-8000-000000000001" name="Informan 1">
      <VariableValue><VariableRef targetGUID="b0000000-0000-4000-8000-000000000002"/><IntegerValue>41</IntegerValue></VariableValue>
      <SourceRef targetGUID="d0000000-0000-4000-8000-000000000001"/>
    </Case>
  </Cases>
  <Sources>
    <TextSource guid="d0000000-0000-4000-8000-000000000001" name="Wawancara 1"
                plainTextPath="internal://E0000000-0000-4000-8000-000000000001.txt" creatingUser="{U1}">
      <PlainTextSelection guid="f0000000-0000-4000-8000-000000000001" startPosition="18" endPosition="44" creatingUser="{U1}">
        <Coding guid="90000000-0000-4000-8000-000000000001" creatingUser="{U1}"><CodeRef targetGUID="a0000000-0000-4000-8000-000000000002"/></Coding>
        <Coding guid="90000000-0000-4000-8000-000000000002" creatingUser="{U2}"><CodeRef targetGUID="a0000000-0000-4000-8000-000000000002"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="f0000000-0000-4000-8000-000000000002" startPosition="46" endPosition="78">
        <Description>modal</Description>
        <Coding guid="90000000-0000-4000-8000-000000000003" creatingUser="{U2}"><CodeRef targetGUID="a0000000-0000-4000-8000-000000000003"/></Coding>
      </PlainTextSelection>
      <VariableValue><VariableRef targetGUID="b0000000-0000-4000-8000-000000000001"/><TextValue>Jawa Timur</TextValue></VariableValue>
      <VariableValue><VariableRef targetGUID="b0000000-0000-4000-8000-000000000003"/><BooleanValue>true</BooleanValue></VariableValue>
    </TextSource>
    <TextSource guid="d0000000-0000-4000-8000-000000000002" name="Catatan FGD">
      <PlainTextContent>{TEXT_B}</PlainTextContent>
      <Coding guid="90000000-0000-4000-8000-000000000004" creatingUser="{U1}"><CodeRef targetGUID="a0000000-0000-4000-8000-000000000004"/></Coding>
    </TextSource>
    <PictureSource guid="d0000000-0000-4000-8000-000000000003" name="Foto" path="internal://x.png">
      <PictureSelection guid="f0000000-0000-4000-8000-000000000009" firstX="0" firstY="0" secondX="5" secondY="5">
        <Coding guid="90000000-0000-4000-8000-000000000009"><CodeRef targetGUID="a0000000-0000-4000-8000-000000000004"/></Coding>
      </PictureSelection>
    </PictureSource>
  </Sources>
</Project>
"""


def _hand_made(tmp_path: Path, qde: str = QDE, text: str = TEXT_A) -> Path:
    path = tmp_path / "hand.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde.encode("utf-8"))
        z.writestr("Sources/E0000000-0000-4000-8000-000000000001.TXT", text.encode("utf-8"))
        z.writestr("sources/x.png", b"\x89PNG")
    return path


def _comparable(project: QualProject) -> dict[str, pd.DataFrame]:
    """Every table without the read locations, rows in a canonical order."""
    out = {}
    for name, df in project.frames().items():
        df = df.drop(columns=[c for c in ("location",) if c in df]).astype(object)
        df = df.where(df.notna(), None)
        out[name] = df.sort_values(list(df.columns[:3]), key=lambda s: s.astype(str)).reset_index(drop=True)
    return out


def test_hand_made_project_reads_exactly(tmp_path):
    p = read_qdpx(_hand_made(tmp_path))
    assert p.name == "Hand-made"
    assert p.users["name"].tolist() == ["Coder One", "Coder Two"]
    codes = p.codes.set_index("code_guid")
    assert codes.loc["a0000000-0000-4000-8000-000000000002", "parent_guid"] == "a0000000-0000-4000-8000-000000000001"
    assert codes.loc["a0000000-0000-4000-8000-000000000001", "is_codable"] is False
    assert codes.loc["a0000000-0000-4000-8000-000000000001", "description"] == "Faktor penghambat"
    assert codes.loc["a0000000-0000-4000-8000-000000000004", "parent_guid"] is None
    src = p.sources.set_index("source_guid")
    assert src.loc["d0000000-0000-4000-8000-000000000001", "text"] == TEXT_A  # CRLF kept, code points
    assert src.loc["d0000000-0000-4000-8000-000000000002", "text"] == TEXT_B
    sel = p.selections.set_index("selection_guid")
    first = sel.loc["f0000000-0000-4000-8000-000000000001"]
    assert TEXT_A[first.start:first.end] == "pendampingan hanya 6 hari."
    second = sel.loc["f0000000-0000-4000-8000-000000000002"]
    assert TEXT_A[second.start:second.end] == "Modal usaha sulit — KUR ditolak."
    whole = sel.loc["whole:d0000000-0000-4000-8000-000000000002"]
    assert (whole.start, whole.end) == (0, len(TEXT_B))
    assert sorted(p.codings["creating_user"].dropna()) == sorted([U1, U2, U2, U1])
    attrs = p.source_attributes()
    got = {(r.variable, r.value, r.origin) for r in attrs.itertuples()
           if r.source_guid == "d0000000-0000-4000-8000-000000000001"}
    assert got == {("Provinsi", "Jawa Timur", "source"), ("Bersedia", "true", "source"), ("Usia", "41", "case")}
    assert p.skipped["item"].tolist() == ["picture source"]
    assert "1 coding" in p.skipped["reason"].iloc[0]


def test_hand_made_round_trips_through_the_writer(tmp_path):
    first = read_qdpx(_hand_made(tmp_path))
    out = write_qdpx(first, tmp_path / "again.qdpx")
    second = read_qdpx(out)
    a, b = _comparable(first), _comparable(second)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    assert second.name == first.name and second.origin == first.origin


def test_writer_is_deterministic_and_schema_valid(tmp_path):
    xmlschema = pytest.importorskip("xmlschema", reason="schema validation needs xmlschema (test extra)")
    project = read_qdpx(_hand_made(tmp_path))
    one = write_qdpx(project, tmp_path / "one.qdpx").read_bytes()
    two = write_qdpx(project, tmp_path / "two.qdpx").read_bytes()
    assert one == two
    schema = xmlschema.XMLSchema(str(XSD))
    schema.validate(qde_bytes(project).decode("utf-8"))
    names = zipfile.ZipFile(tmp_path / "one.qdpx").namelist()
    assert names[0] == "project.qde" and all(n.startswith("sources/") for n in names[1:])


def test_the_hand_made_file_itself_is_schema_valid():
    xmlschema = pytest.importorskip("xmlschema", reason="schema validation needs xmlschema (test extra)")
    assert xmlschema.XMLSchema(str(XSD)).is_valid(QDE)


@pytest.mark.parametrize("qde, message", [
    ("<Project xmlns='urn:QDA-XML:project:1.0'", "not well-formed"),
    ("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><Project xmlns='urn:QDA-XML:project:1.0' "
     "name='x'>&a;</Project>", "forbidden XML"),
    ("<Project name='x'/>", "expected Project in namespace"),
    (QDE.replace('startPosition="18"', 'startPosition="x18"'), "is not a whole number"),
    (QDE.replace('<Code guid="a0000000-0000-4000-8000-000000000004" name="Kaderisasi"',
                 '<Code name="Kaderisasi"'), "lacks the required attribute 'guid'"),
])
def test_broken_or_unsafe_xml_is_refused_with_a_plain_message(tmp_path, qde, message):
    with pytest.raises(QdpxError, match=message) as err:
        read_qdpx(_hand_made(tmp_path, qde=qde))
    assert "hand.qdpx" in str(err.value)


def test_not_a_zip_and_missing_parts(tmp_path):
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(QdpxError, match="bad.qdpx: not a readable"):
        read_qdpx(bad)
    empty = tmp_path / "empty.qdpx"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("readme.txt", "x")
    with pytest.raises(QdpxError, match="no project.qde"):
        read_qdpx(empty)
    no_text = tmp_path / "no_text.qdpx"
    with zipfile.ZipFile(no_text, "w") as z:
        z.writestr("project.qde", QDE)
    with pytest.raises(QdpxError, match="TextSource 1 .*not in the sources/ folder"):
        read_qdpx(no_text)
