"""Joint display: each barrier indicator beside the theme that explains it, per province.

Mixed-methods practice puts numbers and voices side by side and says whether they agree.
:func:`joint_display` does it for every province and every (barrier indicator, theme) pair
of the codebook (:meth:`Codebook.barrier_links`), with an explicit convergence verdict and
the rule that produced it.

Input contract: the barrier-metrics frame
-----------------------------------------
One row per region and barrier indicator, columns:

``region_code``  province code (``'ID'`` rows, if any, are the national values)
``barrier_id``   an id of :data:`kkbm_analysis.barriers.MEASURES`
``value``        the region's value
``ci_low, ci_high``  its 95 % interval (NA when none is computed)
``n``            its denominator (NA when unknown)
``national``     the national value
``verdict``      the interval verdict against national (:mod:`kkbm_analysis.verdicts`):
                 ``'better'``, ``'worse'``, ``'no_clear_difference'``, ``'too_few'`` or
                 ``'not_applicable'``
``suppressed``   True when the value must not be shown (withheld or under the small-cell rule)

:func:`barrier_metrics` builds it from :func:`kkbm_analysis.barriers.barrier_profiles`
(intervals, ``n`` and verdicts included); the published barrier metrics of
``kkbm analyse`` (:meth:`kkbm_analysis.products.Products.barriers`) have the same numbers.

Convergence rule
----------------
*Numbers* (quantitative signal): ``too small`` when the value is missing or suppressed, or
its verdict is ``too_few`` or ``not_applicable``; ``no clear difference`` when the interval
holds the national value; otherwise ``problem`` (worse) or ``no problem`` (better).
*Voices* (qualitative signal, from the **suppressed** published prevalence, so the verdict
never reveals a hidden count): ``too small`` when the province's source count
(``voices_sources:all``) or the theme's count is suppressed, or the province has fewer
than ``min_sources`` sources; ``raised`` when at least
``raised_share`` of the sources raise the theme; ``absent`` when at most ``absent_share``
do; else ``some``. For a barrier theme *raised* points to a problem and *absent* to none;
for a supporting factor *raised* points to no problem, and *absent* says nothing.

Verdict: ``too small to say`` when either side is too small; ``convergent`` when both
point the same way; ``divergent`` when they point opposite ways; ``complementary``
otherwise (one side is neutral: the voices add what the numbers do not show, or the reverse).

Excerpts: up to ``excerpts`` redacted segments marked publishable (consent and a publishable
mark), of the theme in the province, shown only when the theme's source count is published.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from ..config import MIN_PUBLISHED_COUNT
from ..i18n import check_lang, has_text, number, text
from .analysis import QualResult, published_prevalence
from .voices import Voices

__all__ = ["JointDisplay", "joint_display", "barrier_metrics", "METRIC_COLUMNS", "VERDICTS"]

METRIC_COLUMNS = ["region_code", "barrier_id", "value", "ci_low", "ci_high", "n", "national", "verdict",
                  "suppressed"]
#: The convergence verdicts (their words: ``voices.joint.verdict.<verdict>`` in the string catalogue).
VERDICTS = ("convergent", "complementary", "divergent", "too_small")


def barrier_metrics(data: Any, *, period: str | None = None) -> pd.DataFrame:
    """The barrier-metrics frame (see the module docstring) from the public barrier API.

    Parameters
    ----------
    data : ProgramData
    period : str, optional
        As in :func:`kkbm_analysis.barriers.barrier_profiles`.
    """
    from ..barriers import barrier_profiles

    prof = barrier_profiles(data, level="province", period=period)
    out = prof.rename(columns={"benchmark": "national"})
    out["n"] = out["n"].round().astype("Int64")
    out["suppressed"] = out["verdict"] == "too_few"
    return out[METRIC_COLUMNS + ["label_id", "label_en"]].astype({"ci_low": "Float64", "ci_high": "Float64"})


def _quant(row: pd.Series) -> str:
    if bool(row.get("suppressed", False)) or pd.isna(row["value"]) or row["verdict"] not in (
            "worse", "better", "no_clear_difference"):
        return "too_small"
    lo, hi, nat = row.get("ci_low"), row.get("ci_high"), row["national"]
    if row["verdict"] == "no_clear_difference" or (pd.notna(lo) and pd.notna(hi) and pd.notna(nat)
                                                   and lo <= nat <= hi):
        return "neutral"
    return "problem" if row["verdict"] == "worse" else "no_problem"


def _qual(sources: Any, total: Any, min_sources: int, raised_share: float, absent_share: float) -> str:
    if pd.isna(total) or total < min_sources or pd.isna(sources):
        return "too_small"
    share = sources / total
    return "raised" if share >= raised_share else "absent" if share <= absent_share else "some"


def _verdict(quant: str, qual: str, polarity: str) -> tuple[str, str]:
    """Verdict and rule id (R0 too small, R1 convergent, R2 divergent, R3 complementary)."""
    if quant == "too_small" or qual == "too_small":
        return "too_small", "R0"
    q = {"problem": 1, "no_problem": -1, "neutral": 0}[quant]
    v = ({"raised": 1, "absent": -1, "some": 0} if polarity == "barrier" else {"raised": -1, "absent": 0, "some": 0}
         if polarity == "support" else {"raised": 0, "absent": 0, "some": 0})[qual]
    if q and v:
        return ("convergent", "R1") if q == v else ("divergent", "R2")
    return "complementary", "R3"


def _rule_text(rule: str, verdict: str, quant: str, qual: str, polarity: str, params: dict, lang: str) -> str:
    """The rule in words, e.g. 'R1: indicator worse than national; barrier theme raised by ≥50% of
    sources → convergent'."""
    share = {"raised": params["raised_share"], "absent": params["absent_share"]}.get(qual)
    voices = text(f"voices.joint.voices.{qual}", lang, minimum=params["min_sources"],
                  share=None if share is None else number(share, 0, lang, percent=True))
    return text("voices.joint.rule", lang, rule=rule, numbers=text(f"voices.joint.numbers.{quant}", lang),
                polarity=text(f"voices.joint.polarity.{polarity}", lang), voices=voices,
                verdict=text(f"voices.joint.verdict.{verdict}", lang))


def _excerpt_sources(voices: Voices) -> tuple[dict[tuple[str, str], Any], dict[str, tuple[Any, bool, bool]]]:
    """What :func:`_excerpts` looks in, made once per display: the segment ids of each province's and
    theme's publishable codings (in the order of the codings), and by ``segment_id`` each segment's text,
    whether it may be quoted (a publishable text) and whether it is 40-400 characters long."""
    coded = voices.coded()
    hits = coded.loc[coded["publishable"].astype(bool), ["province_code", "theme_id", "segment_id"]]
    ids = {key: group.unique() for key, group in hits.groupby(["province_code", "theme_id"], sort=False)["segment_id"]}
    seg = voices.segments
    quotable = (seg["text"].notna() & seg["publishable"]).to_numpy(dtype=bool)
    sized = ((seg["n_chars"] >= 40) & (seg["n_chars"] <= 400)).to_numpy(dtype=bool, na_value=False)
    return ids, dict(zip(seg["segment_id"].tolist(), zip(seg["text"].tolist(), quotable.tolist(), sized.tolist())))


def _excerpts(ids: dict[tuple[str, str], Any], seg: dict[str, tuple[Any, bool, bool]], province: str, theme: str,
              k: int) -> list[str]:
    """Up to ``k`` publishable excerpts of ``theme`` in ``province`` (from :func:`_excerpt_sources`), in
    segment order, of 40-400 characters when there are ``k`` of those. Plain dictionaries: a display asks
    once per row (hundreds of rows), and a frame look-up each time cost 5 ms."""
    cands = [(sid, seg[sid]) for sid in ids.get((province, theme), ())]
    cands = [(sid, text, sized) for sid, (text, quotable, sized) in cands if quotable]
    good = [c for c in cands if c[2]]
    chosen = sorted(good if len(good) >= k else cands)[:k]
    return [str(text) for _, text, _ in chosen]


@dataclass(repr=False)
class JointDisplay(QualResult):
    """Numbers beside voices, with verdicts (see :func:`joint_display`).

    Attributes
    ----------
    table : DataFrame
        One row per province, barrier indicator and theme: the metric (``value, ci_low,
        ci_high, n, national, verdict``), the theme (``theme_id``, labels, ``polarity``,
        ``sources, sources_total, share``), ``quant``, ``qual``, ``convergence``,
        ``rule``, ``rule_id``/``rule_en`` (the rule in words) and ``excerpts``.
    params : dict
    """

    table: pd.DataFrame
    params: dict
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)
    title = "Joint display: barrier indicators and voices from the field"

    def _body(self) -> str:
        cols = ["region_code", "barrier_id", "verdict", "theme_id", "sources", "sources_total", "convergence", "rule"]
        from ..models._base import table_text
        return table_text(self.table[cols], max_rows=60)

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        counts = self.table["convergence"].value_counts()
        parts = [f"{int(counts.get(v, 0))} {text(f'voices.joint.verdict.{v}', lang)}" for v in VERDICTS]
        return text("voices.joint.summary", lang, n=number(len(self.table), 0, lang), counts=", ".join(parts))

    def region(self, region_code: str) -> pd.DataFrame:
        return self.table[self.table["region_code"] == str(region_code)].reset_index(drop=True)

    def to_markdown(self, region_code: str, lang: str = "en") -> str:
        """The province's joint display as a Markdown table (words in ``lang``)."""
        return _render(self.region(region_code), lang, "md", self.synthetic)

    def to_html(self, region_code: str, lang: str = "en") -> str:
        """The province's joint display as an HTML table (escaped; class ``kkbm-joint-display``)."""
        return _render(self.region(region_code), lang, "html", self.synthetic)


def joint_display(metrics: pd.DataFrame, voices: Voices, *, min_sources: int = MIN_PUBLISHED_COUNT,
                  raised_share: float = 0.5, absent_share: float = 0.1, excerpts: int = 2,
                  published: Any = None) -> JointDisplay:
    """Put each province's barrier indicators beside the prevalence of the matching theme.

    Parameters
    ----------
    metrics : DataFrame
        The barrier-metrics frame (:data:`METRIC_COLUMNS`; see the module docstring).
    voices : Voices
    min_sources : int
        Fewer sources in a province: too small to say (default the small-cell threshold).
    raised_share, absent_share : float
        Thresholds of the qualitative signal.
    excerpts : int
        Publishable excerpts per row (0 for none).
    published : PublishedTable, optional
        The suppressed prevalence (default :func:`published_prevalence` of ``voices``).

    Returns
    -------
    JointDisplay
    """
    missing = [c for c in METRIC_COLUMNS if c not in metrics.columns]
    if missing:
        raise ValueError(f"the barrier-metrics frame lacks column(s) {missing}; expected {METRIC_COLUMNS}")
    if not 0 <= absent_share < raised_share <= 1:
        raise ValueError("need 0 <= absent_share < raised_share <= 1")
    links = _links(voices)
    pub = (published or published_prevalence(voices)).frame
    pub = pub[(pub["level"] == "province") & (pub["disaggregation"] == "all")]
    count = pub[pub["measure_id"].str.startswith("voices_sources:")].assign(
        theme_id=lambda d: d["measure_id"].str.split(":").str[1]).set_index(["region_code", "theme_id"])
    share = pub[pub["measure_id"].str.startswith("voices_share:")].assign(
        theme_id=lambda d: d["measure_id"].str.split(":").str[1]).set_index(["region_code", "theme_id"])
    province_total = count.xs("all", level="theme_id")["value"]
    m = metrics[metrics["region_code"].astype(str) != "ID"].merge(links, on="barrier_id", how="inner")
    params = {"min_sources": min_sources, "raised_share": raised_share, "absent_share": absent_share}
    rows = []
    ids, seg = _excerpt_sources(voices) if excerpts else ({}, None)
    for r in m.itertuples(index=False):
        key = (str(r.region_code), r.theme_id)
        n_src = count["value"].get(key, np.nan)
        total = province_total.get(str(r.region_code), np.nan)
        quant = _quant(pd.Series(r._asdict()))
        qual = _qual(n_src, total, min_sources, raised_share, absent_share)
        verdict, rule = _verdict(quant, qual, r.polarity)
        shown = excerpts and pd.notna(n_src) and n_src > 0
        rows.append({**r._asdict(), "sources": n_src, "sources_total": total,
                     "share": share["value"].get(key, np.nan), "quant": quant, "qual": qual,
                     "convergence": verdict, "rule": rule,
                     "rule_id": _rule_text(rule, verdict, quant, qual, r.polarity, params, "id"),
                     "rule_en": _rule_text(rule, verdict, quant, qual, r.polarity, params, "en"),
                     "excerpts": _excerpts(ids, seg, str(r.region_code), r.theme_id, excerpts) if shown else []})
    table = pd.DataFrame(rows)
    if len(table):
        table = table.astype({"sources": "Float64", "sources_total": "Float64", "share": "Float64"})
    return JointDisplay(table.reset_index(drop=True), params, voices.synthetic)


def _links(voices: Voices) -> pd.DataFrame:
    t = voices.themes
    rows = [(b.strip(), r.theme_id, r.polarity, r.label_id, r.label_en) for r in t.itertuples()
            for b in str(r.barrier_ids or "").split(",") if b.strip()]
    return pd.DataFrame(rows, columns=["barrier_id", "theme_id", "polarity", "theme_label_id", "theme_label_en"])


# =========================================================================== rendering
def _head(lang: str) -> list[str]:
    """Column headings of the rendered table."""
    words = [text(f"voices.joint.head.{key}", lang)
             for key in ("indicator", "verdict", "theme", "sources", "convergence", "rule", "excerpts")]
    value = f"{text('common.value', lang)} [{text('common.ci95', lang)}]"
    return [words[0], value, text("common.national", lang), *words[1:]]


def _verdict_word(verdict: str, lang: str) -> str:
    for key in (f"evidence.verdict.{verdict}", f"common.verdict_{verdict}"):
        if has_text(key):
            return text(key, lang)
    return str(verdict)


def _number(row: pd.Series, column: str, lang: str) -> str:
    from ..barriers import MEASURES
    ind = next((i for i in MEASURES if i.id == row["barrier_id"]), None)
    decimals, percent = (ind.decimals, ind.percent) if ind else (2, False)
    if bool(row.get("suppressed", False)):
        return text("common.suppressed", lang)
    return number(row[column], decimals, lang, percent=percent)


def _cells(row: pd.Series, lang: str) -> list[str]:
    value = _number(row, "value", lang)
    if pd.notna(row.get("ci_low")) and pd.notna(row.get("ci_high")) and not row.get("suppressed", False):
        value += f" [{_number(row, 'ci_low', lang)}–{_number(row, 'ci_high', lang)}]"
    if pd.isna(row["sources"]):
        src = "<5" if pd.notna(row["sources_total"]) else text("common.no_data", lang)
    else:
        src = f"{int(row['sources'])} / {int(row['sources_total'])}"
    label = row.get(f"label_{lang}", row["barrier_id"])
    return [str(label if pd.notna(label) else row["barrier_id"]), value, _number(row, "national", lang),
            _verdict_word(str(row["verdict"]), lang), str(row[f"theme_label_{lang}"]), src,
            text(f"voices.joint.verdict.{row['convergence']}", lang), str(row[f"rule_{lang}"]),
            " | ".join(f"“{e}”" for e in row["excerpts"])]


def _render(rows: pd.DataFrame, lang: str, fmt_: str, synthetic: bool) -> str:
    check_lang(lang)
    head = _head(lang)
    body = [_cells(r, lang) for _, r in rows.iterrows()]
    stamp = text("voices.synthetic", lang) if synthetic else ""
    if fmt_ == "md":
        esc = lambda s: s.replace("|", "\\|").replace("\n", " ")  # noqa: E731
        lines = ([f"**{stamp}**", ""] if stamp else []) + ["| " + " | ".join(head) + " |",
                                                            "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(esc(c) for c in cells) + " |" for cells in body]
        return "\n".join(lines) + "\n"
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>" for cells in body)
    banner = f'<p class="kkbm-synthetic">{escape(stamp)}</p>' if stamp else ""
    return f'{banner}<table class="kkbm-joint-display"><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>'
