"""``notes.md`` of a qualitative ingest: what was read, kept, left out and why (id and en).

Its words are the ``voices.notes`` block of the string catalogue.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..i18n import LANGS, text

if TYPE_CHECKING:  # pragma: no cover
    from .ingest import VoicesIngest

def ingest_notes(result: "VoicesIngest") -> str:
    """The notes in Indonesian, then English."""
    m, c = result.manifest, result.manifest["counts"]
    codes = result.tables["codes"]
    unmapped = codes[codes["theme_id"].isna() & (codes["theme_rule"] == "unmapped")] if len(codes) else codes
    quarantined = _counts(result.quarantine.get("rule", pd.Series(dtype=str)).value_counts())
    lines = []
    for lang in LANGS:
        def say(key: str, **fields: object) -> str:
            return text(f"voices.notes.{key}", lang, **fields)

        lines += [f"# {say('title')}", ""]
        if m["synthetic"]:
            lines += [f"**{say('synthetic')}**", ""]
        lines.append(say("codebook", name=m["codebook"]["name"], version=m["codebook"]["version"]))
        lines.append(say("counts", files=c["files"], sa=c["sources_accepted"], sq=c["sources_quarantined"],
                         ss=c["sources_skipped"], ga=c["segments_accepted"], gq=c["segments_quarantined"],
                         gs=c["segments_skipped"], c=c["codings"]))
        lines.append(say("consent", n=c["sources_without_consent"], p=c["segments_publishable"]))
        lines.append(say("redactions", r=_counts(pd.Series(m["redactions"])) or say("none")))
        if len(unmapped):
            shown = ", ".join(sorted(set(unmapped["path"].astype(str)))[:20])
            lines.append(say("unmapped", n=len(unmapped), codes=shown))
        lines.append(say("quarantine", r=quarantined or say("none")))
        if len(result.findings):
            lines.append(say("findings", r=_counts(result.findings["rule"].value_counts())))
        lines.append("")
    return "\n".join(lines)


def _counts(series: pd.Series) -> str:
    return ", ".join(f"{k} {int(v)}" for k, v in series.sort_index().items() if v)
