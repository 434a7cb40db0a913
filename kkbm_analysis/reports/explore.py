"""Helpers of the exploratory notebooks (``notebooks/01_*`` to ``06_*``): small, displayable views.

Each function takes a processed folder, a :class:`~kkbm_analysis.data.ProgramData`, the
analysis products or a result, and returns a DataFrame, a figure or
:class:`~kkbm_analysis.reports.markup.Html`, so a notebook cell is one call. Models that
cannot run on the data (too few rows...) come back as a readable message instead of a
traceback (:func:`try_model`). Like every module of the reports, this one imports no
analysis: notebooks call the analyses themselves and hand the results in.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from .params import check_path
from .markup import STYLE, Html

__all__ = ["resolve_data_dir", "banner", "processed_overview", "quarantine_by_rule", "notes_by_rule",
           "quality_markdown", "try_model", "indicator_wide", "quiet"]


def resolve_data_dir(data_dir: str) -> Path:
    """A processed folder inside the project's data folder (see :func:`.params.check_path`)."""
    return check_path(data_dir, "data_dir", must_exist=True)


def banner(data: Any) -> Html:
    """The SYNTHETIC DATA banner (empty for real data) plus the report style."""
    from ..i18n import text as t
    text = (f'<div class="kkbm-banner">{t("report.synthetic_banner", "en")}</div>' if data.synthetic else "")
    return Html(f"<style>{STYLE}</style><div class='kkbm-report'>{text}</div>")


def processed_overview(data: Any) -> pd.DataFrame:
    """One row per processed table: rows and columns; ``attrs`` holds the manifest essentials."""
    rows = [{"table": name, "rows": len(df), "columns": df.shape[1]} for name, df in data.tables.items()]
    out = pd.DataFrame(rows)
    m = data.manifest
    out.attrs.update({k: m.get(k) for k in ("data_version", "synthetic", "package_version", "as_of")})
    return out


def manifest_summary(data: Any) -> pd.Series:
    """Data version, synthetic flag, package version, reference date, row accounting."""
    m = data.manifest
    info = {k: m.get(k) for k in ("data_version", "synthetic", "package_version", "schema_version", "as_of",
                                  "pseudonym_key_id")}
    info.update({f"rows_{k}": v for k, v in (m.get("rows") or {}).items()})
    info["input_files"] = len(m.get("inputs", []))
    return pd.Series(info, name="manifest")


def quarantine_by_rule(data_dir: str | Path) -> pd.DataFrame:
    """Quarantined problems per table and rule (from ``quarantine.csv``; empty if none)."""
    path = Path(data_dir) / "quarantine.csv"
    if not path.exists():
        return pd.DataFrame(columns=["table", "rule", "problems", "rows"])
    q = pd.read_csv(path, keep_default_na=False, usecols=["table", "file", "sheet", "row", "rule"])
    out = q.groupby(["table", "rule"]).agg(problems=("rule", "size"),
                                           rows=("row", lambda r: r.astype(str).nunique()))
    return out.reset_index().sort_values(["table", "problems"], ascending=[True, False], ignore_index=True)


def notes_by_rule(data_dir: str | Path) -> pd.DataFrame:
    """Notes on kept rows and sheets per table and rule (from ``ingest_notes.csv``; empty if none).

    A note does not remove anything: a malformed NIK kept under its pseudonym, totals that do
    not add up, a column not used, rows skipped as blank, totals or footers.
    """
    path = Path(data_dir) / "ingest_notes.csv"
    if not path.exists():
        return pd.DataFrame(columns=["table", "rule", "notes"])
    notes = pd.read_csv(path, keep_default_na=False, usecols=["table", "rule"], encoding="utf-8-sig")
    out = notes.groupby(["table", "rule"]).size().rename("notes").reset_index()
    return out.sort_values(["table", "notes"], ascending=[True, False], ignore_index=True)


def quality_markdown(data_dir: str | Path):
    """``data_quality.md`` of the folder, for display (IPython Markdown)."""
    from IPython.display import Markdown
    path = Path(data_dir) / "data_quality.md"
    return Markdown(path.read_text(encoding="utf-8") if path.exists() else "_no data_quality.md in this folder_")


def try_model(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, or a short message when the data cannot support the model
    (a :class:`~kkbm_analysis.models.ModelInputError` is a ``ValueError``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except ValueError as exc:
        from html import escape
        return Html(f'<p class="kkbm-note"><b>{escape(getattr(fn, "__name__", "model"))}</b> cannot run on these '
                    f"data: {escape(str(exc))}</p>")


def indicator_wide(products: Any, indicators: list[str], period: str, *, lang: str = "en") -> pd.DataFrame:
    """Provinces x indicators of the published indicators (withheld cells shown as 'suppressed')."""
    from ..i18n import region_name
    from ..i18n import text as t
    from .cells import cell_text
    f = products.indicators(measure=indicators, period=period)
    f = f.assign(shown=[t("common.suppressed", lang) if bool(r["suppressed"]) else cell_text(r, "indicators", lang)
                        for _, r in f.iterrows()])
    labels = dict(zip(f["measure_id"], f[f"label_{lang}"]))
    wide = f.pivot(index="region_code", columns="measure_id", values="shown")[indicators]
    wide.index = [region_name(c, lang) if c != "ID" else t("common.national", lang) for c in wide.index]
    wide.columns = [labels[c] for c in wide.columns]
    return wide


def quiet() -> None:
    """Silence library warnings in a notebook (they are reported in result notes)."""
    warnings.simplefilter("ignore")


def read_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def survival_figure(curves: Any) -> Any:
    """Kaplan-Meier curves (a :class:`~kkbm_analysis.models.SurvivalCurves`, or the message of
    :func:`try_model`) as a Figure in the house style."""
    from matplotlib.figure import Figure

    from ..viz import theme
    if isinstance(curves, Html):
        return curves
    with theme.house_style():
        fig = Figure(figsize=(7.2, 4.2))
        ax = fig.add_subplot()
        curves.plot(ax=ax)
        if curves.synthetic:
            theme.synthetic_banner(fig)
    return fig
