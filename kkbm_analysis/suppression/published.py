"""The suppressed table type (:class:`PublishedTable`) and the only writers of published cells."""
from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..io import write_csv, write_parquet
from .rules import Thresholds

__all__ = ["PublishedTable", "require_published", "write_published_parquet", "write_published_csv"]

_TOKEN = object()


class PublishedTable:
    """Suppressed cells: the only thing the writers accept.

    Made only by :func:`~kkbm_analysis.suppression.suppress` (and :meth:`select` of one).
    ``.frame`` returns a copy, so the published values cannot be edited in place.

    Attributes
    ----------
    thresholds : Thresholds
    metadata : mapping
        ``synthetic``, ``data_version``, ``span`` of the source table, thresholds and
        cell counts (``rows``, ``primary``, ``secondary``).
    """

    __slots__ = ("_frame", "_thresholds", "_metadata")

    def __init__(self, frame: pd.DataFrame, thresholds: Thresholds, metadata: Mapping[str, Any], *,
                 _token: object = None) -> None:
        if _token is not _TOKEN:
            raise TypeError("PublishedTable is made only by kkbm_analysis.suppression.suppress(table)")
        object.__setattr__(self, "_frame", frame)
        object.__setattr__(self, "_thresholds", thresholds)
        object.__setattr__(self, "_metadata", MappingProxyType(dict(metadata)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("PublishedTable is read-only")

    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the suppressed cells."""
        return self._frame.copy()

    @property
    def thresholds(self) -> Thresholds:
        return self._thresholds

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self._metadata

    def __len__(self) -> int:
        return len(self._frame)

    def select(self, rows: Any, columns: list[str] | None = None) -> "PublishedTable":
        """The published cells at ``rows`` (a boolean mask), optionally only some columns.

        The counts in the metadata are those of the selection; thresholds and provenance stay.
        """
        mask = np.asarray(rows, dtype=bool)
        frame = self._frame.loc[mask].reset_index(drop=True)
        if columns is not None:
            frame = frame[columns]
        reason = frame["suppression"].astype(object) if "suppression" in frame else pd.Series([], dtype=object)
        meta = {**self._metadata, "rows": len(frame), "primary": int((reason == "primary").sum()),
                "secondary": int((reason == "secondary").sum())}
        return PublishedTable(frame, self._thresholds, meta, _token=_TOKEN)

    def with_columns(self, columns: pd.DataFrame) -> "PublishedTable":
        """The same published cells with new columns derived from them (e.g. verdicts).

        ``columns`` is aligned with :attr:`frame`; a column that already exists is refused, so
        no published number can be changed this way.
        """
        clash = sorted(set(columns.columns) & set(self._frame.columns))
        if clash:
            raise ValueError(f"with_columns adds columns only; {clash} exist already")
        if len(columns) != len(self._frame):
            raise ValueError("with_columns needs one row per published cell")
        frame = pd.concat([self._frame, columns.reset_index(drop=True)], axis=1)
        return PublishedTable(frame, self._thresholds, self._metadata, _token=_TOKEN)

    def summary(self) -> str:
        m = self._metadata
        flag = "SYNTHETIC " if m.get("synthetic") else "" if m.get("synthetic") is False else "(synthetic: unknown) "
        return (f"{flag}published table: {m['rows']:,} cells, {m['primary']:,} suppressed (primary), "
                f"{m['secondary']:,} suppressed (secondary); min count {self._thresholds.min_count}, "
                f"min denominator {self._thresholds.min_denominator}")

    def __repr__(self) -> str:
        return f"<PublishedTable {self.summary()}>"

    def _repr_html_(self) -> str:
        return f"<p><b>PublishedTable</b>: {self.summary()}</p>" + self._frame.head(20).to_html()


def _published(frame: pd.DataFrame, thresholds: Thresholds, metadata: Mapping[str, Any]) -> PublishedTable:
    """Wrap suppressed cells (only :func:`~.core.suppress` calls this)."""
    return PublishedTable(frame, thresholds, metadata, _token=_TOKEN)


def require_published(obj: Any, what: str = "this export") -> PublishedTable:
    """Return ``obj`` if it is a :class:`PublishedTable`, else raise a clear TypeError.

    Every export function calls this first (reports, CSV, Parquet...).
    """
    if isinstance(obj, PublishedTable):
        return obj
    raise TypeError(f"{what} accepts only a PublishedTable (small cells suppressed), not "
                    f"{type(obj).__name__}. Run kkbm_analysis.suppression.suppress(table) first; analysis "
                    f"frames are never written unsuppressed.")


def file_metadata(published: PublishedTable) -> dict[str, str]:
    """Key-value metadata of a published file: synthetic flag, data version, span, thresholds."""
    m = published.metadata
    flag = m.get("synthetic")
    return {"synthetic": "unknown" if flag is None else str(bool(flag)).lower(),
            "data_version": str(m.get("data_version", "unknown")),
            "span": " to ".join(m.get("span") or ("unknown",)),
            "suppression": f"min_count={published.thresholds.min_count}; "
                           f"min_denominator={published.thresholds.min_denominator}; secondary=one-unknown rule"}


def write_published_parquet(published: PublishedTable, path: str | Path,
                            metadata: Mapping[str, str] | None = None) -> Path:
    """Write published cells to Parquet (atomically, byte-reproducibly).

    The file's key-value metadata records the thresholds, the data version and whether
    the data are SYNTHETIC, plus ``metadata``. A plain DataFrame is refused (TypeError).
    """
    published = require_published(published, "write_published_parquet")
    path = Path(path)
    write_parquet(published._frame, path, {**file_metadata(published), **(metadata or {})})
    return path


def write_published_csv(published: PublishedTable, path: str | Path) -> Path:
    """Write published cells as a plain CSV (header first, UTF-8; empty cells where suppressed).

    The metadata (synthetic flag, version, thresholds) lives in the Parquet file's metadata
    and the products manifest, so spreadsheets and ``pandas.read_csv`` read the file as it is.
    """
    published = require_published(published, "write_published_csv")
    write_csv(published._frame, Path(path))
    return Path(path)
