"""The ``kkbm`` command.

Exit codes: 0 ok; 1 data problems found (rows quarantined, files unreadable, or the demo
not matching its expectations); 2 usage error (bad option, missing folder, bad mapping
file, no pseudonym key). User errors print a plain message, never a traceback.
"""
from __future__ import annotations

import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Iterable, Optional

import typer
from rich.console import Console
from rich.progress import track

from . import config

app = typer.Typer(help="kkbm-analysis: evaluate community-based migrant-worker empowerment programmes "
                       "(KKBM and kin).", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
err = Console(stderr=True)
console = Console()


def _add_voices() -> None:
    from .qualitative.cli import app as voices_app  # issue 11: coded qualitative data
    app.add_typer(voices_app, name="voices")


_add_voices()

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake in how the command was called or configured."""


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
                                            "(38 provinces, ~1 million members) or a multiplier like 0.1.")] = "demo",
    start_year: Annotated[int, typer.Option(help="First programme year.")] = config.DEFAULT_YEARS[0],
    end_year: Annotated[int, typer.Option(help="Last year of follow-up.")] = 2020,
) -> None:
    """Generate SYNTHETIC raw files (Excel, CSV, Kobo exports) with known effects."""
    from .synth import generate_demo
    result = generate_demo(out_dir, seed=seed, scale=_scale(scale), start_year=start_year, end_year=end_year)
    console.print(f"wrote {len(result.files)} SYNTHETIC raw files and ground_truth.json to {out_dir}")


def _scale(value: str) -> str | float:
    if value in ("demo", "national"):
        return value
    try:
        return float(value)
    except ValueError:
        raise UsageError(f"--scale must be 'demo', 'national' or a number, got {value!r}") from None


@app.command()
def ingest(
    raw_dir: Annotated[Path, typer.Argument(help="Folder of raw files (never modified).")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Output folder (default: data/processed/"
                                                "<raw folder name>).")] = None,
    mapping: Annotated[Optional[Path], typer.Option(help="Column/sheet mapping YAML (default: "
                                                    "RAW_DIR/kkbm-mapping.yaml if present).")] = None,
    as_of: Annotated[Optional[str], typer.Option(help="Reference date for the future-date rule, "
                                                 "YYYY-MM-DD (default today).")] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Validate and pseudonymise raw files into Parquet, quarantining bad rows with reasons."""
    from .ingest import ingest as run_ingest
    target = out or config.paths().processed / raw_dir.resolve().name
    result = run_ingest(raw_dir, target, mapping=mapping, as_of=_as_of(as_of), progress=_progress(progress))
    console.print(result.summary())
    console.print(f"processed data, quarantine and data_quality.md in {target}")
    if not result.ok:
        raise typer.Exit(EXIT_DATA)


@app.command()
def analyse(
    processed_dir: Annotated[Path, typer.Argument(help="A processed folder written by `kkbm ingest`.")],
) -> None:
    """Write the suppressed indicator table and the barrier profiles beside processed data."""
    from .data import ProgramData
    from .outputs import write_analysis_tables
    outputs = write_analysis_tables(ProgramData.load(processed_dir), processed_dir)
    console.print(outputs.indicators.summary())
    console.print("wrote " + ", ".join(p.name for p in outputs.files) + f" to {processed_dir}")


@app.command()
def reports(
    processed_dir: Annotated[Path, typer.Argument(help="Processed data folder (inside data/).")] = Path(
        "data/processed/demo"),
    out: Annotated[Optional[Path], typer.Option("--out", help="Output folder (default: reports/).")] = None,
    province: Annotated[Optional[list[str]], typer.Option(help="Province code(s) as strings, e.g. --province 36 "
                                                          "(default: every province in the data).")] = None,
    period: Annotated[list[str], typer.Option(help="Year(s) to report on.")] = ["2018"],
    lang: Annotated[list[str], typer.Option(help="Language(s): id and/or en.")] = ["id", "en"],
    jobs: Annotated[int, typer.Option(help="Parallel workers, each with one warm kernel.")] = os.cpu_count() or 1,
    force: Annotated[bool, typer.Option(help="Rebuild even reports that are up to date.")] = False,
    pdf: Annotated[bool, typer.Option(help="Also print PDFs.")] = True,
    pdf_engine: Annotated[str, typer.Option(help="PDF engine: weasyprint (no browser needed) or chromium.")
                          ] = "weasyprint",
    continue_on_error: Annotated[bool, typer.Option(help="Go on after a failing report.")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Regenerate every province report and the national brief (HTML + PDF) and index.html."""
    from .reports import ParameterError, build_reports
    try:
        result = build_reports(processed_dir, out, provinces=province, periods=tuple(period), langs=tuple(lang),
                               jobs=jobs, force=force, pdf=pdf, pdf_engine=pdf_engine,
                               continue_on_error=continue_on_error, progress=progress)
    except ParameterError as exc:
        raise UsageError(str(exc)) from None
    console.print(result.summary())
    if not result.ok:
        raise typer.Exit(EXIT_DATA)


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic data.")] = config.DEFAULT_SEED,
    scale: Annotated[str, typer.Option(help="'demo', 'national' or a multiplier like 0.1.")] = "demo",
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    reports: Annotated[bool, typer.Option(help="End with every province report, the national brief "
                                               "(id and en, HTML + PDF) and index.html.")] = True,
) -> None:
    """The main job on SYNTHETIC demo data: generate raw files, ingest, validate, analyse, report.

    Exits 0 when every quarantined row is one of the defects the generator planted on
    purpose (listed in expected_quarantine.csv) and every report was built, 1 otherwise.
    """
    from .demo import run_demo
    paths = config.paths()  # resolved once, handed down
    report = run_demo(paths, seed=seed, scale=_scale(scale), progress=_progress(progress))
    console.print(report.text)
    if not report.ok:
        raise typer.Exit(EXIT_DATA)
    if reports:
        from .reports import build_reports
        built = build_reports(report.processed_dir, paths.reports, langs=("id", "en"), progress=progress,
                              root=paths.root)
        console.print(built.summary())
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
        write_csv(book, out)
        err.print(f"codebook written to {out}")
    else:
        _print_codebook(book)


def _print_codebook(book) -> None:
    for table, grp in book.groupby("table", sort=False):
        console.print(f"[bold]{table}[/bold]")
        for rec in grp.itertuples():
            console.print(f"  {rec.column:<24} {rec.type:<16} {'required' if rec.required else 'optional':<9} "
                      f"{rec.meaning_en} / {rec.meaning_id}")


def main() -> None:
    """Console entry point with the exit-code contract."""
    from .mapping import MappingError
    from .privacy import MissingKeyError
    from .readers import RawFileError
    try:
        code = app(standalone_mode=False)  # returns the code of a typer.Exit
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (UsageError, MappingError, MissingKeyError, FileNotFoundError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        sys.exit(EXIT_USAGE)
    except RawFileError as exc:
        err.print(f"[red]error:[/red] {exc}")
        sys.exit(EXIT_DATA)
    except Exception as exc:  # click's usage errors arrive here in standalone_mode=False
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(EXIT_USAGE)
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        raise
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":  # pragma: no cover
    main()
