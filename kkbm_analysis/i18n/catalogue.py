"""The string catalogue: every user-facing word of the suite, in every language.

The words live in ``catalogue.yaml`` beside this module, grouped by where they appear
(``common``, ``figure``, ``report``, ``model``, ``resilience``, ``voices``, ``barrier``). An entry is a mapping from
language to text; ``{fields}`` are filled in by :func:`text`::

    from kkbm_analysis.i18n import text
    text("report.key_figures", "id")                  # 'Angka kunci'
    text("figure.boundaries_credit", "en", source="GADM 4.1")

The same file holds the **glossary**: one Indonesian term per concept (``proporsi`` for a
share, ``peluang`` only for a probability, ``odds`` for odds, ``selang kepercayaan`` for a
confidence interval...) and the variants to avoid. :func:`glossary_problems` lists every
catalogue text that breaks it; the test suite requires that list to be empty.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from .languages import LANGS, check_lang

__all__ = ["text", "has_text", "entries", "GlossaryTerm", "glossary", "glossary_problems"]

RESOURCE = "catalogue.yaml"


@functools.cache
def _document() -> dict[str, Any]:
    # libyaml's safe loader when PyYAML has it (its wheels do): the same document, parsed in a tenth of the time
    # that every process showing a word would otherwise spend on it (about 0.15 s)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with resources.files(__package__).joinpath(RESOURCE).open("r", encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader


def _is_entry(node: Any) -> bool:
    return isinstance(node, Mapping) and bool(node) and set(node) <= set(LANGS) | {"note"} and "en" in node


def _flatten(node: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Mapping[str, str]]]:
    for key, value in node.items():
        name = f"{prefix}{key}"
        if _is_entry(value):
            yield name, value
        elif isinstance(value, Mapping):
            yield from _flatten(value, name + ".")
        else:
            raise ValueError(f"{RESOURCE}: {name} is neither a group nor an entry with texts in {LANGS}")


@functools.cache
def entries() -> dict[str, dict[str, str]]:
    """Every catalogue entry: dotted key -> {language: text}."""
    doc = {k: v for k, v in _document().items() if k != "glossary"}
    return {key: {lang: str(value[lang]) for lang in LANGS if lang in value} for key, value in _flatten(doc)}


def has_text(key: str) -> bool:
    """Whether the catalogue has an entry ``key``."""
    return key in entries()


def text(key: str, lang: str, **fields: Any) -> str:
    """The text of ``key`` in ``lang`` with its ``{fields}`` filled in.

    Raises
    ------
    KeyError
        If the catalogue has no such entry or no text in that language.
    """
    check_lang(lang)
    try:
        template = entries()[key][lang]
    except KeyError:
        raise KeyError(f"no catalogue text {key!r} in {lang!r}") from None
    return template.format(**fields) if fields else template


# --------------------------------------------------------------------------- glossary
@dataclass(frozen=True)
class GlossaryTerm:
    """One concept and its single Indonesian term.

    Attributes
    ----------
    concept : str
        The concept in English, as the English texts name it.
    id : str
        The Indonesian term to use.
    avoid : tuple of str
        Regular expressions (case-insensitive) of Indonesian variants that must not appear.
    note : str
        Why, or how to use the term.
    """

    concept: str
    id: str
    avoid: tuple[str, ...] = ()
    note: str = ""


@functools.cache
def glossary() -> tuple[GlossaryTerm, ...]:
    """The glossary of ``catalogue.yaml``."""
    return tuple(GlossaryTerm(g["concept"], g["id"], tuple(g.get("avoid", ())), g.get("note", ""))
                 for g in _document().get("glossary", ()))


def glossary_problems(texts: Mapping[str, str] | None = None) -> list[str]:
    """Indonesian texts that use a variant the glossary says to avoid.

    Parameters
    ----------
    texts : mapping, optional
        Name -> Indonesian text to check (default: every Indonesian text of the catalogue).

    Returns
    -------
    list of str
        ``"<name>: '<variant>' (use '<term>' for <concept>)"``, empty when all is consistent.
    """
    if texts is None:
        texts = {key: value["id"] for key, value in entries().items() if "id" in value}
    problems = []
    for term in glossary():
        for pattern in term.avoid:
            rx = re.compile(pattern, re.IGNORECASE)
            for name, value in texts.items():
                hit = rx.search(value)
                if hit:
                    problems.append(f"{name}: {hit.group(0)!r} (use {term.id!r} for {term.concept})")
    return problems
