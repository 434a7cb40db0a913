"""What the chart functions share: parameter docs written once, legend and gap helpers, interval bounds."""
from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch, Rectangle

from ..i18n import text
from ..intervals import wilson_interval
from . import _frames
from .theme import HATCH_EDGE, MISSING_COLOUR, MISSING_HATCH, SUPPRESSED_COLOUR, SUPPRESSED_HATCH

_DOCS = {
    "ci": """ci : (str, str) or None
        Columns of the lower and upper 95 % bounds; None: no intervals.""",
    "suppressed": """suppressed : str or None
        Column flagging suppressed cells (True: value withheld); None: no such column.""",
    "region_labels": """region_labels : {'name', 'short', 'code'} or mapping
        How regions are named: official Kemendagri name, common short name (Jabar,
        DKI Jakarta...), the code, or a mapping code -> label.""",
    "percent": """percent : bool, optional
        Show values as percentages (default: the indicator is a proportion, or every
        value lies in [0, 1]). decimals fixes the digits shown.""",
    "lang": """lang : {'en', 'id'}
        Language of labels and number format.""",
    "ax": """ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.""",
    "returns": """Returns
    -------
    matplotlib.axes.Axes""",
}


def _share_docs(func: Callable) -> Callable:
    """Fill ``{ci}``, ``{lang}``... in a docstring from :data:`_DOCS` (written once)."""
    doc = func.__doc__ or ""
    for key, words in _DOCS.items():
        doc = doc.replace("{" + key + "}", words)
    func.__doc__ = doc
    return func


def _legend_outside(ax: Axes, handles: Sequence[Any] | None = None, **kwargs: Any) -> None:
    """Legend to the right of the Axes (never over the data)."""
    if handles is None:
        handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles=list(handles), loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  borderaxespad=0.0, **kwargs)


def _gap_handle(state: str, lang: str) -> Patch:
    """Legend patch for suppressed / no-data cells."""
    if state == "suppressed":
        return Patch(facecolor=SUPPRESSED_COLOUR, edgecolor=HATCH_EDGE, hatch=SUPPRESSED_HATCH,
                     label=text("figure.suppressed", lang))
    return Patch(facecolor=MISSING_COLOUR, edgecolor=HATCH_EDGE, hatch=MISSING_HATCH, label=text("common.no_data", lang))


def _gap_band(ax: Axes, position: float, state: str, lang: str, *, height: float = 0.7,
              orient: str = "h") -> None:
    """A hatched band across the whole row (``orient='h'``) or column, with a word on it.

    It spans the axis, so it cannot be read as a value; its gid is ``'suppressed'`` or
    ``'missing'``.
    """
    hatched = state == "suppressed"
    face = SUPPRESSED_COLOUR if hatched else MISSING_COLOUR
    hatch = SUPPRESSED_HATCH if hatched else MISSING_HATCH
    if orient == "h":
        rect = Rectangle((0, position - height / 2), 1, height, transform=ax.get_yaxis_transform(),
                         facecolor=face, edgecolor=HATCH_EDGE, hatch=hatch, linewidth=0.6, alpha=0.55,
                         gid=state, zorder=0.5)
        ax.add_patch(rect)
        ax.text(0.01, position, text("figure.suppressed" if hatched else "common.no_data", lang), transform=ax.get_yaxis_transform(),
                ha="left", va="center", fontsize=8.5, fontstyle="italic", color="#333333", gid=f"{state}-label",
                bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"}, zorder=3)
    else:
        rect = Rectangle((position - height / 2, 0), height, 1, transform=ax.get_xaxis_transform(),
                         facecolor=face, edgecolor=HATCH_EDGE, hatch=hatch, linewidth=0.6, alpha=0.55,
                         gid=state, zorder=0.5)
        ax.add_patch(rect)


def _states(values: np.ndarray, suppressed: np.ndarray) -> np.ndarray:
    return np.where(suppressed, "suppressed", np.where(np.isfinite(values), "value", "missing"))


def _bounds(data: pd.DataFrame, ci: Sequence[str] | None, numerator: str | None,
            denominator: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """CI bounds from the ci columns, else a Wilson interval from numerator/denominator, else None."""
    if ci is not None and all(c in data.columns for c in ci):
        return _frames.floats(data[ci[0]]), _frames.floats(data[ci[1]])
    if numerator and denominator and numerator in data.columns and denominator in data.columns:
        return wilson_interval(_frames.floats(data[numerator]), _frames.floats(data[denominator]))
    return None


def _wrap(label: str, width: int = 22) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _label_column(data: pd.DataFrame, lang: str) -> str | None:
    """``label_id`` / ``label_en`` if the frame carries bilingual labels."""
    column = f"label_{lang}"
    return column if column in data.columns else None


def _with_ci(label: str, lang: str) -> str:
    """``'Odds ratio (95% CI)'``; ``'Efek (ATT; SK 95%)'`` when the label ends in brackets."""
    words = text("common.ci95", lang)
    return f"{label[:-1]}; {words})" if label.endswith(")") else f"{label} ({words})"


def _percent_limits(ax: Axes, axis: str, values: np.ndarray) -> None:
    """Start a share axis at 0 (or below, for negative values); end it at 100 % when the data come close."""
    finite = values[np.isfinite(values)]
    low = min(0.0, float(finite.min())) if len(finite) else 0.0
    high = max(1.0, float(finite.max())) * 1.02 if len(finite) and finite.max() > 0.85 else None
    (ax.set_xlim if axis == "x" else ax.set_ylim)(low, high)
