"""The barrier-theme codebook and the mapping of a study's own codes onto it.

The codebook (``resources/barrier_themes.yaml``, bilingual and versioned) names the
qualitative themes that explain the suite's barrier indicators: mentoring gap, staffing,
training not becoming practice, synergy with government, access to capital, cadre
regeneration, policy and budget, resilience capacities and supporting factors such as a
pro-active village government. Each theme lists the barrier indicators
(:data:`kkbm_analysis.barriers.MEASURES`) it explains; the joint display pairs them.

A study codes in its own words ("Hambatan > Kurang pendampingan"). Its codes reach the
themes in this order (the first rule that applies wins, and is recorded):

1. ``mapped``: the mapping file names the code's path or name
   (``themes: {"Hambatan/Kurang pendampingan": mentoring_gap}``; ``none`` maps on purpose
   to no theme);
2. ``label``: the code's name equals a theme id, label or synonym (ignoring case, accents
   and punctuation);
3. ``parent``: the nearest ancestor code that maps by rule 1 or 2;
4. otherwise no theme (listed in the ingest notes, never guessed).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
import yaml

from ..config import RESOURCES_DIR
from ..parsing import normalise_text

__all__ = ["Codebook", "CodebookError", "POLARITIES", "load_codebook", "map_codes", "NO_THEME"]

CODEBOOK_PATH = RESOURCES_DIR / "barrier_themes.yaml"
POLARITIES = ("barrier", "support", "capacity")
#: Mapping-file value that maps a code to no theme on purpose.
NO_THEME = "none"
_THEME_KEYS = {"id", "parent", "polarity", "label_id", "label_en", "description_id", "description_en",
               "synonyms", "barrier_ids", "sources"}
_REQUIRED = ("id", "polarity", "label_id", "label_en")
THEME_COLUMNS = ["theme_id", "parent_id", "polarity", "label_id", "label_en", "description_id",
                 "description_en", "synonyms", "barrier_ids", "sources"]


class CodebookError(ValueError):
    """A codebook or mapping file is malformed (the message names the file and the entry)."""


@dataclass(frozen=True)
class Codebook:
    """The themes, their version and where they came from.

    Attributes
    ----------
    name, version : str
    themes : DataFrame
        One row per theme: :data:`THEME_COLUMNS` (``synonyms``, ``barrier_ids`` and
        ``sources`` as tuples).
    files : tuple of str
        The YAML files it was built from (the built-in one first).
    """

    name: str
    version: str
    themes: pd.DataFrame
    files: tuple[str, ...] = ()

    @property
    def ids(self) -> list[str]:
        return self.themes["theme_id"].tolist()

    def label(self, theme_id: str, lang: str = "en") -> str:
        """The theme's label in ``'id'`` or ``'en'`` (the id itself if unknown)."""
        hit = self.themes.loc[self.themes["theme_id"] == theme_id, f"label_{lang}"]
        return str(hit.iloc[0]) if len(hit) else str(theme_id)

    def polarity(self, theme_id: str) -> str:
        return str(self.themes.set_index("theme_id").at[theme_id, "polarity"])

    def barrier_links(self) -> pd.DataFrame:
        """``barrier_id, theme_id, polarity``: which themes explain which barrier indicator."""
        rows = [(b, t.theme_id, t.polarity) for t in self.themes.itertuples() for b in t.barrier_ids]
        return pd.DataFrame(rows, columns=["barrier_id", "theme_id", "polarity"])

    def descendants(self, theme_id: str) -> list[str]:
        """The theme and every theme below it."""
        out, todo = [], [theme_id]
        while todo:
            current = todo.pop()
            out.append(current)
            todo += self.themes.loc[self.themes["parent_id"] == current, "theme_id"].tolist()
        return out

    def table(self, lang: str = "en") -> pd.DataFrame:
        """A readable codebook: id, parent, polarity, label, description, barrier indicators."""
        t = self.themes
        return pd.DataFrame({"theme_id": t["theme_id"], "parent_id": t["parent_id"], "polarity": t["polarity"],
                             "label": t[f"label_{lang}"], "description": t[f"description_{lang}"],
                             "barrier_ids": t["barrier_ids"].map(", ".join)})

    def __repr__(self) -> str:
        return f"<Codebook {self.name} {self.version}: {len(self.themes)} themes>"


def load_codebook(extra: str | Path | Iterable[str | Path] | None = None) -> Codebook:
    """The built-in barrier-theme codebook, extended by the user's YAML file(s).

    Parameters
    ----------
    extra : path or list of paths, optional
        YAML files with ``themes:`` entries (see the header of ``barrier_themes.yaml``): new
        ids are added; an existing id may change labels, descriptions, synonyms, sources and
        barrier_ids. ``version:`` in the last file names the combined version.

    Raises
    ------
    CodebookError
        Unknown keys, missing labels, duplicate ids, an unknown parent or polarity, a
        changed polarity, a barrier id that is not a barrier indicator, or a synonym shared
        by two themes; the message names the file and the theme.
    """
    files = [CODEBOOK_PATH] + ([] if extra is None else [Path(extra)] if isinstance(extra, (str, Path))
                               else [Path(p) for p in extra])
    themes: dict[str, dict[str, Any]] = {}
    name = version = ""
    for path in files:
        doc = _read_yaml(path)
        name = name or str(doc.get("name", path.stem))
        version = str(doc.get("version", version))
        for i, entry in enumerate(doc.get("themes") or []):
            theme = _check_theme(entry, path, i)
            old = themes.get(theme["id"])
            if old is not None and path == CODEBOOK_PATH:
                raise CodebookError(f"{path.name}: theme id {theme['id']!r} appears twice")
            if old is not None and "polarity" in entry and theme["polarity"] != old["polarity"]:
                raise CodebookError(f"{path}: theme {theme['id']!r} cannot change polarity "
                                    f"({old['polarity']} -> {theme['polarity']}); give it a new id")
            themes[theme["id"]] = {**old, **{k: v for k, v in entry.items() if k != "id"}} if old else theme
    frame = _frame(themes)
    _check_references(frame, files[-1])
    return Codebook(name, version, frame, tuple(str(p) for p in files))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodebookError(f"codebook file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise CodebookError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("themes", []), list):
        raise CodebookError(f"{path}: expected a mapping with a 'themes:' list")
    return doc


def _check_theme(entry: Any, path: Path, i: int) -> dict[str, Any]:
    if not isinstance(entry, dict) or "id" not in entry:
        raise CodebookError(f"{path}: theme #{i + 1} must be a mapping with an 'id'")
    unknown = sorted(set(entry) - _THEME_KEYS)
    if unknown:
        raise CodebookError(f"{path}: theme {entry['id']!r} has unknown key(s) {unknown}; allowed: "
                            f"{sorted(_THEME_KEYS)}")
    theme = {"parent": None, "description_id": "", "description_en": "", "synonyms": [], "barrier_ids": [],
             "sources": [], **entry}
    theme["id"] = str(theme["id"])
    return theme


def _frame(themes: Mapping[str, dict[str, Any]]) -> pd.DataFrame:
    rows = [{"theme_id": t["id"], "parent_id": t.get("parent"), "polarity": t.get("polarity"),
             "label_id": t.get("label_id"), "label_en": t.get("label_en"),
             "description_id": str(t.get("description_id") or ""), "description_en": str(t.get("description_en") or ""),
             "synonyms": tuple(map(str, t.get("synonyms") or ())), "barrier_ids": tuple(map(str, t.get("barrier_ids") or ())),
             "sources": tuple(map(str, t.get("sources") or ()))} for t in themes.values()]
    return pd.DataFrame(rows, columns=THEME_COLUMNS).astype({"parent_id": object})


def _check_references(frame: pd.DataFrame, path: Path) -> None:
    from ..barriers import MEASURES

    barrier_ids = {m.id for m in MEASURES}
    ids = set(frame["theme_id"])
    seen: dict[str, str] = {}
    for t in frame.itertuples():
        missing = [k for k in _REQUIRED if not getattr(t, {"id": "theme_id"}.get(k, k))]
        if missing:
            raise CodebookError(f"{path}: theme {t.theme_id!r} lacks {missing}")
        if t.polarity not in POLARITIES:
            raise CodebookError(f"{path}: theme {t.theme_id!r} has polarity {t.polarity!r}; use one of {POLARITIES}")
        if not pd.isna(t.parent_id) and t.parent_id not in ids:
            raise CodebookError(f"{path}: theme {t.theme_id!r} has unknown parent {t.parent_id!r}")
        unknown = sorted(set(t.barrier_ids) - barrier_ids)
        if unknown:
            raise CodebookError(f"{path}: theme {t.theme_id!r} names unknown barrier indicator(s) {unknown}; "
                                f"known: {sorted(barrier_ids)}")
        for word in (t.theme_id, t.label_id, t.label_en, *t.synonyms):
            key = match_key(word)
            if seen.setdefault(key, t.theme_id) != t.theme_id:
                raise CodebookError(f"{path}: {word!r} names both theme {seen[key]!r} and {t.theme_id!r}")


def match_key(text: Any) -> str:
    """Key for matching names: case, accents, punctuation and spaces ignored."""
    return normalise_text(str(text)).replace(" ", "")


# =========================================================================== user codes -> themes
def load_theme_mapping(entries: Mapping[str, Any] | None, codebook: Codebook, where: str) -> dict[str, str]:
    """Check a ``themes:`` mapping (code path or name -> theme id or ``none``); keys normalised."""
    out: dict[str, str] = {}
    for code, theme in (entries or {}).items():
        theme = str(theme)
        if theme != NO_THEME and theme not in codebook.ids:
            raise CodebookError(f"{where}: code {code!r} is mapped to unknown theme {theme!r}; themes are "
                                f"{', '.join(codebook.ids)} (or '{NO_THEME}')")
        out[_path_key(code)] = theme
    return out


def _path_key(path: str) -> str:
    parts = str(path).replace("::", "/").replace("\\", "/").replace(">", "/").split("/")
    return "/".join(match_key(p) for p in parts if match_key(p))


def map_codes(codes: pd.DataFrame, codebook: Codebook, mapping: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Theme of every code, with the rule that gave it (see the module docstring).

    Parameters
    ----------
    codes : DataFrame
        ``code_id, parent_id, name`` (the hierarchy by ids).
    codebook : Codebook
    mapping : mapping, optional
        From :func:`load_theme_mapping` (keys normalised).

    Returns
    -------
    DataFrame
        ``code_id, path, theme_id, theme_rule`` (``theme_id`` NA and rule ``'unmapped'``
        or ``'mapped_none'`` where no theme applies).
    """
    mapping = mapping or {}
    labels = {}
    for t in codebook.themes.itertuples():
        for word in (t.theme_id, t.label_id, t.label_en, *t.synonyms):
            labels[match_key(word)] = t.theme_id
    parent = dict(zip(codes["code_id"], codes["parent_id"]))
    name = dict(zip(codes["code_id"], codes["name"]))

    def path_of(cid: str) -> list[str]:
        chain, seen = [], set()
        while cid is not None and not pd.isna(cid) and cid in name and cid not in seen:
            seen.add(cid)
            chain.append(name[cid])
            cid = parent.get(cid)
        return chain[::-1]

    def own(cid: str) -> tuple[Any, str] | None:
        path = path_of(cid)
        for key in (_path_key("/".join(path)), _path_key(path[-1])):
            if key in mapping:
                theme = mapping[key]
                return (pd.NA, "mapped_none") if theme == NO_THEME else (theme, "mapped")
        hit = labels.get(match_key(path[-1]))
        return (hit, "label") if hit else None

    rows = []
    for cid in codes["code_id"]:
        found, rule = own(cid), None
        if found is None:
            up = parent.get(cid)
            while up is not None and not pd.isna(up) and up in name and found is None:
                found, up = own(up), parent.get(up)
            rule = "parent" if found is not None and found[1] != "mapped_none" else None
        theme, how = found if found is not None else (pd.NA, "unmapped")
        rows.append({"code_id": cid, "path": " / ".join(path_of(cid)), "theme_id": theme,
                     "theme_rule": rule or how})
    out = pd.DataFrame(rows, columns=["code_id", "path", "theme_id", "theme_rule"])
    return out.astype({"theme_id": "string", "theme_rule": "string", "path": "string"})
