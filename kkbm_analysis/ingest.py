"""Raw files -> validated, pseudonymised Parquet tables, a quarantine and a manifest.

The pipeline, for every file under a raw folder (never modified):

1. read each sheet as raw text with its row numbers (:mod:`.readers`);
2. decide which table it holds and which header is which field (:mod:`.mapping`);
3. drop direct identifiers, turning NIKs into keyed pseudonyms (:mod:`.privacy`);
4. read Indonesian numbers, rupiah, dates and categories (:mod:`.parsing`), and
   region names into Kemendagri codes (:mod:`.regions`);
5. check every row against its table's schema and the cross-table rules (:mod:`.schema`);
6. write accepted rows as Parquet and every other row to the quarantine, with the file,
   sheet, row, column, rule and a plain message, so that for every file and table
   ``rows read = rows accepted + rows quarantined``.

:func:`ingest` returns an :class:`IngestResult`; ``kkbm ingest`` is its command line.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import parsing, regions
from .io import write_csv, write_json, write_parquet, write_text, sha256
from .mapping import (DEFAULT_MAPPING_NAME, Mapping, detect_table, identifier_headers, load_mapping,
                      match_columns)
from .privacy import PseudonymKey, nik_problems, pseudonymise
from .readers import RawFileError, RawSheet, SUPPORTED_SUFFIXES, read_raw
from .schema import SCHEMA_VERSION, TABLE_ORDER, TABLES, VOCABULARIES, codebook

PROBLEM_COLUMNS = ["table", "file", "sheet", "row", "column", "rule", "message"]
REGION_LEVELS = {"province_code": "province", "regency_code": "regency", "district_code": "district",
                 "village_code": "village"}


def package_version() -> str:
    """Installed version of kkbm-analysis."""
    try:
        return version("kkbm-analysis")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled checkout
        return "0+unknown"


# --------------------------------------------------------------------------- results
@dataclass
class IngestResult:
    """What an ingest produced.

    Attributes
    ----------
    tables : dict of DataFrame
        Accepted rows per table, typed as in :mod:`.schema`, sorted by key.
    quarantine : DataFrame
        One row per problem: table, file, sheet, row, column, rule, message, and the
        row's original values as JSON (direct identifiers redacted: the file, sheet and
        row lead back to them in the raw file).
    findings : DataFrame
        Accepted-but-noteworthy facts (malformed NIK, legacy province, unused columns,
        dropped identifier columns), same columns as the quarantine without values.
    accounting : DataFrame
        Per file, sheet and table: rows read, accepted, quarantined, blank rows skipped.
    manifest : dict
        Inputs with SHA-256, counts, versions, key id, parameters.
    errors : list of str
        Files or sheets that could not be used at all.
    """

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    findings: pd.DataFrame
    accounting: pd.DataFrame
    manifest: dict[str, Any]
    errors: list[str] = field(default_factory=list)

    @property
    def rows_quarantined(self) -> int:
        return int(self.accounting["rows_quarantined"].sum())

    @property
    def ok(self) -> bool:
        """True when nothing was quarantined and every file was read."""
        return not self.errors and self.rows_quarantined == 0

    def summary(self) -> str:
        """Plain-text account of the run."""
        acc = self.accounting.groupby("table", sort=False)[["rows_read", "rows_accepted", "rows_quarantined"]]
        lines = [f"kkbm-analysis ingest ({'SYNTHETIC demo data' if self.manifest.get('synthetic') else 'data'}"
                 f", data version {self.manifest.get('data_version')})",
                 f"{'table':<20}{'read':>10}{'accepted':>10}{'quarantined':>13}"]
        for table, row in acc.sum().iterrows():
            lines.append(f"{table:<20}{row.rows_read:>10,}{row.rows_accepted:>10,}{row.rows_quarantined:>13,}")
        if len(self.quarantine):
            lines.append("quarantined by rule: " + ", ".join(
                f"{r} {n}" for r, n in self.quarantine["rule"].value_counts().sort_index().items()))
        lines += [f"error: {e}" for e in self.errors]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass
class _Sheet:
    """A raw sheet assigned to a table, with the global row ids of its rows."""

    raw: RawSheet
    relpath: str
    table: str | None
    uids: np.ndarray
    mapped: dict[str, str]
    identifiers: dict[str, str]


class _Problems:
    """Collects problems keyed by global row id; keeps the set of failed ids at hand."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {"uid": [], "column": [], "rule": [], "message": []}
        self._uids: set[int] = set()

    def add(self, uids: Iterable[int], column: str, rule: str, messages: Any) -> None:
        uids = np.asarray(list(uids) if not isinstance(uids, (np.ndarray, pd.Index, pd.Series)) else uids,
                          dtype=np.int64).tolist()
        if not uids:
            return
        if isinstance(messages, str):
            messages = [messages] * len(uids)
        self.columns["uid"] += uids
        self.columns["column"] += [column] * len(uids)
        self.columns["rule"] += [rule] * len(uids)
        self.columns["message"] += list(messages)
        self._uids.update(uids)

    def frame(self) -> pd.DataFrame:
        """One row per (row, column, rule); a check reported several times counts once."""
        df = pd.DataFrame(self.columns).astype({"uid": "int64", "column": "str", "rule": "str", "message": "str"})
        return df.drop_duplicates(["uid", "column", "rule"])

    def uids(self) -> set[int]:
        return self._uids


# --------------------------------------------------------------------------- entry point
def ingest(raw_dir: str | Path, out_dir: str | Path | None = None, *, mapping: str | Path | None = None,
           key: PseudonymKey | None = None, as_of: date | None = None,
           progress: Callable[[Iterable[Any], str], Iterable[Any]] | None = None) -> IngestResult:
    """Ingest every data file under ``raw_dir``.

    Parameters
    ----------
    raw_dir : path
        Folder of raw files (CSV/TSV, Excel, ODS, KoboToolbox exports). Read only.
    out_dir : path, optional
        Where to write the processed tables, quarantine and manifest. Replaced as a
        whole and atomically (a failed run leaves the previous output intact).
        ``None`` writes nothing.
    mapping : path, optional
        Mapping YAML (default ``raw_dir/kkbm-mapping.yaml`` if present).
    key : PseudonymKey, optional
        Pseudonym key. Default: the demo key for synthetic data (a ``SYNTHETIC.json``
        marker or ``SYNTHETIC_`` file names), else :meth:`PseudonymKey.from_environment`.
    as_of : date, optional
        Dates after this are quarantined as ``future_date`` (default: today).
    progress : callable, optional
        ``progress(iterable, description)`` wrapper for a progress bar.

    Returns
    -------
    IngestResult
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw data folder not found: {raw_dir}")
    rules = load_mapping(mapping or raw_dir / DEFAULT_MAPPING_NAME)
    files = discover(raw_dir, rules)
    synthetic = is_synthetic(raw_dir, files)
    key = key or (PseudonymKey.demo() if synthetic else PseudonymKey.from_environment())
    as_of = as_of or date.today()
    wrap = progress or (lambda it, _desc: it)

    sheets, errors = _read_all(raw_dir, files, rules, wrap)
    problems, findings = _Problems(), []
    tables: dict[str, pd.DataFrame] = {}
    for table in wrap(TABLE_ORDER, "validating tables"):
        parts = [s for s in sheets if s.table == table]
        if parts:
            tables[table] = _build_table(table, parts, key, pd.Timestamp(as_of), problems, findings)
    _unrecognised(sheets, problems)
    tables = _cross_table(tables, problems, findings)

    prob = problems.frame()
    bad = set(prob["uid"].tolist())
    tables = {t: _finalise(t, df[~df["_uid"].isin(bad)]) for t, df in tables.items()}
    quarantine = _quarantine_frame(prob, sheets)
    findings_df = _findings_frame(findings, sheets)
    accounting = _accounting(sheets, bad)
    manifest = _manifest(raw_dir, files, rules, sheets, tables, accounting, key, synthetic, as_of, errors)
    result = IngestResult(tables, quarantine, findings_df, accounting, manifest, errors)
    if out_dir is not None:
        write_outputs(result, Path(out_dir))
    return result


def discover(raw_dir: Path, rules: Mapping) -> list[Path]:
    """Data files under ``raw_dir`` in a stable order, minus excluded ones."""
    found = []
    for path in sorted(raw_dir.rglob("*")):
        rel = path.relative_to(raw_dir).as_posix()
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and not rules.excluded(rel):
            found.append(path)
    return found


def is_synthetic(raw_dir: Path, files: list[Path]) -> bool:
    """Synthetic demo data carries a ``SYNTHETIC.json`` marker or ``SYNTHETIC_`` file names."""
    return (raw_dir / "SYNTHETIC.json").exists() or any(f.name.upper().startswith("SYNTHETIC") for f in files)


# --------------------------------------------------------------------------- reading and mapping
def _read_all(raw_dir: Path, files: list[Path], rules: Mapping,
              wrap: Callable) -> tuple[list[_Sheet], list[str]]:
    sheets: list[_Sheet] = []
    errors: list[str] = []
    next_uid = 0
    for path in wrap(files, "reading files"):
        rel = path.relative_to(raw_dir).as_posix()
        try:
            raws = read_raw(path, header_row=_header_override(rules, rel))
        except RawFileError as exc:
            errors.append(str(exc))
            continue
        for raw in raws:
            sheet = _assign(raw, rel, rules, next_uid)
            next_uid += len(raw.frame)
            sheets.append(sheet)
    return sheets, errors


def _header_override(rules: Mapping, rel: str) -> int | None:
    rule = rules.rule_for(rel, None)
    return rule.header_row if rule else None


def _assign(raw: RawSheet, rel: str, rules: Mapping, first_uid: int) -> _Sheet:
    headers = [str(c) for c in raw.frame.columns]
    rule = rules.rule_for(rel, raw.sheet)
    overrides = {**rules.columns, **(rule.columns if rule else {})}
    table = rule.table if rule and rule.table else detect_table(headers, raw.sheet, rel, overrides)[0]
    mapped = match_columns(headers, table, overrides) if table else {}
    uids = np.arange(first_uid, first_uid + len(raw.frame), dtype=np.int64)
    return _Sheet(raw, rel, table, uids, mapped, identifier_headers(headers))


def _unrecognised(sheets: list[_Sheet], problems: _Problems) -> None:
    for s in sheets:
        if s.table is None and len(s.uids):
            _, ranked = detect_table([str(c) for c in s.raw.frame.columns], s.raw.sheet, s.relpath, {})
            hint = ", ".join(f"{t} ({sc:.0%})" for t, sc in ranked[:3]) or "none"
            problems.add(s.uids, "", "unrecognised_sheet",
                         f"could not tell which table this sheet holds (closest: {hint}); "
                         "name it in kkbm-mapping.yaml")


# --------------------------------------------------------------------------- one table
def _build_table(table: str, parts: list[_Sheet], key: PseudonymKey, as_of: pd.Timestamp,
                 problems: _Problems, findings: list[dict]) -> pd.DataFrame:
    """Parse, pseudonymise, harmonise and validate the rows of one table."""
    spec = TABLES[table]
    raw = pd.concat([_sheet_frame(s, spec, problems, findings) for s in parts], ignore_index=True)
    out = pd.DataFrame({"_uid": raw["_uid"].to_numpy()})
    region_cols = spec.region_columns
    for column in spec.columns:
        if column in region_cols:
            continue
        out[column] = _parse_column(table, column, raw, key, problems, findings)
    if region_cols:
        out = out.join(_harmonise(raw, region_cols, problems, findings))
    out = _row_rules(table, out, as_of, problems)
    return out


def _sheet_frame(s: _Sheet, spec, problems: _Problems, findings: list[dict]) -> pd.DataFrame:
    """The sheet's mapped raw columns, renamed to field names, plus row ids."""
    frame = s.raw.frame
    data = {field_: frame[header].to_numpy(dtype=object) for header, field_ in s.mapped.items()}
    df = pd.DataFrame(data, columns=list(s.mapped.values()) or None)
    df["_uid"] = s.uids
    _source_of_pseudonyms(s, spec, df, findings)
    for column in spec.columns:
        if column in df:
            continue
        c = spec.schema.columns[column]
        if not c.nullable and (c.metadata or {}).get("kind") != "region":
            problems.add(s.uids, column, "missing_column",
                         f"required column '{column}' ({c.title}) not found; headers seen: "
                         f"{', '.join(map(str, frame.columns))}")
    used = set(s.mapped) | set(s.identifiers)
    for header, kind in s.identifiers.items():
        if header not in s.mapped:
            findings.append(_sheet_finding(s, header, "identifier_dropped",
                                           f"direct identifier ({kind}) dropped at ingest"))
    for header in frame.columns:
        if header not in used and not str(header).startswith("kobo_"):
            findings.append(_sheet_finding(s, header, "column_not_used",
                                           "no field of this table matches this header"))
    return df


def _source_of_pseudonyms(s: _Sheet, spec, df: pd.DataFrame, findings: list[dict]) -> None:
    """Staff sheets without NIK: pseudonymise the name instead (said in findings)."""
    if spec.name == "staff" and "staff_id" not in df:
        name_header = next((h for h, k in s.identifiers.items() if k == "name"), None)
        if name_header is not None:
            df["staff_id"] = s.raw.frame[name_header].to_numpy(dtype=object)
            findings.append(_sheet_finding(s, name_header, "pseudonym_from_name",
                                           "no NIK column: staff pseudonyms are keyed hashes of the names"))


def _sheet_finding(s: _Sheet, column: str, rule: str, message: str) -> dict:
    return {"table": s.table, "file": s.relpath, "sheet": s.raw.sheet or "", "row": pd.NA,
            "column": str(column), "rule": rule, "message": message}


# --------------------------------------------------------------------------- columns
_PARSERS: dict[str, tuple[Callable[..., Any], str, str]] = {
    "date": (parsing.parse_date, "invalid_date", "is not a date (write e.g. 26/07/2019 or 26 Juli 2019)"),
    "month": (parsing.parse_month, "invalid_date", "is not a month (write e.g. Jul-19, Juli 2019 or 07/2019)"),
    "int": (lambda s: parsing.parse_number(s, integer=True), "invalid_number", "is not a whole number"),
    "number": (parsing.parse_number, "invalid_number", "is not a number (write e.g. 1.250 or 12,5)"),
    "rupiah": (parsing.parse_rupiah, "invalid_number", "is not a rupiah amount (write e.g. Rp 1.250.000)"),
    "bool": (parsing.parse_bool, "invalid_boolean", "is not yes/no (write Ya or Tidak)"),
}


def _kind(table: str, column: str) -> str:
    c = TABLES[table].schema.columns[column]
    kind = (c.metadata or {}).get("kind")
    if kind:
        return kind
    dtype = str(c.dtype)
    if dtype.startswith("datetime"):
        return "date"
    if dtype == "Int64":
        return "int"
    if dtype == "Float64":
        return "number"
    if dtype == "boolean":
        return "bool"
    return "text"


def _parse_column(table: str, column: str, raw: pd.DataFrame, key: PseudonymKey,
                  problems: _Problems, findings: list[dict]) -> pd.Series:
    if column not in raw:
        return pd.Series(pd.NA, index=raw.index)
    values = raw[column]
    kind = _kind(table, column)
    uids = raw["_uid"]
    if kind in ("text", "code"):
        return _text(values)
    if kind == "pseudonym":
        if table in ("members", "staff"):
            _nik_findings(table, column, values, uids, findings)
        return pseudonymise(values, key, "staff" if table == "staff" else "member")
    if kind == "category":
        vocab = VOCABULARIES[TABLES[table].schema.columns[column].metadata["vocab"]]
        synonyms = {k: (c.label_id, c.label_en, *c.synonyms) for k, c in vocab.items()}
        parsed = parsing.parse_category(values, synonyms)
        _flag(parsed.invalid, values, uids, column, "invalid_category",
              f"is not an allowed value (allowed: {', '.join(vocab)})", problems)
        return parsed.values
    if kind == "birth_year":
        return _birth_year(values, uids, column, problems)
    parser, rule, text = _PARSERS[kind]
    parsed = parser(values)
    _flag(parsed.invalid, values, uids, column, rule, text, problems)
    return parsed.values


def _text(values: pd.Series) -> pd.Series:
    """Trimmed text with single spaces (blank -> <NA>), computed once per distinct value."""
    codes, uniques = pd.factorize(values)
    clean = pd.Series([_cell_text(v) for v in uniques], dtype="string").str.strip()
    clean = clean.str.replace(r"\s+", " ", regex=True)
    clean = clean.mask(clean == "")
    return pd.Series(clean.array.take(codes, allow_fill=True), index=values.index, dtype="string")


def _cell_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # Excel hands codes like 3604 back as 3604.0
    return str(v)


def _flag(invalid: pd.Series, values: pd.Series, uids: pd.Series, column: str, rule: str, text: str,
          problems: _Problems) -> None:
    bad = invalid.fillna(False).to_numpy(dtype=bool)
    if bad.any():
        shown = values[bad].map(lambda v: f"'{v}' {text}")
        problems.add(uids[bad].to_numpy(), column, rule, shown.to_numpy())


def _birth_year(values: pd.Series, uids: pd.Series, column: str, problems: _Problems) -> pd.Series:
    """A year of birth from a year or a full birth date (only the year is kept)."""
    as_year = parsing.parse_number(values, integer=True)
    as_date = parsing.parse_date(values)
    year = as_year.values.where(~as_year.invalid, pd.NA)
    small = year.notna() & ~year.between(1000, 9999).fillna(False)
    year = year.mask(small | year.isna(), as_date.values.dt.year.astype("Int64"))
    invalid = as_year.invalid & as_date.invalid
    _flag(invalid, values, uids, column, "invalid_date", "is neither a birth year nor a birth date", problems)
    return year


def _nik_findings(table: str, column: str, values: pd.Series, uids: pd.Series, findings: list[dict]) -> None:
    why = nik_problems(values)
    for uid, msg in zip(uids[why != ""], why[why != ""]):
        findings.append({"uid": int(uid), "table": table, "column": column, "rule": "invalid_nik",
                         "message": f"malformed NIK ({msg}); the row is kept under a pseudonym of what was "
                                    "written, check it in the register"})


def _harmonise(raw: pd.DataFrame, region_cols: list[str], problems: _Problems,
               findings: list[dict]) -> pd.DataFrame:
    given = {REGION_LEVELS[c]: c for c in region_cols if c in raw}
    frame = raw[list(given.values())].copy() if given else pd.DataFrame(index=raw.index)
    for c in frame:
        frame[c] = _text(frame[c])
    match = regions.harmonise_regions(frame, **given)
    uids = raw["_uid"]
    for rec in match.problems.itertuples(index=False):
        problems.add([int(uids.loc[rec.index])], rec.column, rec.rule, rec.message)
    for rec in match.notes.itertuples(index=False):
        findings.append({"uid": int(uids.loc[rec.index]), "column": rec.column, "rule": rec.rule,
                         "message": rec.message, "table": None})
    return match.codes[region_cols].astype("string")


# --------------------------------------------------------------------------- row rules
_CHECK_RULES = (("not_nullable", "missing_value"), ("greater_than", "out_of_range"), ("less_than", "out_of_range"),
                ("in_range", "out_of_range"), ("isin", "invalid_category"), ("str_length", "out_of_range"))


def _row_rules(table: str, df: pd.DataFrame, as_of: pd.Timestamp, problems: _Problems) -> pd.DataFrame:
    """Missing values, future dates, duplicate keys, then the schema's checks."""
    spec = TABLES[table]
    failed = problems.uids()
    clean = ~df["_uid"].isin(failed)
    for column, c in spec.schema.columns.items():
        if not c.nullable:
            missing = clean & df[column].isna()
            problems.add(df.loc[missing, "_uid"], column, "missing_value", f"required value '{column}' is empty")
        if str(c.dtype).startswith("datetime"):
            future = clean & (pd.to_datetime(df[column]) > as_of).fillna(False)
            problems.add(df.loc[future, "_uid"], column, "future_date",
                         df.loc[future, column].map(lambda v: f"{v:%d/%m/%Y} is after {as_of:%d/%m/%Y}"))
    clean = ~df["_uid"].isin(problems.uids())
    keyed = df[clean]
    dup = keyed.duplicated(list(spec.key), keep="first")
    problems.add(keyed.loc[dup, "_uid"], ",".join(spec.key), "duplicate_key",
                 keyed.loc[dup, list(spec.key)].astype(str).agg(" / ".join, axis=1)
                 .map(lambda k: f"key {k} already appears in an earlier row"))
    _pandera(table, df[~df["_uid"].isin(problems.uids())], problems)
    return df


def _pandera(table: str, df: pd.DataFrame, problems: _Problems) -> None:
    schema = TABLES[table].schema
    body = df.drop(columns="_uid")
    try:
        schema.validate(body, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases.dropna(subset=["index"])
        by_error = {c.error: c.name for c in schema.checks if c.error}
        for case in cases.itertuples(index=False):
            check = str(case.check)
            column = str(case.column) if case.schema_context == "Column" else ""
            if column:
                rule = next((r for k, r in _CHECK_RULES if k in check), check)
                message = f"value {case.failure_case!r} fails {check}"
            else:
                rule, message = by_error.get(check, check), check
            problems.add([int(df.at[case.index, "_uid"])], column, rule, message)


# --------------------------------------------------------------------------- cross-table rules
def _cross_table(tables: dict[str, pd.DataFrame], problems: _Problems,
                 findings: list[dict]) -> dict[str, pd.DataFrame]:
    """References between tables, in dependency order, against accepted rows only."""
    for table in TABLE_ORDER:
        if table not in tables:
            continue
        df = tables[table]
        for ref in TABLES[table].references:
            if ref.table not in tables:
                findings.append({"table": table, "column": ",".join(ref.columns), "rule": "reference_not_checked",
                                 "message": f"no '{ref.table}' data was given, so this reference was not checked",
                                 "uid": None})
                continue
            _check_reference(df, ref, tables[ref.table], problems)
        _special_rules(table, df, tables, problems)
    return tables


def _accepted(df: pd.DataFrame, problems: _Problems) -> pd.DataFrame:
    return df[~df["_uid"].isin(problems.uids())]


def _check_reference(df: pd.DataFrame, ref, target: pd.DataFrame, problems: _Problems) -> None:
    rows = _accepted(df, problems)
    known = pd.MultiIndex.from_frame(_accepted(target, problems)[list(ref.target)].astype("string"))
    values = rows[list(ref.columns)].astype("string")
    present = values.notna().all(axis=1)
    found = pd.MultiIndex.from_frame(values).isin(known)
    bad = present.to_numpy() & ~found
    msgs = values[bad].agg(" / ".join, axis=1).map(
        lambda v: f"'{v}' does not exist in table '{ref.table}' ({', '.join(ref.target)})")
    problems.add(rows.loc[bad, "_uid"], ",".join(ref.columns), "unknown_reference", msgs.to_numpy())


def _special_rules(table: str, df: pd.DataFrame, tables: dict[str, pd.DataFrame], problems: _Problems) -> None:
    rows = _accepted(df, problems)
    if table == "kur_loans" and "members" in tables:
        joined = rows["member_id"].map(_accepted(tables["members"], problems).set_index("member_id")["joined_on"])
        bad = (rows["applied_on"] < joined).fillna(False)
        problems.add(rows.loc[bad, "_uid"], "applied_on", "loan_before_joining",
                     [f"applied {a:%d/%m/%Y}, before the member joined on {j:%d/%m/%Y}"
                      for a, j in zip(rows.loc[bad, "applied_on"], joined[bad])])
    if table == "business_reports" and "businesses" in tables:
        life = _accepted(tables["businesses"], problems).set_index("business_id")
        start = rows["business_id"].map(life["started_on"]).dt.to_period("M").dt.to_timestamp()
        end = rows["business_id"].map(life["closed_on"]).dt.to_period("M").dt.to_timestamp()
        bad = ((rows["period"] < start) | (rows["period"] > end)).fillna(False)
        problems.add(rows.loc[bad, "_uid"], "period", "report_outside_lifetime",
                     "report month is before the business started or after it closed")


# --------------------------------------------------------------------------- outputs
def _finalise(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Typed, key-sorted, index-free table with exactly the schema's columns."""
    spec = TABLES[table]
    out = spec.schema.validate(df[spec.columns].reset_index(drop=True))
    for column, c in spec.schema.columns.items():
        if str(c.dtype).startswith("datetime"):
            out[column] = out[column].astype("datetime64[ms]")
        elif str(c.dtype).startswith("str"):
            out[column] = out[column].astype("string")
    return out.sort_values(list(spec.key), kind="stable").reset_index(drop=True)


def _where(sheets: list[_Sheet]) -> pd.DataFrame:
    """uid -> table, file, sheet, row for every raw row."""
    parts = [pd.DataFrame({"uid": s.uids, "table": s.table or "", "file": s.relpath,
                           "sheet": s.raw.sheet or "", "row": s.raw.frame.index.to_numpy(dtype=np.int64)})
             for s in sheets]
    if not parts:
        return pd.DataFrame(columns=["uid", "table", "file", "sheet", "row"])
    return pd.concat(parts, ignore_index=True)


def _quarantine_frame(prob: pd.DataFrame, sheets: list[_Sheet]) -> pd.DataFrame:
    where = _where(sheets)
    q = prob.merge(where, on="uid", how="left")
    q["values"] = _original_values(sheets, set(q["uid"].tolist()), q["uid"])
    q = q.sort_values(["file", "sheet", "row", "column", "rule"], kind="stable")
    return q[PROBLEM_COLUMNS + ["values"]].reset_index(drop=True).astype({"row": "Int64"})


def _original_values(sheets: list[_Sheet], wanted: set[int], uids: pd.Series) -> pd.Series:
    """The raw cells of quarantined rows as JSON, direct identifiers redacted."""
    found: dict[int, str] = {}
    wanted_arr = np.fromiter(wanted, dtype=np.int64, count=len(wanted))
    for s in sheets:
        mask = np.isin(s.uids, wanted_arr)
        if not mask.any():
            continue
        rows = s.raw.frame[mask].astype(object)
        for h, kind in s.identifiers.items():
            rows[h] = f"[redacted {kind}]"
        headers = [str(h) for h in rows.columns]
        for uid, values in zip(s.uids[mask], rows.itertuples(index=False, name=None)):
            found[int(uid)] = json.dumps(dict(zip(headers, map(_jsonable, values))), ensure_ascii=False)
    return uids.map(found)


def _jsonable(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    return v if isinstance(v, (str, int, float, bool)) else str(v)


def _findings_frame(findings: list[dict], sheets: list[_Sheet]) -> pd.DataFrame:
    if not findings:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    f = pd.DataFrame(findings)
    where = _where(sheets).set_index("uid")
    has_uid = f["uid"].notna() if "uid" in f else pd.Series(False, index=f.index)
    for col in ("table", "file", "sheet", "row"):
        if col not in f:
            f[col] = pd.NA
        f[col] = f[col].astype(object)
        f.loc[has_uid, col] = f.loc[has_uid, "uid"].astype(int).map(where[col]).to_numpy()
    f = f[PROBLEM_COLUMNS].astype({"row": "Int64"})
    return f.sort_values(["file", "sheet", "row", "column", "rule"], kind="stable").reset_index(drop=True)


def _accounting(sheets: list[_Sheet], bad: set[int]) -> pd.DataFrame:
    rows = []
    for s in sheets:
        quarantined = int(np.isin(s.uids, list(bad)).sum()) if bad else 0
        rows.append({"file": s.relpath, "sheet": s.raw.sheet or "", "table": s.table or "(unrecognised)",
                     "rows_read": len(s.uids), "rows_accepted": len(s.uids) - quarantined,
                     "rows_quarantined": quarantined, "blank_rows_skipped": s.raw.blank_rows})
    acc = pd.DataFrame(rows, columns=["file", "sheet", "table", "rows_read", "rows_accepted",
                                      "rows_quarantined", "blank_rows_skipped"])
    assert (acc.rows_read == acc.rows_accepted + acc.rows_quarantined).all()
    return acc


def _manifest(raw_dir: Path, files: list[Path], rules: Mapping, sheets: list[_Sheet],
              tables: dict[str, pd.DataFrame], accounting: pd.DataFrame, key: PseudonymKey,
              synthetic: bool, as_of: date, errors: list[str]) -> dict[str, Any]:
    inputs = [{"file": f.relative_to(raw_dir).as_posix(), "sha256": sha256(f), "bytes": f.stat().st_size}
              for f in files]
    data_version = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]
    return {
        "tool": "kkbm-analysis", "package_version": package_version(), "schema_version": SCHEMA_VERSION,
        "data_version": data_version, "synthetic": synthetic, "as_of": as_of.isoformat(),
        "pseudonym_key_id": key.key_id,
        "pseudonym_note": ("demo key: synthetic data only" if key.is_demo else "keyed HMAC-SHA256 pseudonyms"),
        "mapping_file": str(rules.source) if rules.source else None,
        "inputs": inputs,
        "tables": {t: {"rows": len(df), "columns": list(df.columns)} for t, df in sorted(tables.items())},
        "rows": {k: int(v) for k, v in accounting[["rows_read", "rows_accepted", "rows_quarantined",
                                                    "blank_rows_skipped"]].sum().items()},
        "errors": errors,
    }


def write_outputs(result: IngestResult, out_dir: Path) -> None:
    """Write everything into a fresh folder, then swap it in place of ``out_dir``."""
    out_dir = out_dir.resolve()
    staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    meta = {"synthetic": str(result.manifest["synthetic"]).lower(),
            "data_version": result.manifest["data_version"], "schema_version": SCHEMA_VERSION,
            "package_version": result.manifest["package_version"]}
    try:
        for table, df in result.tables.items():
            write_parquet(df, staging / f"{table}.parquet", {**meta, "table": table})
        write_parquet(result.quarantine.astype({"row": "Int64"}), staging / "quarantine.parquet", meta)
        write_csv(result.quarantine, staging / "quarantine.csv")
        write_csv(result.findings, staging / "findings.csv")
        write_csv(result.accounting, staging / "accounting.csv")
        write_csv(codebook(), staging / "codebook.csv")
        write_json(result.manifest, staging / "manifest.json")
        from .quality import quality_report  # local import: quality builds on this module
        write_text(quality_report(result), staging / "data_quality.md")
        _swap(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap(staging: Path, out_dir: Path) -> None:
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(staging, out_dir)
    shutil.rmtree(old, ignore_errors=True)


def load_processed(processed_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read every processed table of a folder written by :func:`ingest`."""
    processed_dir = Path(processed_dir)
    return {t: pd.read_parquet(processed_dir / f"{t}.parquet") for t in TABLE_ORDER
            if (processed_dir / f"{t}.parquet").exists()}
