"""Helpers of the exploratory notebooks (``notebooks/01_*`` to ``04_*``): small, displayable views.

Each function takes a processed folder or a :class:`~kkbm_analysis.data.ProgramData` and
returns a DataFrame, a figure or :class:`~kkbm_analysis.reports.markup.Html`, so a
notebook cell is one call. Models that cannot run on the data (too few rows...) come back as
a readable message instead of a traceback (:func:`try_model`).
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
    """``fn(*args, **kwargs)``, or a short message when the data cannot support the model."""
    from ..models import ModelInputError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except (ModelInputError, ValueError) as exc:
        from html import escape
        return Html(f'<p class="kkbm-note"><b>{escape(getattr(fn, "__name__", "model"))}</b> cannot run on these '
                    f"data: {escape(str(exc))}</p>")


def indicator_wide(published: Any, indicators: list[str], period: str, *, lang: str = "en") -> pd.DataFrame:
    """Provinces x indicators of a published table (suppressed cells shown as 'suppressed')."""
    from ..indicators import REGISTRY
    from ..i18n import region_name
    from ..i18n import text as t
    from .markup import value_text
    f = published.frame
    f = f.loc[(f["period"] == period) & (f["disaggregation"] == "all") & f["indicator_id"].isin(indicators)]
    f = f.assign(shown=[t("common.suppressed", lang) if s else value_text(v, REGISTRY[i].unit, lang)
                        for i, v, s in zip(f["indicator_id"], f["value"], f["suppressed"])])
    wide = f.pivot(index="region_code", columns="indicator_id", values="shown")[indicators]
    wide.index = [region_name(c, lang) if c != "ID" else t("common.national", lang) for c in wide.index]
    wide.columns = [getattr(REGISTRY[c], f"label_{lang}") for c in wide.columns]
    return wide


def quiet() -> None:
    """Silence library warnings in a notebook (they are reported in result notes)."""
    warnings.simplefilter("ignore")


def read_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def survival_figure(data: Any) -> Any:
    """Kaplan-Meier curves of business survival by mentoring points received, as a Figure (or a message)."""
    from matplotlib.figure import Figure

    from ..models import survival_curves
    from ..viz import theme
    curves = try_model(survival_curves, data)
    if isinstance(curves, Html):
        return curves
    with theme.house_style():
        fig = Figure(figsize=(7.2, 4.2))
        ax = fig.add_subplot()
        curves.plot(ax=ax)
        if data.synthetic:
            theme.synthetic_banner(fig)
    return fig
