"""Classes of a map: values put into colour classes (mapclassify), their legend, the source credit.

Shared by :mod:`.maps` (boundary files) and :mod:`.tilegrid` (the offline tile grid), so
both draw the same classes and legends.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.patches import Patch

from ..i18n import interval, number, text
from . import _frames
from .theme import HATCH_EDGE, MISSING_COLOUR, MISSING_HATCH, SEQUENTIAL, SUPPRESSED_COLOUR, SUPPRESSED_HATCH

__all__ = ["SCHEMES", "Classification", "classify", "legend_handles", "add_credit"]


#: Classification schemes: name -> mapclassify class.
SCHEMES = {"quantiles": "Quantiles", "natural_breaks": "FisherJenks", "equal_interval": "EqualInterval"}


CREDIT_GID = "kkbm-credit"


@dataclass(frozen=True)
class Classification:
    """Values put into classes.

    Attributes
    ----------
    scheme : str
    bins : ndarray
        Upper bound of each class (class ``i`` holds ``bins[i-1] < v <= bins[i]``;
        the first starts at ``lower``).
    lower : float
        The smallest value.
    classes : Series
        Class number (0 .. k-1) per index of the values; <NA> where there is no value.
    colours : list of str
        One hex colour per class.
    """

    scheme: str
    bins: np.ndarray
    lower: float
    classes: pd.Series
    colours: list[str]

    @property
    def k(self) -> int:
        """Number of classes."""
        return len(self.bins)

    def labels(self, *, lang: str = "en", percent: bool = False, decimals: int | None = None) -> list[str]:
        """One label per class in *lang*: ``'0%'``, ``'1–27%'``, ``'28–50%'``.

        Class ``i`` holds ``bins[i-1] < v <= bins[i]``, so its label starts one display
        unit above the previous upper bound: no two labels share an edge. A class of a
        single value (the zero class) is written as that value alone.
        """
        edges = np.r_[self.lower, self.bins]
        if decimals is None:
            decimals = _edge_decimals(edges, percent)
        step = 10.0 ** -decimals / (100 if percent else 1)
        out = []
        for i, high in enumerate(self.bins):
            low = self.lower if i == 0 else min(float(self.bins[i - 1]) + step, float(high))
            if _shown(low, decimals, percent) == _shown(high, decimals, percent):
                out.append(number(high, decimals, lang=lang, percent=percent))
            else:
                out.append(interval(low, high, decimals, lang=lang, percent=percent))
        return out


def _shown(value: float, decimals: int, percent: bool) -> float:
    return round(float(value) * (100 if percent else 1), decimals)


def _edge_decimals(edges: np.ndarray, percent: bool) -> int:
    """Fewest decimals (0-3) that keep distinct class edges distinct; exact edges need no more."""
    values = np.unique(np.asarray(edges, dtype=float) * (100 if percent else 1))
    for decimals in range(4):
        rounded = np.round(values, decimals)
        if len(np.unique(rounded)) == len(values) or np.allclose(rounded, values):
            return decimals if len(values) > 1 or decimals or float(values[0]).is_integer() else 1
    return 3


def _colours(k: int, cmap: str) -> list[str]:
    """*k* colours of *cmap*, skipping its palest end (white means "no data")."""
    colormap = plt.get_cmap(cmap)
    return [to_hex(colormap(x)) for x in np.linspace(0.15, 0.95, k)] if k > 1 else [to_hex(colormap(0.6))]


def classify(values: pd.Series | Sequence[float], *, scheme: str = "quantiles", k: int = 5,
             bins: Sequence[float] | None = None, cmap: str = SEQUENTIAL) -> Classification:
    """Put values into classes with :mod:`mapclassify`.

    Parameters
    ----------
    values : Series or sequence of float
        NA values get no class.
    scheme : {'quantiles', 'natural_breaks', 'equal_interval'}
        Ignored when *bins* is given.
    k : int
        Number of classes wanted (fewer when there are fewer distinct values). When the
        smallest value is 0 and others are positive, 0 is a class of its own and the
        positive values share the other ``k - 1`` (0 % never shares a colour with 25 %).
    bins : sequence of float, optional
        Fixed upper class bounds (mapclassify ``UserDefined``), e.g. to share a scale.
    cmap : str
        Matplotlib colour map of the classes.

    Returns
    -------
    Classification
    """
    if bins is None and scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {list(SCHEMES)}, not {scheme!r}")
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    numbers = pd.Series(_frames.floats(series), index=series.index)
    known = numbers.dropna()
    if known.empty:
        return Classification("none", np.array([]), np.nan, pd.Series(pd.NA, index=series.index, dtype="Int64"), [])
    if bins is None and known.min() == 0 and (known > 0).any():
        # Zero gets a class of its own: a region at 0 % must never share a colour with one at 25 %.
        is_positive = (known > 0).to_numpy()
        positive = _fit(known[is_positive], scheme, max(1, k - 1))
        edges = np.r_[0.0, positive.bins]
        codes = np.zeros(len(known), dtype="int64")
        codes[is_positive] = positive.classes.to_numpy() + 1
        scheme = positive.scheme
    else:
        fitted = _fit(known, scheme, k, bins)
        edges, codes, scheme = fitted.bins, fitted.classes.loc[known.index].to_numpy(dtype="int64"), fitted.scheme
    classes = pd.Series(pd.NA, index=series.index, dtype="Int64")
    classes.loc[known.index] = codes
    lower = float(known.min()) if bins is None else min(float(known.min()), float(edges[0]))
    return Classification(scheme, edges, lower, classes, _colours(len(edges), cmap))


def _fit(known: pd.Series, scheme: str, k: int, bins: Sequence[float] | None = None) -> Classification:
    """mapclassify on known (non-NA) values; classes indexed like *known*, no colours yet."""
    try:
        import mapclassify
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("maps need mapclassify: pip install mapclassify") from exc
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if bins is not None:
            model = mapclassify.UserDefined(known.to_numpy(), bins=list(bins))
            scheme = "user_defined"
        elif known.nunique() == 1:
            model = mapclassify.UserDefined(known.to_numpy(), bins=[float(known.iloc[0])])
        else:
            model = getattr(mapclassify, SCHEMES[scheme])(known.to_numpy(), k=min(k, known.nunique()))
    for w in caught:
        if "Numba" not in str(w.message):
            warnings.warn(f"classification ({scheme}): {w.message}", stacklevel=3)
    classes = pd.Series(np.asarray(model.yb, dtype="int64"), index=known.index)
    return Classification(scheme, np.asarray(model.bins, dtype=float), float(known.min()), classes, [])


def legend_handles(classification: Classification, status: pd.Series, *, lang: str, percent: bool,
                   decimals: int | None = None) -> list[Patch]:
    """Legend patches: one per class, then suppressed and no-data entries if present."""
    handles = [Patch(facecolor=c, edgecolor="white", label=lab)
               for c, lab in zip(classification.colours,
                                 classification.labels(lang=lang, percent=percent, decimals=decimals))]
    if (status == "suppressed").any():
        handles.append(Patch(facecolor=SUPPRESSED_COLOUR, edgecolor=HATCH_EDGE, hatch=SUPPRESSED_HATCH,
                             label=text("figure.suppressed", lang)))
    if (status == "missing").any():
        handles.append(Patch(facecolor=MISSING_COLOUR, edgecolor=HATCH_EDGE, hatch=MISSING_HATCH,
                             label=text("common.no_data", lang)))
    return handles


def add_credit(ax: Axes, credit: str | None) -> None:
    """Small grey source line under the map's lower-right corner."""
    if not credit:
        return
    ax.annotate(credit, xy=(1, 0), xycoords="axes fraction", xytext=(0, -2), textcoords="offset points",
                ha="right", va="top", fontsize=7.5, color="#555555", gid=CREDIT_GID)
