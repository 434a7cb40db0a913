"""``kkbm voices``: ingest coded qualitative data, print the theme codebook, run the demo.

Exit codes as for ``kkbm``: 0 ok; 1 data problems (items quarantined, or the demo's
quarantine not matching what was planted); 2 usage errors (missing folder, malformed
mapping or codebook file, no pseudonym key), printed as a message without a traceback.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from . import config

app = typer.Typer(help="Voices beside numbers: coded interviews and focus groups (REFI-QDA .qdpx, coded-segments "
                       "spreadsheets), themes, joint display.", no_args_is_help=True, add_completion=False)
console = Console()
err = Console(stderr=True)
EXIT_DATA, EXIT_USAGE = 1, 2


def _usage_errors():
    from .privacy import MissingKeyError
    from .qualitative.codebook import CodebookError
    return (CodebookError, MissingKeyError, FileNotFoundError)


def _fail(exc: Exception) -> None:
    err.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(EXIT_USAGE)


@app.command()
def ingest(
    raw_dir: Annotated[Path, typer.Argument(help="Folder of .qdpx files and coded-segments spreadsheets (never "
                                                 "modified).")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Output folder (default: data/processed/<raw folder "
                                                "name>).")] = None,
    mapping: Annotated[Optional[Path], typer.Option(help="kkbm-voices.yaml (default: the one in RAW_DIR).")] = None,
) -> None:
    """Read coded segments, redact and pseudonymise them, map codes to barrier themes, write Parquet."""
    from .qualitative.ingest import ingest_voices
    target = out or config.paths().processed / raw_dir.resolve().name
    try:
        result = ingest_voices(raw_dir, target, mapping=mapping)
    except _usage_errors() as exc:
        _fail(exc)
    console.print(result.summary())
    console.print(f"tables, quarantine.csv, fates.csv and notes.md in {target}")
    if not result.ok:
        raise typer.Exit(EXIT_DATA)


@app.command()
def codebook(
    lang: Annotated[str, typer.Option(help="Language of labels: id or en.")] = "en",
    extra: Annotated[Optional[Path], typer.Option(help="Your YAML extending the codebook.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write CSV here instead of printing.")] = None,
) -> None:
    """The barrier-theme codebook: themes, polarity, labels, the barrier indicators each explains."""
    from .io import write_csv
    from .qualitative.codebook import load_codebook
    if lang not in ("id", "en"):
        _fail(ValueError(f"--lang must be id or en, not {lang!r}"))
    try:
        book = load_codebook(extra)
    except _usage_errors() as exc:
        _fail(exc)
    table = book.table(lang)
    if out:
        write_csv(table, out)
        err.print(f"codebook {book.name} {book.version} written to {out}")
        return
    console.print(f"[bold]{book.name} {book.version}[/bold]")
    for r in table.itertuples():
        indent = "  " if isinstance(r.parent_id, str) else ""
        console.print(escape(f"{indent}{r.theme_id:<28} {r.polarity:<9} {r.label}  [{r.barrier_ids}]"))


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = config.DEFAULT_SEED,
) -> None:
    """Generate the SYNTHETIC corpus (data/raw/demo-voices), ingest it (data/processed/demo-voices), check it.

    ``kkbm demo`` runs it too, drawn from the demo's processed registers; here the registers
    of the same seed are simulated without the file round trip.
    """
    from .demo import run_voices_demo
    report = run_voices_demo(config.paths(), seed=seed)
    console.print(report.text)
    if not report.ok:
        raise typer.Exit(EXIT_DATA)
