"""Direct identifiers out, keyed pseudonyms in.

Members and staff are known in processed data only by a pseudonym: the first 16 hex
digits of HMAC-SHA256(key, entity + ":" + identifier). The same key and NIK always give
the same pseudonym (joins across tables and across data deliveries keep working), while
without the key a pseudonym cannot be reversed or recomputed from a guessed NIK.

The key is read from ``KKBM_PSEUDONYM_KEY`` or from a file outside the repository
(``KKBM_PSEUDONYM_KEY_FILE``, default ``~/.config/kkbm/pseudonym.key``). The fixed, public
:data:`DEMO_KEY` is used only for the suite's own synthetic demo, recognised by the
checksums of its files (never by a file name), and never when a key is configured
(:meth:`PseudonymKey.for_data`); the manifest says which was used. Only a key *id* (a hash
of the key) is ever written anywhere.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .patterns import SPACE, SPACE_CHARS

#: Public key for the synthetic demo only.
DEMO_KEY = b"kkbm-analysis DEMO key - synthetic data only - not secret"
DEFAULT_KEY_FILE = Path("~/.config/kkbm/pseudonym.key")


class MissingKeyError(RuntimeError):
    """No pseudonym key is configured for real data."""


@dataclass(frozen=True)
class PseudonymKey:
    """A secret key and its public id."""

    secret: bytes
    is_demo: bool = False

    @property
    def key_id(self) -> str:
        """A public fingerprint of the key (safe to store; not the key)."""
        return "demo" if self.is_demo else hashlib.sha256(b"key-id:" + self.secret).hexdigest()[:12]

    @classmethod
    def demo(cls) -> "PseudonymKey":
        return cls(DEMO_KEY, is_demo=True)

    @classmethod
    def configured(cls) -> "PseudonymKey | None":
        """The key set in ``KKBM_PSEUDONYM_KEY`` or the key file, or None when there is none.

        Raises
        ------
        MissingKeyError
            The key file exists but cannot be read or is empty.
        """
        value = os.environ.get("KKBM_PSEUDONYM_KEY")
        if value:
            return cls(value.encode())
        path = Path(os.environ.get("KKBM_PSEUDONYM_KEY_FILE", DEFAULT_KEY_FILE)).expanduser()
        if not path.is_file():
            return None
        try:
            secret = path.read_bytes().strip()
        except OSError as exc:
            raise MissingKeyError(f"the pseudonym key file {path} cannot be read ({exc.strerror})") from None
        if not secret:
            raise MissingKeyError(f"the pseudonym key file {path} is empty; put a long random secret in it")
        return cls(secret)

    @classmethod
    def for_data(cls, embedded_demo: bool) -> "PseudonymKey":
        """The key to use: the configured key whenever there is one; the public demo key only
        for the suite's own embedded demo (proven by content, see
        :func:`kkbm_analysis.inventory.is_embedded_demo`); otherwise an error.
        """
        key = cls.configured()
        if key is not None:
            return key
        if embedded_demo:
            return cls.demo()
        return cls.from_environment()

    @classmethod
    def from_environment(cls) -> "PseudonymKey":
        """Read the key from ``KKBM_PSEUDONYM_KEY`` or the key file.

        Raises
        ------
        MissingKeyError
            With instructions, when neither is set.
        """
        key = cls.configured()
        if key is not None:
            return key
        path = Path(os.environ.get("KKBM_PSEUDONYM_KEY_FILE", DEFAULT_KEY_FILE)).expanduser()
        raise MissingKeyError(
            "No pseudonym key. Set KKBM_PSEUDONYM_KEY, or put a long random secret in "
            f"{path} (outside the repository), e.g.\n  mkdir -p {path.parent} && "
            f"python -c \"import secrets; print(secrets.token_hex(32))\" > {path}")



def normalise_identifier(raw: pd.Series) -> pd.Series:
    """Canonical text of an identifier: digits only if it is mostly digits, else lower-case words."""
    text = raw.astype("string").str.strip()
    digits = text.str.replace(r"\D", "", regex=True)
    numeric = digits.str.len() >= text.str.replace(SPACE, "", regex=True).str.len() * 0.8
    words = text.str.lower().str.replace(SPACE + "+", " ", regex=True)
    out = words.where(~numeric.fillna(False), digits)
    return out.mask(out.fillna("") == "")


class PseudonymMemo:
    """Pseudonyms made so far with one key for one entity, of canonical NIKs (16 digits) by their number:
    sorted numpy arrays, looked up for many NIKs at once without a Python string per NIK. Only a cache
    (a pseudonym is a function of the NIK): one ingest meets a member's NIK in several tables."""

    def __init__(self) -> None:
        self.numbers = np.zeros(0, dtype=np.int64)
        self.pseudonyms = np.zeros(0, dtype="S17")

    def __len__(self) -> int:
        return len(self.numbers)

    def find(self, numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which ``numbers`` are known, and where (in :attr:`pseudonyms`; meaningless for unknown ones)."""
        at = np.searchsorted(self.numbers, numbers)
        found = at < len(self.numbers)
        found[found] = self.numbers[at[found]] == numbers[found]
        return found, at

    def add(self, numbers: np.ndarray, pseudonyms: np.ndarray) -> None:
        """Remember the pseudonyms of distinct numbers not known yet."""
        order = np.argsort(numbers)
        at = np.searchsorted(self.numbers, numbers[order])
        self.numbers = np.insert(self.numbers, at, numbers[order])
        self.pseudonyms = np.insert(self.pseudonyms, at, pseudonyms[order])


def pseudonymise(raw: pd.Series, key: PseudonymKey, entity: str, memo: PseudonymMemo | None = None
                 ) -> pd.Series:
    """Keyed pseudonyms for a Series of identifiers (blank stays <NA>).

    Each distinct cell is normalised and hashed once (the HMAC's key schedule is done once
    per call, not per value), then the pseudonyms are mapped back to the rows. Cells already
    canonical (16 ASCII digits, the usual NIK) are found in Arrow and need no normalising.

    Parameters
    ----------
    raw : Series
        NIKs (any spacing/dots) or, for staff without NIK, names.
    key : PseudonymKey
    entity : str
        ``'member'`` or ``'staff'``: the same NIK gives different pseudonyms per entity.
    memo : PseudonymMemo, optional
        Pseudonyms of NIKs already made with this key and entity (read and filled).
    """
    memo = PseudonymMemo() if memo is None else memo
    if isinstance(raw.dtype, pd.StringDtype):  # text: the distinct cells in Arrow
        text = pa.array(raw.array)
        encoded = pc.dictionary_encode(text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text)
        codes, canon = encoded.indices, encoded.dictionary
    else:  # numbers and text mixed (workbooks): each distinct cell as the text pandas makes of it
        factorized, uniques = pd.factorize(raw, use_na_sentinel=True)
        codes = pa.array(factorized, mask=factorized < 0)
        canon = pa.array(pd.Series(uniques.astype(object), dtype=object).astype("string").array)
    nik = _sixteen_digits(canon)
    if not nik.all():  # the others normalised (a NIK with spaces or dots is one once its digits are)
        odd = pa.array(~nik)
        fixed = pa.array(normalise_identifier(pd.Series(pd.array(canon.filter(odd), dtype="string"))).array)
        canon = pc.replace_with_mask(canon, odd, fixed.cast(canon.type))
        nik[~nik] = _sixteen_digits(fixed)
    hashes = _keyed_hashes(key, f"{entity}:", entity[0].upper())
    niks = canon.filter(pa.array(nik))
    numbers = pc.cast(niks, pa.int64()).to_numpy()  # 16 digits fit an int64: one number per NIK
    found, at = memo.find(numbers)
    if not found.all():  # each new NIK hashed once (two spellings of one NIK are one number)
        new, first = np.unique(numbers[~found], return_index=True)
        memo.add(new, np.array(hashes(niks.filter(pa.array(~found)).take(first).to_pylist()), dtype="S17"))
        found, at = memo.find(numbers)
    made = np.zeros(len(canon), dtype="S17")  # a pseudonym is 17 ASCII characters
    made[nik] = memo.pseudonyms[at]
    others = np.flatnonzero(~nik & pc.is_valid(canon).to_numpy(zero_copy_only=False))
    made[others] = np.array(hashes(canon.take(others).to_pylist()), dtype="S17")
    rows = pa.array(made, mask=pc.is_null(canon).to_numpy(zero_copy_only=False)).take(codes)
    return pd.Series(pd.array(rows.cast(pa.large_string()), dtype="string"), index=raw.index, dtype="string")


def _sixteen_digits(text: pa.Array) -> np.ndarray:
    """Which cells of Arrow text are 16 ASCII digits."""
    sixteen = pc.and_(pc.equal(pc.binary_length(text), 16), pc.ascii_is_decimal(text))
    return pc.fill_null(sixteen, False).to_numpy(zero_copy_only=False)


def _keyed_hashes(key: PseudonymKey, prefix: str, mark: str) -> Callable[[list[str]], list[str]]:
    """A function giving ``mark`` + the first 16 hex digits of HMAC-SHA256(key, prefix + value) of values."""
    block = hashlib.sha256().block_size
    secret = key.secret if len(key.secret) <= block else hashlib.sha256(key.secret).digest()
    secret = secret.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in secret))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in secret))
    inner.update(prefix.encode())

    def hashes(values: list[str]) -> list[str]:
        out = []
        for value in values:
            h = inner.copy()
            h.update(value.encode())
            o = outer.copy()
            o.update(h.digest())
            out.append(mark + o.hexdigest()[:16])
        return out
    return hashes


_NIK = re.compile(r"^\d{16}$")


def nik_problems(raw: pd.Series) -> pd.Series:
    """Why each non-blank NIK is malformed ('' when it looks valid).

    Checks the structure only (16 digits, province code 11–96, non-zero regency and
    district, a real birth date with +40 on the day for women, serial not 0000): a
    structurally valid NIK may still not be registered at Dukcapil. Spaces, dots and dashes
    are dropped first (from the cells that are not 16 ASCII digits already).
    """
    text = pa.array(raw.astype("string").array)
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    odd = pa.array(~_sixteen_digits(text))
    if pc.any(odd).as_py():
        text = pc.replace_with_mask(text, odd, pc.replace_substring_regex(text.filter(odd), f"[{SPACE_CHARS}.\\-]", ""))
    filled = pc.fill_null(pc.not_equal(text, ""), False).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(~_well_formed(text) & filled)  # blank cells have no problem
    niks = text.take(bad).to_pylist()
    said = {nik: _nik_problem(nik) for nik in set(niks)}  # once per distinct malformed NIK
    which = np.zeros(len(text), dtype=np.int64)  # each row's message: none (0), or its malformed NIK's
    which[bad] = np.arange(1, len(bad) + 1)
    rows = pa.array(["", *(said[nik] for nik in niks)], type=pa.large_string()).take(pa.array(which))
    return pd.Series(pd.array(rows, dtype="string"), index=raw.index, dtype="string")


def _well_formed(values: pd.api.extensions.ExtensionArray) -> np.ndarray:
    """Which NIKs :func:`_nik_problem` surely finds no fault in, decided in Arrow for 16 ASCII digits
    (every other value is left to it)."""
    text = pa.array(values, type=pa.string())  # Arrow text stays in Arrow
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    sixteen = _sixteen_digits(text)
    if not sixteen.any():
        return sixteen
    digits = np.frombuffer(pc.binary_join_element_wise(text.filter(pa.array(sixteen)), "").buffers()[2],
                           dtype=np.uint8)[:16 * int(sixteen.sum())].reshape(-1, 16) - 48
    # the two-digit numbers: province, regency, district, day, month, year and the serial's two halves
    province, regency, district, day, month, _, serial, serial_end = (digits[:, 0::2].astype(np.int16) * 10
                                                                      + digits[:, 1::2]).T
    day = np.where(day > 40, day - 40, day)
    ok = ((province >= 11) & (province <= 96) & (regency != 0) & (district != 0) & (month >= 1) & (month <= 12)
          & (day >= 1) & (day <= 31) & ((serial != 0) | (serial_end != 0)))
    out = np.zeros(len(sixteen), dtype=bool)
    out[np.flatnonzero(sixteen)] = ok
    return out


def _nik_problem(nik: str) -> str:
    if not _NIK.match(nik):
        return f"NIK must have 16 digits, found {len(nik)} characters"
    prov, reg, dist = int(nik[:2]), nik[2:4], nik[4:6]
    day, month = int(nik[6:8]), int(nik[8:10])
    if not 11 <= prov <= 96:
        return f"province code {nik[:2]} does not exist"
    if reg == "00" or dist == "00":
        return "regency or district code is 00"
    if day > 40:
        day -= 40
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return "birth date part is not a date"
    if nik[12:] == "0000":
        return "serial number is 0000"
    return ""
