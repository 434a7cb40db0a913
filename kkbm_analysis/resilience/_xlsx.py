"""Byte-reproducible .xlsx files from DataFrames (fixed metadata and zip timestamps)."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pandas as pd

FIXED_TIME = dt.datetime(2020, 1, 1)


def write_sheets(path: str | Path, sheets: dict[str, pd.DataFrame], *, title: str = "",
                 creator: str = "kkbm-analysis") -> Path:
    """Write one sheet per frame (header row, then values; missing cells empty).

    The same frames give the same bytes: workbook times and zip entry times are fixed.
    """
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook(write_only=True)
    props = wb.properties
    props.creator = props.lastModifiedBy = creator
    props.title = title
    props.created = props.modified = FIXED_TIME
    for name, frame in sheets.items():
        ws = wb.create_sheet(name)
        ws.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            ws.append([None if (v is None or (not isinstance(v, str) and pd.isna(v))) else v for v in row])
    buf = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save()
    path = Path(path)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(item.filename))
    return path
