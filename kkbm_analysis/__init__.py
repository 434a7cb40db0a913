"""kkbm-analysis: reproducible evaluation of community-based migrant-worker empowerment
programmes in Indonesia (KKBM and kin: Desmigratif, KBMI, KAWAN-PMI).

Typical use in a notebook::

    import kkbm_analysis as kk
    data = kk.ProgramData.load("data/processed/demo")
    data.members.head()
    kk.codebook()

The names in ``__all__`` are imported when first used (a module-level ``__getattr__``), so that
``import kkbm_analysis.<module>`` (the ``kkbm`` command, a report kernel) loads only what that
module needs. ``kk.ingest`` is always the ingest function, also after something imported the
module of the same name (see :class:`_TopLevel`).
"""
import sys
import types
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kkbm-analysis")
except PackageNotFoundError:  # pragma: no cover
    __version__ = "0+unknown"

#: Where each name of the package's top level is defined.
_HOMES = {"ProgramData": ".data", "IngestResult": ".results", "ingest": ".ingest", "load_processed": ".store",
          "TABLES": ".schema", "codebook": ".schema", "load_mentoring_points": ".schema"}

__all__ = ["__version__", *_HOMES]


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = import_module(_HOMES[name], __name__)
    globals().update({other: getattr(module, other) for other, home in _HOMES.items() if home == _HOMES[name]})
    return globals()[name]


class _TopLevel(types.ModuleType):
    """The package module, whose top-level names are never replaced by a submodule of the same name.

    Importing a submodule sets it as an attribute of its package, so ``import kkbm_analysis.demo``
    (which imports ``kkbm_analysis.ingest``) would leave ``kk.ingest`` naming the module rather
    than the function, unlike the eager imports this package had before. Such an assignment is
    skipped: the module stays in ``sys.modules`` and ``from kkbm_analysis.ingest import ...`` works.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in _HOMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _TopLevel
