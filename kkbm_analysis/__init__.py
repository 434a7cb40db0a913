"""kkbm-analysis: reproducible evaluation of community-based migrant-worker empowerment
programmes in Indonesia (KKBM and kin: Desmigratif, KBMI, KAWAN-PMI).

Typical use in a notebook::

    import kkbm_analysis as kk
    data = kk.ProgramData.load("data/processed/demo")
    data.members.head()
    kk.codebook()

The names in ``__all__`` are imported when first used (a module-level ``__getattr__``), so that
``import kkbm_analysis.<module>`` (the ``kkbm`` command, a report kernel) loads only what that
module needs. ``kk.ingest`` is the ingest function when asked for first; once the module of the
same name has been imported (``import kkbm_analysis.ingest``), Python's import system names the
module there, as for any package: ``from kkbm_analysis.ingest import ingest`` always works.
"""
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
    # every name of that home at once: importing .ingest has just set `ingest` here to the module
    globals().update({other: getattr(module, other) for other, home in _HOMES.items() if home == _HOMES[name]})
    return globals()[name]
