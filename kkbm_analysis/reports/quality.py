"""The data-quality section of both reports: what was read, what was quarantined and why, what is unknown.

Counts only, never a value or an identifier: the rows come from the processed folder's
manifest (:func:`kkbm_analysis.store.read_manifest`), the quarantined rows by rule from
:func:`kkbm_analysis.store.quarantine_counts` (the ``table`` and ``rule`` columns alone),
the unknown shares (members of unknown sex) and the suppression counts from the published
products. Rules are written in words through the catalogue (``narrative.rule.*``).
"""
from __future__ import annotations

from html import escape
import pandas as pd

from ..i18n import has_text
from ..i18n import date_range as fmt_range
from ..i18n import number as num
from ..i18n import text as t
from ..products import NATIONAL
from ..store import quarantine_counts, read_manifest
from .cells import is_withheld, tagged
from .markup import Html, _h2, _p, _section, _table
from .narrative import fill

__all__ = ["QualitySection", "rule_words"]

#: The disaggregation whose share of the total is reported as "unknown".
UNKNOWN = "sex=unknown"


def rule_words(rule: str, lang: str) -> str:
    """A quarantine rule in words (its id when the catalogue has no words for it)."""
    key = f"narrative.rule.{rule}"
    return t(key, lang) if has_text(key) else rule


def _table_words(table: str, lang: str) -> str:
    key = f"narrative.table.{table}"
    return t(key, lang) if has_text(key) else table


class QualitySection:
    """``data_quality()`` for both reports (mixed into :class:`~.sections._Report`)."""

    def data_quality(self) -> Html:
        """Rows read, accepted and quarantined (by rule, in words), unknown shares, coverage, withheld values."""
        lang = self.lang
        parts = [_h2("narrative.quality", lang)]
        ingest = read_manifest(self.params.data_dir) or {}
        rows = ingest.get("rows") or {}
        if rows:
            files = sum(1 for i in ingest.get("inputs", []) if i.get("fate") == "read")
            parts.append(_p(t("narrative.quality_rows", lang, read=num(rows.get("rows_read"), 0, lang),
                              files=num(files, 0, lang), accepted=num(rows.get("rows_accepted"), 0, lang),
                              quarantined=num(rows.get("rows_quarantined"), 0, lang),
                              skipped=num(rows.get("rows_skipped"), 0, lang))))
        parts.append(self._rules_table())
        parts.append(self._unknown_shares())
        p = self.products
        first, last = p.data_window
        communities = self.bar("communities", NATIONAL)
        parts.append(_p(t("narrative.quality_coverage", lang, provinces=num(len(p.provinces), 0, lang),
                          communities=num(None if is_withheld(communities) else communities["value"], 0, lang),
                          window=fmt_range(first, last, lang))))
        supp = p.manifest.get("suppression", {})
        if supp:
            parts.append(_p(t("narrative.quality_suppressed", lang, cells=num(supp.get("cells"), 0, lang),
                              primary=num(supp.get("primary"), 0, lang), secondary=num(supp.get("secondary"), 0, lang))))
        return _section(*parts)

    def _rules_table(self) -> str:
        lang = self.lang
        counts = quarantine_counts(self.params.data_dir)
        if counts.empty:
            return ""
        by_rule = counts.groupby("rule", sort=False).agg(rows=("rows", "sum"), tables=("table", lambda s: sorted(s)))
        by_rule = by_rule.sort_values("rows", ascending=False, kind="stable")
        rows = [("", [escape(rule_words(str(rule), lang)), escape(num(r["rows"], 0, lang)),
                      escape(", ".join(_table_words(x, lang) for x in r["tables"]))]) for rule, r in by_rule.iterrows()]
        table = _table([(t("narrative.col_rule", lang), False), (t("narrative.col_rows", lang), True),
                        (t("narrative.col_tables", lang), False)], rows)
        return _p(t("narrative.quality_rules_intro", lang)) + table

    def _unknown_shares(self) -> str:
        """Published indicators of this region and period with members of unknown sex: unknown of total."""
        lang = self.lang
        cells = self.products.indicators(region=self.region, period=self.period, disaggregation=None)
        unknown = cells.loc[(cells["disaggregation"] == UNKNOWN) & ~cells["suppressed"].astype(bool)]
        total = cells.loc[cells["disaggregation"] == "all"].set_index("measure_id")
        items = []
        for _, u in unknown.iterrows():
            mid = str(u["measure_id"])
            if mid not in total.index or str(u["unit"]) not in ("count", "people"):
                continue
            all_cell = total.loc[mid]
            if is_withheld(all_cell) or pd.isna(u["value"]) or float(u["value"]) <= 0:
                continue
            label = str(all_cell["label_id" if lang == "id" else "label_en"])
            items.append(fill("narrative.quality_unknown", lang,
                              {"unknown": tagged(u, "indicators", lang),
                               "total": tagged(all_cell.to_dict() | {"measure_id": mid}, "indicators", lang)},
                              label=label[:1].upper() + label[1:]))
        intro = t("narrative.quality_unknown_intro", lang, period=self.period_text(), name=self.region_label)
        if not items:
            return _p(t("narrative.quality_unknown_none", lang, name=self.region_label, period=self.period_text()))
        return _p(intro) + '<ul class="kkbm-notes">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
