"""Reports: province evaluation reports and the national policy brief, one batch command.

Templates live in ``notebooks/`` (``report_province.ipynb``, ``brief_national.ipynb``) and
stay thin: a ``parameters`` cell, then calls into this package::

    import kkbm_analysis.reports as rp
    report = rp.ProvinceReport.from_parameters(province="36", period="2018", lang="id",
                                               data_dir="data/processed/demo")
    report.header()          # banner, title, lead -- every section is one call

and the batch regenerates all of them (HTML, PDF, ``index.html``), incrementally, on Dask (a
local cluster of worker processes, or an existing one with ``scheduler="tcp://host:8786"``)::

    result = rp.build_reports("data/processed/demo")
    print(result.summary())

Modules
-------
:mod:`.params`    parameter validation (:func:`validate_parameters`, :class:`ParameterError`)
:mod:`.text`      words (Bahasa Indonesia / English) and number formats
:mod:`.analysis`  the numbers, memoised per dataset
:mod:`.sections`  report sections as HTML (:class:`ProvinceReport`, :class:`NationalBrief`)
:mod:`.figures`   figures in the house style (province bars, mentoring points, tile-grid map)
:mod:`.cache`     data and analysis caches, build keys
:mod:`.kernel`    the pinned kernel and the warm papermill engine
:mod:`.export`    HTML (code hidden, offline), index page
:mod:`.pdf`       PDF engines (WeasyPrint by default, headless Chromium optionally)
:mod:`.planning`  the jobs of a batch, their names and files
:mod:`.cluster`   where a batch runs: a local Dask cluster, or an existing one
:mod:`.worker`    one warm kernel per Dask worker (a worker plugin) and the one-report task
:mod:`.outcomes`  what a batch did (:class:`BuildResult`)
:mod:`.runner`    :func:`build_reports`
"""
from .cache import load_data
from .params import ParameterError, ReportParameters, check_path, validate_parameters
from .runner import BuildResult, ReportOutcome, build_reports, plan_reports

__all__ = ["build_reports", "plan_reports", "BuildResult", "ReportOutcome", "validate_parameters",
           "ReportParameters", "ParameterError", "check_path", "load_data", "ProvinceReport", "NationalBrief",
           "Html", "recommendations"]

_LAZY = {"ProvinceReport": ".province", "NationalBrief": ".national", "Html": ".markup",
         "recommendations": "..recommendations"}


def __getattr__(name: str):
    """Report sections import matplotlib: load them only when a notebook asks for them."""
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
