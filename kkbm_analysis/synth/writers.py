"""Writing the synthetic raw files: workbook and CSV layouts, the writers, ground truth and expected outcomes.

:func:`generate_demo` simulates the tables (:mod:`.simulate`), renders them as the raw
cells users bring (:mod:`.rendering`), adds the planted defects (:mod:`.defects`) and
writes the files, ``ground_truth.json``, ``expected_quarantine.csv`` and
``expected_ingest_notes.csv``.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import DEFAULT_SEED
from ..io import save_workbook, sha256
from .calibration import GENERATOR, NOTICE
from .defects import _make_dirty, _per_province
from .rendering import (
    ADVOCACY_SPEC,
    DEPARTURES_SPEC,
    INFO_SPEC,
    PERDES_SPEC,
    PLACEMENTS_SPEC,
    REPORT_SPEC,
    SHEETS,
    _choose_styles,
    _format,
    _Col,
    _SheetSpec,
    _write_frames,
)
from .simulate import _simulate
from .survey import add_survey_to_demo
from .world import _World

__all__ = ["SynthResult", "generate_demo"]


@dataclass(frozen=True)
class SynthResult:
    """What :func:`generate_demo` wrote.

    Attributes
    ----------
    out_dir : Path
        The output folder.
    files : list of Path
        Raw files written (all named ``SYNTHETIC_*``), plus ``ground_truth.json``,
        ``expected_quarantine.csv``, ``expected_ingest_notes.csv`` and ``SYNTHETIC.json``.
    ground_truth : dict
        Every generative parameter with a plain description, and the true effects
        (also ``out_dir / 'ground_truth.json'``).
    expected_quarantine : pandas.DataFrame
        Defective rows the ingest must quarantine: ``file`` (relative to ``out_dir``),
        ``sheet`` ('' for CSV), ``row`` (Excel row or CSV line number as a person sees
        it, header and title lines counted), ``table`` and ``rule``.
    expected_ingest_notes : pandas.DataFrame
        Same columns; the notes the ingest must write to ``ingest_notes.csv`` about
        accepted rows: a malformed NIK (rule ``invalid_nik``) in the registers
        (:data:`NOTED_REGISTERS`), where the ingest notes it once per person.
    """

    out_dir: Path
    files: list[Path]
    ground_truth: dict
    expected_quarantine: pd.DataFrame
    expected_ingest_notes: pd.DataFrame


# ----------------------------------------------------------------------------- layout and rendering
@dataclass
class _Block:
    """One sheet or CSV file of one table, ready to render."""

    spec: _SheetSpec
    file: str
    sheet: str
    columns: list[_Col]
    headers: list[str]
    frame: pd.DataFrame
    dirty: pd.DataFrame
    excel: bool
    title: tuple[str, ...] = ()
    styles: dict = field(default_factory=dict)
    number_col: bool = False
    blank_tail: bool = False

    @property
    def first_data_row(self) -> int:
        """Row (Excel) or line (CSV) number of the first data row, as a person counts."""
        if self.excel and self.title:
            return len(self.title) + 3  # title rows, a blank row, the header
        return len(self.title) + 2      # title lines (if any), the header


def _assemble(block: _Block) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows in final order (dirty rows inserted), and each row's number, rule and NIK flag."""
    clean = block.frame.assign(_after=np.arange(len(block.frame)), _o=0, _rule=None)
    rows = pd.concat([clean, block.dirty.assign(_o=1)], ignore_index=True) if len(block.dirty) else clean
    order = np.lexsort((np.arange(len(rows)), rows["_o"].to_numpy(), rows["_after"].to_numpy()))
    rows = rows.iloc[order].reset_index(drop=True)
    rows["kobo_index"] = np.arange(1, len(rows) + 1)
    info = pd.DataFrame({"row": block.first_data_row + np.arange(len(rows)), "dirty": rows["_o"].to_numpy() == 1,
                         "rule": rows["_rule"].to_numpy(), "bad_nik": rows["_bad_nik"].to_numpy(dtype=bool)})
    return rows, info


def _cells(block: _Block, rows: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Raw cells of ``rows`` (a slice of the assembled rows), column by column."""
    cells: dict[str, np.ndarray] = {}
    if block.number_col:
        cells["No"] = (rows.index.to_numpy() + 1).astype(object)
    for col, header in zip(block.columns, block.headers):
        values = rows[col.source] if col.source in rows else pd.Series([None] * len(rows), dtype=object)
        out = _format(values, col, block.styles.get(col.source), rng, block.excel)
        raw = rows.get(f"__raw__{col.source}")
        if raw is not None:
            hit = raw.notna().to_numpy()
            out[hit] = raw.to_numpy(dtype=object)[hit]
        cells[header] = out
    return cells


def _blocks(w: _World, frames: dict[str, pd.DataFrame], dirty: dict[str, pd.DataFrame]) -> list[list[_Block]]:
    """Files to write, each a list of blocks (sheets), in a fixed order."""
    rng = w.rng("layout")
    out: list[list[_Block]] = []
    if w.scale.national:
        for spec in (*SHEETS, REPORT_SPEC):
            title = (f"{spec.title} — NASIONAL — DATA SINTETIS / SYNTHETIC",)
            out.append([_block(spec, f"SYNTHETIC_{spec.csv_name}.csv", "", frames, dirty, rng, False, title)])
    else:
        from lokal import wilayah
        for prov in sorted(frames["communities"]["_prov"].unique()):
            name = wilayah._base()[prov]
            book = f"SYNTHETIC_KKBM_{prov}_{name.replace(' ', '_')}.xlsx"
            sheets = [_block(spec, book, spec.names[rng.integers(len(spec.names))], frames, dirty, rng, True,
                             _titles(spec, name, w, rng), prov) for spec in SHEETS]
            out.append(sheets)
        for prov in sorted(frames["communities"]["_prov"].unique()):
            title = (f"{REPORT_SPEC.title} — PROVINSI {wilayah._base()[prov].upper()} — DATA SINTETIS / SYNTHETIC",)
            out.append([_block(REPORT_SPEC, f"SYNTHETIC_laporan_usaha_{prov}.csv", "", frames, dirty, rng, False,
                               title, prov)])
    info_xlsx = not w.scale.national
    out.append([_block(ADVOCACY_SPEC, "SYNTHETIC_kobo_advokasi.csv", "", frames, dirty, rng, False)])
    out.append([_block(INFO_SPEC, "SYNTHETIC_kobo_layanan_informasi." + ("xlsx" if info_xlsx else "csv"),
                       INFO_SPEC.names[0] if info_xlsx else "", frames, dirty, rng, info_xlsx)])
    for spec, file in ((PERDES_SPEC, "SYNTHETIC_perdes.csv"), (DEPARTURES_SPEC, "SYNTHETIC_keberangkatan_desa.csv"),
                       (PLACEMENTS_SPEC, "SYNTHETIC_penempatan_bp2mi.csv")):
        out.append([_block(spec, file, "", frames, dirty, rng, False)])
    return out


def _titles(spec: _SheetSpec, province: str, w: _World, rng: np.random.Generator) -> tuple[str, ...]:
    first = f"{spec.title} — PROVINSI {province.upper()} — DATA SINTETIS / SYNTHETIC"
    second = (f"Periode {w.start_year}–{w.end_year} · dibuat oleh kkbm_analysis.synth, "
              "bukan data orang sebenarnya (not real people)")
    return (first, second) if rng.random() < 0.5 else (first,)


def _block(spec: _SheetSpec, file: str, sheet: str, frames: dict, dirty: dict, rng: np.random.Generator,
           excel: bool, title: tuple[str, ...] = (), prov: str | None = None) -> _Block:
    f, d = frames[spec.table], dirty[spec.table]
    if prov is not None:
        f, d = f[f["_blk"].to_numpy() == prov], d[d["_blk"].to_numpy() == prov]
    workbook = spec in SHEETS
    headers = [c.headers[rng.integers(len(c.headers))] for c in spec.columns]
    kept = [i for i, c in enumerate(spec.columns) if c.source not in spec.optional or f[c.source].notna().any()]
    return _Block(spec, file, sheet, [spec.columns[i] for i in kept], [headers[i] for i in kept],
                  f, d, excel, title, _choose_styles(spec, rng, excel), number_col=workbook and excel,
                  blank_tail=bool(rng.random() < 0.4) and (workbook or spec is REPORT_SPEC))


# ----------------------------------------------------------------------------- writers
#: (delimiter, encoding, line end) per table; other tables (national scale): ";", UTF-8 with BOM, CRLF.
_CSV_FORMATS = {"business_reports": (";", "cp1252", "\r\n"), "departures": ("\t", "utf-8", "\n"),
                "placements": (",", "utf-8", "\n"), "advocacy_cases": (",", "utf-8-sig", "\n"),
                "info_services": (",", "utf-8-sig", "\n"), "village_regulations": (",", "utf-8-sig", "\n")}


#: Tables whose rows get an ingest note for a malformed NIK (the registers; other rows carrying
#: the same NIK are not noted again).
NOTED_REGISTERS = ("members", "staff")


def _write_file(path: Path, blocks: list[_Block], w: _World) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Write one raw file; return its expected quarantine and ingest-note rows."""
    rng = w.rng(f"render:{path.name}")
    assembled = [(b, *_assemble(b)) for b in blocks]
    if path.suffix == ".xlsx":
        _write_xlsx(path, [(b, _cells(b, rows, rng)) for b, rows, _ in assembled])
    else:
        b, rows, _ = assembled[0]
        sep, enc, eol = _CSV_FORMATS.get(b.spec.table, (";", "utf-8-sig", "\r\n"))
        _write_csv(path, b, rows, rng, sep, enc, eol)
    quarantine, notes = [], []
    for b, _, info in assembled:
        base = {"file": path.name, "sheet": b.sheet, "table": b.spec.table}
        dirty = info[info["dirty"]]
        quarantine.append(pd.DataFrame({**base, "row": dirty["row"].to_numpy(), "rule": dirty["rule"].to_numpy()}))
        bad = info[~info["dirty"] & info["bad_nik"]] if b.spec.table in NOTED_REGISTERS else info.iloc[:0]
        notes.append(pd.DataFrame({**base, "row": bad["row"].to_numpy(), "rule": "invalid_nik"}))
    return quarantine, notes


def _write_csv(path: Path, block: _Block, rows: pd.DataFrame, rng: np.random.Generator, sep: str,
               encoding: str, eol: str, chunk: int = 500_000) -> None:
    """Title line(s), header, data written in chunks (bounded memory), maybe a blank last row."""
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=sep, lineterminator=eol)
        for line in block.title:
            fh.write(line + eol)
        header = (["No"] if block.number_col else []) + list(block.headers)
        writer.writerow(header)
        for start in range(0, len(rows), chunk):
            cells = _cells(block, rows.iloc[start:start + chunk], rng)
            writer.writerows(zip(*cells.values()))
        if block.blank_tail:
            writer.writerow([""] * len(header))


def _write_xlsx(path: Path, rendered: list) -> None:
    """A workbook as a CO fills it: title rows, a blank row, headers, data, sometimes a blank row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Border, Font, Side

    wb = Workbook(write_only=True)
    props = wb.properties
    props.creator = props.lastModifiedBy = GENERATOR
    props.title = "SYNTHETIC DATA — KKBM (not real people)"
    props.description = NOTICE
    bold = Font(bold=True)
    for block, cells in rendered:
        ws = wb.create_sheet(block.sheet)
        for text in block.title:
            cell = WriteOnlyCell(ws, value=text)
            cell.font = bold
            ws.append([cell])
        if block.title:
            ws.append([])
        header = []
        for name in cells:
            cell = WriteOnlyCell(ws, value=name)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        columns = [_date_cells(ws, values, WriteOnlyCell) for values in cells.values()]
        for row in zip(*columns):
            ws.append(list(row))
        if block.blank_tail:
            cell = WriteOnlyCell(ws, value=None)
            cell.border = Border(top=Side(style="thin"))
            ws.append([cell])
    save_workbook(wb, path)


def _date_cells(ws: Any, values: np.ndarray, cell_type: Any) -> list:
    """Excel date cells shown as dd/mm/yyyy; other values unchanged."""
    out = values.tolist()
    for i, v in enumerate(out):
        if isinstance(v, dt.datetime):
            cell = cell_type(ws, value=v)
            cell.number_format = "DD/MM/YYYY"
            out[i] = cell
    return out


# ----------------------------------------------------------------------------- generate_demo
def generate_demo(out_dir: str | Path, *, seed: int = DEFAULT_SEED, scale: str | float = "demo",
                  start_year: int = 2017, end_year: int = 2020, dirty_share: float = 0.02) -> SynthResult:
    """Write the synthetic demo dataset as raw files, with its ground truth.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to (created if needed; files of the same name are replaced).
    seed : int
        Seed of all random draws; the same seed gives byte-identical files.
    scale : {"demo", "national"}, "national:<fraction>" or float
        See :func:`generate_tables`. ``"demo"`` writes one Excel workbook per province
        plus CSV/Kobo files; ``"national"`` (and its fractions) one CSV per table.
    start_year, end_year : int
        Programme years (see :func:`generate_tables`).
    dirty_share : float
        Share of extra defective rows per table (at least one per defect type of each
        table when > 0; none when 0). Each has exactly one defect and nothing refers to
        it, so the clean tables come back unchanged after quarantine.

    Returns
    -------
    SynthResult
        Paths, the ground truth and the expected quarantine and ingest notes.

    Notes
    -----
    Files: ``SYNTHETIC_KKBM_<code>_<Province>.xlsx`` (CO workbooks: Komunitas, Anggota,
    Pengurus, Kegiatan, Daftar Hadir, Tahapan, Kelompok, Usaha, KUR, Konsultasi,
    Pencegahan; sheet names and headers vary between provinces),
    ``SYNTHETIC_laporan_usaha_<code>.csv`` (``;``, Windows-1252),
    ``SYNTHETIC_kobo_advokasi.csv`` and ``SYNTHETIC_kobo_layanan_informasi.xlsx``
    (KoboToolbox exports), ``SYNTHETIC_perdes.csv``, ``SYNTHETIC_keberangkatan_desa.csv``
    (tab-separated), ``SYNTHETIC_penempatan_bp2mi.csv``, and ``ground_truth.json``,
    ``expected_quarantine.csv``, ``expected_ingest_notes.csv``, ``SYNTHETIC.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables, w = _simulate(seed, scale, start_year, end_year)
    frames = _write_frames(tables, w)
    bus = tables["businesses"]
    w.lat["business_ids"] = bus["business_id"].to_numpy()
    w.lat["business_prov"] = frames["businesses"]["_prov"].to_numpy()
    for t, f in frames.items():  # the block (sheet/file) each row is written to
        f["_blk"] = f["_prov"] if _per_province(w, t) else ""
        f["_r"] = f.groupby("_blk", sort=False).cumcount().to_numpy()
    dirty = {t: _make_dirty(t, frames[t], w, float(dirty_share)) for t in frames}
    files, quarantine, notes = [], [], []
    for blocks in _blocks(w, frames, dirty):
        path = out / blocks[0].file
        q, f = _write_file(path, blocks, w)
        files.append(path)
        quarantine += q
        notes += f
    add_survey_to_demo(out, tables, seed=w.seed, dirty_share=float(dirty_share), files=files,
                       quarantine=quarantine, truth=w.truth)
    columns = ["file", "sheet", "row", "table", "rule"]
    q = pd.concat(quarantine, ignore_index=True)[columns]
    f = pd.concat(notes, ignore_index=True)[columns]
    truth = _ground_truth(w, dirty_share, q, files)
    files += _write_meta(out, w, truth, q, f, dirty_share)
    return SynthResult(out, files, truth, q, f)


def _ground_truth(w: _World, dirty_share: float, q: pd.DataFrame, files: list[Path]) -> dict:
    counts = q.groupby(["table", "rule"]).size()
    head = {"notice": NOTICE, "generator": GENERATOR, "seed": w.seed, "scale": w.scale.label,
            "start_year": w.start_year, "end_year": w.end_year,
            "files": [p.name for p in files],
            "dirty_rows": {"share": dirty_share, "rule_of_thumb": "each extra row has exactly one defect and "
                           "nothing refers to it; see expected_quarantine.csv",
                           "counts": {t: {r: int(n) for r, n in counts[t].items()} for t in
                                      counts.index.get_level_values(0).unique()}}}
    return {**head, **w.truth}


def _write_meta(out: Path, w: _World, truth: dict, q: pd.DataFrame, f: pd.DataFrame, share: float) -> list[Path]:
    try:
        version = metadata.version("kkbm-analysis")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    stamp = {"generator": GENERATOR, "package_version": version, "seed": w.seed, "scale": w.scale.label,
             "start_year": w.start_year, "end_year": w.end_year, "dirty_share": share, "notice": NOTICE,
             "sha256": {name: sha256(out / name) for name in truth["files"]}}  # proves the folder is the demo
    paths = [out / "ground_truth.json", out / "expected_quarantine.csv", out / "expected_ingest_notes.csv",
             out / "SYNTHETIC.json"]
    paths[0].write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    q.to_csv(paths[1], index=False, lineterminator="\n")
    f.to_csv(paths[2], index=False, lineterminator="\n")
    paths[3].write_text(json.dumps(stamp, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


