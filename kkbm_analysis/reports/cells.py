"""Published cells in a report: their value written in their unit, and tagged so anyone can trace it.

Every table cell and key figure a report shows comes from a cell of the analysis products
(:class:`kkbm_analysis.products.Products`) and is written through :func:`tagged`: a
``<span>`` with ``data-indicator`` (indicators, resilience, voices) or ``data-barrier``
(barrier measures, mentoring points), ``data-region``, ``data-period``,
``data-disaggregation`` and ``data-value`` (the unformatted number; empty when withheld). A
withheld cell shows only the "suppressed" mark. Model numbers carry ``data-model``,
``data-term``, ``data-statistic`` and ``data-value`` (:func:`tagged_fit`).
"""
from __future__ import annotations

from html import escape
from typing import Any, Mapping

from ..i18n import interval as ci_text
from ..i18n import is_finite, number, percent, rupiah
from ..i18n import text as t
from ..products import TAGS

__all__ = ["tagged", "tagged_fit", "cell_text", "cell_ci", "is_withheld", "supp", "badge", "BARRIER_DECIMALS"]

#: Decimals of barrier measures (shares are percentages without decimals).
BARRIER_DECIMALS: dict[str, int] = {"mentoring_points_mean": 1, "months_to_first_mentoring": 1,
                                    "members_per_organiser": 0, "officers_per_community": 2,
                                    "vacancy_months_per_community": 1}
_SHARE_UNITS = ("share", "share of average staff", "proportion")


def supp(lang: str) -> str:
    """The mark of a withheld cell."""
    return f'<span class="kkbm-supp">{escape(t("common.suppressed", lang))}</span>'


def badge(cell: Mapping[str, Any], lang: str, product: str = "barriers") -> str:
    """The verdict badge of a published cell (the interval rule of :mod:`kkbm_analysis.verdicts`), tagged
    with the cell it judges."""
    verdict = str(cell["verdict"])
    return (f'<span class="kkbm-badge {escape(verdict)}" data-verdict="{escape(verdict)}" {_attrs(cell, product)}>'
            f'{escape(t("evidence.verdict." + verdict, lang))}</span>')


def is_withheld(cell: Mapping[str, Any] | None) -> bool:
    """A cell that may not be shown (withheld, or absent)."""
    return cell is None or bool(cell.get("suppressed", False))


def _value(x: Any, unit: str, lang: str, measure: str, product: str, decimals: int | None) -> str:
    if product in ("indicators", "resilience", "voices"):
        if unit == "proportion":
            return percent(x, 1 if decimals is None else decimals, lang)
        if unit.startswith("rupiah"):
            return rupiah(x, lang)
        if unit in ("count", "people", "sources", "segments"):
            return number(x, 0, lang)
        if unit == "ratio":
            return percent(x, 1, lang, signed=True)
        return number(x, 1 if decimals is None else decimals, lang)
    if unit in _SHARE_UNITS:
        return percent(x, 0 if decimals is None else decimals, lang)
    d = BARRIER_DECIMALS.get(measure, 0 if unit in ("members", "communities", "villages", "sessions") else 1)
    return number(x, d if decimals is None else decimals, lang)


def cell_text(cell: Mapping[str, Any], product: str, lang: str, *, decimals: int | None = None,
              field: str = "value") -> str:
    """A cell's value (or another of its numbers) written in its unit, plain text."""
    return _value(cell[field], str(cell["unit"]), lang, str(cell["measure_id"]), product, decimals)


def cell_ci(cell: Mapping[str, Any], product: str, lang: str) -> str:
    """The cell's 95 % interval written like its value ("not applicable" without one)."""
    if not (is_finite(cell.get("ci_low")) and is_finite(cell.get("ci_high"))):
        return t("common.not_applicable", lang)
    unit = str(cell["unit"])
    if unit in _SHARE_UNITS:
        return ci_text(cell["ci_low"], cell["ci_high"], 1 if product == "indicators" else 0, lang, percent=True)
    d = BARRIER_DECIMALS.get(str(cell["measure_id"]), 1) if product not in ("indicators", "resilience") else \
        (0 if unit.startswith("rupiah") or unit in ("count", "people") else 1)
    return ci_text(cell["ci_low"], cell["ci_high"], d, lang)


def _attrs(cell: Mapping[str, Any], product: str) -> str:
    withheld = is_withheld(cell)
    value = "" if withheld or not is_finite(cell.get("value")) else repr(float(cell["value"]))
    return (f'{TAGS[product]}="{escape(str(cell["measure_id"]))}" data-region="{escape(str(cell["region_code"]))}" '
            f'data-period="{escape(str(cell["period"]))}" '
            f'data-disaggregation="{escape(str(cell["disaggregation"]))}" data-value="{value}"')


def tagged(cell: Mapping[str, Any] | None, product: str, lang: str, *, decimals: int | None = None,
           html: str | None = None) -> str:
    """A cell as tagged HTML: its value in its unit (or ``html``), the "suppressed" mark when withheld,
    "no data" when the products have no such cell."""
    if cell is None:
        return escape(t("common.no_data", lang))
    if is_withheld(cell):
        return f'<span class="kkbm-cell" {_attrs(cell, product)}>{supp(lang)}</span>'
    shown = html if html is not None else escape(cell_text(cell, product, lang, decimals=decimals))
    return f'<span class="kkbm-cell" {_attrs(cell, product)}>{shown}</span>'


def tagged_fit(fit_id: str, term: str, statistic: str, value: Any, shown: str) -> str:
    """A model number as tagged HTML (``data-model``, ``data-term``, ``data-statistic``, ``data-value``)."""
    v = repr(float(value)) if is_finite(value) else ""
    return (f'<span class="kkbm-cell" data-model="{escape(fit_id)}" data-term="{escape(term)}" '
            f'data-statistic="{escape(statistic)}" data-value="{v}">{escape(shown)}</span>')
