"""The resilience survey as an XLSForm, built from the item bank, and checks of XLSForms.

The committed form ``kkbm_analysis/resources/resilience_survey.xlsx`` deploys as it is on
KoboToolbox or ODK: sheets ``survey``, ``choices`` and ``settings``, labels in
``label::Indonesian (id)`` and ``label::English (en)``. It is generated from
``resources/resilience_items.yaml`` (see :mod:`.items`); rebuild it after editing the YAML::

    python -m kkbm_analysis.resilience.instrument            # rewrites the packaged form

:func:`check_xlsform` checks any XLSForm against the parts of the XLSForm specification
that matter here (sheets, columns, names, groups, choice lists, ``${}`` references,
languages). When ``pyxform`` is installed, :func:`convert_xlsform` also converts it to an
ODK XForm, which is the reference check.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import RESOURCES_DIR
from ..io import write_sheets
from ..item_bank import ItemBank, load_item_bank

FORM_FILE = "resilience_survey.xlsx"
LANGUAGES = {"id": "Indonesian (id)", "en": "English (en)"}
SURVEY_COLUMNS = ["type", "name", *(f"label::{v}" for v in LANGUAGES.values()),
                  *(f"hint::{v}" for v in LANGUAGES.values()), "required", "relevant", "constraint",
                  *(f"constraint_message::{v}" for v in LANGUAGES.values()), "appearance", "choice_filter"]
CHOICE_COLUMNS = ["list_name", "name", *(f"label::{v}" for v in LANGUAGES.values())]
SETTINGS_COLUMNS = ["form_title", "form_id", "version", "default_language", "instance_name"]
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_REF = re.compile(r"\$\{([^}]*)\}")
_METADATA = ("start", "end", "today", "deviceid", "username", "phonenumber", "audit")
_NO_LABEL = {"begin_group", "end_group", "begin group", "end group", "calculate", *_METADATA}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""


def form_path() -> Path:
    """The packaged XLSForm."""
    return RESOURCES_DIR / FORM_FILE


# --------------------------------------------------------------------------- build
def xlsform_sheets(bank: ItemBank | None = None) -> dict[str, pd.DataFrame]:
    """The three sheets of the XLSForm (``survey``, ``choices``, ``settings``) as frames."""
    bank = bank or load_item_bank()
    rows = [{"type": "start", "name": "start"}, {"type": "end", "name": "end"}]
    for group in bank.groups:
        rows.append({"type": "begin_group", "name": group.name, "label::Indonesian (id)": group.label_id,
                     "label::English (en)": group.label_en})
        for item in group.items:
            rows.append(_survey_row(item))
        rows.append({"type": "end_group", "name": group.name})
    survey = pd.DataFrame(rows, columns=SURVEY_COLUMNS)
    choices = pd.DataFrame([{"list_name": name, "name": c.name, "label::Indonesian (id)": c.label_id,
                             "label::English (en)": c.label_en}
                            for name, options in bank.choices.items() for c in options], columns=CHOICE_COLUMNS)
    form = bank.form
    settings = pd.DataFrame([{"form_title": form["title_id"], "form_id": form["form_id"],
                              "version": str(form["version"]), "default_language": form["default_language"],
                              "instance_name": "concat(${putaran}, '-', ${kode_kkbm}, '-', ${tanggal_wawancara})"}],
                            columns=SETTINGS_COLUMNS)
    return {"survey": survey, "choices": choices, "settings": settings}


def _survey_row(item) -> dict[str, str | None]:
    constraint = item.constraint
    if item.minimum is not None or item.maximum is not None:
        bounds = [f". >= {item.minimum}" if item.minimum is not None else None,
                  f". <= {item.maximum}" if item.maximum is not None else None]
        constraint = " and ".join(b for b in bounds if b)
    return {"type": item.type, "name": item.name, "label::Indonesian (id)": item.label_id,
            "label::English (en)": item.label_en, "hint::Indonesian (id)": item.hint_id,
            "hint::English (en)": item.hint_en, "required": "yes" if item.required else None,
            "relevant": item.relevant, "constraint": constraint,
            "constraint_message::Indonesian (id)": item.constraint_id if constraint else None,
            "constraint_message::English (en)": item.constraint_en if constraint else None,
            "appearance": item.appearance, "choice_filter": item.choice_filter}


def write_xlsform(path: str | Path | None = None, bank: ItemBank | None = None) -> Path:
    """Write the XLSForm (default: the packaged form); same item bank, same bytes."""
    bank = bank or load_item_bank()
    return write_sheets(path or form_path(), xlsform_sheets(bank), title=bank.form["title_en"])


def read_xlsform(path: str | Path) -> dict[str, pd.DataFrame]:
    """The sheets of an XLSForm file as text frames (empty cells are ``None``)."""
    sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="calamine")
    return {name.strip().lower(): df.astype(object).where(df.notna(), None) for name, df in sheets.items()}


# --------------------------------------------------------------------------- check
@dataclass(frozen=True)
class FormProblem:
    """One way an XLSForm breaks the specification: sheet, 1-based row (0: the sheet), message."""

    sheet: str
    row: int
    message: str

    def __str__(self) -> str:
        where = f"sheet '{self.sheet}'" + (f", row {self.row}" if self.row else "")
        return f"{where}: {self.message}"


def check_xlsform(path_or_sheets: str | Path | dict[str, pd.DataFrame]) -> list[FormProblem]:
    """Structural checks of an XLSForm against the XLSForm specification.

    Checks: the ``survey`` and ``choices`` sheets exist with ``type``/``name``/``label``
    (``list_name``/``name``/``label`` for choices) columns; names are valid XML names,
    unique in the survey and within each choice list; groups and repeats open and close in
    order; every ``select_one``/``select_multiple`` list exists and has choices; every
    ``${name}`` in ``relevant``, ``constraint``, ``choice_filter``, ``calculation`` and
    ``settings.instance_name`` names a question; every language with a label column labels
    every question and choice; ``settings`` has a ``form_id`` that is an XML name.

    Returns
    -------
    list of FormProblem
        Empty when the form passes.
    """
    sheets = path_or_sheets if isinstance(path_or_sheets, dict) else read_xlsform(path_or_sheets)
    problems: list[FormProblem] = []
    survey, choices = sheets.get("survey"), sheets.get("choices")
    if survey is None:
        return [FormProblem("survey", 0, "the form has no 'survey' sheet")]
    for column in ("type", "name"):
        if column not in survey.columns:
            problems.append(FormProblem("survey", 0, f"missing column '{column}'"))
    labels = [c for c in survey.columns if c == "label" or c.startswith("label::")]
    if not labels:
        problems.append(FormProblem("survey", 0, "no 'label' or 'label::<language>' column"))
    if problems:
        return problems
    lists = _check_choices(choices, problems)
    names = _check_survey(survey, labels, lists, problems)
    _check_references(sheets, names, problems)
    _check_settings(sheets.get("settings"), problems)
    return problems


def _check_choices(choices: pd.DataFrame | None, problems: list[FormProblem]) -> dict[str, set[str]]:
    lists: dict[str, set[str]] = {}
    if choices is None:
        return lists
    missing = [c for c in ("list_name", "name") if c not in choices.columns]
    if missing:
        problems.append(FormProblem("choices", 0, f"missing column(s) {missing}"))
        return lists
    label_cols = [c for c in choices.columns if c == "label" or c.startswith("label::")]
    for i, row in enumerate(choices.to_dict("records"), start=2):
        if _blank(row["list_name"]) and _blank(row["name"]):
            continue
        name = "" if _blank(row["name"]) else str(row["name"])
        list_name = "" if _blank(row["list_name"]) else str(row["list_name"])
        if not list_name or not name:
            problems.append(FormProblem("choices", i, "a choice needs both list_name and name"))
            continue
        if name in lists.setdefault(list_name, set()):
            problems.append(FormProblem("choices", i, f"choice '{name}' appears twice in list '{list_name}'"))
        lists[list_name].add(name)
        for c in label_cols:
            if _blank(row[c]):
                problems.append(FormProblem("choices", i, f"choice '{list_name}/{name}' has no {c}"))
    return lists


def _check_survey(survey: pd.DataFrame, labels: list[str], lists: dict[str, set[str]],
                  problems: list[FormProblem]) -> set[str]:
    names: set[str] = set()
    stack: list[tuple[str, str]] = []
    for i, row in enumerate(survey.to_dict("records"), start=2):
        qtype = "" if _blank(row["type"]) else " ".join(str(row["type"]).split())
        name = "" if _blank(row["name"]) else str(row["name"])
        if not qtype:
            if name:
                problems.append(FormProblem("survey", i, f"'{name}' has no type"))
            continue
        base = qtype.split()[0].replace(" ", "_")
        if base in ("begin_group", "begin_repeat", "begin"):
            kind = "repeat" if "repeat" in qtype else "group"
            stack.append((kind, name))
        elif base in ("end_group", "end_repeat", "end") and qtype not in ("end",):
            kind = "repeat" if "repeat" in qtype else "group"
            if not stack or stack[-1][0] != kind:
                problems.append(FormProblem("survey", i, f"'{qtype}' closes nothing open"))
            else:
                stack.pop()
            continue
        if not _XML_NAME.match(name):
            problems.append(FormProblem("survey", i, f"name '{name}' is not a valid XML name"))
        elif name in names:
            problems.append(FormProblem("survey", i, f"name '{name}' is used twice"))
        names.add(name)
        if base in ("select_one", "select_multiple"):
            parts = qtype.split()
            if len(parts) < 2:
                problems.append(FormProblem("survey", i, f"'{name}': {base} needs a choice list"))
            elif parts[1] not in lists:
                problems.append(FormProblem("survey", i, f"'{name}': choice list '{parts[1]}' does not exist"))
        if qtype not in _NO_LABEL and base not in ("begin_group", "begin_repeat"):
            for c in labels:
                if _blank(row.get(c)):
                    problems.append(FormProblem("survey", i, f"'{name}' has no {c}"))
    for kind, name in stack:
        problems.append(FormProblem("survey", 0, f"{kind} '{name}' is never closed"))
    return names


def _check_references(sheets: dict[str, pd.DataFrame], names: set[str], problems: list[FormProblem]) -> None:
    survey = sheets["survey"]
    for column in ("relevant", "constraint", "choice_filter", "calculation", "required"):
        if column not in survey.columns:
            continue
        for i, text in enumerate(survey[column].tolist(), start=2):
            for ref in _REF.findall("" if _blank(text) else str(text)):
                if ref not in names:
                    problems.append(FormProblem("survey", i, f"{column} refers to unknown question '${{{ref}}}'"))
    settings = sheets.get("settings")
    if settings is not None and "instance_name" in settings.columns and len(settings):
        for ref in _REF.findall(str(settings["instance_name"].iloc[0] or "")):
            if ref not in names:
                problems.append(FormProblem("settings", 2, f"instance_name refers to unknown question '${{{ref}}}'"))


def _check_settings(settings: pd.DataFrame | None, problems: list[FormProblem]) -> None:
    if settings is None or settings.empty:
        problems.append(FormProblem("settings", 0, "no settings row (form_id, version, default_language)"))
        return
    form_id = settings["form_id"].iloc[0] if "form_id" in settings.columns else None
    if _blank(form_id) or not _XML_NAME.match(str(form_id)):
        problems.append(FormProblem("settings", 2, f"form_id {form_id!r} is missing or not an XML name"))


def convert_xlsform(path: str | Path | None = None) -> str:
    """Convert the XLSForm to an ODK XForm with ``pyxform`` (the ``test`` extra installs it).

    Returns
    -------
    str
        The XForm XML. Raises pyxform's error, naming the row, when the form is invalid,
        and ``ImportError`` when pyxform is not installed.
    """
    from pyxform.xls2xform import convert

    return convert(xlsform=str(path or form_path())).xform


def main(argv: list[str]) -> int:
    """``python -m kkbm_analysis.resilience.instrument [PATH]``: (re)write the XLSForm and check it."""
    path = write_xlsform(argv[0] if argv else None)
    problems = check_xlsform(path)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"wrote {path} ({'ok' if not problems else f'{len(problems)} problem(s)'})")
    return 1 if problems else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
