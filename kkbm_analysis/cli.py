"""The ``kkbm`` command.

Exit codes
----------
0   ok.
1   data problems: rows quarantined, a file or sheet unreadable or not understood, nothing
    read, processed data incomplete or damaged, or the demo not matching its expectations.
2   usage error: a bad option, a missing folder, a refused output folder, a bad mapping
    file, no pseudonym key, not a processed folder.
3   internal error (a bug): one line says where the traceback was logged; the log holds no
    identifiers (quoted text and identifier-like numbers are removed).

User errors print a plain message, never a traceback. Paths are printed unwrapped.
"""
from __future__ import annotations

import atexit
import functools
import gc
import os
import sys
import time
import traceback
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Iterable, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import track

from . import config

app = typer.Typer(help="kkbm-analysis: evaluate community-based migrant-worker empowerment programmes "
                       "(KKBM and kin).", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, rich_markup_mode=None)
err = Console(stderr=True, soft_wrap=True, highlight=False)
console = Console(soft_wrap=True, highlight=False)



def _add_voices() -> None:
    from .cli_voices import app as voices_app  # issue 11: coded qualitative data
    app.add_typer(voices_app, name="voices")


_add_voices()


def _show_version(value: bool) -> None:
    if value:
        say(f"kkbm-analysis {config.package_version()}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main_options(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """kkbm-analysis: evaluate community-based migrant-worker empowerment programmes (KKBM and kin)."""

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    """A mistake in how the command was called or configured."""


class DataError(Exception):
    """The data cannot be used as it is (exit 1 with a plain message)."""


def say(text: str, *, error: bool = False) -> None:
    """Print text as it is (no markup, no wrapping): data messages may hold brackets and long paths."""
    (err if error else console).print(text, markup=False)


def _progress(enabled: bool):
    def wrap(items: Iterable[Any], description: str) -> Iterable[Any]:
        items = list(items)
        return track(items, description=description, console=err, transient=True) if enabled else items
    return wrap


def _as_of(value: Optional[str]) -> Optional[date]:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise UsageError(f"--as-of must be a date like 2026-01-31, got {value!r}") from None


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the raw synthetic files.")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = config.DEFAULT_SEED,
    scale: Annotated[str, typer.Option(help="'demo' (calibrated: 7 provinces, 7,935 members), 'national' "
                                            "(38 provinces, ~1 million members), a fraction of it like "
                                            "'national:0.1', or a multiplier of the demo like 0.1.")] = "demo",
    start_year: Annotated[int, typer.Option(help="First programme year.")] = config.DEFAULT_YEARS[0],
    end_year: Annotated[int, typer.Option(help="Last year of follow-up.")] = 2020,
) -> None:
    """Generate SYNTHETIC raw files (Excel, CSV, Kobo exports) with known effects."""
    from .synth import generate_demo
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} is a file; give a folder for the synthetic files")
    result = generate_demo(out_dir, seed=seed, scale=_scale(scale), start_year=start_year, end_year=end_year)
    say(f"wrote {len(result.files)} SYNTHETIC raw files and ground_truth.json to {out_dir}")


def _scale(value: str) -> str | float:
    from .synth.world import NATIONAL_PREFIX, _resolve_scale
    if value in ("demo", "national"):
        return value
    try:
        if value.startswith(NATIONAL_PREFIX):
            _resolve_scale(value)
            return value
        return float(value)
    except ValueError:
        raise UsageError(f"--scale must be 'demo', 'national', 'national:<fraction>' or a number, "
                         f"got {value!r}") from None


@app.command()
def ingest(
    raw_dir: Annotated[Path, typer.Argument(help="Folder of raw files (never modified).")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Output folder (default: data/processed/"
                                                "<raw folder name>). Must be new, empty, or an earlier output.")] = None,
    mapping: Annotated[Optional[Path], typer.Option(help="Mapping YAML (default: RAW_DIR/kkbm-mapping.yaml if "
                                                    "present; `kkbm inspect` writes a draft).")] = None,
    as_of: Annotated[Optional[str], typer.Option(help="Reference date for the future-date rule, "
                                                 "YYYY-MM-DD (default today).")] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    workers: Annotated[Optional[int], typer.Option(min=1, max=2, help="Processes: 1, or 2 (helpers read, build and "
                                                   "write some tables; default 2 for inputs of 64 MiB or more on Linux "
                                                   "with two cores). The outputs are the same.")] = None,
) -> None:
    """Validate and pseudonymise raw files into Parquet, quarantining bad rows with reasons."""
    from .forked import WorkerFailed
    from .ingest import ingest as run_ingest
    from .store import default_output
    if not raw_dir.is_dir():
        raise UsageError(f"raw data folder not found: {raw_dir}" if not raw_dir.exists()
                         else f"{raw_dir} is a file; give the folder that holds the raw files")
    target = out or default_output(raw_dir, config.paths().processed)
    try:
        result = run_ingest(raw_dir, target, mapping=mapping, as_of=_as_of(as_of), progress=_progress(progress),
                            workers=workers)
    except WorkerFailed as exc:  # nothing was written; one process needs less memory
        raise UsageError(f"{exc}; nothing was written. Run again with --workers 1") from None
    say(result.summary())
    if result.rows_read:
        say(f"processed data, quarantine, ingest notes and data_quality.md in {target}")
    if not result.ok:
        raise typer.Exit(EXIT_DATA)


@app.command()
def inspect(
    raw_dir: Annotated[Path, typer.Argument(help="Folder of raw files to look at (never modified).")],
    mapping_out: Annotated[Optional[Path], typer.Option("--mapping-out", help="Write a draft mapping here "
                                                        "(e.g. RAW_DIR/kkbm-mapping.yaml).")] = None,
    mapping: Annotated[Optional[Path], typer.Option(help="Start from this mapping (default: RAW_DIR/"
                                                    "kkbm-mapping.yaml if present).")] = None,
    force: Annotated[bool, typer.Option(help="Replace --mapping-out if it exists.")] = False,
) -> None:
    """Show, for every file and sheet, the header row, the table and field guesses, and what is redacted."""
    from .inspect import inspect_folder
    if not raw_dir.is_dir():
        raise UsageError(f"raw data folder not found: {raw_dir}")
    if mapping_out is not None and mapping_out.exists() and (mapping_out.is_dir() or not force):
        raise UsageError(f"refusing --mapping-out {mapping_out}: it exists"
                         + ("" if mapping_out.is_dir() else "; add --force to replace it"))
    report = inspect_folder(raw_dir, mapping=mapping)
    say(report.text())
    if mapping_out is not None:
        from .io import write_text
        write_text(report.draft_mapping(), mapping_out)
        say(f"draft mapping written to {mapping_out}; check the lines marked CHECK, then run "
            f"`kkbm ingest {raw_dir}" + ("" if mapping_out.resolve() == (raw_dir / "kkbm-mapping.yaml").resolve()
                                        else f" --mapping {mapping_out}") + "`")
    if not report.ok:
        raise typer.Exit(EXIT_DATA)


@app.command()
def analyse(
    processed_dir: Annotated[Path, typer.Argument(help="A processed folder written by `kkbm ingest`.")],
    voices: Annotated[Optional[Path], typer.Option(help="A processed voices folder (`kkbm voices ingest`); default: "
                                                        "PROCESSED_DIR-voices beside it, if there is one.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of every bootstrap (same data and seed, same products).")] = 0,
    jobs: Annotated[int, typer.Option(min=1, help="Run the model fits (one gap decomposition per province, the "
                                                   "national models) on a local Dask cluster of this many worker "
                                                   "processes; 1: one after the other in this process.")] = 1,
    scheduler: Annotated[Optional[str], typer.Option(help="Run the model fits on an existing Dask cluster: its "
                                                          "scheduler's address, e.g. tcp://127.0.0.1:8786.")] = None,
) -> None:
    """Compute every published number once: the analysis products beside the processed data.

    Indicators, barrier metrics, mentoring points, resilience and voices (one suppression for
    all), model fits (cached), recommendation records and products.json. Reports read only these.
    The products are the same whether the fits run here or on Dask (--jobs, --scheduler).
    """
    from contextlib import contextmanager

    from .analyse import Parameters, analyse as run_analyse
    from .cluster import ClusterError, batch_client
    from .store import REQUIRED_FOR_ANALYSIS, check_processed
    check_processed(processed_dir, require=REQUIRED_FOR_ANALYSIS)
    gc.freeze()  # what the imports made is never garbage: the run's full collections need not walk it again
    if voices is not None and not (voices / "sources.parquet").is_file():
        raise UsageError(f"--voices {voices} is not a processed voices folder (run `kkbm voices ingest` first)")
    @contextmanager
    def local_cluster() -> Iterator[Any]:  # started only when a fit is not cached (an idle one would stop)
        with batch_client(n_workers=jobs, memory_limit=None) as (client, _):
            yield client

    try:
        if scheduler:  # an existing cluster: reached first, so that a wrong address is said at once
            with batch_client(scheduler) as (client, _):
                result = run_analyse(processed_dir, voices_dir=voices, parameters=Parameters(seed=seed), client=client)
        else:
            result = run_analyse(processed_dir, voices_dir=voices, parameters=Parameters(seed=seed),
                                 client=local_cluster if jobs > 1 else None)
    except ClusterError as exc:
        raise UsageError(str(exc)) from None
    say(result.summary())


def _products_current(folder: Path) -> bool:
    """Whether the folder's analysis products were made from its current data (same data version) by this
    version of the products' layout."""
    import json

    from .products import MANIFEST
    from .manifest import read_manifest
    from .products.layout import PRODUCTS_VERSION
    path = folder / MANIFEST
    if not path.is_file():
        return False
    try:
        made = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    if made.get("products_version") != PRODUCTS_VERSION:
        return False
    return made.get("data_version") == str((read_manifest(folder) or {}).get("data_version", "unknown"))


@app.command()
def reports(
    processed_dir: Annotated[Optional[Path], typer.Argument(help="Processed data folder (inside data/; default: "
                                                            "the demo's, data/processed/demo).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Output folder (default: reports/).")] = None,
    province: Annotated[Optional[list[str]], typer.Option(metavar="CODE|NAME", help="Province(s) by code or name, any case: "
                                                          "--province 35 36, --province \"jawa timur\" banten "
                                                          "(default: every province in the data).")] = None,
    period: Annotated[Optional[list[str]], typer.Option(metavar="YEAR|all", help="Year(s) to report on, or all "
                                                        "(the whole span) (default: every year and all).")] = None,
    lang: Annotated[list[str], typer.Option(metavar="LANG", help="Language(s): id and/or en.")] = ["id", "en"],
    jobs: Annotated[int, typer.Option(help="Worker processes of the local Dask cluster, each with one warm "
                                           "kernel.")] = os.cpu_count() or 1,
    scheduler: Annotated[Optional[str], typer.Option(help="Run on an existing Dask cluster: its scheduler's "
                                                     "address, e.g. tcp://127.0.0.1:8786 (default: a local cluster "
                                                     "for this batch).")] = None,
    memory_limit: Annotated[str, typer.Option(help="Memory of the local cluster's whole process tree, e.g. 4GiB; "
                                                   "a report going over its worker's share fails.")] = "4GiB",
    force: Annotated[bool, typer.Option(help="Rebuild even reports that are up to date.")] = False,
    national: Annotated[bool, typer.Option(help="Also the national brief of each period and language (--no-national "
                                                "with --province: only those provinces' reports).")] = True,
    pdf: Annotated[bool, typer.Option(help="Also print PDFs.")] = True,
    pdf_engine: Annotated[str, typer.Option(help="PDF engine: weasyprint (no browser needed) or chromium.")
                          ] = "weasyprint",
    continue_on_error: Annotated[bool, typer.Option(help="Go on after a failing report.")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Regenerate every province report and the national brief (HTML + PDF) and index.html, on Dask.

    Reports read the analysis products; `kkbm analyse` runs first when they are missing or older than the data.
    """
    from .reports import ParameterError, build_reports, check_path
    from .cluster import ClusterError
    try:  # paths typed here are relative to the working folder, as in every other command
        folder = check_path(processed_dir.absolute() if processed_dir else config.paths().demo_processed(),
                            "processed_dir")
        out = check_path(out.absolute(), "out_dir") if out else None  # refused before any data is read
        if not _products_current(folder):  # reports read only the products: the tables matter to the analysis
            from .analyse import analyse as run_analyse
            from .store import REQUIRED_FOR_ANALYSIS, check_processed
            check_processed(folder, require=REQUIRED_FOR_ANALYSIS)
            say(f"analysing {folder} first (its analysis products are missing or older than its data)")
            say(run_analyse(folder).summary())
        provinces = _provinces(folder, province)
        result = build_reports(folder, out, provinces=provinces, periods=tuple(period) if period else None,
                               langs=tuple(lang), jobs=jobs, scheduler=scheduler, memory_limit=memory_limit,
                               force=force, national=national, pdf=pdf, pdf_engine=pdf_engine,
                               continue_on_error=continue_on_error, progress=progress)
    except (ParameterError, ClusterError) as exc:
        raise UsageError(str(exc)) from None
    say(result.summary())
    if not result.ok:
        raise typer.Exit(EXIT_DATA)


def _provinces(folder: Path, given: Optional[list[str]]) -> Optional[list[str]]:
    """Codes of the provinces given by code or name (None: every province); unknown ones are a usage error."""
    if not given:
        return None
    from .cli_options import ProvinceError, resolve_provinces
    from .reports.params import data_summary, valid_provinces
    try:
        return resolve_provinces(given, valid_provinces(data_summary(folder)))
    except ProvinceError as exc:
        raise UsageError(str(exc)) from None


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic data.")] = config.DEFAULT_SEED,
    scale: Annotated[str, typer.Option(help="'demo', 'national' or a multiplier like 0.1.")] = "demo",
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    reports: Annotated[bool, typer.Option(help="End with every province report, the national brief "
                                               "(id and en, HTML + PDF) and index.html.")] = True,
    jobs: Annotated[int, typer.Option(help="Report workers of the local Dask cluster.")] = os.cpu_count() or 1,
    scheduler: Annotated[Optional[str], typer.Option(help="Build the reports on an existing Dask cluster "
                                                     "(scheduler address).")] = None,
) -> None:
    """The main job on SYNTHETIC demo data: generate raw files, ingest, validate, analyse, report.

    The voices corpus (coded interviews) is generated and ingested too, into data/raw/demo-voices and
    data/processed/demo-voices. Exits 0 when every quarantined row or item is one of the defects the
    generators planted on purpose (expected_quarantine.csv), the ingest notes name exactly the planted
    malformed NIKs and every report was built, 1 otherwise.
    """
    from .demo import run_demo
    paths = config.paths()  # resolved once, handed down
    report = run_demo(paths, seed=seed, scale=_scale(scale), progress=_progress(progress))
    say(report.text)
    if not report.ok:
        raise typer.Exit(EXIT_DATA)
    if reports:
        from .reports import ParameterError, build_reports
        from .cluster import ClusterError
        try:
            built = build_reports(report.processed_dir, paths.reports, langs=("id", "en"), progress=progress,
                                  jobs=jobs, scheduler=scheduler, root=paths.root)
        except (ParameterError, ClusterError) as exc:
            raise UsageError(str(exc)) from None
        say(built.summary())
        if not built.ok:
            raise typer.Exit(EXIT_DATA)


@app.command()
def codebook(
    out: Annotated[Optional[Path], typer.Option("--out", help="Write CSV here instead of printing.")] = None,
) -> None:
    """The codebook of every table: columns, types, allowed values, meaning (id/en), raw headers."""
    from .io import write_csv
    from .schema import codebook as make
    book = make()
    if out:
        if out.is_dir():
            raise UsageError(f"--out {out} is a folder; give a file name such as codebook.csv")
        write_csv(book, out)
        say(f"codebook written to {out}", error=True)
    else:
        _print_codebook(book)


def _print_codebook(book) -> None:
    for table, grp in book.groupby("table", sort=False):
        say(table)
        for rec in grp.itertuples():
            say(f"  {rec.column:<24} {rec.type:<16} {'required' if rec.required else 'optional':<9} "
                f"{rec.meaning_en} / {rec.meaning_id}")


# --------------------------------------------------------------------------- exit-code contract
def log_dir() -> Path:
    """Where internal-error logs go: ``$KKBM_LOG_DIR``, else the user's cache folder."""
    env = os.environ.get("KKBM_LOG_DIR")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kkbm" / "logs"
    return base.expanduser()


def log_internal_error(exc: BaseException) -> Path:
    """Write the traceback, scrubbed of identifiers, to a new log file; return its path."""
    from .redaction import scrub_log
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"kkbm-error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    from .config import package_version
    path.write_text(f"kkbm-analysis {package_version()}, python {sys.version.split()[0]}\n"
                    f"command: kkbm {' '.join(sys.argv[1:2])}\n\n{scrub_log(text)}", encoding="utf-8")
    return path


def _usage_errors() -> tuple[type, ...]:
    """Exceptions that mean a usage error (exit 2). Imported only when a command fails: their modules load
    the data model, which ``kkbm --help`` does not need (an ``except`` clause is evaluated only then)."""
    from .mapping import MappingError
    from .privacy import MissingKeyError
    from .store import OutputFolderError
    return UsageError, MappingError, MissingKeyError, OutputFolderError, FileNotFoundError, NotADirectoryError


def _processed_data_error() -> type:
    from .store import ProcessedDataError
    return ProcessedDataError


def _data_errors() -> tuple[type, ...]:
    """Exceptions that mean a problem in the data (exit 1); imported as :func:`_usage_errors` is."""
    from .readers import RawFileError
    return DataError, RawFileError


@functools.cache
def _click_command() -> Any:
    """The click command that ``app(...)`` would build again on every call (typer reads every command's signature:
    about 35 ms); built once per process, for callers that run :func:`main` more than once (tests, scripts)."""
    return typer.main.get_command(app)


def main() -> None:
    """Console entry point with the exit-code contract (see the module docstring)."""
    from .cli_options import spread_values
    # Last thing before the interpreter ends: its final garbage collection would walk every object the command made
    # (0.6 s after a report batch with pandas, Dask and WeasyPrint loaded) to free memory that exiting frees anyway.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    try:  # `--province 35 36`: click takes one value per option, so the values are spread first
        code = _click_command()(args=spread_values(sys.argv[1:]), prog_name="kkbm", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except _usage_errors() as exc:
        _error(exc)
        sys.exit(EXIT_USAGE)
    except _processed_data_error() as exc:
        _error(exc)
        sys.exit(exc.exit_code)
    except _data_errors() as exc:
        _error(exc)
        sys.exit(EXIT_DATA)
    except KeyboardInterrupt:
        say("interrupted", error=True)
        sys.exit(130)
    except PermissionError as exc:
        _error(f"permission denied: {exc.filename or exc}")
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        if getattr(exc, "filename", None):
            _error(f"cannot use {exc.filename}: {exc.strerror or type(exc).__name__}")
            sys.exit(EXIT_DATA)
        _internal(exc)
    except Exception as exc:  # click's usage errors arrive here in standalone_mode=False
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(EXIT_USAGE)
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        _internal(exc)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _error(exc: BaseException | str) -> None:
    err.print("[red]error:[/red] ", end="")
    say(str(exc), error=True)


def _internal(exc: BaseException) -> None:
    try:
        where = f"the details were logged to {log_internal_error(exc)}"
    except OSError as log_exc:
        where = f"no log could be written ({log_exc.strerror or type(log_exc).__name__})"
    say(f"internal error in kkbm-analysis ({type(exc).__name__}); {where}. Please report it with that file.",
        error=True)
    sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    main()
