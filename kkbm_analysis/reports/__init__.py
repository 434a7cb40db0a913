"""Reports: province evaluation reports and the national policy brief, one batch command.

Templates live in ``templates/`` of this package (``report_province.ipynb``,
``brief_national.ipynb``) and stay thin: a ``parameters`` cell, then calls into this package::

    import kkbm_analysis.reports as rp
    report = rp.ProvinceReport.from_parameters(province="36", period="2018", lang="id",
                                               data_dir="data/processed/demo")
    report.header()          # banner, title, lead -- every section is one call

and the batch regenerates all of them (HTML, PDF, ``index.html``), incrementally, on Dask (a
local cluster of worker processes, or an existing one with ``scheduler="tcp://host:8786"``)::

    result = rp.build_reports("data/processed/demo")
    print(result.summary())

Reports only **read** the analysis products of ``kkbm analyse``
(:class:`kkbm_analysis.products.Products`): they import no computation layer (an
import-linter contract in ``pyproject.toml``), and every table cell and key figure carries
the published cell it shows (:mod:`.cells`).

Modules
-------
:mod:`.params`    parameter validation (:func:`validate_parameters`, :class:`ParameterError`)
:mod:`.cells`     published cells written in their unit and tagged (``data-indicator``...)
:mod:`.advice`    recommendation records in words
:mod:`.sections`  the report base and shared sections; :mod:`.province` (:class:`ProvinceReport`),
                  :mod:`.national` (:class:`NationalBrief`)
:mod:`.field_resilience`, :mod:`.field_voices`  the resilience and "voices from the field" sections
                  (both reports)
:mod:`.figures`   figures in the house style (province bars, mentoring points, tile-grid map)
:mod:`.cache`     the products cache, build keys
:mod:`.kernel`    the pinned kernel and the warm papermill engine
:mod:`.export`    HTML (code hidden, offline), index page
:mod:`.pdf`       PDF engines (WeasyPrint by default, headless Chromium optionally)
:mod:`.planning`  the jobs of a batch, their names and files
:mod:`.worker`    one warm kernel per Dask worker (a worker plugin) and the one-report task, on a
                  cluster from :mod:`kkbm_analysis.cluster`
:mod:`.outcomes`  what a batch did (:class:`BuildResult`)
:mod:`.runner`    :func:`build_reports`
"""
from .cache import load_data, load_products
from .params import ParameterError, ReportParameters, check_path, validate_parameters
from .runner import BuildResult, ReportOutcome, build_reports, plan_reports

__all__ = ["build_reports", "plan_reports", "BuildResult", "ReportOutcome", "validate_parameters",
           "ReportParameters", "ParameterError", "check_path", "load_data", "load_products", "ProvinceReport",
           "NationalBrief", "Html"]

_LAZY = {"ProvinceReport": ".province", "NationalBrief": ".national", "Html": ".markup"}


def __getattr__(name: str):
    """Report sections import matplotlib: load them only when a notebook asks for them."""
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
