"""Rows of one table -> typed values and, for every row that breaks a rule, a message for people.

:func:`build_table` reads the raw values of a table's shaped sheets (:mod:`.shaping`):
numbers, rupiah, dates, months, yes/no and categories (:mod:`.parsing`), region names into
Kemendagri codes (:mod:`.regions`, members placed within their community's regency), NIKs
into keyed pseudonyms (:mod:`.privacy`). Then the row rules: required values, dates in the
future or not plausible (Excel's empty date 30/12/1899) and the schema's checks. It works
on any chunk of a table's rows: the checks that need the whole table (duplicate keys,
references between tables) are in :mod:`.checks`. Every problem is recorded in
:class:`Problems` by row id with a plain message that never quotes an identifier
(:class:`~kkbm_analysis.redaction.Echo`).
"""
from __future__ import annotations

import difflib
from functools import cache
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import parsing, regions
from .patterns import SPACE
from .privacy import PseudonymKey, PseudonymMemo, nik_problems, pseudonymise
from .redaction import Echo
from .schema import TABLES, VOCABULARIES
from .shaping import Shaped

REGION_LEVELS = {"province_code": "province", "regency_code": "regency", "district_code": "district",
                 "village_code": "village"}
PLAUSIBLE_FROM = pd.Timestamp("1950-01-01")


class Problems:
    """Problems keyed by row id: field, rule, message and, where known, the raw header."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {"uid": [], "field": [], "rule": [], "message": [], "header": []}
        self._uids: set[int] = set()

    def add(self, uids: Iterable[int], field: str, rule: str, messages: Any, headers: Any = None) -> None:
        uids = np.asarray(list(uids) if not isinstance(uids, (np.ndarray, pd.Index, pd.Series)) else uids,
                          dtype=np.int64).tolist()
        if not uids:
            return
        n = len(uids)
        self.columns["uid"] += uids
        self.columns["field"] += [field] * n
        self.columns["rule"] += [rule] * n
        self.columns["message"] += [messages] * n if isinstance(messages, str) else list(messages)
        self.columns["header"] += [headers] * n if headers is None or isinstance(headers, str) else list(headers)
        self._uids.update(uids)

    def frame(self) -> pd.DataFrame:
        """One row per (row, field, rule); a check reported twice counts once."""
        df = pd.DataFrame(self.columns).astype({"uid": "int64", "field": "str", "rule": "str", "message": "str"})
        return df.drop_duplicates(["uid", "field", "rule"])

    def uids(self) -> set[int]:
        return self._uids


def fmt_number(x: Any) -> str:
    """A number the Indonesian way: ``-250.000``, ``1.250``, ``12,5``."""
    x = float(x)
    if x.is_integer():
        return f"{int(x):,}".replace(",", ".")
    return f"{x:,.2f}".rstrip("0").rstrip(".").replace(",", "_").replace(".", ",").replace("_", ".")


def fmt_value(x: Any, kind: str | None = None) -> str:
    """A parsed value for a message: dates as 26/07/2019, amounts as Rp 1.250.000, years as 1985, numbers as 1.250."""
    if isinstance(x, (pd.Timestamp, np.datetime64)):
        return f"{pd.Timestamp(x):%d/%m/%Y}"
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        if kind == "birth_year" and float(x).is_integer():
            return str(int(x))
        return ("Rp " if kind == "rupiah" else "") + fmt_number(x)
    return str(x)


def field_kind(table: str, column: str) -> str:
    """How a field's raw text is read (``date``, ``int``, ``category``, ``region``...)."""
    c = TABLES[table].schema.columns[column]
    kind = (c.metadata or {}).get("kind")
    if kind:
        return kind
    dtype = str(c.dtype)
    return ("date" if dtype.startswith("datetime") else "int" if dtype == "Int64" else "number"
            if dtype == "Float64" else "bool" if dtype == "boolean" else "text")


def missing_fields(table: str, present: set[str]) -> list[str]:
    """Required fields of a table that a sheet does not give.

    A required region code counts as given when any region level is (a village code
    settles its district, regency and province).
    """
    columns = TABLES[table].schema.columns
    regions_given = any((columns[c].metadata or {}).get("kind") == "region" for c in present if c in columns)
    return [c for c, col in columns.items() if not col.nullable and c not in present
            and not ((col.metadata or {}).get("kind") == "region" and regions_given)]


def _plain(column: str) -> str:
    return column.replace("_", " ")


# --------------------------------------------------------------------------- one table
_PARSERS: dict[str, tuple[Callable[..., Any], str, str]] = {
    "date": (parsing.parse_date, "invalid_date", "is not a date (write e.g. 26/07/2019 or 26 Juli 2019)"),
    "month": (parsing.parse_month, "invalid_date", "is not a month (write e.g. Jul-19, Juli 2019 or 07/2019)"),
    "int": (lambda s: parsing.parse_number(s, integer=True), "invalid_number", "is not a whole number"),
    "number": (parsing.parse_number, "invalid_number", "is not a number (write e.g. 1.250 or 12,5)"),
    "rupiah": (parsing.parse_rupiah, "invalid_number", "is not a rupiah amount (write e.g. Rp 1.250.000)"),
    "bool": (parsing.parse_bool, "invalid_boolean", "is not yes or no (write Ya or Tidak)"),
}


def build_table(table: str, parts: list[Shaped], key: PseudonymKey, as_of: pd.Timestamp, problems: Problems,
                notes: list[dict], echo: Echo, communities: pd.DataFrame | None = None,
                pending: Problems | None = None, memo: dict[str, PseudonymMemo] | None = None) -> pd.DataFrame:
    """Parse, pseudonymise, harmonise and check rows of one table; the rows without a problem in ``problems``
    (typed, with ``_uid``).

    ``parts`` are shaped sheets or chunks of them. The schema's checks run on the rows
    without a problem so far; with ``pending`` their failures go there, to be kept only
    for rows that turn out not to repeat an earlier row's key (duplicates are found over
    the whole table, before the schema's checks, as :mod:`.checks` does). ``memo`` holds the
    pseudonyms made so far, by entity (:func:`~kkbm_analysis.privacy.pseudonymise`).
    """
    spec = TABLES[table]
    frames = [p.frame for p in parts]
    raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    headers = raw["_col"] if "_col" in raw else None
    out = pd.DataFrame({"_uid": raw["_uid"].to_numpy()})
    region_cols = [c for c in spec.region_columns]
    for column in spec.columns:
        if column not in region_cols:
            out[column] = _parse_column(table, column, raw, key, problems, notes, echo, headers, memo)
    if region_cols:
        context = _community_context(out["community_id"], communities) if table == "members" and "community_id" in raw \
            else None
        out = out.join(_harmonise(raw, region_cols, problems, notes, echo, context))
    clean = _row_rules(table, out, as_of, problems, echo, problems if pending is None else pending)
    return clean if pending is not None else clean[~clean["_uid"].isin(problems.uids())]


def _parse_column(table: str, column: str, raw: pd.DataFrame, key: PseudonymKey, problems: Problems,
                  notes: list[dict], echo: Echo, headers: pd.Series | None,
                  memo: dict[str, PseudonymMemo] | None = None) -> pd.Series:
    if column not in raw:
        return pd.Series(pd.NA, index=raw.index)
    values = raw[column]
    kind = field_kind(table, column)
    uids = raw["_uid"]
    if kind in ("text", "code"):
        return _text(values)
    if kind == "pseudonym":
        if table in ("members", "staff"):
            _nik_notes(table, column, values, uids, notes)
        entity = "staff" if table == "staff" else "member"
        return pseudonymise(values, key, entity, None if memo is None else memo.setdefault(entity, PseudonymMemo()))
    if kind == "category":
        return _category(table, column, values, uids, problems, echo, headers)
    if kind == "birth_year":
        return _birth_year(values, uids, column, problems, echo)
    parser, rule, text = _PARSERS[kind]
    parsed = parser(values)
    _flag(parsed.invalid, values, uids, column, rule, lambda v: f"{echo.quote(v, strict=True)} {text}",
          problems, headers)
    return parsed.values


def _text(values: pd.Series) -> pd.Series:
    """Trimmed text with single spaces (blank -> <NA>), computed once per distinct value."""
    codes, uniques = pd.factorize(values)
    if isinstance(uniques.dtype, pd.StringDtype):  # text already: cast, not one Python string at a time
        clean = pd.Series(uniques.array, dtype="string").str.strip()
    else:
        clean = pd.Series([_cell_text(v) for v in uniques], dtype="string").str.strip()
    clean = clean.str.replace(SPACE + "+", " ", regex=True)
    clean = clean.mask(clean == "")
    return pd.Series(clean.array.take(codes, allow_fill=True), index=values.index, dtype="string")


def _cell_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # Excel hands codes like 3604 back as 3604.0
    return str(v)


def _flag(invalid: pd.Series, values: pd.Series, uids: pd.Series, column: str, rule: str,
          say: Callable[[Any], str], problems: Problems, headers: pd.Series | None = None) -> None:
    bad = invalid.fillna(False).to_numpy(dtype=bool)
    if bad.any():
        codes, uniques = pd.factorize(values[bad].astype(object).map(lambda v: v if not isinstance(v, list) else
                                                                       str(v)), use_na_sentinel=False)
        said = np.array([say(u) for u in uniques], dtype=object)[codes]
        problems.add(uids[bad].to_numpy(), column, rule, said, None if headers is None else headers[bad].tolist())


def _category(table: str, column: str, values: pd.Series, uids: pd.Series, problems: Problems, echo: Echo,
              headers: pd.Series | None) -> pd.Series:
    vocab = VOCABULARIES[TABLES[table].schema.columns[column].metadata["vocab"]]
    synonyms = {k: (c.label_id, c.label_en, *c.synonyms) for k, c in vocab.items()}
    parsed = parsing.parse_category(values, synonyms)
    choices = "; ".join(f"{k} = {c.label_id}" for k, c in vocab.items())
    lookup = {parsing.normalise_text(s): k for k, names in synonyms.items() for s in (k, *names)}

    def say(v: Any) -> str:
        shown = echo.quote(v)
        hint = ""
        if shown != Echo.HIDDEN:
            close = difflib.get_close_matches(parsing.normalise_text(str(v)), list(lookup), n=1, cutoff=0.75)
            if close:
                k = lookup[close[0]]
                hint = f"; did you mean {close[0]!r} ({k} = {vocab[k].label_id})?"
        return (f"{shown} is not an allowed {_plain(column)}{hint or '.'} Allowed: {choices} (or recode it in "
                "kkbm-mapping.yaml)")

    _flag(parsed.invalid, values, uids, column, "invalid_category", say, problems, headers)
    return parsed.values.astype("string")  # as the spool and the schema hold it (converted once, here)


def _birth_year(values: pd.Series, uids: pd.Series, column: str, problems: Problems, echo: Echo) -> pd.Series:
    """A year of birth from a year or a full birth date (only the year is kept), read once per distinct value."""
    try:
        codes, uniques = pd.factorize(values)
    except TypeError:  # an unhashable cell (a list): every row on its own
        codes, uniques = np.arange(len(values)), values.array
    distinct = pd.Series(uniques)
    as_year = parsing.parse_number(distinct, integer=True)
    as_date = parsing.parse_date(distinct)
    year = as_year.values.where(~as_year.invalid, pd.NA)
    small = year.notna() & ~year.between(1000, 9999).fillna(False)
    year = year.mask(small | year.isna(), as_date.values.dt.year.astype("Int64"))
    invalid = np.append((as_year.invalid & as_date.invalid).to_numpy(), False)[codes]  # code -1 (NA): not invalid
    _flag(pd.Series(invalid, index=values.index), values, uids, column, "invalid_date",
          lambda v: f"{echo.quote(v, strict=True)} is neither a birth year nor a birth date", problems)
    return pd.Series(year.array.take(codes, allow_fill=True), index=values.index, name=values.name)


def _nik_notes(table: str, column: str, values: pd.Series, uids: pd.Series, notes: list[dict]) -> None:
    why = nik_problems(values)
    for uid, msg in zip(uids[why != ""], why[why != ""]):
        notes.append({"uid": int(uid), "table": table, "field": column, "rule": "invalid_nik",
                      "message": f"malformed NIK ({msg}); the row is kept under a pseudonym of what was "
                                 "written, check it in the register"})


# --------------------------------------------------------------------------- regions
def _community_context(ids: pd.Series, communities: pd.DataFrame | None) -> pd.DataFrame | None:
    """Province and regency of each member's community (``ids``: the members' parsed community ids), used where
    the member's own are not given; looked up once per community."""
    if communities is None or not len(communities):
        return None
    where = communities.drop_duplicates("community_id").set_index("community_id")
    codes, uniques = pd.factorize(ids)
    distinct = pd.Series(uniques)
    return pd.DataFrame({c: distinct.map(where[c]).astype("string").array.take(codes, allow_fill=True)
                         for c in ("province_code", "regency_code")}, index=ids.index)


def _harmonise(raw: pd.DataFrame, region_cols: list[str], problems: Problems, notes: list[dict], echo: Echo,
               context: pd.DataFrame | None) -> pd.DataFrame:
    present = [c for c in region_cols if c in raw and raw[c].notna().any()]
    if not present:
        return pd.DataFrame({c: pd.Series(pd.NA, index=raw.index, dtype="string") for c in region_cols})
    frame = raw[present].copy()
    for c in present:
        frame[c] = _text(frame[c])
    if context is not None and ({"village_code", "district_code"} & set(present)):
        # a member's village is looked for in the community's regency; a member without one keeps no location
        lookup = frame[[c for c in ("village_code", "district_code") if c in frame]].notna().any(axis=1)
        for c in ("province_code", "regency_code"):
            if c not in frame:
                frame[c] = pd.Series(pd.NA, index=raw.index, dtype="string")
            frame[c] = frame[c].where(frame[c].notna() | ~lookup, context[c])
    given = {REGION_LEVELS[c]: c for c in region_cols if c in frame}
    match = regions.harmonise_regions(frame, **given)
    uids = raw["_uid"]
    for rec in match.problems.itertuples(index=False):
        shown = raw.at[rec.index, rec.column] if rec.column in raw else None
        message = rec.message
        if shown is not None and not pd.isna(shown):
            message = message.replace(f"'{str(shown).strip()}'", echo.quote(shown, lenient=True))
        problems.add([int(uids.loc[rec.index])], rec.column, rec.rule, message)
    for rec in match.notes.itertuples(index=False):
        notes.append({"uid": int(uids.loc[rec.index]), "field": rec.column, "rule": rec.rule,
                      "message": rec.message, "table": None})
    return match.codes[region_cols].astype("string")


# --------------------------------------------------------------------------- row rules
_CHECK_RULES = (("not_nullable", "missing_value"), ("greater_than", "out_of_range"), ("less_than", "out_of_range"),
                ("in_range", "out_of_range"), ("isin", "invalid_category"), ("str_length", "out_of_range"))


def _row_rules(table: str, df: pd.DataFrame, as_of: pd.Timestamp, problems: Problems, echo: Echo,
               pending: Problems) -> pd.DataFrame:
    """Required values, plausible and past dates, then the schema's checks (into ``pending``); the rows left
    without a problem in ``problems`` (found from the rules' own masks, row ids being distinct)."""
    spec = TABLES[table]
    known = np.fromiter(problems.uids(), dtype=np.int64)  # numpy's membership test: no hash of every row's id
    clean = pd.Series(~np.isin(df["_uid"].to_numpy(dtype=np.int64), known), index=df.index)
    flagged = pd.Series(False, index=df.index)
    for column, c in spec.schema.columns.items():
        if not c.nullable:
            missing = clean & df[column].isna()
            flagged |= missing
            problems.add(df.loc[missing, "_uid"], column, "missing_value",
                         f"required value {column} ({c.title}) is empty")
        if str(c.dtype).startswith("datetime"):
            dates = pd.to_datetime(df[column])
            old = clean & (dates < PLAUSIBLE_FROM).fillna(False)
            flagged |= old
            problems.add(df.loc[old, "_uid"], column, "implausible_date",
                         dates[old].map(lambda v: f"{v:%d/%m/%Y} is not a plausible {_plain(column)}"
                                        + (" (Excel shows an empty or 0 date cell as 30/12/1899)"
                                           if v.year < 1901 else "")))
            future = clean & ~old & (dates > as_of).fillna(False)
            flagged |= future
            problems.add(df.loc[future, "_uid"], column, "future_date",
                         dates[future].map(lambda v: f"{v:%d/%m/%Y} is after the reference date {as_of:%d/%m/%Y}"))
    rows = df[clean & ~flagged]
    _pandera(table, rows, pending)
    return rows


def _check_message(check: str, stats: dict, value: Any, column: str, kind: str) -> str:
    shown = fmt_value(value, kind)
    label = _plain(column)
    low, high = stats.get("min_value"), stats.get("max_value")
    if check.startswith("greater_than_or_equal_to"):
        return (f"{shown} is negative; {label} must be 0 or more" if low == 0
                else f"{shown} is below the minimum of {fmt_value(low, kind)} for {label}")
    if check.startswith("greater_than"):
        return f"{shown} is too small; {label} must be more than {fmt_value(low, kind)}"
    if check.startswith("less_than"):
        return f"{shown} is above the maximum of {fmt_value(high, kind)} for {label}"
    if check.startswith("in_range"):
        return f"{shown} is outside {fmt_value(low, kind)}–{fmt_value(high, kind)} for {label}"
    return f"{shown} breaks the rule {check} for {label}"


@cache
def _row_schema(table: str) -> pa.DataFrameSchema:
    """The table's schema without its uniqueness checks (keys repeat only across rows: :mod:`.checks`)."""
    schema = TABLES[table].schema
    unique = [name for name, c in schema.columns.items() if c.unique]
    return schema.update_columns({name: {"unique": False} for name in unique}) if unique else schema


def _pandera(table: str, df: pd.DataFrame, problems: Problems) -> None:
    schema = _row_schema(table)
    if df.empty:
        return
    body = df.drop(columns="_uid")
    try:
        schema.validate(body, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases.dropna(subset=["index"])
        by_error = {c.error: c.name for c in schema.checks if c.error}
        stats = {(name, ch.error or str(ch)): getattr(ch, "statistics", {}) or {} for name, col in schema.columns.items()
                 for ch in col.checks}
        labels = cases["index"].to_numpy()
        # every case is a row of df; its index increases (from _row_rules), so no hash table is needed to find them
        increasing = df.index.is_monotonic_increasing and df.index.is_unique
        at = np.searchsorted(df.index.to_numpy(), labels) if increasing else df.index.get_indexer(labels)
        uids = df["_uid"].to_numpy()[at].tolist()
        whole = cases["schema_context"].to_numpy() != "Column"
        rows = {}  # the table rules' rows, as {column: value} of the columns they name (not one lookup per case)
        if whole.any():
            rules = set(cases["check"][whole].tolist())
            named = [c for c in df.columns if c != "_uid" and any(c in str(r) for r in rules)]
            rows = df.iloc[np.unique(at[whole])][named].to_dict("index")
        said: dict[tuple, str] = {}  # a message per check and value (column checks) or row (table rules)
        runs: list[tuple[str, str, list, list]] = []  # consecutive cases of one column and rule, in order
        for check, context, name, value, index, uid in zip(cases["check"].tolist(), cases["schema_context"].tolist(),
                                                           cases["column"].tolist(), list(cases["failure_case"]),
                                                           list(cases["index"]), uids):
            check = str(check)
            column = str(name) if context == "Column" else ""
            key = (column, check, type(value), value) if column else ("", check, index)
            if column:
                rule = next((r for k, r in _CHECK_RULES if k in check), check)
            else:
                rule = by_error.get(check, check)
            message = said.get(key)
            if message is None:
                message = said[key] = (_check_message(check, stats.get((column, check), {}), value, column,
                                                      field_kind(table, column)) if column
                                       else _row_check_message(check, rows[index]))
            if not runs or runs[-1][:2] != (column, rule):
                runs.append((column, rule, [], []))
            runs[-1][2].append(uid)
            runs[-1][3].append(message)
        for column, rule, run_uids, messages in runs:
            problems.add(run_uids, column, rule, messages)


def _row_check_message(error: str, row: dict) -> str:
    """A table rule's message with the values it compares (dates and counts only); ``row`` maps column to value."""
    shown = [f"{c} {fmt_value(v)}" for c, v in row.items() if c != "_uid" and c in error and not pd.isna(v)
             and isinstance(v, (pd.Timestamp, int, float, np.integer, np.floating)) and not isinstance(v, bool)]
    return error + (f" ({', '.join(shown)})" if shown else "")
