"""Planning a batch: which reports to build (validated at once), their names and their files."""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..i18n import LANGS, region_name
from .params import ParameterError, check_path, data_summary, valid_periods, valid_provinces

#: Template notebook of each report kind, in :data:`TEMPLATES_DIR`.
TEMPLATE_FILES: dict[str, str] = {"province": "report_province.ipynb", "national": "brief_national.ipynb"}
#: Where the report templates live: inside the package, so ``kkbm reports`` works from any installation.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


CACHE_DIR = ".cache"


@dataclass(frozen=True)
class ReportJob:
    """One report to build."""

    template: str
    notebook: Path
    parameters: dict
    stem: str
    period: str
    lang: str
    province: str | None = None

    @property
    def title(self) -> str:
        from ..i18n import text as t
        if self.template == "province":
            return t("report.province_title", self.lang, name=region_name(self.province or "", self.lang)) + f" ({self.period})"
        return t("report.national_title", self.lang, period=self.period)


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def output_stem(template: str, period: str, lang: str, province: str | None = None) -> str:
    """File name (without suffix) of a report: ``province-36-banten-2018-id``, ``brief-national-2018-en``."""
    if template == "province":
        return f"province-{province}-{_slug(region_name(province or ''))}-{period}-{lang}"
    return f"brief-national-{period}-{lang}"


def _templates_dir(templates_dir: str | Path | None) -> Path:
    return Path(templates_dir) if templates_dir else TEMPLATES_DIR


def plan_reports(processed_dir: str | Path, *, provinces: Iterable[str] | None = None,
                 periods: Sequence[str] = ("2018",), langs: Sequence[str] = LANGS, national: bool = True,
                 templates_dir: str | Path | None = None, show_models: bool = True, n_boot: int | None = None,
                 templates: dict[str, str] | None = None, root: str | Path | None = None) -> list[ReportJob]:
    """Validate a batch request and list its jobs (nothing runs).

    ``templates_dir`` defaults to the package's own templates (:data:`TEMPLATES_DIR`);
    ``root`` is the project root (default: :func:`kkbm_analysis.config.find_root`).

    Raises
    ------
    ParameterError
        Unknown province, period or language (the message lists the valid ones), a path
        outside the project's data and output folders, or a missing template.
    """
    from .params import DEFAULT_N_BOOT
    folder = check_path(processed_dir, "processed_dir", root=root, must_exist=True)
    summary = data_summary(folder)
    valid_p, valid_y = valid_provinces(summary), valid_periods(summary)
    periods = [str(p) for p in periods]
    bad = [p for p in periods if p not in valid_y]
    if bad or not periods:
        raise ParameterError(f"unknown period(s) {bad or periods}; years in the data: {', '.join(valid_y) or '(none)'}")
    langs = [str(x) for x in langs]
    if not langs or any(x not in LANGS for x in langs):
        raise ParameterError(f"unknown language(s) {[x for x in langs if x not in LANGS] or langs}; "
                             f"valid: {', '.join(LANGS)}")
    if provinces is None:
        provinces = valid_p
    else:
        provinces = [p if isinstance(p, str) else _refuse_code(p) for p in provinces]
        bad = [p for p in provinces if p not in valid_p]
        if bad:
            raise ParameterError(f"unknown province(s) {bad}; provinces in the data: "
                                 + ", ".join(f"{c} ({region_name(c)})" for c in valid_p))
    tdir = _templates_dir(templates_dir)
    files = {**TEMPLATE_FILES, **(templates or {})}
    for kind in ("province", "national") if national else ("province",):
        if not (tdir / files[kind]).exists():
            raise ParameterError(f"template {files[kind]} not found in {tdir}")
    common = {"data_dir": str(folder), "show_models": bool(show_models), "n_boot": int(n_boot or DEFAULT_N_BOOT)}
    jobs = []
    for period in periods:
        if national:
            for lang in langs:
                jobs.append(ReportJob("national", tdir / files["national"],
                                      {"period": period, "lang": lang, **common},
                                      output_stem("national", period, lang), period, lang))
        for code in provinces:
            for lang in langs:
                jobs.append(ReportJob("province", tdir / files["province"],
                                      {"province": code, "period": period, "lang": lang, **common},
                                      output_stem("province", period, lang, code), period, lang, code))
    return jobs


def _refuse_code(value: Any) -> str:
    raise ParameterError(f"province codes must be strings such as '36', not {type(value).__name__} {value!r}")


def _paths(out_dir: Path, stem: str) -> dict[str, Path]:
    return {"html": out_dir / f"{stem}.html", "pdf": out_dir / f"{stem}.pdf",
            "key": out_dir / CACHE_DIR / f"{stem}.json", "log": out_dir / f"{stem}.failed.log",
            "nb": out_dir / f"{stem}.failed.ipynb"}


def _read_key(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _remove(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass
