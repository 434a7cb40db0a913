"""Command-line options that need more than click gives: several values after one option, provinces by name.

``kkbm reports --province 35 36`` and ``--province "Jawa Timur" banten`` both work:
:func:`spread_values` turns the values that follow one ``--province`` into repeated options
(click takes one value per option), and :func:`resolve_provinces` turns codes and names
(official, short or ISO abbreviation, any case) into the codes of provinces in the data.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

__all__ = ["spread_values", "resolve_provinces", "ProvinceError", "province_keys"]


class ProvinceError(ValueError):
    """A ``--province`` value that names no province of the data (the message lists them)."""


def _key(value: str) -> str:
    """Comparison form of a name: lower case, ``-``/``_``/``.`` and repeated spaces as one space."""
    return re.sub(r"[\s._-]+", " ", str(value)).strip().casefold()


@lru_cache(maxsize=1)
def province_keys() -> dict[str, str]:
    """Every way to name a province -> its code: code, official and display names, short name, abbreviation."""
    from .i18n import province_short_forms, region_name
    from .regions import official_names
    keys: dict[str, str] = {}
    for code, name in official_names(level=1).items():
        for form in (code, name, region_name(code, "id"), region_name(code, "en")):
            keys[_key(form)] = code
    for code, (abbreviation, short_name) in province_short_forms().items():
        keys.setdefault(_key(short_name), code)
        keys.setdefault(_key(abbreviation), code)
    return keys


def _is_value(token: str) -> bool:
    """Whether a token after ``--province`` is another value: not an option and not a path."""
    return not token.startswith("-") and "/" not in token and os.sep not in token and not Path(token).exists()


def spread_values(argv: Sequence[str], option: str = "--province", *, command: str = "reports") -> list[str]:
    """``[.., '--province', '35', '36', ..]`` -> ``[.., '--province', '35', '--province', '36', ..]``.

    Only in *command*'s arguments. A following token is another value unless it is an option,
    holds a path separator or exists as a path, so the processed folder after the values stays
    the positional argument (and an unknown name is reported as an unknown province).
    """
    out = list(argv)
    if command not in out:
        return out
    i = out.index(command) + 1
    while i < len(out):
        if out[i] == "--":
            break
        if out[i] == option and i + 1 < len(out):
            j = i + 2
            while j < len(out) and _is_value(out[j]):
                out[j:j] = [option]
                j += 2
            i = j
            continue
        i += 1
    return out


def resolve_provinces(values: Iterable[str], valid: Sequence[str]) -> list[str]:
    """Codes of the provinces named in *values* (codes or names, any case, comma-separated allowed).

    Parameters
    ----------
    values : iterable of str
        What the user typed, e.g. ``["35", "jawa timur", "Banten,NTB"]``.
    valid : sequence of str
        Province codes that have data.

    Returns
    -------
    list of str
        Codes in the order given, each once.

    Raises
    ------
    ProvinceError
        A value names no province, or one without data; the message lists the valid ones.
    """
    keys = province_keys()
    codes: list[str] = []
    for raw in values:
        for part in str(raw).split(","):
            if not part.strip():
                continue
            code = keys.get(_key(part))
            if code is None or code not in valid:
                from .i18n import region_name
                why = (f"{region_name(code)} ({code}) has no data in this folder" if code
                       else f"no province is called {part.strip()!r}")
                raise ProvinceError(f"--province {part.strip()}: {why}. Provinces in the data (give the code or "
                                    "the name, in any case): "
                                    + ", ".join(f"{c} {region_name(c)}" for c in valid))
            if code not in codes:
                codes.append(code)
    return codes
