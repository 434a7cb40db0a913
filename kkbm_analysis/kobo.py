"""KoboToolbox / ODK exports: recognise them and tidy their columns.

Kobo exports carry bookkeeping columns (``_id``, ``_uuid``, ``_submission_time``,
``meta/instanceID`` ...), group paths in headers (``grp_identitas/nama``) and one 0/1
column per choice of a select-multiple question. :func:`tidy_kobo` drops the bookkeeping
(keeping the submission uuid and time as ``kobo_uuid``/``kobo_submission_time``), folds
the per-choice columns into their parent and flattens group paths to the last segment.
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

__all__ = ["looks_like_kobo", "tidy_kobo"]


# --------------------------------------------------------------------------- #
_KOBO_STRONG = {"_uuid", "_submission_time", "__version__", "_xform_id_string",
                "_parent_index", "_parent_table_name", "_submission__uuid"}
_KOBO_WEAK = {"_id", "_index", "_status", "_validation_status", "_submitted_by",
              "_notes", "_tags", "start", "end"}
_KOBO_META = re.compile(r"^(meta|formhub)[/:.]", re.IGNORECASE)
_KOBO_META_ID = re.compile(r"^(meta|formhub)[/:.](instanceid|uuid)$", re.IGNORECASE)
_KOBO_KEEP = {"_uuid": "kobo_uuid", "_submission_time": "kobo_submission_time",
              # repeat-group sheets: link back to the parent submission
              "_submission__uuid": "kobo_uuid",
              "_submission__submission_time": "kobo_submission_time"}
_XML_NAME = re.compile(r"^[^\W\d][\w.\-]*$")
_BINARY = ["0", "1", "0.0", "1.0", "True", "False", "true", "false", "TRUE", "FALSE",
           0, 1, True, False]
_TRUTHY = ["1", "1.0", "True", "true", "TRUE", 1, True]


def looks_like_kobo(names: list[str]) -> bool:
    """True when the headers carry KoboToolbox/ODK meta columns."""
    present = set(names)
    if present & _KOBO_STRONG or any(map(_KOBO_META_ID.match, names)):
        return True
    weak = present & _KOBO_WEAK
    return len(weak) >= 2 and any(w.startswith("_") for w in weak)


def tidy_kobo(data: pd.DataFrame, names: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Drop bookkeeping columns, fold select-multiples, flatten group paths."""
    sep = _group_separator(names)
    keep = [i for i, n in enumerate(names)
            if n in _KOBO_KEEP or not (n.startswith("_") or _KOBO_META.match(n))]
    data = data.iloc[:, keep]
    data.columns = range(len(keep))
    names = [_KOBO_KEEP.get(names[i], names[i]) for i in keep]
    if sep:
        data, names = _fold_select_multiple(data, names, sep)
        names = _flatten_paths([_segments(n, sep) for n in names])
    return data, names


def _group_separator(names: list[str]) -> str | None:
    """The group-path separator used in the headers ('/', ':' or '.'), if any."""
    counts = {s: sum(len(_segments(n, s)) > 1 for n in names) for s in "/:."}
    best = max(counts, key=lambda s: counts[s])  # '/' wins ties
    return best if counts[best] else None


def _segments(name: str, sep: str) -> list[str]:
    """Split a Kobo header into path segments when its groups look like XML names."""
    parts = name.split(sep)
    if len(parts) > 1 and parts[-1] and all(_XML_NAME.match(p) for p in parts[:-1]):
        return parts
    return [name]


def _is_binary(col: pd.Series) -> bool:
    """True for a per-choice column: only 0/1 (or True/False) and blanks."""
    return bool((col.isna() | col.isin(_BINARY)).all())


def _fold_select_multiple(data: pd.DataFrame, names: list[str], sep: str
                          ) -> tuple[pd.DataFrame, list[str]]:
    """Drop select-multiple per-choice columns; rebuild a missing parent column."""
    present = set(names)
    children: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if len(_segments(name, sep)) > 1:
            children.setdefault(name.rsplit(sep, 1)[0], []).append(i)

    drop: set[int] = set()
    rebuilt: dict[int, tuple[str, pd.Series]] = {}
    for parent, idx in children.items():
        if not all(_is_binary(data[i]) for i in idx):
            continue
        if parent in present:
            drop.update(idx)
        elif _is_missing_parent(parent, idx, names, data, sep):
            drop.update(idx)
            rebuilt[idx[0]] = (parent, _rebuild_choices(data, idx, names, sep))

    cols, out_names = [], []
    for i, name in enumerate(names):
        if i in rebuilt:
            cols.append(rebuilt[i][1])
            out_names.append(rebuilt[i][0])
        if i not in drop:
            cols.append(data[i])
            out_names.append(name)
    frame = pd.concat(cols, axis=1, ignore_index=True) if cols else data.iloc[:, :0]
    return frame, out_names


def _is_missing_parent(parent: str, idx: list[int], names: list[str],
                       data: pd.DataFrame, sep: str) -> bool:
    """Whether binary columns under ``parent`` are choices of a dropped select-multiple.

    Guards against folding a group of yes/no questions: needs at least two
    columns, nothing else under the same path, and every row either answered
    for all choices or for none.
    """
    if len(idx) < 2:
        return False
    under = [i for i, n in enumerate(names) if n.startswith(parent + sep)]
    if sorted(under) != sorted(idx):
        return False
    answered = data[idx].notna()
    if not answered.to_numpy().any():  # no data: no evidence either way
        return False
    return bool((answered.all(axis=1) | ~answered.any(axis=1)).all())


def _rebuild_choices(data: pd.DataFrame, idx: list[int], names: list[str],
                     sep: str) -> pd.Series:
    """Space-joined names of the choices marked 1/True; None when none is."""
    out = pd.Series("", index=data.index, dtype=object)
    for i in idx:
        choice = names[i].rsplit(sep, 1)[1]
        out = out + np.where(data[i].isin(_TRUTHY).to_numpy(), " " + choice, "")
    out = out.str.strip()
    return out.where(out != "", None)


def _flatten_paths(paths: list[list[str]]) -> list[str]:
    """Last path segment as the name; colliding names keep more segments ('_')."""
    depth = [1] * len(paths)
    while True:
        names = ["_".join(p[-d:]) for p, d in zip(paths, depth)]
        counts = Counter(names)
        grow = [i for i, n in enumerate(names) if counts[n] > 1 and depth[i] < len(paths[i])]
        if not grow:
            return names
        for i in grow:
            depth[i] += 1
