"""Keep identifiers out of every value the suite writes or prints.

Identifier *columns* are recognised by their header (:func:`kkbm_analysis.schema.identifier_kind`)
and never shown. This module guards the values that are shown (a bad date in a message,
a row's cells in the quarantine, a header in a note), because a column shift or a free-text
cell can carry an identifier anywhere:

* :func:`redact_text` replaces NIK-like and other long numbers, phone numbers, passport
  numbers and e-mail addresses inside any text;
* :class:`Echo` decides how a raw value may be quoted in a message: redacted, and hidden
  altogether when it looks like a person's name (words that are not field words and
  not category labels, or words that occur in the sheet's own name columns).

Nothing here is perfect protection against a name typed into a free-text cell; that is why
the quarantine points to the raw cell (file, sheet, row, column) instead of copying rows.
"""
from __future__ import annotations

import re
from functools import cache
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from .schema import IDENTIFIER_HEADERS, TABLES, VOCABULARIES

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SCI_ID = re.compile(r"\b\d\.\d{6,}[eE]\+?(?:0?9|1\d)\b")  # 3.604135203850001e+15 (an Excel NIK)
_DIGIT_RUN = re.compile(r"(?<![\w])\(?\+?\d+\)?(?:[ .\-/]\(?\d+\)?)*(?![\w])")
_REGION_CODE = re.compile(r"\d{2}(?:\.\d{2}){1,2}(?:\.\d{4})?")
_PASSPORT = re.compile(r"(?<![\w-])[A-Za-z]{1,2} ?\d{6,8}(?![\w-])")
_GROUPED_AMOUNT = re.compile(r"[1-9]\d{0,2}(?:([.,' ])\d{3})(?:\1\d{3})*(?:[.,]\d{1,2})?")
_DATE_LIKE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?: \d{1,2})?")
_EXCEL_ZEROS = re.compile(r"[.,]0{1,2}$")
_NON_DIGIT = re.compile(r"\D")
MIN_ID_DIGITS = 9

NUMBER_MARK = "[number removed]"
EMAIL_MARK = "[e-mail removed]"
PASSPORT_MARK = "[passport no. removed]"


def _number_mark(match: re.Match) -> str:
    """Replace a run of digits that could be a NIK, phone, account or card number."""
    text = match.group(0)
    core = _EXCEL_ZEROS.sub("", text.strip("()"))  # 3604135203850001.0 as Excel floats come out
    digits = _NON_DIGIT.sub("", core)
    if len(digits) < MIN_ID_DIGITS:
        return text
    if (_GROUPED_AMOUNT.fullmatch(core) or _REGION_CODE.fullmatch(core)
            or (_DATE_LIKE.fullmatch(core) and len(digits) <= 10)):
        return text  # 1.250.000.000 is an amount; 36.04.13.2007 a village code; 2019-07-26 a date
    return NUMBER_MARK


def redact_text(text: str) -> str:
    """``text`` with identifier-like numbers, e-mails and passport numbers replaced.

    >>> redact_text("Siti, NIK 3604135203850001, HP 0812-3456-7890, paspor C1234567")
    'Siti, NIK [number removed], HP [number removed], paspor [passport no. removed]'
    >>> redact_text("Rp 1.250.000.000 on 2019-07-26")
    'Rp 1.250.000.000 on 2019-07-26'
    """
    if not text or ("@" not in text and not any(map(str.isdigit, text))):
        return text
    if "@" in text:  # what _EMAIL and _SCI_ID need, looked for first (most texts have neither)
        text = _EMAIL.sub(EMAIL_MARK, text)
    if "." in text and ("e" in text or "E" in text):
        text = _SCI_ID.sub(NUMBER_MARK, text)
    text = _PASSPORT.sub(PASSPORT_MARK, text)
    return _DIGIT_RUN.sub(_number_mark, text)


def redact_value(value: Any) -> Any:
    """A cell value with :func:`redact_text` applied to its text; numbers that look like ids become text."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and len(str(abs(int(value)))) < MIN_ID_DIGITS:
        return int(value)
    if isinstance(value, (float, np.floating)) and abs(float(value)) < 10 ** (MIN_ID_DIGITS - 1):
        return float(value)
    text = _plain(value)
    redacted = redact_text(text)
    return redacted if redacted != text or not isinstance(value, (int, float, np.number)) else value


def _plain(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------- names
@cache
def field_words() -> frozenset[str]:
    """Words that occur in field names, header aliases, labels, category synonyms and months.

    A value made only of words outside this set (and capitalised like a name) may be a
    person's name.
    """
    words: set[str] = set()

    def add(text: Any) -> None:
        words.update(w for w in re.split(r"[^a-z0-9]+", str(text).lower()) if w)

    for spec in TABLES.values():
        add(spec.name), add(spec.label_id), add(spec.label_en)
        for a in spec.sheet_aliases:
            add(a)
        for name, c in spec.schema.columns.items():
            add(name.replace("_", " ")), add(c.title), add(c.description)
            for a in (c.metadata or {}).get("aliases", ()):
                add(a)
    for vocab in VOCABULARIES.values():
        for cat in vocab.values():
            add(cat.key), add(cat.label_id), add(cat.label_en)
            for syn in cat.synonyms:
                add(syn)
    for names in IDENTIFIER_HEADERS.values():
        for n in names:
            add(n)
    add("januari februari maret april mei juni juli agustus september oktober november desember jan feb mar apr "
        "jun jul agu agt ags aug sep sept okt oct nov nop des dec rp idr juta jt ribu rb miliar ya tidak tdk belum "
        "sudah ada lainnya lain jumlah total catatan keterangan ket sumber no nomor kode id tahun bulan tanggal tgl "
        "kabupaten kab kota kecamatan kec desa kelurahan provinsi prov dusun indonesia malaysia singapura taiwan "
        "hongkong hong kong arab saudi korea jepang brunei qatar kuwait uni emirat oman turki amerika inggris "
        "baru lama aktif purna calon keluarga pmi tki tkw laki perempuan pria wanita male female unknown kosong "
        "data rekap sheet lembar halaman page tabel table the of and dan atau yang di ke dari untuk dengan")
    from .regions import _read_lokal  # province and regency names are places, not people
    for code, name in _read_lokal("wilayah").items():
        if len(code) <= 5:
            add(name)
    return frozenset(words)


_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*", re.UNICODE)
#: Text that reads as a street address or hamlet (below village level), whatever the column.
_ADDRESS = re.compile(r"^\s*(jl|jln|jalan|gg|gang|dusun|dsn|blok|perum|perumahan|komplek|kompleks)\b\.?|"
                      r"\b(rt|rw)\s*[.:]?\s*\d", re.IGNORECASE)


def looks_like_name(text: str, extra_known: Iterable[str] = ()) -> bool:
    """Whether ``text`` may be a person's name: 1–6 capitalised words that are not field words.

    >>> looks_like_name("Siti Aminah"), looks_like_name("Warung Sembako"), looks_like_name("purnaa")
    (True, False, False)
    """
    words = _WORD.findall(text)
    if not words or len(words) > 6 or any(map(str.isdigit, text)):
        return False
    known = field_words()
    extra = set(extra_known)
    unknown = [w for w in words if w.lower() not in known and w.lower() not in extra]
    if not unknown or not all(w[:1].isupper() for w in words):
        return False
    if len(words) == 1:  # one word: a name, unless short or a typo of a known word ("Dagangann")
        return len(unknown[0]) > 2 and not _near_known(unknown[0].lower())
    return True


@cache
def _near_known(word: str) -> bool:
    """Whether a field word is close to ``word`` (:func:`difflib.get_close_matches` at 0.8).

    difflib's own test runs only on the field words that pass its two upper bounds, computed here
    for every field word at once: the lengths (``real_quick_ratio``), then the letters in common
    (``quick_ratio``). Words that fail either bound would fail difflib's test too.
    """
    import difflib
    words, lengths, counts, alphabet = _field_word_letters()
    mine = np.zeros(len(alphabet), dtype=np.int64)
    for ch in word:
        if ch in alphabet:
            mine[alphabet[ch]] += 1
    total = lengths + len(word)
    maybe = (2.0 * np.minimum(lengths, len(word)) / total >= 0.8) & \
            (2.0 * np.minimum(counts, mine).sum(axis=1) / total >= 0.8)
    return bool(difflib.get_close_matches(word, [words[i] for i in np.flatnonzero(maybe)], n=1, cutoff=0.8))


@cache
def _field_word_letters() -> tuple[list[str], np.ndarray, np.ndarray, dict[str, int]]:
    """The field words, their lengths, and how often each letter occurs in each (for :func:`_near_known`)."""
    words = sorted(field_words())
    alphabet = {ch: i for i, ch in enumerate(sorted(set("".join(words))))}
    counts = np.zeros((len(words), len(alphabet)), dtype=np.int64)
    for row, w in enumerate(words):
        for ch in w:
            counts[row, alphabet[ch]] += 1
    return words, np.array([len(w) for w in words], dtype=np.int64), counts, alphabet


def name_tokens(values: Iterable[Any]) -> frozenset[str]:
    """Lower-case words (3+ letters) of the values of a sheet's name columns (not field words)."""
    text = "\n".join({v for v in values if isinstance(v, str)}).lower()
    return frozenset(w for w in _WORD.findall(text) if len(w) >= 3) - field_words()


class Echo:
    """How raw values of one sheet may be quoted in messages and in the quarantine.

    Parameters
    ----------
    names : iterable of str, or a function giving them
        Words found in the sheet's name-like identifier columns (see :func:`name_tokens`);
        a value containing one of them is never shown. A function is called only when a
        value is first shown.
    """

    HIDDEN = "[not shown: may identify a person]"
    _MEMO_SIZE = 200_000  # values remembered (a sheet's quarantine quotes the same headers and values often)

    def __init__(self, names: Iterable[str] | Callable[[], Iterable[str]] = ()) -> None:
        self._source = names
        self._names: frozenset[str] | None = None
        self._memo: dict[tuple, Any] = {}

    def _remembered(self, how: tuple, value: Any, work: Callable[[], Any]) -> Any:
        """``work()``, computed once per distinct value (of a type: 1, 1.0 and True differ) and way of showing."""
        key = (*how, type(value), value)
        try:
            return self._memo[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable cell
            return work()
        if len(self._memo) >= self._MEMO_SIZE:
            self._memo.clear()
        out = self._memo[key] = work()
        return out

    @property
    def names(self) -> frozenset[str]:
        """Words of the sheet's person names (computed when first needed)."""
        if self._names is None:
            self._names = frozenset(self._source() if callable(self._source) else self._source)
        return self._names

    def _hidden(self, text: str, strict: bool, lenient: bool = False) -> bool:
        if not any(map(str.isalpha, text)):
            return False
        words = [w.lower() for w in _WORD.findall(text)]
        if not self.names.isdisjoint(words) or _ADDRESS.search(text):
            return True
        if lenient:  # place names: only the sheet's own person names are hidden
            return False
        if looks_like_name(text):
            return True
        if strict:  # a number/date/yes-no field: a capitalised unknown word alone is suspicious too
            known = field_words()
            return any(w[:1].isupper() and w.lower() not in known and len(w) > 2 for w in _WORD.findall(text))
        return False

    def text(self, value: Any, *, strict: bool = False, lenient: bool = False) -> str:
        """The value as it may be shown in a message (without quotes).

        ``strict`` for fields that hold numbers, dates or yes/no (any capitalised unknown
        word is hidden); ``lenient`` for place names (only the sheet's person names are hidden).
        """
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return "(empty)"
        return self._remembered(("text", strict, lenient), value, lambda: self._text(value, strict, lenient))

    def _text(self, value: Any, strict: bool, lenient: bool) -> str:
        text = " ".join(redact_text(_plain(value)).split())
        if self._hidden(text, strict, lenient):
            return self.HIDDEN
        return text[:80] + ("…" if len(text) > 80 else "")

    def quote(self, value: Any, *, strict: bool = False, lenient: bool = False) -> str:
        """``'value'`` for a message, or the hidden marker."""
        shown = self.text(value, strict=strict, lenient=lenient)
        return shown if shown in (self.HIDDEN, "(empty)") else f"'{shown}'"

    def cell(self, value: Any) -> Any:
        """A cell value for the quarantine's ``values`` column (JSON-able, redacted)."""
        return self._remembered(("cell",), value, lambda: self._cell(value))

    def _cell(self, value: Any) -> Any:
        value = redact_value(value)
        if isinstance(value, str) and self._hidden(value, strict=False):
            return self.HIDDEN
        return value

    def header(self, header: Any, *, confirmed: bool) -> str:
        """A header as it may be shown: always redacted; hidden when it looks like a name,
        unless the header row was confirmed by known field names."""
        return self._remembered(("header", confirmed), header, lambda: self._header(header, confirmed))

    def _header(self, header: Any, confirmed: bool) -> str:
        text = " ".join(redact_text(str(header)).split())
        if not confirmed and self._hidden(text, strict=False):
            return "[header not shown]"
        return text


def scrub_log(text: str) -> str:
    """A traceback or message fit for a log file: quoted text elided (the source file names of the
    traceback kept), identifier-like numbers removed."""
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.lstrip().startswith('File "'):
            line = re.sub(r"'[^'\n]{0,200}'", "'…'", line)
            line = re.sub(r'"[^"\n]{0,200}"', '"…"', line)
        lines.append(redact_text(line))
    return "".join(lines)
