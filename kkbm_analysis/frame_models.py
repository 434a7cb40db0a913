"""pandera ``DataFrameModel``s made into schemas without importing Dask.

pandera 0.35 builds a model's schema by asking which annotation types stand for a column or an
index in *every* backend it supports (``pandera.typing.get_index_types``, ``get_series_types``),
and that question imports ``dask.dataframe`` whenever Dask is installed: 0.6 CPU-seconds in
every process that builds a schema (each ``kkbm`` command, each notebook kernel, each test
process), for a backend our models never use. :func:`pandas_schema` asks pandera for the same
schema with that question answered for pandas alone, in the calling thread only (other threads
still get pandera's own answer). ``tests/test_frame_models.py`` checks that the schemas equal the ones
pandera builds unaided, and that building them imports no Dask.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

__all__ = ["pandas_schema"]

_LOCK = threading.Lock()


def pandas_schema(model: Any) -> Any:
    """``model.to_schema()`` for a model whose fields are all pandas ``Series`` or ``Index`` annotations.

    Parameters
    ----------
    model : type[pandera.pandas.DataFrameModel]
        The model.

    Returns
    -------
    pandera.pandas.DataFrameSchema
        The schema pandera builds for it (the same object ``model.to_schema()`` then returns in
        this thread).
    """
    with _pandas_annotations_only():
        return model.to_schema()


@contextmanager
def _pandas_annotations_only() -> Iterator[None]:
    """pandera's backend-wide annotation probes answer "pandas" in this thread while the block runs."""
    import pandera.api.pandas.model as built
    from pandera.typing import Index, Series

    if not (hasattr(built, "get_index_types") and hasattr(built, "get_series_types")):
        yield   # another pandera: its own probes (tests/test_frame_models.py then says the import is back)
        return
    me = threading.get_ident()

    def pandas_only(own: Callable[[], set], kind: type) -> Callable[[], set]:
        return lambda: {kind} if threading.get_ident() == me else own()

    with _LOCK:
        own = built.get_index_types, built.get_series_types
        built.get_index_types, built.get_series_types = pandas_only(own[0], Index), pandas_only(own[1], Series)
        try:
            yield
        finally:
            built.get_index_types, built.get_series_types = own
