"""From a raw sheet to rows of one table: the mapping applied, odd rows set aside with a reason.

:func:`shape_sheet` takes a :class:`~kkbm_analysis.readers.RawSheet`, the table it holds and
the mapping, and gives a :class:`Shaped` sheet: one column per field (raw values still),
every raw row either kept (with a row id) or skipped with a reason. Skipped on purpose:

* rows the mapping names (``skip_rows``), a header repeated on a new page;
* totals rows (``Jumlah``, ``Total``, ``TOTAL (reported)``, ``INDONESIA`` ...), after a
  **sum check**: when the rows above do not add up to the stated total, a note says so;
* footers under the table (``Sumber: ...``, a signature block).

Then constants are filled in, values recoded, and a wide table (one column per year or
month) reshaped into rows of period and value. Row accounting stays in raw rows: every
kept raw row has one id, shared by the rows a reshape makes from it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from . import parsing
from .layout import cell_text, is_empty
from .mapping import FileRule, Mapping
from .matching import header_keys, identifier_headers, match_columns
from .patterns import ASCII_SPACE, ascii_matches, first_bytes, opening_bytes
from .readers import RawSheet
from .schema import TABLES, identifier_kind
from .textrows import ARROW_STRINGS

_TOTAL_WORDS = ("jumlah", "total", "grand total", "sub total", "subtotal", "jml", "rekapitulasi", "rekap",
                "seluruhnya", "keseluruhan", "total keseluruhan", "jumlah total", "jumlah seluruhnya")
_TOTAL_EXACT = ("indonesia", "nasional", "national", "all", "semua")
_FOOTER = re.compile(r"^\s*(sumber|source|keterangan|ket\s*[.:]|catatan|note|notes|nb\b|n\.b|\*|mengetahui|"
                     r"dibuat|disusun|diperiksa|disetujui|kepala|ketua|ttd|tanda tangan|dicetak|printed)",
                     re.IGNORECASE)
_PLACE_DATE = re.compile(r"^[A-Z][\w .'-]+,\s*\d{1,2}[\s/.-]+\w+[\s/.-]+\d{2,4}$")
NUMERIC_KINDS = ("int", "number", "rupiah")


@dataclass
class Shaped:
    """A raw sheet as rows of one table.

    Attributes
    ----------
    raw : RawSheet
    relpath : str
        The file, relative to the raw folder.
    table : str or None
        ``None`` for a sheet no table fits (its rows are quarantined).
    frame : DataFrame
        One column per field (raw values), plus ``_uid`` (row id) and, after a reshape,
        ``_col`` (the wide column each row came from).
    rows, uids : ndarray
        Sheet row numbers of the kept raw rows and their ids (aligned).
    mapped : dict
        Raw header -> field.
    identifiers : dict
        Raw header -> identifier kind (never shown, never kept).
    dropped, unused : list of str
        Headers dropped on purpose, and headers no field uses.
    skipped : dict
        Row number -> reason, for every raw row left out on purpose (not blank rows).
    constants : dict
        Field -> value set by the mapping.
    notes : list of dict
        Sheet-level notes: ``row``, ``column``, ``rule``, ``message``.
    """

    raw: RawSheet
    relpath: str
    table: str | None
    rule: FileRule | None
    frame: pd.DataFrame
    rows: np.ndarray
    uids: np.ndarray
    mapped: dict[str, str]
    identifiers: dict[str, str]
    dropped: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    notes: list[dict] = field(default_factory=list)
    name_words: frozenset[str] | None = None
    span: int = 0  # row ids given out (kept rows, including those a reshape found empty)

    @property
    def sheet(self) -> str:
        return self.raw.sheet or ""

    def header_of(self, field_name: str) -> str:
        """The raw header a field was read from (``'(constant)'`` for a mapping constant)."""
        if field_name in self.constants:
            return "(mapping constant)"
        return next((h for h, f in self.mapped.items() if f == field_name), "")


@dataclass
class SheetPlan:
    """What the mapping makes of one sheet, decided from its header (the same for every chunk).

    Attributes
    ----------
    relpath, table, rule :
        As in :class:`Shaped`.
    headers : list of str
        The raw headers.
    mapped, identifiers, dropped, unused, constants :
        As in :class:`Shaped`.
    wide : list of str
        The headers a reshape turns into rows.
    notes : list of dict
        Sheet-level notes the plan itself gives (a constant that overrides a column).
    sums : SumState
        The running sums of the sum check (see :func:`shape_chunk`).
    """

    relpath: str
    table: str | None
    rule: FileRule | None
    headers: list[str]
    mapped: dict[str, str]
    identifiers: dict[str, str]
    dropped: list[str]
    unused: list[str]
    wide: list[str]
    constants: dict[str, Any]
    recode: dict[str, dict[str, str]]
    notes: list[dict] = field(default_factory=list)
    sums: "SumState" = field(default_factory=lambda: SumState())

    @property
    def key_headers(self) -> set[str]:
        return {h for h, f in self.mapped.items() if self.table and f in TABLES[self.table].key}

    def header_of(self, field_name: str) -> str:
        if field_name in self.constants:
            return "(mapping constant)"
        return next((h for h, f in self.mapped.items() if f == field_name), "")


def plan_sheet(raw: RawSheet, relpath: str, table: str | None, rule: FileRule | None, mapping: Mapping) -> SheetPlan:
    """Which header is which field, what is dropped or reshaped, and the constants (see module docstring)."""
    headers = [str(c) for c in raw.frame.columns]
    overrides = mapping.columns_for(rule)
    drops = set(rule.drop if rule else ()) | {k for k, v in overrides.items() if v == "drop"}
    reshape = rule.reshape if rule and table else None
    wide = [h for h in headers if reshape and reshape.selects(h)]
    mapped = match_columns(headers, table, overrides, frozenset(drops), set(wide)) if table else {}
    dropped = [h for h in headers if any(k in drops for k in header_keys(h))]
    identifiers = identifier_headers(headers)
    unused = [h for h in headers if h not in mapped and h not in identifiers and h not in dropped
              and h not in wide and not h.startswith("kobo_")]
    constants = {f: _constant(v, raw, relpath) for f, v in (rule.constants if rule else {}).items()} if table else {}
    plan = SheetPlan(relpath, table, rule, headers, mapped, identifiers, dropped, unused, wide, constants,
                     mapping.recode_for(rule) if table else {})
    for f in constants:
        if any(v == f for v in mapped.values()):
            plan.notes.append({"row": pd.NA, "column": plan.header_of(f), "rule": "constant_overrides_column",
                               "message": f"the mapping sets {f} for the whole sheet; the column is not used"})
    return plan


def shape_sheet(raw: RawSheet, relpath: str, table: str | None, rule: FileRule | None, mapping: Mapping,
                first_uid: int) -> Shaped:
    """Apply the mapping to one raw sheet read whole (see module docstring)."""
    plan = plan_sheet(raw, relpath, table, rule, mapping)
    shaped = shape_chunk(raw, plan, first_uid)
    shaped.notes += plan.notes
    return shaped


def shape_chunk(raw: RawSheet, plan: SheetPlan, first_uid: int, *, last: bool = True, width: int | None = None,
                earlier: "Callable[[], Iterable[RawSheet]] | None" = None) -> Shaped:
    """Apply a sheet's plan to one chunk of its rows.

    Parameters
    ----------
    raw : RawSheet
        The chunk (a whole sheet is one chunk).
    plan : SheetPlan
    first_uid : int
        Row id of the chunk's first kept row.
    last : bool
        Whether the chunk ends the sheet (only there is a block of footer rows looked for).
    width : int, optional
        Columns of the whole sheet, when the chunk has more (see :class:`~kkbm_analysis.rawsheet.RowStream`).
    earlier : callable, optional
        The chunks before this one, read again: needed only when a totals row comes after
        the first chunk (its sum check adds up the rows above it).
    """
    frame = raw.frame
    table, rule, mapped = plan.table, plan.rule, plan.mapped
    skipped = dict(raw.skipped_rows)
    row_numbers = frame.index.to_numpy(dtype=np.int64)
    keep = ~_mark(_skip_rows(row_numbers, rule), row_numbers, skipped, "left out by the mapping (skip_rows)")
    keep &= ~_mark(_repeated_header(frame, plan.headers), row_numbers, skipped, "the header repeated (a new page)")
    filled = frame.notna().to_numpy()  # once: the totals and the footers both look at it
    totals = _totals_rows(frame, mapped, rule, table, filled) & keep
    notes = plan.sums.check(frame, totals, keep, plan, earlier) if table else []
    keep &= ~_mark(totals, row_numbers, skipped, None, frame=frame)
    if table:
        keep &= ~_mark(_footer_rows(frame, keep, plan.key_headers, last=last, width=width, filled=filled),
                       row_numbers, skipped, "a footer or note under the table")
    kept = frame[keep]
    rows = kept.index.to_numpy(dtype=np.int64)
    uids = np.arange(first_uid, first_uid + len(kept), dtype=np.int64)
    data = _field_frame(kept, mapped, plan.constants, uids)
    if table:
        data = _recode(data, plan.recode)
        if rule and rule.reshape and plan.wide:
            data = _reshape(data, kept, plan.wide, rule.reshape.to, rule.reshape.value)
            empty = ~np.isin(uids, data["_uid"].to_numpy())
            skipped.update({int(r): "no value in any of the reshaped columns" for r in rows[empty]})
            rows, uids = rows[~empty], uids[~empty]
    return Shaped(raw, plan.relpath, table, rule, data, rows, uids, mapped, plan.identifiers, plan.dropped,
                  plan.unused, skipped, plan.constants, notes, span=len(kept))


def _skip_rows(rows: np.ndarray, rule: FileRule | None) -> np.ndarray:
    return np.isin(rows, list(rule.skip_rows)) if rule and rule.skip_rows else np.zeros(len(rows), dtype=bool)


def _mark(mask: np.ndarray, rows: np.ndarray, skipped: dict[int, str], reason: str | None,
          frame: pd.DataFrame | None = None) -> np.ndarray:
    for i in np.flatnonzero(mask):
        skipped[int(rows[i])] = reason or f"a totals row ({_total_label(frame.iloc[i])})"
    return mask


# --------------------------------------------------------------------------- odd rows
def _repeated_header(frame: pd.DataFrame, headers: list[str]) -> np.ndarray:
    """Rows that copy the header (a table printed over several pages)."""
    out = np.zeros(len(frame), dtype=bool)
    named = [(c, h) for c, h in zip(frame.columns, headers) if not h.startswith("unnamed_")]
    if len(frame) == 0 or len(named) < 2:
        return out
    (c1, h1), (c2, h2) = named[:2]
    same = [(c if c.dtype == ARROW_STRINGS else c.astype(object)) == h for c, h in ((frame[c1], h1), (frame[c2], h2))]
    candidates = np.flatnonzero((same[0] | same[1]).to_numpy())
    for i in candidates:  # few rows: compare them whole
        row = frame.iloc[i]
        same = sum(v == h for v, h in zip(row, headers) if isinstance(v, str))
        out[i] = same >= max(2, 0.6 * row.notna().sum())
    return out


#: How a totals cell starts (after white space, in either case): each alternative opens with two letters.
_TOTAL_STARTS = ("jumlah", "total", "grand", r"sub\s*-?\s*total", "jml", "rekap", "seluruh", "keseluruhan",
                 "indonesia", "nasional", "national", r"all\b", "semua")
_TOTAL_START = re.compile(r"^\s*(?:" + "|".join(_TOTAL_STARTS) + ")", re.IGNORECASE)
#: :data:`_TOTAL_START` for pyarrow's RE2: the same matches on ASCII text.
_TOTAL_START_ASCII = "(?i)" + _TOTAL_START.pattern.replace("\\s", ASCII_SPACE)
_TOTAL_FIRST_TWO = opening_bytes(_TOTAL_STARTS)  # which first two UTF-8 bytes a totals cell can have
_TOTAL_PAIRS = _TOTAL_FIRST_TWO.T.ravel()  # the same, by the two bytes read as one little-endian 16-bit number


def _is_total_text(value: Any, extra: tuple[str, ...], leading: bool) -> bool:
    if not isinstance(value, str) or len(value) > 40:
        return False
    if not extra and not _TOTAL_START.match(value):
        return False
    text = " ".join(re.sub(r"[^\w\s()]", " ", value.lower()).split())
    if not text:
        return False
    words = tuple(w.lower() for w in (*_TOTAL_WORDS, *extra))
    bare = re.sub(r"\s*\(.*\)\s*$", "", text)
    if bare in words or bare in _TOTAL_EXACT:
        return True
    return leading and any(text.startswith(w + " ") for w in words) and len(text.split()) <= 5


#: Field kinds whose cells can hold a totals label ("TOTAL (reported)" written as a country).
_LABEL_KINDS = (None, "text", "code", "region", "category")
_NUMBER_IDENTIFIERS = ("nik", "phone", "passport", "email", "family_card", "other_id")


def _totals_rows(frame: pd.DataFrame, mapped: dict[str, str], rule: FileRule | None,
                 table: str | None = None, filled: np.ndarray | None = None) -> np.ndarray:
    """Rows that state a total: a totals word starting one of the row's first two cells, or
    a whole cell of a label column that is a totals word (``filled``: ``frame.notna()``, when known)."""
    extra = rule.totals if rule else ()
    out = np.zeros(len(frame), dtype=bool)
    filled = frame.notna().to_numpy() if filled is None else filled
    before = np.zeros(len(frame), dtype=np.int16 if filled.shape[1] < 2 ** 15 else np.int64)  # filled cells on the left
    columns = TABLES[table].schema.columns if table else {}
    for j, column in enumerate(frame.columns):
        leading = filled[:, j] & (before < 2)  # among the row's first two filled cells
        before += filled[:, j]
        field_name = mapped.get(column)
        label = (identifier_kind(column) not in _NUMBER_IDENTIFIERS
                 and (field_name is None or (columns[field_name].metadata or {}).get("kind") in _LABEL_KINDS))
        looked = filled[:, j] if label else leading
        cells = frame[column]
        if not extra and looked.any() and cells.dtype == object and pd.api.types.infer_dtype(cells) == "string":
            try:  # text held as objects (a sheet read whole): as Arrow text, for the filters below
                cells = cells.astype(ARROW_STRINGS)
            except UnicodeError:  # (a lone surrogate) left to Python
                pass
        first = None if extra or not looked.any() else first_bytes(cells, 2)
        if first is not None:  # a cell whose first two bytes no totals word begins with is none
            looked = looked & _TOTAL_PAIRS[first.view("<u2")[:, 0]]
        rows = np.flatnonzero(looked)
        starts = None if extra else ascii_matches(cells.take(rows), _TOTAL_START_ASCII)  # None: all looked at
        rows = rows if starts is None else rows[starts]
        if not len(rows):
            continue
        values = cells.to_numpy(dtype=object)[rows]
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        exact, lead = np.zeros((2, len(uniques) + 1), dtype=bool)
        for k, u in enumerate(uniques):
            if isinstance(u, str) and (extra or _TOTAL_START.match(u)):
                exact[k] = _is_total_text(u, extra, leading=False)
                lead[k] = exact[k] or _is_total_text(u, extra, leading=True)
        hit = (exact[codes] & label) | (lead[codes] & leading[rows])
        out[rows[hit]] = True
    return out


def _total_label(row: pd.Series) -> str:
    label = next((cell_text(v) for v in row if isinstance(v, str) and _is_total_text(v, (), True)), "total")
    return f"'{label[:30]}'"


def _footer_rows(frame: pd.DataFrame, keep: np.ndarray, key_headers: set[str], *, last: bool = True,
                 width: int | None = None, filled: np.ndarray | None = None) -> np.ndarray:
    """Notes and signature blocks: rows under the table with one or two text cells, or a footer word.

    The block under the table is looked for only in the ``last`` chunk of a sheet; ``width``
    is the sheet's number of columns when the chunk carries more (columns a whole read drops).
    """
    out = np.zeros(len(frame), dtype=bool)
    if len(frame) == 0:
        return out
    columns = list(frame.columns)
    filled_count = (frame.notna().to_numpy() if filled is None else filled).sum(axis=1)
    most = max(1, min(2, (width if width is not None else len(columns)) // 3))  # a footer is much sparser

    def footer(i: int) -> tuple[bool, bool, int]:
        filled = [(c, v) for c, v in zip(columns, frame.iloc[i]) if not is_empty(v)]
        texts = all(isinstance(v, str) and not any(ch.isdigit() for ch in v[:3]) for _, v in filled)
        first = cell_text(filled[0][1]) if filled else ""
        word = bool(_FOOTER.match(first) or _PLACE_DATE.match(first))
        sparse = len(filled) <= most and texts and not any(c in key_headers for c, _ in filled)
        return word, sparse, len(filled)

    for i in range(len(frame) - 1, -1, -1) if last else ():  # the block under the table
        if not keep[i]:
            continue
        word, sparse, n = footer(i)
        if not ((sparse or word) and n <= 3):
            break
        out[i] = True
    for i in np.flatnonzero((filled_count == 1) & keep & ~out):  # a lone note line inside the table
        if footer(i)[0]:
            out[i] = True
    return out


class SumState:
    """The sum check of a sheet, carried from chunk to chunk.

    For each totals row, the stated figure is compared with the sum of the data rows of its
    section (since the previous totals row), of all data rows above it, and of the totals
    rows above it; a note says when none matches. Sums are kept only once a totals row was
    seen; a first totals row after the first chunk adds up the earlier chunks read again.
    """

    def __init__(self) -> None:
        self.active = False
        self.chunks = 0
        self.section: dict[str, float] = {}
        self.everything: dict[str, float] = {}
        self.subtotals: dict[str, float] = {}
        self.count = 0

    def check(self, frame: pd.DataFrame, totals: np.ndarray, keep: np.ndarray, plan: SheetPlan,
              earlier: "Callable[[], Iterable[RawSheet]] | None" = None) -> list[dict]:
        """Notes for the totals rows of one chunk whose figures differ from the rows above them."""
        self.chunks += 1
        if not self.active and not totals.any():
            return []
        headers = _numeric_headers(plan)
        if not self.active:
            self.active = True
            if self.chunks > 1 and earlier is not None:
                self._add_earlier(earlier(), plan, headers)
        data = keep & ~totals
        rows = frame.index.to_numpy()
        notes, start = [], 0
        values = {h: parsing.parse_rupiah(frame[h]).values.astype("Float64") for h in headers}
        for i in np.flatnonzero(totals):
            n = self.count + int(data[start:i].sum())
            for header in headers:
                v = values[header]
                stated = v.iloc[i]
                if pd.isna(stated):
                    continue
                section = self.section.get(header, 0.0) + float(v.iloc[start:i][data[start:i]].sum())
                everything = self.everything.get(header, 0.0) + float(v.iloc[:i][data[:i]].sum())
                subtotals = self.subtotals.get(header, 0.0) + float(v.iloc[:i][totals[:i]].sum())
                if any(abs(stated - s) < 0.5 for s in (section, everything, subtotals)):
                    continue
                notes.append({"row": int(rows[i]), "column": header, "rule": "sum_check",
                              "message": f"the totals row states {_num(stated)} but the {n} row(s) above it add up "
                                         f"to {_num(section)} (a difference of {_num(stated - section)}); check the "
                                         "rows or the total"})
            self.section, self.count, start = {}, 0, i + 1
        for header in headers:
            v = values[header]
            self.section[header] = self.section.get(header, 0.0) + float(v.iloc[start:][data[start:]].sum())
            self.everything[header] = self.everything.get(header, 0.0) + float(v[data].sum())
            self.subtotals[header] = self.subtotals.get(header, 0.0) + float(v[totals].sum())
        self.count += int(data[start:].sum())
        return notes

    def _add_earlier(self, chunks: Iterable[RawSheet], plan: SheetPlan, headers: list[str]) -> None:
        """The data rows of the chunks before the first totals row (there were no totals rows in them)."""
        for n, chunk in enumerate(chunks):
            if n >= self.chunks - 1:
                break
            frame, rows = chunk.frame, chunk.frame.index.to_numpy(dtype=np.int64)
            keep = ~_skip_rows(rows, plan.rule) & ~_repeated_header(frame, plan.headers)
            self.count += int(keep.sum())
            for header in headers:
                v = parsing.parse_rupiah(frame[header]).values.astype("Float64")
                total = float(v[keep].sum())
                self.section[header] = self.section.get(header, 0.0) + total
                self.everything[header] = self.everything.get(header, 0.0) + total


def _numeric_headers(plan: SheetPlan) -> list[str]:
    columns = TABLES[plan.table].schema.columns
    numeric = [h for h, f in plan.mapped.items() if (columns[f].metadata or {}).get("kind") in NUMERIC_KINDS
               or str(columns[f].dtype) in ("Int64", "Float64")]
    return numeric + plan.wide


def _num(x: float) -> str:
    """A number the Indonesian way: 1.250 and -250.000; decimals with a comma."""
    if float(x).is_integer():
        return f"{int(x):,}".replace(",", ".")
    return f"{x:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


# --------------------------------------------------------------------------- values
def _constant(value: Any, raw: RawSheet, relpath: str) -> Any:
    if isinstance(value, str):
        stem = relpath.rsplit("/", 1)[-1].split(".")[0]
        return value.replace("{sheet}", raw.sheet or stem).replace("{file}", stem)
    return value


def _field_frame(kept: pd.DataFrame, mapped: dict[str, str], constants: dict[str, Any],
                 uids: np.ndarray) -> pd.DataFrame:
    data = {f: _cells(kept[h]) for h, f in mapped.items() if f not in constants}
    for f, v in constants.items():
        data[f] = np.full(len(kept), v, dtype=object)
    out = pd.DataFrame(data, index=pd.RangeIndex(len(kept)))
    out["_uid"] = uids
    return out


def _cells(column: pd.Series) -> Any:
    """A column's raw cells for a field frame: as Python objects, except Arrow text with a value, kept
    as it is (the type a frame infers from the same cells as objects, without making an object per cell)."""
    if column.dtype == ARROW_STRINGS and column.notna().any():
        return column.array
    return column.to_numpy(dtype=object)


def _recode(data: pd.DataFrame, recode: dict[str, dict[str, str]]) -> pd.DataFrame:
    for f, table in recode.items():
        if f not in data or not table:
            continue
        codes, uniques = pd.factorize(data[f])
        new = np.array([table.get(parsing.normalise_text(cell_text(u)), u) for u in uniques], dtype=object)
        data[f] = np.where(codes >= 0, new[np.maximum(codes, 0)] if len(new) else None, None)
    return data


def _reshape(data: pd.DataFrame, kept: pd.DataFrame, wide: list[str], to: str, value: str) -> pd.DataFrame:
    """One row per (raw row, wide column) with a value; blank cells make no row."""
    parts = []
    for header in wide:
        cells = kept[header].to_numpy(dtype=object)
        filled = np.array([not is_empty(v) for v in cells], dtype=bool)
        part = data.loc[filled].copy()
        part[to] = header
        part[value] = cells[filled]
        part["_col"] = header
        parts.append(part)
    if not parts:
        return data.iloc[:0].assign(**{to: None, value: None, "_col": None})
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values("_uid", kind="stable").reset_index(drop=True)
