"""Raw files made the way field officers make them, for the ingest corpus tests.

Nothing here is read from disk: every workbook and CSV is written by these helpers, with
identifiers planted in them (NIKs, names, phone and passport numbers, e-mail, addresses,
birth dates) so that the tests can prove none of them reaches an output or a message.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import struct
import zipfile
from pathlib import Path
from typing import Any, Iterable

import openpyxl

# --------------------------------------------------------------------------- planted people
NIKS = ["3604135203850001", "3604130101800002", "3307045506900003", "3307041208880004"]
NAMES = ["Siti Aminah Zulkarnaen", "Budi Santoso Wiraatmaja", "Dewi Kusumawardhani", "Rahmat Hidayat Purbaya"]
PHONES = ["081234567890", "0813-9876-5432", "+62 812 1111 2222", "085700001111"]
PASSPORTS = ["C1234567", "B7654321", "A2468024", "C1357913"]
EMAILS = ["siti.aminah.z@example.com", "budi.wira@example.org", "dewi.kusuma@example.net", "rahmat.p@example.id"]
ADDRESSES = ["Jl. Melati Gang Kenanga", "Dusun Krajan Wetan", "Jl. Anggrek Bulan Sari", "Dusun Ngemplak Kidul"]
BIRTH_DATES = ["12/03/1985", "01/01/1980", "15/06/1990", "12/08/1988"]
BIRTH_ISO = ["1985-03-12", "1980-01-01", "1990-06-15", "1988-08-12"]

#: Every string that must never appear in an output file or a printed line.
PLANTED: tuple[str, ...] = tuple(
    NIKS + NAMES + ["Zulkarnaen", "Wiraatmaja", "Kusumawardhani", "Hidayat Purbaya"] + PHONES
    + [p.replace("-", "").replace(" ", "").replace("+", "") for p in PHONES] + PASSPORTS + EMAILS
    + ["Gang Kenanga", "Krajan Wetan", "Anggrek Bulan", "Ngemplak Kidul"] + BIRTH_DATES[:1] + BIRTH_DATES[2:]
    + BIRTH_ISO[:1] + BIRTH_ISO[2:])

COMMUNITY_HEADER = ["Kode KKBM", "Nama KKBM", "Program", "Provinsi", "Kabupaten/Kota", "Kecamatan",
                    "Desa/Kelurahan", "Tanggal Pembentukan"]
COMMUNITY_ROWS = [["K1", "KKBM Lontar", "KKBM", "Banten", "Kab. Serang", "Tirtayasa", "Lontar", "12/03/2017"],
                  ["K2", "KBMI Tracap", "KBMI", "Jawa Tengah", "Kab. Wonosobo", "Kaliwiro", "Tracap", "26/07/2017"]]
MEMBER_HEADER = ["No", "NIK", "Nama", "No HP", "Kode KKBM", "Status", "Jenis Kelamin", "Tanggal Lahir",
                 "Tanggal Bergabung"]
STATUS = ["PMI Purna", "Calon PMI", "PMI Aktif", "Keluarga PMI"]
SEX = ["P", "L", "P", "L"]
JOINED = ["01/04/2017", "15/05/2017", "02/08/2017", "20/09/2017"]


def member_rows(n: int = 4, *, numbered: bool = True, community: str = "K1") -> list[list[Any]]:
    """Valid member rows with the planted identifiers (``n`` ≤ 4)."""
    rows = []
    for i in range(n):
        row = [NIKS[i], NAMES[i], PHONES[i], community, STATUS[i], SEX[i], BIRTH_DATES[i], JOINED[i]]
        rows.append(([i + 1] if numbered else []) + row)
    return rows


def members_table(n: int = 4) -> list[list[Any]]:
    return [MEMBER_HEADER, *member_rows(n)]


def communities_table() -> list[list[Any]]:
    return [COMMUNITY_HEADER, *COMMUNITY_ROWS]


# --------------------------------------------------------------------------- writers
def write_csv(path: Path, rows: Iterable[Iterable[Any]], *, sep: str = ",", encoding: str = "utf-8",
              newline: str = "\n") -> Path:
    """Rows as delimited text (cells quoted only when they must be)."""
    lines = []
    for row in rows:
        cells = ["" if v is None else str(v) for v in row]
        cells = [f'"{c}"' if sep in c or '"' in c or "\n" in c else c for c in cells]
        lines.append(sep.join(cells))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def write_gz(path: Path, rows: Iterable[Iterable[Any]], **kwargs: Any) -> Path:
    tmp = write_csv(path.with_suffix(".tmp"), rows, **kwargs)
    path.write_bytes(gzip.compress(tmp.read_bytes(), mtime=0))
    tmp.unlink()
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]], *, start_row: int = 1,
               titles: dict[str, list[str]] | None = None, merges: dict[str, list[str]] | None = None,
               cells: dict[str, dict[str, Any]] | None = None) -> Path:
    """A workbook: per sheet, optional title lines, then the rows from ``start_row``."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        r = 1
        for line in (titles or {}).get(name, []):
            ws.cell(row=r, column=1, value=line)
            r += 1
        r = max(r, start_row)
        for row in rows:
            for c, value in enumerate(row, 1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
            r += 1
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
        for ref, value in (cells or {}).get(name, {}).items():
            ws[ref] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _record(rtype: int, payload: bytes = b"") -> bytes:
    head = bytes([rtype]) if rtype < 128 else bytes([(rtype & 0x7F) | 0x80, rtype >> 7])
    n, size = len(payload), b""
    while True:
        low, n = n & 0x7F, n >> 7
        size += bytes([low | (0x80 if n else 0)])
        if not n:
            break
    return head + size + payload


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def write_xlsb(path: Path, sheets: dict[str, list[list[Any]]], *, dimension: tuple[int, int] | None = None,
               broken: bool = False) -> Path:
    """A minimal Excel binary workbook (MS-XLSB records), as Excel saves one with 'Save as .xlsb'.

    ``dimension`` overrides the recorded used area (last row, last column, 0-based);
    ``broken`` writes string cells as shared-string references to a table that is missing.
    """
    book = _record(131) + _record(143)
    for i, name in enumerate(sheets, 1):
        book += _record(156, struct.pack("<II", 0, i) + _wide(f"rId{i}") + _wide(name))
    book += _record(144) + _record(132)
    parts = {}
    for i, rows in enumerate(sheets.values(), 1):
        last = dimension or (len(rows) - 1, max(map(len, rows)) - 1)
        body = _record(129) + _record(148, struct.pack("<IIII", 0, last[0], 0, last[1])) + _record(145)
        for r, row in enumerate(rows):
            body += _record(0, struct.pack("<II", r, 0) + b"\x00" * 9)
            for c, value in enumerate(row):
                cell = struct.pack("<II", c, 0)
                if value is None:
                    continue
                if isinstance(value, (int, float)):
                    body += _record(5, cell + struct.pack("<d", float(value)))
                elif broken:
                    body += _record(7, cell + struct.pack("<I", 5))
                else:
                    body += _record(6, cell + _wide(str(value)))
        parts[f"xl/worksheets/sheet{i}.bin"] = body + _record(146) + _record(130)
    ns = "http://schemas.openxmlformats.org/package/2006/relationships"
    kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.'
             'macroEnabled.main"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/></Types>')
    root = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}"><Relationship Id="rId1" '
            f'Type="{kind}/officeDocument" Target="xl/workbook.bin"/></Relationships>')
    rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}">'
            + "".join(f'<Relationship Id="rId{i}" Type="{kind}/worksheet" Target="worksheets/sheet{i}.bin"/>'
                      for i in range(1, len(sheets) + 1)) + "</Relationships>")
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", root)
        zf.writestr("xl/_rels/workbook.bin.rels", rels)
        zf.writestr("xl/workbook.bin", book)
        for name, body in parts.items():
            zf.writestr(name, body)
    return path


# --------------------------------------------------------------------------- checking
def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under a folder: file checksums, link targets, folders (links never followed)."""
    out = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                out[rel] = "dir"
            elif path.is_file():
                try:
                    out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
                except OSError:
                    out[rel] = "unreadable"
            else:
                out[rel] = "special"
    return out


def output_text(folder: Path) -> dict[str, str]:
    """The text of every file under a folder; Parquet decoded, other files as UTF-8 (lenient)."""
    import pandas as pd
    out = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        if path.suffix == ".parquet":
            try:
                out[str(path)] = pd.read_parquet(path).astype(str).to_csv(index=False)
            except Exception:  # a damaged file a test planted on purpose
                out[str(path)] = path.read_bytes().decode("utf-8", "ignore")
        else:
            data = path.read_bytes()
            text = data.decode("utf-8", "ignore")
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):
                text = data.decode("utf-16", "ignore")
            out[str(path)] = text
    return out


def leaks(texts: dict[str, str], planted: Iterable[str] = PLANTED) -> list[tuple[str, str]]:
    """(where, identifier) for every planted identifier found in the texts."""
    found = []
    for where, text in texts.items():
        lower = text.lower()
        for secret in planted:
            if secret.lower() in lower:
                found.append((where, secret))
    return found
