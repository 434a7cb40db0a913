"""Benchmark: every registry indicator by province x month, the package's engine vs a DuckDB SQL peer.

Not a test. Run it from the project's environment::

    .venv/bin/python benchmarks/bench_indicators.py                        # national synthetic data
    .venv/bin/python benchmarks/bench_indicators.py data/processed/mydata  # an existing processed folder
    .venv/bin/python benchmarks/bench_indicators.py --tables               # generator tables in memory

Data: a processed folder given as argument; else ``benchmarks/out/processed_<scale>_<seed>``
(shared with ``bench_ingest.py``), built once with ``synth.generate_demo`` + ``ingest``; with
``--tables``, the generator's clean tables straight into memory (the same shapes and types as
processed data, sorted by table key like the ingest writes them).

Like with like: both sides start from the same data, in this process, with every import and
the data's span (first to last activity date) settled before the clock starts. From a folder,
both read its Parquet files (the hive partitions of the large tables) through DuckDB: the
package's side is the public call ``compute_indicators(folder, level="province",
period="month", span=span)``, from the files to the tidy result with its intervals; the peer
creates one view per table and runs one hand-written SQL query per indicator (plus a shared
temp table of business reports), each fetched as a DataFrame, with the same definitions (span
clipping, stocks at month end, per-business monthly volume, dormant businesses, KUR
eligibility...) and the sum of squares a mean's interval needs. With ``--tables`` both get the
tables in memory (the package a ``ProgramData``, the peer the same frames registered as Arrow).
The two sides alternate, ``--repeat`` times; the best run of each is compared. Then both results
are compared cell by cell (counts missing on the SQL side are zeros).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kkbm_analysis.data import ProgramData
import duckdb
import pyarrow as pa

from kkbm_analysis.indicators import REGISTRY, compute_indicators, data_span
from kkbm_analysis.intervals import t_interval
from kkbm_analysis.schema import TABLES
from kkbm_analysis.store import table_files

OUT = Path(__file__).resolve().parent / "out"
SOURCES = ("communities", "members", "businesses", "business_reports", "groups", "kur_loans", "consultations",
           "info_services", "advocacy_cases", "prevention_events")


# =========================================================================== data
def processed_like(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Generator tables in processed shape: schema columns and dtypes, sorted by key."""
    out = {}
    for name, spec in TABLES.items():
        if name not in tables:
            continue
        cols = spec.schema.columns
        df = tables[name][[c for c in cols if c in tables[name].columns]].copy()
        for c, s in cols.items():
            dtype = str(s.dtype)
            if dtype.startswith("datetime"):
                df[c] = pd.to_datetime(df[c]).astype("datetime64[ms]")
            elif dtype.startswith("str"):
                df[c] = df[c].astype("string")
            else:
                df[c] = df[c].astype(dtype)
        out[name] = df.sort_values(list(spec.key), kind="stable").reset_index(drop=True)
    return out


def load(args: argparse.Namespace) -> ProgramData | Path:
    """The data both sides start from: a processed folder, or (``--tables``) tables in memory."""
    if args.processed:
        return Path(args.processed)
    if args.tables:
        from kkbm_analysis.synth import generate_tables
        t0 = time.perf_counter()
        tables = processed_like(generate_tables(seed=args.seed, scale=args.scale_value))
        print(f"generated tables in memory in {time.perf_counter() - t0:.1f} s")
        return ProgramData(tables, {"synthetic": True, "data_version": f"synth-{args.scale}-{args.seed}"})
    raw = OUT / f"raw_{args.scale}_{args.seed}"
    processed = OUT / f"processed_{args.scale}_{args.seed}"
    if not (processed / "manifest.json").exists():
        from kkbm_analysis.ingest import ingest
        from kkbm_analysis.synth import generate_demo
        if not (raw / "SYNTHETIC.json").exists():
            t0 = time.perf_counter()
            generate_demo(raw, seed=args.seed, scale=args.scale_value)
            print(f"generated raw data in {time.perf_counter() - t0:.1f} s -> {raw}")
        t0 = time.perf_counter()
        ingest(raw, processed)
        print(f"ingested in {time.perf_counter() - t0:.1f} s -> {processed}")
    return processed


# =========================================================================== SQL
# Written to give DuckDB its best shot: months are formatted after aggregation, the
# 9 million monthly reports are joined to their businesses once (temp table ``bv``, shared
# by the four volume indicators as the package shares its unit sums), and the table key
# (business_id, period) is used: at month level a report *is* a business's monthly volume.
def _flow(facts: str, agg: str = "SUM(w) AS num") -> str:
    """Flow by province x month: ``facts`` selects community_id, d (date) and weights."""
    return f"""
    SELECT * EXCLUDE (m), strftime(m, '%Y-%m') AS period FROM (
        SELECT c.province_code AS region_code, date_trunc('month', f.d) AS m, {agg}
        FROM ({facts}) f JOIN communities c USING (community_id)
        WHERE c.province_code IS NOT NULL AND CAST(f.d AS DATE) BETWEEN $start AND $end
        GROUP BY ALL)"""


def _stock(facts: str) -> str:
    """Stock at each month end: cumulative sums of entry/exit facts (wn, wd) over the grid."""
    return f"""
    WITH agg AS (
        SELECT c.province_code AS region_code,
               strftime(date_trunc('month', greatest(CAST(f.d AS DATE), $start)), '%Y-%m') AS period,
               SUM(wn) AS n, SUM(wd) AS dd
        FROM ({facts}) f JOIN communities c USING (community_id)
        WHERE c.province_code IS NOT NULL AND CAST(f.d AS DATE) <= $end
        GROUP BY ALL),
    grid AS (SELECT region_code, period FROM
             (SELECT DISTINCT province_code AS region_code FROM communities WHERE province_code IS NOT NULL)
             CROSS JOIN months)
    SELECT region_code, period,
           SUM(coalesce(n, 0)) OVER w AS num, SUM(coalesce(dd, 0)) OVER w AS den
    FROM grid LEFT JOIN agg USING (region_code, period)
    WINDOW w AS (PARTITION BY region_code ORDER BY period ROWS UNBOUNDED PRECEDING)"""


_MEMBER_LOANS = "SELECT m.community_id, k.* FROM kur_loans k JOIN members m USING (member_id)"
#: Run once before the indicator queries (its time counts).
SETUP = """
    CREATE OR REPLACE TEMP TABLE bv AS
    SELECT c.province_code AS region_code, r.period AS m, v FROM (
        SELECT b.community_id, date_trunc('month', r.period) AS period, r.revenue_idr AS v
        FROM business_reports r JOIN businesses b USING (business_id)
        WHERE r.revenue_idr IS NOT NULL AND CAST(r.period AS DATE) BETWEEN $start AND $end) r
    JOIN communities c USING (community_id) WHERE c.province_code IS NOT NULL"""
_VOLUME = ("SELECT * EXCLUDE (m), strftime(m, '%Y-%m') AS period FROM "
           "(SELECT region_code, m, SUM(v) AS num, COUNT(*) AS den, {extra} FROM bv GROUP BY ALL)")
_ACTIVE = """
    WITH lastpos AS (SELECT business_id, max(period) AS lp FROM business_reports WHERE revenue_idr > 0
                     GROUP BY 1),
    ends AS (SELECT b.community_id, b.started_on,
                    CASE WHEN b.closed_on IS NOT NULL THEN b.closed_on
                         WHEN b.status = 'dormant' THEN coalesce(lp + INTERVAL 1 MONTH, b.started_on) END AS e
             FROM businesses b LEFT JOIN lastpos USING (business_id))
    SELECT community_id, started_on AS d, 1 AS wn, 0 AS wd FROM ends
    UNION ALL SELECT community_id, e, -1, 0 FROM ends WHERE e IS NOT NULL"""
_UPTAKE = """
    WITH elig AS (SELECT member_id, community_id, joined_on FROM members
                  WHERE status IN ('pmi_purna', 'keluarga')),
    first AS (SELECT member_id, min(coalesce(approved_on, applied_on)) AS fa FROM kur_loans
              WHERE approved GROUP BY 1)
    SELECT community_id, joined_on AS d, 0 AS wn, 1 AS wd FROM elig
    UNION ALL SELECT e.community_id, greatest(f.fa, e.joined_on), 1, 0 FROM elig e JOIN first f USING (member_id)"""
_DECIDED = "outcome IN ('resolved', 'referred', 'unresolved')"

SQL: dict[str, str] = {
    "businesses_formed": _flow("SELECT community_id, started_on AS d, 1 AS w FROM businesses"),
    "businesses_active": _stock(_ACTIVE),
    "business_volume_total": _VOLUME.format(extra="0 AS x"),
    "business_volume_mean": _VOLUME.format(extra="avg(v) AS value, SUM(v * v) AS sumsq"),
    "business_volume_median": _VOLUME.format(extra="median(v) AS value"),
    "business_volume_growth": """
        WITH tot AS (SELECT region_code, strftime(m, '%Y-%m') AS period, num
                     FROM (SELECT region_code, m, SUM(v) AS num FROM bv GROUP BY ALL)),
        grid AS (SELECT region_code, period FROM
                 (SELECT DISTINCT province_code AS region_code FROM communities WHERE province_code IS NOT NULL)
                 CROSS JOIN months),
        s AS (SELECT region_code, period, coalesce(num, 0) AS v,
                     lag(coalesce(num, 0)) OVER (PARTITION BY region_code ORDER BY period) AS prev
              FROM grid LEFT JOIN tot USING (region_code, period))
        SELECT region_code, period, v - prev AS num, prev AS den, (v - prev) / prev AS value
        FROM s WHERE prev > 0""",
    "groups_formed": _flow("SELECT community_id, formed_on AS d, 1 AS w FROM groups"),
    "cooperatives_formed": _flow("SELECT community_id, formed_on AS d, 1 AS w FROM groups "
                                 "WHERE kind = 'cooperative'"),
    "kur_applications": _flow(f"SELECT community_id, applied_on AS d, 1 AS w FROM ({_MEMBER_LOANS})"),
    "kur_loans_approved": _flow(f"SELECT community_id, coalesce(approved_on, applied_on) AS d, 1 AS w "
                                f"FROM ({_MEMBER_LOANS}) WHERE approved"),
    "kur_approval_rate": _flow(f"SELECT community_id, applied_on AS d, approved::INT AS w FROM ({_MEMBER_LOANS})",
                               "SUM(w) AS num, COUNT(*) AS den, SUM(w) / COUNT(*) AS value"),
    "kur_uptake": _stock(_UPTAKE),
    "kur_amount_total": _flow(f"SELECT community_id, coalesce(approved_on, applied_on) AS d, amount_idr AS w "
                              f"FROM ({_MEMBER_LOANS}) WHERE approved AND amount_idr IS NOT NULL",
                              "SUM(w) AS num, COUNT(*) AS den"),
    "kur_amount_mean": _flow(f"SELECT community_id, coalesce(approved_on, applied_on) AS d, amount_idr AS w "
                             f"FROM ({_MEMBER_LOANS}) WHERE approved AND amount_idr IS NOT NULL",
                             "SUM(w) AS num, COUNT(*) AS den, avg(w) AS value, SUM(w * w) AS sumsq"),
    "business_consultations": _flow("SELECT community_id, held_on AS d, 1 AS w FROM consultations"),
    "dissemination_events": _flow("SELECT community_id, held_on AS d, 1 AS w FROM info_services "
                                  "WHERE kind = 'dissemination'"),
    "dissemination_reach": _flow("SELECT community_id, held_on AS d, coalesce(attendees, 0) AS w "
                                 "FROM info_services WHERE kind = 'dissemination'"),
    "information_services": _flow("SELECT community_id, held_on AS d, 1 AS w FROM info_services "
                                  "WHERE kind = 'information_service'"),
    "information_service_reach": _flow("SELECT community_id, held_on AS d, coalesce(attendees, 0) AS w "
                                       "FROM info_services WHERE kind = 'information_service'"),
    "placement_facilitations": _flow("SELECT community_id, held_on AS d, 1 AS w FROM info_services "
                                     "WHERE kind = 'placement_facilitation'"),
    "placements_facilitated": _flow("SELECT community_id, held_on AS d, coalesce(placements_facilitated, 0) AS w "
                                    "FROM info_services"),
    "advocacy_cases": _flow("SELECT community_id, opened_on AS d, 1 AS w FROM advocacy_cases"),
    "advocacy_cases_resolved": _flow("SELECT community_id, coalesce(closed_on, opened_on) AS d, 1 AS w "
                                     "FROM advocacy_cases WHERE outcome = 'resolved'"),
    "advocacy_resolution_rate": _flow("SELECT community_id, coalesce(closed_on, opened_on) AS d, "
                                      f"(outcome = 'resolved')::INT AS w FROM advocacy_cases WHERE {_DECIDED}",
                                      "SUM(w) AS num, COUNT(*) AS den, SUM(w) / COUNT(*) AS value"),
    "advocacy_days_to_resolution": _flow("SELECT community_id, closed_on AS d, "
                                         "date_diff('day', CAST(opened_on AS DATE), CAST(closed_on AS DATE)) AS w "
                                         "FROM advocacy_cases WHERE outcome = 'resolved' AND closed_on IS NOT NULL",
                                         "COUNT(*) AS den, median(w) AS value"),
    "prevention_events": _flow("SELECT community_id, held_on AS d, 1 AS w FROM prevention_events"),
    "prevention_reach": _flow("SELECT community_id, held_on AS d, coalesce(people_reached, 0) AS w "
                              "FROM prevention_events"),
    "people_dissuaded": _flow("SELECT community_id, held_on AS d, coalesce(people_dissuaded, 0) AS w "
                              "FROM prevention_events"),
    "members": _stock("SELECT community_id, joined_on AS d, 1 AS wn, 0 AS wd FROM members"),
    "members_joined": _flow("SELECT community_id, joined_on AS d, 1 AS w FROM members"),
}


def run_peer(data: ProgramData | Path, span: tuple[pd.Timestamp, pd.Timestamp]
             ) -> tuple[float, dict[str, pd.DataFrame]]:
    """The SQL peer: a view per table (the folder's Parquet files, or the frames as Arrow), the
    setup and every query; all of it timed."""
    months = pd.DataFrame({"period": pd.period_range(span[0], span[1], freq="M").strftime("%Y-%m")})
    con = duckdb.connect()
    t0 = time.perf_counter()
    for name in SOURCES:
        if isinstance(data, ProgramData):
            con.register(name, pa.Table.from_pandas(data.tables[name], preserve_index=False))
        else:
            files = [str(f) for f in table_files(data, name)]
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files!r}, hive_partitioning = false)")
    con.register("months", months)
    params = {"start": span[0].date(), "end": span[1].date()}

    def run(sql: str) -> duckdb.DuckDBPyConnection:
        return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})

    run(SETUP).fetchall()
    results = {ind: run(sql).df() for ind, sql in SQL.items()}
    seconds = time.perf_counter() - t0
    con.close()
    return seconds, results


def run_package(data: ProgramData | Path, span: tuple[pd.Timestamp, pd.Timestamp]) -> tuple[float, pd.DataFrame]:
    """The package's public call, timed."""
    t0 = time.perf_counter()
    result = compute_indicators(data, level="province", period="month", span=span)
    return time.perf_counter() - t0, result


# =========================================================================== comparison
def compare(pandas_result: pd.DataFrame, sql: dict[str, pd.DataFrame]) -> list[str]:
    """Differences between the two sides (empty list: identical numbers)."""
    problems = []
    for ind_id, ind in REGISTRY.items():
        p = pandas_result[pandas_result["indicator_id"] == ind_id].set_index(["region_code", "period"])
        s = sql[ind_id].astype({"region_code": str, "period": str}).set_index(["region_code", "period"])
        if ind.kind in ("count", "total"):
            index = p.index.union(s.index)
            pairs = [("numerator", "num")] + ([("denominator", "den")] if ind.kind == "total" else [])
            fill = 0.0
        else:
            s = s[s["den"] > 0]  # ratios, means and medians have no cell without a denominator
            index = p.index
            if set(s.index) != set(p.index):
                problems.append(f"{ind_id}: cells differ ({len(p)} pandas, {len(s)} SQL)")
                continue
            pairs = [("denominator", "den")] + ([("numerator", "num")] if ind.kind != "median" else [])
            pairs += [("value", "value")] if "value" in s else []
            if "sumsq" in s:
                s = s.assign(ci_low=t_interval(s["value"].to_numpy(float), s["sumsq"].to_numpy(float),
                                               s["den"].to_numpy(float))[0])
                pairs.append(("ci_low", "ci_low"))
            fill = np.nan
        for pc, sc in pairs:
            a = p[pc].reindex(index).to_numpy(dtype=float, na_value=fill)
            b = s[sc].reindex(index).to_numpy(dtype=float, na_value=fill)
            a, b = np.nan_to_num(a, nan=fill), np.nan_to_num(b.astype(float), nan=fill)
            if not np.allclose(a, b, rtol=1e-9, atol=1e-6, equal_nan=True):
                bad = int((~np.isclose(a, b, rtol=1e-9, atol=1e-6, equal_nan=True)).sum())
                problems.append(f"{ind_id}.{pc}: {bad} of {len(a)} cells differ")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("processed", nargs="?", help="processed folder (default: national synthetic data)")
    parser.add_argument("--tables", action="store_true", help="generate tables in memory (no raw files, no ingest)")
    parser.add_argument("--scale", default="national", help="synth scale: demo, national or a multiplier")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    args.scale_value = args.scale if args.scale in ("demo", "national") else float(args.scale)

    data = load(args)
    print(data)
    span = data_span(data)
    print(f"span {span[0].date()} .. {span[1].date()}; {len(REGISTRY)} indicators by province x month")
    run_package(data, span)  # warm up both sides once (first-call imports of scipy, statsmodels...)
    run_peer(data, span)
    package_times, peer_times = [], []
    for _ in range(args.repeat):  # side by side: the two alternate
        seconds, result = run_package(data, span)
        package_times.append(seconds)
        seconds, sql = run_peer(data, span)
        peer_times.append(seconds)
    problems = compare(result, sql)
    for p in problems:
        print("MISMATCH", p)
    print(f"same numbers: {'yes' if not problems else 'NO'} ({len(result):,} cells)")
    tp, td = min(package_times), min(peer_times)
    print(f"package compute_indicators: {tp:.2f} s (runs: {', '.join(f'{t:.2f}' for t in package_times)})")
    print(f"duckdb SQL peer           : {td:.2f} s (runs: {', '.join(f'{t:.2f}' for t in peer_times)})")
    print(f"ratio package / peer      : {tp / td:.2f}x (target <= 1.0x)")
    threads = duckdb.connect().execute("SELECT current_setting('threads')").fetchall()[0][0]
    print(f"duckdb {duckdb.__version__}, {threads} threads; pandas {pd.__version__}, numpy {np.__version__}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
