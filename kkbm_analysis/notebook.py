"""Helpers of the exploratory notebooks (``notebooks/01_*`` to ``06_*``): load, label, format, show.

::

    from kkbm_analysis import notebook as nbk
    data = nbk.load(data_dir)           # processed tables (kkbm_analysis.data.ProgramData)
    products = nbk.products(data_dir)   # the published, suppressed cells (kkbm_analysis.products.Products)
    nbk.banner(data)                    # the SYNTHETIC DATA banner, displayed
    nbk.table(products.indicators(period="2018"), lang="id")   # names beside codes, numbers formatted
    nbk.figure(viz.indicator_bars(...))                        # a figure shown as a picture

Notebooks load data through the data layer (:mod:`kkbm_analysis.data`) and the published
products (:mod:`kkbm_analysis.products`), never through the report layer. Each helper returns
something a notebook displays as the last expression of a cell (a DataFrame, a Styler, or
:class:`Html`), and the notebook keeps the underlying results in variables for later cells.
Models that cannot run on the data (too few rows...) come back as a readable message instead
of a traceback (:func:`try_model`).
"""
from __future__ import annotations

import base64
import io
import warnings
from html import escape
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from .config import paths as project_paths
from .i18n import number, percent, region_name, rupiah
from .i18n import text as t

__all__ = ["Html", "data_folder", "load", "products", "banner", "figure", "table", "published_wide",
           "processed_overview", "manifest_summary", "quarantine_by_rule", "notes_by_rule", "quality_markdown",
           "try_model", "survival_figure", "quiet"]

_BANNER_STYLE = ("border:3px solid #B2182B;background:#fdecea;color:#B2182B;font-weight:bold;padding:.6em .9em;"
                 "margin:0 0 1em;font-family:'DejaVu Sans',Arial,sans-serif")


class Html(str):
    """A string of HTML that Jupyter displays as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


def data_folder(data_dir: str | Path) -> Path:
    """A processed folder: relative paths are taken from the project root; it must exist inside ``data/``.

    Raises
    ------
    ValueError
        The folder lies outside the project's ``data/`` folder, or does not exist.
    """
    paths = project_paths()
    folder = Path(data_dir)
    folder = (folder if folder.is_absolute() else paths.root / folder).resolve()
    data = (paths.root / "data").resolve()
    if not folder.is_relative_to(data):
        raise ValueError(f"data_dir {data_dir} is outside the project's data folder {data}")
    if not folder.is_dir():
        raise ValueError(f"data_dir {data_dir} does not exist ({folder}); run `kkbm demo` or `kkbm ingest` first")
    return folder


def load(data_dir: str | Path) -> Any:
    """The processed tables of a folder (:class:`kkbm_analysis.data.ProgramData`)."""
    from .data import ProgramData
    return ProgramData.load(data_folder(data_dir))


def products(data_dir: str | Path) -> Any:
    """The published cells of a folder (:class:`kkbm_analysis.products.Products`; ``kkbm analyse`` writes them)."""
    from .products import Products
    return Products.open(data_folder(data_dir))


def banner(data: Any, lang: str = "en") -> Html:
    """The SYNTHETIC DATA banner (empty for real data)."""
    if not getattr(data, "synthetic", False):
        return Html("")
    return Html(f'<div style="{_BANNER_STYLE}">{escape(t("report.synthetic_banner", lang))}</div>')


def figure(fig: Any, *, alt: str = "", dpi: int = 110) -> Html:
    """A matplotlib Figure (or an Axes' figure) as an embedded PNG: it shows in any notebook front end."""
    if isinstance(fig, Html):  # a message from try_model
        return fig
    if not hasattr(fig, "savefig"):  # an Axes
        fig = fig.figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    import matplotlib.pyplot as plt
    plt.close(fig)  # a pyplot figure would otherwise be shown a second time (or as "<Figure size ...>" text)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return Html(f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}" style="max-width:100%">')


def _is_share(column: str, values: pd.Series) -> bool:
    words = ("share", "rate", "coverage", "uptake", "proportion", "ci_low", "ci_high")
    finite = values.dropna()
    return any(w in column for w in words) and len(finite) > 0 and finite.between(-1e-9, 1 + 1e-9).all()


def table(frame: pd.DataFrame, *, lang: str = "en", percent_columns: Iterable[str] | None = None,
          decimals: int = 1, region_col: str | None = None) -> Any:
    """A frame for reading: region names beside the codes, numbers in the language's format.

    Parameters
    ----------
    frame : DataFrame
        Any result table; it is not changed (keep it in a variable for later cells).
    lang : {'en', 'id'}
        Number format and region names.
    percent_columns : iterable of str, optional
        Columns written as percentages (default: share-like columns whose values lie in [0, 1]).
    decimals : int
        Decimals of non-integer numbers (percentages get one). In a frame of published cells
        (with a ``unit`` column) value, interval and national value follow each row's unit.
    region_col : str, optional
        The column of region codes (default: ``region_code`` or ``province_code``). Years,
        periods, codes and ids are left as they are (no thousands separator in 2018).

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    shown = frame.copy()
    col = region_col or next((c for c in ("region_code", "province_code") if c in shown.columns), None)
    if col and "region_name" not in shown.columns:
        shown.insert(shown.columns.get_loc(col) + 1, "region_name",
                     [region_name(c, lang) if pd.notna(c) else "" for c in shown[col]])
    if "unit" in shown.columns:  # published cells: each number written in its own row's unit
        for c in [c for c in _CELL_NUMBERS if c in shown.columns]:
            shown[c] = [_unit_text(x, u, lang) for x, u in zip(shown[c], shown["unit"])]
    shares = set(percent_columns) if percent_columns is not None else {
        c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c]) and _is_share(str(c), shown[c])}
    formats: dict[str, Callable[[Any], str]] = {}
    for c in shown.columns:
        if (not pd.api.types.is_numeric_dtype(shown[c]) or pd.api.types.is_bool_dtype(shown[c])
                or str(c) in ("year", "period", "cohort") or str(c).endswith(("_code", "_id", "_year"))):
            continue
        values = pd.to_numeric(shown[c], errors="coerce").dropna()
        if c in shares:
            formats[c] = lambda x: "" if pd.isna(x) else percent(x, 1, lang)
        elif len(values) and (values == values.round()).all():
            formats[c] = lambda x: "" if pd.isna(x) else number(x, 0, lang)
        else:
            formats[c] = lambda x, d=decimals: "" if pd.isna(x) else number(x, d, lang)
    return shown.style.format(formats).hide(axis="index")


#: The numbers of a published cell that are written in the cell's unit.
_CELL_NUMBERS = ("value", "ci_low", "ci_high", "national_value")


def _unit_text(x: Any, unit: Any, lang: str) -> str:
    """A number of a published cell written in its unit (empty when missing)."""
    if pd.isna(x):
        return ""
    unit = str(unit)
    if unit in ("proportion", "share", "share of average staff"):
        return percent(x, 1, lang)
    if unit.startswith("rupiah"):
        return rupiah(x, lang)
    return number(x, 0 if unit in ("count", "people", "members", "communities", "villages", "sessions", "days") else 1,
                  lang)


def _cell_text(cell: pd.Series, lang: str) -> str:
    """A published cell written in its unit ("suppressed" when withheld)."""
    return t("common.suppressed", lang) if bool(cell["suppressed"]) else _unit_text(cell["value"], cell["unit"], lang)


def published_wide(products: Any, measures: list[str], period: str, *, lang: str = "en") -> pd.DataFrame:
    """Provinces x indicators of the published cells, written in their units, withheld ones as "suppressed"."""
    f = products.indicators(measure=measures, period=period)
    f = f.assign(shown=[_cell_text(r, lang) for _, r in f.iterrows()])
    labels = dict(zip(f["measure_id"], f[f"label_{lang}"]))
    wide = f.pivot(index="region_code", columns="measure_id", values="shown")[measures]
    wide.index = [f"{region_name(c, lang)} ({c})" if c != "ID" else t("common.national", lang) for c in wide.index]
    wide.index.name = t("index.province", lang)
    wide.columns = [labels[c] for c in wide.columns]
    return wide


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


def quiet() -> None:
    """Silence library warnings in a notebook (they are reported in result notes)."""
    warnings.simplefilter("ignore")


def survival_figure(curves: Any) -> Html:
    """Kaplan-Meier curves (a :class:`~kkbm_analysis.models.SurvivalCurves`, or the message of
    :func:`try_model`) as a picture in the house style."""
    from matplotlib.figure import Figure

    from .viz import theme
    if isinstance(curves, Html):
        return curves
    with theme.house_style():
        fig = Figure(figsize=(7.2, 4.2))
        ax = fig.add_subplot()
        curves.plot(ax=ax)
        if curves.synthetic:
            theme.synthetic_banner(fig)
    return figure(fig, alt="Kaplan-Meier")
