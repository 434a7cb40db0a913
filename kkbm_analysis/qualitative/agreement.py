"""Inter-coder agreement per code (or theme) when several coders coded the same sources.

Units and values
----------------
``unit='segment'``: the units are the distinct text spans (source, start, end) coded by
anyone in a source that at least two coders coded; ``unit='source'``: the sources
themselves. For each code, each coder of a source gives each unit of that source the value
1 (applied the code) or 0 (did not). Coders who did not code a source give no value there
(missing), so only coders who worked on a source are compared.

Statistics (nominal, two categories), from maintained libraries
--------------------------------------------------------------
* percent agreement (units where every coder agrees);
* Cohen's κ (:func:`statsmodels.stats.inter_rater.cohens_kappa`), when exactly two coders
  are compared, over units both coded;
* Fleiss' κ (:func:`statsmodels.stats.inter_rater.fleiss_kappa`) over units rated by every
  coder in the comparison;
* Krippendorff's α (:func:`krippendorff.alpha`, nominal), which uses every pairable value.

κ and α are undefined when every value is the same (no variation): they are NA, noted.
Readings: κ by Landis & Koch (1977); α ≥ 0.800 reliable, 0.667-0.800 tentative conclusions
only, below 0.667 not reliable (Krippendorff 2004).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..i18n import check_lang, number, text
from .analysis import QualResult
from .voices import Voices

__all__ = ["Agreement", "intercoder_agreement", "kappa_band", "alpha_band", "agreement_statistics"]

#: Landis & Koch bands of κ: (upper bound, band); their words: ``voices.agreement.kappa.<band>``.
KAPPA_BANDS = ((0.0, "poor"), (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial"),
               (1.01, "almost_perfect"))
#: Krippendorff's bands of α: (lower bound, band); their words: ``voices.agreement.alpha.<band>``.
ALPHA_BANDS = ((0.8, "reliable"), (0.667, "tentative"), (-float("inf"), "unreliable"))


def kappa_band(kappa: float, lang: str = "en") -> str:
    """Landis & Koch reading of a κ."""
    if kappa is None or pd.isna(kappa):
        return text("voices.agreement.undefined", lang)
    if kappa < 0:
        return text("voices.agreement.kappa.poor", lang)
    band = next((b for upper, b in KAPPA_BANDS[1:] if kappa <= upper), "almost_perfect")
    return text(f"voices.agreement.kappa.{band}", lang)


def alpha_band(alpha: float, lang: str = "en") -> str:
    """Krippendorff's reading of an α."""
    if alpha is None or pd.isna(alpha):
        return text("voices.agreement.undefined", lang)
    band = next(b for lower, b in ALPHA_BANDS if alpha >= lower)
    return text(f"voices.agreement.alpha.{band}", lang)


def agreement_statistics(matrix: np.ndarray) -> dict[str, float]:
    """Agreement statistics of a coders x units matrix of 0/1 (NaN = not coded by that coder).

    Returns ``n_units, n_coders, percent_agreement, cohen_kappa, fleiss_kappa, krippendorff_alpha``.
    """
    import krippendorff
    from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

    m = np.asarray(matrix, dtype=float)
    pairable = (~np.isnan(m)).sum(axis=0) >= 2
    m = m[:, pairable]
    out = {"n_units": int(m.shape[1]), "n_coders": int((~np.isnan(m)).any(axis=1).sum()),
           "percent_agreement": np.nan, "cohen_kappa": np.nan, "fleiss_kappa": np.nan, "krippendorff_alpha": np.nan}
    if m.shape[1] == 0:
        return out
    same = np.array([len(set(col[~np.isnan(col)])) == 1 for col in m.T])
    out["percent_agreement"] = float(same.mean())
    values = m[~np.isnan(m)]
    if len(np.unique(values)) < 2:
        return out  # no variation: chance-corrected statistics are undefined
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out["krippendorff_alpha"] = float(krippendorff.alpha(reliability_data=m, level_of_measurement="nominal"))
        coders = np.flatnonzero((~np.isnan(m)).any(axis=1))
        full = m[coders][:, ~np.isnan(m[coders]).any(axis=0)]
        if len(coders) == 2 and full.shape[1]:
            table = pd.crosstab(full[0], full[1]).reindex(index=[0.0, 1.0], columns=[0.0, 1.0], fill_value=0)
            out["cohen_kappa"] = float(cohens_kappa(table.to_numpy()).kappa)
        if full.shape[1] and len(np.unique(full)) > 1:
            counts, _ = aggregate_raters(full.T.astype(int), n_cat=2)
            out["fleiss_kappa"] = float(fleiss_kappa(counts, method="fleiss"))
    return out


@dataclass(repr=False)
class Agreement(QualResult):
    """Inter-coder agreement per code or theme (see :func:`intercoder_agreement`).

    Attributes
    ----------
    table : DataFrame
        ``key, label, n_units, n_coders, percent_agreement, cohen_kappa, fleiss_kappa,
        krippendorff_alpha, reading_en, reading_id`` with a pooled row ``key='(all)'``.
    unit, level : str
    """

    table: pd.DataFrame
    unit: str
    level: str
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)
    title = "Inter-coder agreement"

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        if self.table.empty:
            return text("voices.agreement.none", lang)
        pooled = self.table.iloc[-1]
        weak = self.table[(self.table["key"] != "(all)") & (self.table["krippendorff_alpha"] < ALPHA_BANDS[1][0])]
        out = text("voices.agreement.overall", lang, alpha=number(pooled["krippendorff_alpha"], 2, lang),
                   reading=alpha_band(pooled["krippendorff_alpha"], lang), n=number(pooled["n_units"], 0, lang))
        return out + (text("voices.agreement.weak", lang, codes=", ".join(weak["label"].astype(str).head(5)))
                      if len(weak) else text("voices.agreement.all_reliable", lang))


def _units(voices: Voices, unit: str) -> pd.DataFrame:
    seg = voices.segments[["segment_id", "start", "end"]]
    coded = voices.codings.merge(seg, on="segment_id", how="left")
    coders = coded.groupby("source_id")["coder_id"].nunique()
    coded = coded[coded["source_id"].isin(coders[coders >= 2].index)]
    if unit == "segment":
        coded["unit"] = (coded["source_id"].astype(str) + ":" + coded["start"].astype(str) + "-"
                         + coded["end"].astype(str))
    elif unit == "source":
        coded["unit"] = coded["source_id"].astype(str)
    else:
        raise ValueError(f"unit must be 'segment' or 'source', not {unit!r}")
    return coded


def intercoder_agreement(voices: Voices, *, unit: str = "segment", level: str = "code") -> Agreement:
    """Agreement between coders per code (or theme), with a pooled row.

    Parameters
    ----------
    voices : Voices
    unit : {'segment', 'source'}
    level : {'code', 'theme'}
    """
    if level not in ("code", "theme"):
        raise ValueError(f"level must be 'code' or 'theme', not {level!r}")
    coded = _units(voices, unit)
    key = "code_id" if level == "code" else "theme_id"
    coded = coded.dropna(subset=[key])
    coders = sorted(coded["coder_id"].unique())
    units = coded.drop_duplicates("unit")[["unit", "source_id"]].sort_values("unit").reset_index(drop=True)
    # who coded which source: their value is 0 where they did not apply the code
    worked = coded.groupby("source_id")["coder_id"].agg(set)
    base = np.full((len(coders), len(units)), np.nan)
    for i, c in enumerate(coders):
        base[i, units["source_id"].map(lambda s: c in worked.get(s, set())).to_numpy(dtype=bool)] = 0.0
    unit_pos = {u: j for j, u in enumerate(units["unit"])}
    coder_pos = {c: i for i, c in enumerate(coders)}
    labels = _labels(voices, level)
    # a code exists only in its own file: units of other files are not units for it
    code_file = dict(zip(voices.codes["code_id"], voices.codes["file"]))
    unit_file = units["source_id"].map(dict(zip(voices.sources["source_id"], voices.sources["file"]))).to_numpy()
    rows, stacked = [], []
    for k, grp in coded.groupby(key):
        m = base.copy()
        if level == "code":
            m[:, unit_file != code_file.get(k)] = np.nan
        m[grp["coder_id"].map(coder_pos).to_numpy(), grp["unit"].map(unit_pos).to_numpy()] = 1.0
        stacked.append(m)
        rows.append({"key": k, "label": labels.get(k, k), **agreement_statistics(m)})
    if stacked:
        rows.append({"key": "(all)", "label": "(all)", **agreement_statistics(np.hstack(stacked))})
    table = pd.DataFrame(rows, columns=["key", "label", "n_units", "n_coders", "percent_agreement", "cohen_kappa",
                                        "fleiss_kappa", "krippendorff_alpha"])
    table["reading_en"] = table["krippendorff_alpha"].map(alpha_band)
    table["reading_id"] = table["krippendorff_alpha"].map(lambda a: alpha_band(a, "id"))
    notes = []
    if len(coders) > 2:
        notes.append(f"{len(coders)} coders: Cohen's kappa is for two coders and is left empty")
    if table["krippendorff_alpha"].isna().any():
        notes.append("NA where every coder gave every unit the same value (no variation): chance-corrected "
                     "agreement is undefined there")
    return Agreement(table, unit, level, voices.synthetic, notes)


def _labels(voices: Voices, level: str) -> dict[str, str]:
    if level == "theme":
        return dict(zip(voices.themes["theme_id"], voices.themes["label_en"]))
    return dict(zip(voices.codes["code_id"], voices.codes["path"]))
