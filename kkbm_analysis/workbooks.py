"""Spreadsheet workbooks (xlsx, xlsm, xlsb, xls, ods) as grids of raw cells, safely.

:func:`workbook_grids` returns one headerless grid per sheet (row 1 at position 0), or the
reason a sheet could not be read, so one bad sheet never stops the others. Before a sheet
is handed to calamine its used area is checked: one stray cell at ``XFD1048576`` makes
calamine allocate the whole 1,048,576 × 16,384 range and abort the process. Such xlsx
sheets are streamed with openpyxl instead and the far-away cells are reported, not read;
xlsb and ods sheets that large are refused with a plain reason. Formula cells whose result
was never saved (no cached value) are listed, so the ingest can say why they look empty.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Sequence
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd

__all__ = ["WorkbookError", "SheetGrid", "workbook_grids", "cell_ref", "MAX_CELLS"]

#: Largest used area (rows × columns) handed to calamine; larger sheets are streamed.
MAX_CELLS = 30_000_000
_GAP_ROWS, _GAP_COLS = 1_000, 100  # empty stretches that separate stray cells from the table
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}


class WorkbookError(Exception):
    """The workbook as a whole cannot be opened (the message is the reason, in plain words)."""


@dataclass
class SheetGrid:
    """One sheet: its grid of raw cells, or why it could not be read.

    Attributes
    ----------
    name : str
    grid : DataFrame or None
        Headerless cells, row 1 at position 0, column A at position 0.
    reason : str or None
        Why the sheet could not be read (then ``grid`` is None).
    formula_cells : list of str
        Cells (``"D12"``) holding a formula whose result was never saved.
    stray_cells : list of str
        Cells far away from the table that were left out (see module docstring).
    """

    name: str
    grid: pd.DataFrame | None = None
    reason: str | None = None
    formula_cells: list[str] = field(default_factory=list)
    stray_cells: list[str] = field(default_factory=list)


def cell_ref(row: int, col: int) -> str:
    """Excel address of a 1-based row and 0-based column: ``cell_ref(12, 3) == 'D12'``."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


# --------------------------------------------------------------------------- entry point
def workbook_grids(path: Path, sheets: Sequence[str] | None = None) -> list[SheetGrid]:
    """Grids of the sheets of a workbook, in workbook order (or the order of ``sheets``).

    Raises
    ------
    WorkbookError
        The file is not a readable workbook, or a sheet named in ``sheets`` is missing.
    """
    suffix = path.suffix.lower()
    extents, formulas = _prescan(path, suffix)
    engine = "calamine"
    try:
        book = pd.ExcelFile(path, engine=engine)
    except BaseException as exc:  # any library error (a Rust panic too) becomes a plain reason
        _reraise_interrupts(exc)
        if suffix in (".xlsx", ".xlsm"):
            try:
                book = pd.ExcelFile(path, engine="openpyxl")
                engine = "openpyxl"
            except BaseException as other:
                _reraise_interrupts(other)
                raise WorkbookError(_unreadable(exc)) from None
        else:
            raise WorkbookError(_unreadable(exc)) from None
    with book:
        names = [str(n) for n in book.sheet_names]
        if sheets is not None:
            missing = [s for s in sheets if s not in names]
            if missing:
                raise WorkbookError("no sheet named " + ", ".join(repr(m) for m in missing)
                                    + "; the workbook has " + ", ".join(repr(n) for n in names))
        wanted = list(dict.fromkeys(sheets)) if sheets is not None else names
        return [_one_sheet(path, book, name, extents.get(name), formulas.get(name, [])) for name in wanted]


def _one_sheet(path: Path, book: pd.ExcelFile, name: str, extent: tuple[int, int] | None,
               formulas: list[str]) -> SheetGrid:
    rows, cols = extent or (0, 0)
    if rows * cols > MAX_CELLS:
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            return SheetGrid(name, reason=f"the sheet's used area reaches {cell_ref(rows, cols - 1)} "
                                          f"({rows:,} rows × {cols:,} columns), probably because of a stray cell "
                                          "far from the table; delete it, or save the workbook as .xlsx")
        grid, stray = _stream_xlsx(path, name)
        return SheetGrid(name, grid, formula_cells=formulas, stray_cells=stray)
    try:
        grid = pd.read_excel(book, sheet_name=name, header=None, dtype=object)
    except BaseException as exc:  # a chart sheet, a damaged part, a panic in the Rust reader...
        _reraise_interrupts(exc)
        return SheetGrid(name, reason=_unreadable(exc, what="sheet"))
    return SheetGrid(name, grid, formula_cells=formulas)


def _reraise_interrupts(exc: BaseException) -> None:
    """Let Ctrl-C and exits through; every other failure of a reader library is the file's problem.

    python-calamine reports a panic of its Rust reader as ``PanicException``, which derives
    from ``BaseException``; it must end as a plain reason, not a crash.
    """
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        raise exc


def _unreadable(exc: BaseException | None, what: str = "file") -> str:
    detail = " ".join(str(exc).split())[:160] if exc is not None else ""
    reason = ("it is not a readable spreadsheet (it may be corrupt, password-protected, or saved in another "
              "format under this name)" if what == "file" else "this sheet cannot be read (it may be a chart "
              "sheet or damaged)")
    return f"{reason}; reader said: {type(exc).__name__}: {detail}" if detail else reason


# --------------------------------------------------------------------------- sizes before reading
def _prescan(path: Path, suffix: str) -> tuple[dict[str, tuple[int, int]], dict[str, list[str]]]:
    """Used area (rows, columns) and formula cells without values, per sheet name."""
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _prescan_xlsx(path)
        if suffix == ".xlsb":
            return _prescan_xlsb(path), {}
        if suffix == ".ods":
            return _prescan_ods(path), {}
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError, ValueError, IndexError):
        pass  # not a zip or an unusual layout: the reader below gives the plain reason
    return {}, {}


def _parts(zf: zipfile.ZipFile, workbook: str, rels: str, sheet_tag: str) -> dict[str, str]:
    """Sheet name -> part name inside the zip (xlsx: xml; xlsb: handled apart)."""
    wb = ET.fromstring(zf.read(workbook))
    targets = {r.get("Id"): r.get("Target") for r in ET.fromstring(zf.read(rels)).findall("rel:Relationship", _NS)}
    base = PurePosixPath(workbook).parent
    out = {}
    for sh in wb.iter(sheet_tag):
        target = targets.get(sh.get(f"{{{_NS['r']}}}id"), "")
        part = target.lstrip("/") if target.startswith("/") else str(base / target)
        out[sh.get("name", "")] = part
    return out


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_CELL_REF = re.compile(rb'<(?:\w+:)?c r="([A-Z]{1,3})(\d+)"')
_CELL = re.compile(rb'<(?:\w+:)?c r="([A-Z]{1,3}\d+)"[^>]*?(?:/>|>(.*?)</(?:\w+:)?c>)', re.S)
_VALUE = re.compile(rb"<(?:\w+:)?v>[^<]+</(?:\w+:)?v>")


def _prescan_xlsx(path: Path) -> tuple[dict[str, tuple[int, int]], dict[str, list[str]]]:
    extents, formulas = {}, {}
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        for name, part in _parts(zf, "xl/workbook.xml", "xl/_rels/workbook.xml.rels", f"{{{_NS['m']}}}sheet").items():
            if part not in names:
                continue
            with zf.open(part) as fh:
                head = fh.read(1 << 14)
            dim = _DIMENSION.search(head)
            extent, has_formulas = _scan_part(zf, part, need_extent=dim is None)
            if dim and dim.group(3):
                extent = (int(dim.group(4)), _col_index(dim.group(3).decode()) + 1)
            elif dim:
                extent = (int(dim.group(2)), _col_index(dim.group(1).decode()) + 1)
            extents[name] = extent
            formulas[name] = _formulas_without_values(zf, part) if has_formulas else []
    return extents, formulas


_COLUMN_LETTERS = re.compile(rb'<(?:\w+:)?c r="([A-Z]{1,3})\d')
_FAR_COLUMN = re.compile(rb'<(?:\w+:)?c r="[A-Z]{3}\d')
_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row r="(\d+)"')
_CHEAP_COLUMNS = 702  # columns A..ZZ: a sheet without three-letter columns is at most this wide


def _scan_part(zf: zipfile.ZipFile, part: str, *, need_extent: bool) -> tuple[tuple[int, int], bool]:
    """One pass over a sheet part: whether it has formulas and, without a dimension tag, its used area.

    Rows come in order, so the last row number seen is the height; the width is bounded
    cheaply (no three-letter column: at most ZZ) and counted exactly only when that bound
    could make the sheet too large.
    """
    rows, counted, far, formulas, tail = 0, 0, False, False, b""
    with zf.open(part) as fh:
        while block := fh.read(1 << 22):
            chunk = tail + block
            formulas = formulas or b"<f>" in chunk or b"<f " in chunk or b":f>" in chunk or b":f " in chunk
            if need_extent:
                far = far or _FAR_COLUMN.search(chunk) is not None
                at = chunk.rfind(b"<row ")
                last = _ROW_NUMBER.match(chunk, at) if at >= 0 else None
                counted += block.count(b"<row ") + block.count(b"<row>")
                rows = max(rows, int(last.group(1)) if last else 0, counted)
            tail = chunk[-64:]
    if not need_extent:
        return (0, 0), formulas
    cols = 16_384 if far else _CHEAP_COLUMNS
    if rows * cols > MAX_CELLS:
        cols = _exact_width(zf, part)
    return (rows, cols), formulas


def _exact_width(zf: zipfile.ZipFile, part: str) -> int:
    letters: set[bytes] = set()
    tail = b""
    with zf.open(part) as fh:
        while block := fh.read(1 << 22):
            chunk = tail + block
            letters.update(_COLUMN_LETTERS.findall(chunk))
            tail = chunk[-64:]
    return max((_col_index(x.decode()) + 1 for x in letters), default=0)


def _formulas_without_values(zf: zipfile.ZipFile, part: str, limit: int = 1_000) -> list[str]:
    """Cells holding a formula but no saved result (openpyxl and some exporters write those)."""
    out: list[str] = []
    with zf.open(part) as fh:
        data = fh.read()
    for m in _CELL.finditer(data):
        body = m.group(2) or b""
        if (b"<f" in body or b":f" in body) and not _VALUE.search(body):
            out.append(m.group(1).decode())
            if len(out) >= limit:
                break
    return out


def _xlsb_records(data: bytes):
    """(record type, payload) pairs of an xlsb binary part."""
    i, n = 0, len(data)
    while i < n:
        rtype = data[i]
        i += 1
        if rtype & 0x80:
            rtype = (rtype & 0x7F) | ((data[i] & 0x7F) << 7)
            i += 1
        size, shift = 0, 0
        for _ in range(4):
            byte = data[i]
            i += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        yield rtype, data[i:i + size]
        i += size


def _wide_string(payload: bytes, at: int) -> tuple[str, int]:
    count = int.from_bytes(payload[at:at + 4], "little")
    if count == 0xFFFFFFFF:
        return "", at + 4
    end = at + 4 + 2 * count
    return payload[at + 4:end].decode("utf-16-le", "replace"), end


def _prescan_xlsb(path: Path) -> dict[str, tuple[int, int]]:
    out = {}
    with zipfile.ZipFile(path) as zf:
        rels = {r.get("Id"): r.get("Target") for r in
                ET.fromstring(zf.read("xl/_rels/workbook.bin.rels")).findall("rel:Relationship", _NS)}
        for rtype, payload in _xlsb_records(zf.read("xl/workbook.bin")):
            if rtype != 0x9C:  # BrtBundleSh: state, tab id, relationship id, name
                continue
            rel_id, at = _wide_string(payload, 8)
            name, _ = _wide_string(payload, at)
            target = rels.get(rel_id, "")
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            with zf.open(part) as fh:
                head = fh.read(1 << 12)
            for t, p in _xlsb_records(head):
                if t == 0x94 and len(p) >= 16:  # BrtWsDim: first/last row, first/last column (0-based)
                    last_row, last_col = int.from_bytes(p[4:8], "little"), int.from_bytes(p[12:16], "little")
                    out[name] = (last_row + 1, last_col + 1)
                    break
    return out


def _prescan_ods(path: Path) -> dict[str, tuple[int, int]]:
    """Used area of ODS tables: the last row and column holding a value."""
    table_ns = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    office_ns = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    t = lambda tag: f"{{{table_ns}}}{tag}"  # noqa: E731
    out = {}
    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
        name, row, last_row, last_col = "", 0, 0, 0
        for event, el in ET.iterparse(fh, events=("start", "end")):
            if event == "start" and el.tag == t("table"):
                name, row, last_row, last_col = el.get(t("name"), ""), 0, 0, 0
            elif event == "end" and el.tag == t("table-row"):
                repeat = int(el.get(t("number-rows-repeated"), "1"))
                col, filled = 0, -1
                for cell in el:
                    span = int(cell.get(t("number-columns-repeated"), "1"))
                    if cell.get(f"{{{office_ns}}}value-type") or len(cell):
                        filled = col + span - 1
                    col += span
                row += repeat
                if filled >= 0:
                    last_row, last_col = row, max(last_col, filled + 1)
                el.clear()
            elif event == "end" and el.tag == t("table"):
                out[name] = (last_row, last_col)
                el.clear()
    return out


# --------------------------------------------------------------------------- oversized xlsx sheets
def _stream_xlsx(path: Path, sheet: str) -> tuple[pd.DataFrame, list[str]]:
    """Read a sheet with openpyxl's streaming reader, keeping the main block of cells.

    Cells separated from the table by more than ``_GAP_ROWS`` empty rows or ``_GAP_COLS``
    empty columns are left out and returned as addresses (never their values).
    """
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[sheet]
        ws.reset_dimensions()
        cells: list[tuple[int, int, Any]] = []
        for r, row in enumerate(ws.iter_rows(values_only=True), 1):
            for c, value in enumerate(row):
                if value is not None and value != "":
                    cells.append((r, c, value))
    finally:
        wb.close()
    if not cells:
        return pd.DataFrame(), []
    rows = _main_cluster(np.array([r for r, _, _ in cells]), _GAP_ROWS)
    inside = [(r, c, v) for r, c, v in cells if rows[0] <= r <= rows[1]]
    cols = _main_cluster(np.array([c for _, c, _ in inside]), _GAP_COLS)
    kept = [(r, c, v) for r, c, v in inside if cols[0] <= c <= cols[1]]
    stray = [cell_ref(r, c) for r, c, _ in cells if not (rows[0] <= r <= rows[1] and cols[0] <= c <= cols[1])]
    grid = np.full((rows[1], cols[1] + 1), None, dtype=object)
    for r, c, v in kept:
        grid[r - 1, c] = v
    return pd.DataFrame(grid), stray


def _main_cluster(positions: np.ndarray, gap: int) -> tuple[int, int]:
    """(first, last) position of the cluster holding most cells, clusters split at gaps > ``gap``."""
    order = np.sort(positions)
    breaks = np.flatnonzero(np.diff(order) > gap)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(order) - 1]))
    best = int(np.argmax(ends - starts))
    return int(order[starts[best]]), int(order[ends[best]])
