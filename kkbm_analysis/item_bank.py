"""The resilience survey's item bank: one YAML file, read into small typed objects.

``resources/resilience_items.yaml`` is the single source of truth of the survey. From it
derive the XLSForm (:mod:`kkbm_analysis.resilience.instrument`), the processed table
``resilience_surveys`` with its codebook entries (:mod:`kkbm_analysis.schema`), and the
scales the measurement models use (:mod:`kkbm_analysis.resilience.measurement`). It sits
with the data model, below the schema: it only reads the file (no pandas, no estimation).
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .config import RESOURCES_DIR

ITEM_BANK = "resilience_items.yaml"
CAPACITIES: tuple[str, ...] = ("absorptive", "adaptive", "transformative")


@dataclass(frozen=True)
class Choice:
    """One answer option of a choice list (``name`` is the stored value)."""

    name: str
    label_id: str
    label_en: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Item:
    """One survey question, as the XLSForm and the processed table both see it."""

    name: str
    field: str
    type: str
    label_id: str
    label_en: str
    group: str
    scale: str | None = None
    domain: str | None = None
    kind: str | None = None
    required: bool = True
    relevant: str | None = None
    constraint: str | None = None
    constraint_id: str | None = None
    constraint_en: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    appearance: str | None = None
    choice_filter: str | None = None
    hint_id: str | None = None
    hint_en: str | None = None
    meaning_id: str | None = None
    meaning_en: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def base_type(self) -> str:
        """``select_one``, ``select_multiple``, ``text``, ``date``, ``integer``..."""
        return self.type.split()[0]

    @property
    def list_name(self) -> str | None:
        """The choice list of a select question."""
        parts = self.type.split()
        return parts[1] if len(parts) > 1 else None


@dataclass(frozen=True)
class Group:
    name: str
    label_id: str
    label_en: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Scale:
    key: str
    label_id: str
    label_en: str
    kind: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ItemBank:
    """The parsed item bank (see ``resources/resilience_items.yaml``)."""

    form: dict[str, Any]
    groups: tuple[Group, ...]
    choices: dict[str, tuple[Choice, ...]]
    scales: dict[str, Scale]
    risk_domains: dict[str, tuple[str, str]]
    source: Path = field(compare=False)

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(i for g in self.groups for i in g.items)

    def item(self, field_name: str) -> Item:
        """The item stored in processed column ``field_name``."""
        for i in self.items:
            if i.field == field_name:
                return i
        raise KeyError(f"no survey item stores {field_name!r}")

    @property
    def likert_list(self) -> str:
        return self.form["likert_list"]

    @property
    def yes_no_list(self) -> str:
        return self.form["yes_no_list"]

    @property
    def likert_range(self) -> tuple[int, int]:
        values = [int(c.name) for c in self.choices[self.likert_list]]
        return min(values), max(values)

    def is_likert(self, item: Item) -> bool:
        return item.base_type == "select_one" and item.list_name == self.likert_list

    def is_yes_no(self, item: Item) -> bool:
        return item.base_type == "select_one" and item.list_name == self.yes_no_list

    def scale_fields(self, key: str) -> list[str]:
        """Processed columns of one scale, in item order."""
        return list(self.scales[key].fields)

    def risk_fields(self, domain: str | None = None) -> list[str]:
        """Yes/no risk items (of one domain, or all)."""
        return [i.field for i in self.items if i.domain and (domain is None or i.domain == domain)]

    def vocabularies(self) -> dict[str, dict[str, tuple[str, str, tuple[str, ...]]]]:
        """Categorical choice lists (not yes/no or Likert), as ``{list: {key: (id, en, synonyms)}}``."""
        return {name: {c.name: (c.label_id, c.label_en, c.synonyms) for c in options}
                for name, options in self.choices.items() if name not in (self.likert_list, self.yes_no_list)}


def _choice(entry: list[Any]) -> Choice:
    name, label_id, label_en, *rest = entry
    return Choice(str(name), str(label_id), str(label_en), tuple(str(s) for s in (rest[0] if rest else ())))


def _item(group: str, spec: dict[str, Any]) -> Item:
    spec = dict(spec)
    renamed = {"min": "minimum", "max": "maximum"}
    spec = {renamed.get(k, k): v for k, v in spec.items()}
    spec["aliases"] = tuple(spec.get("aliases", ()))
    return Item(group=group, **spec)


@functools.cache
def _load(path: Path) -> ItemBank:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    groups = tuple(Group(g["name"], g["label_id"], g["label_en"], tuple(_item(g["name"], i) for i in g["items"]))
                   for g in spec["groups"])
    choices = {name: tuple(_choice(c) for c in options) for name, options in spec["choices"].items()}
    items = [i for g in groups for i in g.items]
    scales = {key: Scale(key, s["label_id"], s["label_en"], s["kind"],
                         tuple(i.field for i in items if i.scale == key))
              for key, s in spec["scales"].items()}
    domains = {k: (v[0], v[1]) for k, v in spec["risk_domains"].items()}
    bank = ItemBank(spec["form"], groups, choices, scales, domains, path)
    _check(bank)
    return bank


def load_item_bank(path: str | Path | None = None) -> ItemBank:
    """Read the item bank (default: ``$KKBM_RESILIENCE_ITEMS`` or the packaged file).

    Raises
    ------
    ValueError
        When the file is inconsistent: duplicate names or fields, an unknown choice list,
        scale or risk domain.
    """
    path = Path(path or os.environ.get("KKBM_RESILIENCE_ITEMS") or RESOURCES_DIR / ITEM_BANK)
    return _load(path.resolve())


def _check(bank: ItemBank) -> None:
    items = bank.items
    for attr in ("name", "field"):
        seen = [getattr(i, attr) for i in items]
        dup = sorted({v for v in seen if seen.count(v) > 1})
        if dup:
            raise ValueError(f"{bank.source}: duplicate item {attr}(s) {dup}")
    for i in items:
        if i.list_name and i.list_name not in bank.choices:
            raise ValueError(f"{bank.source}: item {i.name!r} uses unknown choice list {i.list_name!r}")
        if i.scale and i.scale not in bank.scales:
            raise ValueError(f"{bank.source}: item {i.name!r} names unknown scale {i.scale!r}")
        if i.domain and i.domain not in bank.risk_domains:
            raise ValueError(f"{bank.source}: item {i.name!r} names unknown risk domain {i.domain!r}")
    for key in CAPACITIES:
        if len(bank.scales.get(key, Scale(key, "", "", "", ())).fields) < 3:
            raise ValueError(f"{bank.source}: the capacity scale {key!r} needs at least 3 items")
