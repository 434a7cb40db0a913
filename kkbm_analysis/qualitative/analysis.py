"""What the coded evidence says: theme prevalence, co-occurrence and saturation.

Each function takes a :class:`~kkbm_analysis.qualitative.Voices` and returns a result with
tidy DataFrames, ``summary()`` and ``interpretation(lang)``. Inter-coder agreement is in
:mod:`.agreement`, the joint display with the barrier indicators in :mod:`.joint`.

Definitions
-----------
Prevalence
    A source *raises* a theme when at least one of its segments is coded with a code mapped
    to the theme or to one of its sub-themes. ``sources`` = sources raising it;
    ``sources_total`` = sources in the group (also those raising nothing); ``share`` =
    sources / sources_total; ``segments`` = distinct segments coded with it. Qualitative
    samples are purposive: shares describe the material, not a population, so no sampling
    interval is given.
Published prevalence
    :func:`published_prevalence` puts source counts (``count``), shares (``proportion``)
    and segment counts (``total`` over contributing sources), built by
    :func:`prevalence_cells` in the published cell shape, through
    :func:`kkbm_analysis.suppression.suppress`, like every published number: 1 to 4
    sources never show, nor cells from which they could be subtracted.
Co-occurrence
    Two themes (or codes) co-occur in a *segment* when both code it, in a *source* when both
    are raised in it. ``jaccard`` = both / either.
Saturation
    Sources in collection order (date, then file and id); ``new`` = themes a source raises
    that no earlier source raised. Over ``permutations`` random orders the mean cumulative
    count and its 2.5-97.5 % band are given. Saturation is reached after source *k* (at least
    ``run_length`` sources, the base) when the next ``run_length`` sources add no new theme
    (Guest, Namey & Chen 2020 use a base of 4-6 and a run of 2-3).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from html import escape
from itertools import combinations
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ..config import MIN_PUBLISHED_COUNT, MIN_PUBLISHED_DENOMINATOR
from ..i18n import check_lang, number, text
from ..models._base import table_text
from .voices import Voices

__all__ = ["ThemePrevalence", "Cooccurrence", "Saturation", "theme_prevalence", "published_prevalence",
           "prevalence_cells",
           "cooccurrence", "saturation", "GROUPS"]

#: Grouping variables of prevalence: name -> column of the sources table.
GROUPS = {"province": "province_code", "regency": "regency_code", "role": "role", "source_type": "source_type",
          "sex": "sex", "file": "file"}


class QualResult(ABC):
    """Shared behaviour: ``summary()`` for print and Jupyter, ``interpretation(lang)``."""

    title = "Result"
    synthetic: bool
    notes: list[str]

    @abstractmethod
    def interpretation(self, lang: str = "en") -> str:
        """The result in a few plain sentences, in Indonesian (``'id'``) or English."""

    def _body(self) -> str:
        return table_text(self.table)  # type: ignore[attr-defined]

    def summary(self) -> str:
        flag = "SYNTHETIC DATA — " if self.synthetic else ""
        head = f"{flag}{self.title}\n{'=' * len(flag + self.title)}"
        parts = [head, self._body(), "Interpretation: " + self.interpretation("en"),
                 "Interpretasi: " + self.interpretation("id")]
        if self.notes:
            parts.append("Notes:\n" + "\n".join(f"- {n}" for n in self.notes))
        return "\n\n".join(parts) + "\n"

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.title}>"

    def _repr_html_(self) -> str:
        return f"<pre>{escape(self.summary())}</pre>"


def _group_columns(by: str | Sequence[str] | None) -> list[str]:
    by = [by] if isinstance(by, str) else list(by or [])
    unknown = [b for b in by if b not in GROUPS]
    if unknown:
        raise ValueError(f"cannot group by {unknown}; choose from {', '.join(GROUPS)}")
    return by


# =========================================================================== prevalence
@dataclass(repr=False)
class ThemePrevalence(QualResult):
    """Sources and segments per theme (see :func:`theme_prevalence`).

    Attributes
    ----------
    table : DataFrame
        ``<by...>, theme_id, label_id, label_en, polarity, sources, sources_total, share, segments``.
    by : list of str
    """

    table: pd.DataFrame
    by: list[str]
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)
    title = "Theme prevalence"

    def top(self, n: int = 3) -> pd.DataFrame:
        """The ``n`` most raised themes per group."""
        keys = self.by or None
        sort = self.table.sort_values([*self.by, "sources", "theme_id"], ascending=[True] * len(self.by) + [False, True])
        return sort.groupby(keys, sort=False).head(n) if keys else sort.head(n)

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        overall = self.table.groupby("theme_id")[["sources"]].sum().join(
            self.table.drop_duplicates("theme_id").set_index("theme_id")[[f"label_{lang}"]])
        total = int(self.table.drop_duplicates(self.by or ["theme_id"])["sources_total"].sum()) if self.by else \
            int(self.table["sources_total"].max() if len(self.table) else 0)
        top = overall.sort_values("sources", ascending=False).head(3)
        if top.empty or total == 0:
            return text("voices.prevalence.none", lang)
        items = "; ".join(f"{r[f'label_{lang}']} ({number(r['sources'] / total, 0, lang, percent=True)})"
                          for _, r in top.iterrows())
        return text("voices.prevalence.text", lang, total=number(total, 0, lang), items=items)


def _raised(voices: Voices, level: str = "theme") -> pd.DataFrame:
    """``source_id, segment_id, key`` for every (rolled-up) theme or code applied."""
    coded = voices.coded(roll_up=level == "theme")
    key = "theme_id" if level == "theme" else "code_id"
    if level not in ("theme", "code"):
        raise ValueError(f"level must be 'theme' or 'code', not {level!r}")
    out = coded.dropna(subset=[key])[["source_id", "segment_id", key]].rename(columns={key: "key"})
    return out.drop_duplicates()


def theme_prevalence(voices: Voices, *, by: str | Sequence[str] | None = "province",
                     themes: Iterable[str] | None = None) -> ThemePrevalence:
    """Sources and segments raising each theme, per group.

    Parameters
    ----------
    voices : Voices
    by : str or list of str, optional
        Any of :data:`GROUPS` (``'province'``, ``'role'``, ``'source_type'``...); None for
        all sources together.
    themes : iterable of str, optional
        Only these themes (default: every theme of the codebook, also those never raised).

    Returns
    -------
    ThemePrevalence
    """
    by = _group_columns(by)
    cols = [GROUPS[b] for b in by]
    src = voices.sources[["source_id", *cols]].rename(columns={GROUPS[b]: b for b in by})
    for b in by:
        src[b] = src[b].astype("string").fillna("(unknown)")
    raised = _raised(voices).merge(src, on="source_id")
    theme_ids = list(themes) if themes is not None else voices.themes["theme_id"].tolist()
    totals = src.groupby(by).size().rename("sources_total") if by else pd.Series({(): len(src)}, name="sources_total")
    grid = (pd.MultiIndex.from_product([totals.index, theme_ids]) if by else pd.Index(theme_ids))
    keys = [*by, "key"]
    n_src = raised.groupby(keys)["source_id"].nunique()
    n_seg = raised.groupby(keys)["segment_id"].nunique()
    if by:
        rows = pd.DataFrame([(*((g,) if len(by) == 1 else g), t) for g, t in grid], columns=keys)
    else:
        rows = pd.DataFrame({"key": theme_ids})
    rows = rows.merge(n_src.rename("sources").reset_index(), on=keys, how="left")
    rows = rows.merge(n_seg.rename("segments").reset_index(), on=keys, how="left")
    rows[["sources", "segments"]] = rows[["sources", "segments"]].fillna(0).astype("int64")
    rows = rows.merge(totals.reset_index(), on=by, how="left") if by else rows.assign(sources_total=len(src))
    rows["share"] = (rows["sources"] / rows["sources_total"].where(rows["sources_total"] > 0)).astype("Float64")
    meta = voices.themes.set_index("theme_id")[["label_id", "label_en", "polarity"]]
    rows = rows.rename(columns={"key": "theme_id"}).join(meta, on="theme_id")
    table = rows[[*by, "theme_id", "label_id", "label_en", "polarity", "sources", "sources_total", "share",
                  "segments"]].sort_values([*by, "theme_id"], kind="stable").reset_index(drop=True)
    return ThemePrevalence(table, by, voices.synthetic)


# =========================================================================== published prevalence
def prevalence_cells(voices: Voices, *, by: str | None = None) -> pd.DataFrame:
    """Prevalence by province and nationally in the published cell shape, before suppression.

    Parameters
    ----------
    voices : Voices
    by : {'role', 'source_type', 'sex'}, optional
        A disaggregation beside ``'all'`` (``'role=member'``...).

    Returns
    -------
    DataFrame
        Cells (:mod:`kkbm_analysis.suppression`): measures ``voices_sources:all`` (sources in
        the region, ``count``), ``voices_sources:<theme>`` (sources raising the theme,
        ``count``), ``voices_share:<theme>`` (their proportion of the region's sources) and
        ``voices_segments:<theme>`` (segments coded with it, a ``total`` over the sources that
        contribute); levels ``national`` and ``province``; period ``'all'``.
    """
    if by is not None and by not in ("role", "source_type", "sex"):
        raise ValueError("by must be None, 'role', 'source_type' or 'sex'")
    parts = []
    for level, group in (("national", None), ("province", "province")):
        for dis in [None] + ([by] if by else []):
            groups = [g for g in (group, dis) if g]
            prev = theme_prevalence(voices, by=groups or None).table
            if group is None:
                prev["province"] = "ID"
            prev = prev[prev["province"] != "(unknown)"] if level == "province" else prev
            prev["disaggregation"] = "all" if dis is None else dis + "=" + prev[dis].astype(str)
            prev["level"], prev["region_code"] = level, prev["province"]
            parts.append(prev)
    long = pd.concat(parts, ignore_index=True)
    rows = []
    for kind, prefix, num, den, n in (("count", "voices_sources", "sources", None, "sources"),
                                      ("proportion", "voices_share", "sources", "sources_total", "sources_total"),
                                      ("total", "voices_segments", "segments", "sources", "sources")):
        part = pd.DataFrame({
            "measure_id": prefix + ":" + long["theme_id"], "level": long["level"],
            "region_code": long["region_code"], "period": "all", "disaggregation": long["disaggregation"],
            "numerator": long[num].astype(float), "denominator": long[den].astype(float) if den else np.nan,
            "n": long[n].astype(float)})
        part["value"] = part["numerator"] / part["denominator"].where(part["denominator"] > 0) \
            if kind == "proportion" else part["numerator"]
        rows.append(part.assign(ci_low=np.nan, ci_high=np.nan, kind=kind))
    totals = long.drop_duplicates(["level", "region_code", "disaggregation"])
    rows.append(pd.DataFrame({
        "measure_id": "voices_sources:all", "level": totals["level"], "region_code": totals["region_code"],
        "period": "all", "disaggregation": totals["disaggregation"], "numerator": totals["sources_total"].astype(float),
        "denominator": np.nan, "n": totals["sources_total"].astype(float),
        "value": totals["sources_total"].astype(float), "ci_low": np.nan, "ci_high": np.nan, "kind": "count"}))
    table = pd.concat(rows, ignore_index=True)
    table.attrs["synthetic"] = voices.synthetic
    return table


def published_prevalence(voices: Voices, *, by: str | None = None, min_count: int = MIN_PUBLISHED_COUNT,
                         min_denominator: int = MIN_PUBLISHED_DENOMINATOR) -> Any:
    """Prevalence by province and nationally (:func:`prevalence_cells`), after small-cell suppression.

    Parameters
    ----------
    voices : Voices
    by : {'role', 'source_type', 'sex'}, optional
        A disaggregation published beside ``'all'`` (``'role=member'``...).
    min_count, min_denominator : int
        Thresholds (defaults from :mod:`kkbm_analysis.config`).

    Returns
    -------
    kkbm_analysis.suppression.PublishedTable
        The cells of :func:`prevalence_cells` through
        :func:`kkbm_analysis.suppression.suppress` (``kkbm analyse`` publishes them with every
        other product in one suppression).
    """
    from ..suppression import suppress

    return suppress(prevalence_cells(voices, by=by), min_count=min_count, min_denominator=min_denominator,
                    synthetic=voices.synthetic)


# =========================================================================== co-occurrence
@dataclass(repr=False)
class Cooccurrence(QualResult):
    """Pairs of themes (or codes) applied together (see :func:`cooccurrence`).

    Attributes
    ----------
    table : DataFrame
        ``a, b, both, a_total, b_total, jaccard`` (pairs that co-occur at least once).
    matrix : DataFrame
        Symmetric counts; the diagonal holds each key's own count.
    unit, level : str
    """

    table: pd.DataFrame
    matrix: pd.DataFrame
    unit: str
    level: str
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)
    title = "Co-occurrence"

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        unit = text(f"voices.unit.{self.unit}", lang)
        if self.table.empty:
            return text("voices.cooccurrence.none", lang, unit=unit)
        top = self.table.iloc[0]
        return text("voices.cooccurrence.top", lang, a=top["a"], b=top["b"], n=number(top["both"], 0, lang), unit=unit,
                    jaccard=number(top["jaccard"], 2, lang))


def cooccurrence(voices: Voices, *, unit: str = "segment", level: str = "theme") -> Cooccurrence:
    """How often two themes (or codes) are applied to the same segment or source.

    Parameters
    ----------
    unit : {'segment', 'source'}
    level : {'theme', 'code'}
    """
    if unit not in ("segment", "source"):
        raise ValueError(f"unit must be 'segment' or 'source', not {unit!r}")
    raised = _raised(voices, level)
    col = "segment_id" if unit == "segment" else "source_id"
    sets = raised.groupby(col)["key"].agg(lambda s: sorted(set(s)))
    own = raised.drop_duplicates([col, "key"]).groupby("key").size()
    pairs: dict[tuple[str, str], int] = {}
    for keys in sets:
        for a, b in combinations(keys, 2):
            pairs[(a, b)] = pairs.get((a, b), 0) + 1
    table = pd.DataFrame([(a, b, n) for (a, b), n in pairs.items()], columns=["a", "b", "both"])
    table["a_total"] = table["a"].map(own).astype("int64")
    table["b_total"] = table["b"].map(own).astype("int64")
    table["jaccard"] = table["both"] / (table["a_total"] + table["b_total"] - table["both"])
    table = table.sort_values(["both", "jaccard", "a", "b"], ascending=[False, False, True, True]).reset_index(drop=True)
    keys = sorted(own.index)
    matrix = pd.DataFrame(0, index=keys, columns=keys, dtype="int64")
    for r in table.itertuples():
        matrix.loc[r.a, r.b] = matrix.loc[r.b, r.a] = r.both
    for k in keys:
        matrix.loc[k, k] = int(own[k])
    return Cooccurrence(table, matrix, unit, level, voices.synthetic)


# =========================================================================== saturation
@dataclass(repr=False)
class Saturation(QualResult):
    """New themes per additional source (see :func:`saturation`).

    Attributes
    ----------
    table : DataFrame
        ``k, source_id, new, cumulative, mean_cumulative, low, high`` (collection order,
        and over random orders).
    saturated_at : int or None
        Sources after which ``run_length`` further sources added nothing (None: not reached).
    total : int
        Distinct themes raised.
    """

    table: pd.DataFrame
    saturated_at: int | None
    total: int
    run_length: int
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)
    title = "Saturation: new themes per additional source"

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        n = len(self.table)
        if self.saturated_at is None:
            return text("voices.saturation.not_reached", lang, run=self.run_length, n=n)
        seen = int(self.table["cumulative"].iloc[self.saturated_at - 1])
        return text("voices.saturation.reached", lang, k=self.saturated_at, n=n, seen=seen, total=self.total,
                    run=self.run_length)


def saturation(voices: Voices, *, level: str = "theme", run_length: int = 3, permutations: int = 200,
               seed: int = 0) -> Saturation:
    """Saturation curve: themes (or codes) first raised by each additional source.

    Parameters
    ----------
    level : {'theme', 'code'}
    run_length : int
        Sources in a row without a new theme that count as saturation.
    permutations : int
        Random source orders for the mean curve and its band (0: none).
    seed : int
    """
    raised = _raised(voices, level)
    src = voices.sources.sort_values(["collected_on", "file", "source_id"], na_position="last", kind="stable")
    order = src["source_id"].tolist()
    grouped = raised.groupby("source_id")["key"].agg(lambda k: sorted(set(k)))
    sets = [set(grouped.get(s, [])) for s in order]
    seen: set[str] = set()
    new = []
    for s in sets:
        new.append(len(s - seen))
        seen |= s
    table = pd.DataFrame({"k": np.arange(1, len(order) + 1), "source_id": order, "new": new})
    table["cumulative"] = table["new"].cumsum()
    if permutations and len(order):
        rng = np.random.default_rng(seed)
        curves = np.empty((permutations, len(order)))
        for i in range(permutations):
            seen, cum = set(), []
            for j in rng.permutation(len(order)):
                seen |= sets[j]
                cum.append(len(seen))
            curves[i] = cum
        table["mean_cumulative"] = curves.mean(axis=0)
        table["low"], table["high"] = np.percentile(curves, [2.5, 97.5], axis=0)
    total = len(set().union(*sets)) if sets else 0
    saturated = next((k for k in range(run_length, len(new) - run_length + 1)
                      if not any(new[k:k + run_length])), None)
    notes = [] if len(order) > 2 * run_length else [f"only {len(order)} sources: too few to judge saturation"]
    return Saturation(table, saturated, total, run_length, voices.synthetic, notes)
