"""What a batch did: each report built, up to date, failed or not run, and why; the batch summary."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .planning import ReportJob

__all__ = ["ReportError", "ReportOutcome", "BuildResult"]


@dataclass(frozen=True)
class ReportError:
    """Why a report failed: the failing cell and the exception (from PapermillExecutionError)."""

    ename: str
    evalue: str
    cell_index: int | None = None
    source: str = ""
    traceback: str = ""

    def line(self) -> str:
        where = f"cell {self.cell_index}" if self.cell_index is not None else "outside the notebook"
        first = self.source.strip().splitlines()[0][:70] if self.source.strip() else ""
        return f"{where}{f' ({first})' if first else ''}: {self.ename}: {self.evalue}"


@dataclass
class ReportOutcome:
    """What happened to one report: ``built``, ``cached`` (up to date), ``failed`` or ``not run``.

    ``worker`` (the Dask worker's address) and ``kernel_pid`` say where a report ran, for
    reading the cluster's logs.
    """

    job: ReportJob
    status: str
    html: Path | None = None
    pdf: Path | None = None
    seconds: float = 0.0
    error: ReportError | None = None
    log: Path | None = None
    pdf_error: str = ""
    worker: str = ""
    kernel_pid: int | None = None


@dataclass
class BuildResult:
    """Outcome of :func:`build_reports`."""

    reports: list[ReportOutcome]
    out_dir: Path
    index: Path | None = None
    pdf_requested: bool = True
    pdf_note: str = ""
    seconds: float = 0.0
    workers: int = 0

    def _with(self, status: str) -> list[ReportOutcome]:
        return [r for r in self.reports if r.status == status]

    @property
    def built(self) -> list[ReportOutcome]:
        return self._with("built")

    @property
    def cached(self) -> list[ReportOutcome]:
        return self._with("cached")

    @property
    def failed(self) -> list[ReportOutcome]:
        return self._with("failed")

    @property
    def not_run(self) -> list[ReportOutcome]:
        return self._with("not run")

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_run

    @property
    def exit_code(self) -> int:
        """0 when every report is built or up to date, 1 otherwise."""
        return 0 if self.ok else 1

    def summary(self) -> str:
        lines = [f"reports: {len(self.built)} built, {len(self.cached)} up to date, {len(self.failed)} failed"
                 + (f", {len(self.not_run)} not run" if self.not_run else "")
                 + f" ({self.seconds:.1f} s, {self.workers} worker{'s' if self.workers != 1 else ''}) -> {self.out_dir}"]
        if self.pdf_note:
            lines.append(f"PDF: {self.pdf_note}")
        pdf_errors = [r for r in self.reports if r.pdf_error]
        for r in pdf_errors:
            lines.append(f"  PDF of {r.job.stem} failed: {r.pdf_error}")
        if self.failed:
            lines.append("failed reports:")
            for r in self.failed:
                lines.append(f"  {r.job.stem}: {r.error.line() if r.error else 'unknown error'}"
                             + (f"  [log: {r.log.name}]" if r.log else ""))
        if self.not_run:
            lines.append("not run (stopped after the first failure, continue_on_error=False): "
                         + ", ".join(r.job.stem for r in self.not_run))
        if self.index:
            lines.append(f"index: {self.index}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
