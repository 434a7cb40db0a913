"""kkbm-analysis: reproducible evaluation of community-based migrant-worker empowerment
programmes in Indonesia (KKBM and kin: Desmigratif, KBMI, KAWAN-PMI).

Typical use in a notebook::

    import kkbm_analysis as kk
    data = kk.ProgramData.load("data/processed/demo")
    data.members.head()
    kk.codebook()
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kkbm-analysis")
except PackageNotFoundError:  # pragma: no cover
    __version__ = "0+unknown"

from .data import ProgramData  # noqa: E402
from .ingest import IngestResult, ingest  # noqa: E402
from .store import load_processed  # noqa: E402
from .schema import TABLES, codebook, load_mentoring_points  # noqa: E402

__all__ = ["__version__", "ProgramData", "IngestResult", "ingest", "load_processed", "TABLES", "codebook",
           "load_mentoring_points"]
