"""Parameters of the report templates: checked before anything runs.

Papermill only *warns* about unknown parameters and casts ``-p province 36`` to an
integer, so the templates call :func:`validate_parameters` in their first code cell and
the batch runner calls it before queuing a report. A mistake fails at once with a
message that lists what is valid::

    >>> validate_parameters("province", province="99", period="2018", lang="id",
    ...                     data_dir="data/processed/demo")           # doctest: +SKIP
    ParameterError: unknown province '99'; provinces in the data: 18 (Lampung), 32 (Jawa Barat), ...

Rules
-----
``province``
    A Kemendagri province code *as a string* (``"36"``) that has at least one community in
    the data. Integers are refused (``36`` would pass papermill's ``-p province 36``; ``"06"``
    and ``6`` would differ).
``period``
    A year of the data's record (``"2018"``), as a string.
``lang``
    ``"id"`` (Bahasa Indonesia) or ``"en"`` (English).
``data_dir`` and any other path
    Relative paths are relative to the project root (:func:`kkbm_analysis.config.paths`).
    After resolving symbolic links a path must lie inside the project's ``data/``,
    ``figures/`` or ``reports/`` folder, so a parameter set cannot read or write
    elsewhere on the machine. (Point ``KKBM_ROOT`` at another project to use its folders.)
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import paths as project_paths
from ..i18n import LANGS, region_name

TEMPLATES: tuple[str, ...] = ("province", "national")
#: Report option ``n_boot``: accepted for compatibility; the gap decompositions' bootstrap draws are set
#: when ``kkbm analyse`` fits them (products manifest, ``parameters.gap_n_boot``).
DEFAULT_N_BOOT = 199


class ParameterError(ValueError):
    """A report parameter is invalid; the message says which values are valid."""


@dataclass(frozen=True)
class ReportParameters:
    """Validated parameters of one report.

    Attributes
    ----------
    template : {'province', 'national'}
    province : str or None
        Province code (None for the national brief).
    period : str
        Reporting year.
    lang : {'id', 'en'}
    data_dir : Path
        Resolved processed-data folder.
    figure_dir : Path or None
        Where figures are also saved (None: embedded only).
    options : dict
        Other (validated) options, e.g. ``show_models``, ``n_boot``.
    root : Path or None
        The project root the paths were resolved against (not a report parameter).
    """

    template: str
    province: str | None
    period: str
    lang: str
    data_dir: Path
    figure_dir: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)
    root: Path | None = None

    @property
    def province_name(self) -> str | None:
        return region_name(self.province, self.lang) if self.province else None

    def as_dict(self) -> dict[str, Any]:
        """Plain values (what a data note or a cache key shows)."""
        out: dict[str, Any] = {"template": self.template}
        if self.province is not None:
            out["province"] = self.province
        out.update(period=self.period, lang=self.lang, data_dir=str(self.data_dir))
        if self.figure_dir is not None:
            out["figure_dir"] = str(self.figure_dir)
        out.update(self.options)
        return out


def allowed_roots(root: str | Path | None = None) -> tuple[Path, ...]:
    """Folders a path parameter may point into: the project's data, figures and reports."""
    p = project_paths(root)
    return tuple(d.resolve() for d in (p.root / "data", p.figures, p.reports))


def check_path(value: Any, name: str, *, root: str | Path | None = None, must_exist: bool = False) -> Path:
    """Resolve a path parameter and refuse it outside the project's data and output folders.

    Parameters
    ----------
    value : str or Path
        Absolute, or relative to the project root.
    name : str
        Parameter name (for the message).
    root : path, optional
        Project root (default :func:`kkbm_analysis.config.find_root`).
    must_exist : bool
        Also require an existing folder.
    """
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise ParameterError(f"{name} must be a non-empty path string, not {value!r}")
    base = project_paths(root).root  # resolved once: the allowed folders derive from the same root
    path = Path(value).expanduser()
    path = (path if path.is_absolute() else base / path).resolve()
    roots = allowed_roots(base)
    if not any(path == r or path.is_relative_to(r) for r in roots):
        raise ParameterError(f"{name}={str(value)!r} resolves to {path}, outside the project's data and output "
                             f"folders; it must be inside one of: {', '.join(str(r) for r in roots)}")
    if must_exist and not path.is_dir():
        raise ParameterError(f"{name}: folder {path} does not exist (run `kkbm demo` or `kkbm ingest` first)")
    return path


def _check_str(value: Any, name: str, example: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ParameterError(f"{name} must be a string such as {example!r}, not {type(value).__name__} {value!r} "
                             f"(pass codes as strings: papermill -r {name} {example}, not -p)")
    return value.strip()


def valid_provinces(products: Any) -> list[str]:
    """Province codes with published cells (:class:`~kkbm_analysis.products.Products`)."""
    return list(products.provinces)


def valid_periods(products: Any) -> list[str]:
    """Years of the data, as the analysis products cover them."""
    return list(products.years)


def data_summary(processed_dir: str | Path) -> Any:
    """The products of a processed folder (:func:`.cache.load_products`): what parameters are checked against.

    Reading the small products manifest is enough to validate a batch; no processed table is read.
    """
    return _products(Path(processed_dir).resolve())


def _products(folder: Path) -> Any:
    """The folder's products, or a parameter error saying to run ``kkbm analyse``."""
    from ..products import ProductsMissing
    from .cache import load_products
    try:
        return load_products(folder)
    except ProductsMissing as exc:
        raise ParameterError(str(exc)) from None


def _listing(codes: list[str]) -> str:
    return ", ".join(f"{c} ({region_name(c)})" for c in codes) or "(none)"


def validate_parameters(template: str, *, period: Any, lang: Any, data_dir: Any, province: Any = None,
                        figure_dir: Any = "", root: str | Path | None = None, data: Any = None,
                        **options: Any) -> ReportParameters:
    """Check a report's parameters against the data; raise :class:`ParameterError` on the first problem.

    Parameters
    ----------
    template : {'province', 'national'}
    period : str
        A year of the data's record.
    lang : {'id', 'en'}
    data_dir : str or Path
        Processed data folder inside the project's ``data/``.
    province : str, optional
        Required for ``'province'``: a province code (string) with communities in the data.
    figure_dir : str or Path, optional
        ``""`` (default): figures are only embedded. Otherwise a folder inside ``figures/``
        or ``reports/`` where figures are also saved.
    root : path, optional
        Project root (default: :func:`kkbm_analysis.config.find_root`).
    data : Products, optional
        The folder's analysis products (default: opened through
        :func:`kkbm_analysis.reports.cache.load_products`).
    **options
        Other template options, passed through unchanged after a type check
        (``show_models: bool``, ``n_boot: int``).

    Returns
    -------
    ReportParameters
    """
    if template not in TEMPLATES:
        raise ParameterError(f"unknown template {template!r}; templates: {', '.join(TEMPLATES)}")
    lang = _check_str(lang, "lang", "id")
    if lang not in LANGS:
        raise ParameterError(f"unknown lang {lang!r}; valid: {', '.join(LANGS)}")
    period = _check_str(period, "period", "2018")
    root = project_paths(root).root  # resolved once, handed to every path check below
    data_path = check_path(data_dir, "data_dir", root=root, must_exist=True)
    fig_path = None
    if figure_dir not in (None, ""):
        fig_path = check_path(figure_dir, "figure_dir", root=root)
    for key, value in options.items():
        if key == "show_models" and not isinstance(value, bool):
            raise ParameterError(f"show_models must be True or False, not {value!r}")
        if key == "n_boot" and (isinstance(value, bool) or not isinstance(value, int) or value < 50):
            raise ParameterError(f"n_boot must be an integer of at least 50, not {value!r}")
    if data is None:
        data = _products(data_path)
    periods = valid_periods(data)
    if period not in periods:
        raise ParameterError(f"unknown period {period!r}; years in the data: {', '.join(periods) or '(none)'}")
    code = None
    if template == "province":
        if province is None:
            raise ParameterError(f"the province template needs a province; provinces in the data: "
                                 f"{_listing(valid_provinces(data))}")
        code = _check_str(province, "province", "36")
        valid = valid_provinces(data)
        if code not in valid:
            raise ParameterError(f"unknown province {code!r}; provinces in the data: {_listing(valid)}")
    elif province not in (None, ""):
        raise ParameterError("the national brief takes no province parameter")
    return ReportParameters(template=template, province=code, period=period, lang=lang, data_dir=data_path,
                            figure_dir=fig_path, options=dict(options), root=root)
