"""The analysis products of a processed folder, read: what reports, the index and notebooks publish.

``kkbm analyse`` (:mod:`kkbm_analysis.analyse`) writes the products; this package only reads
them (it imports no analysis): :class:`Products` opens a processed folder and returns frames
of published cells. See :mod:`.reader` for the accessors and :mod:`.layout` for the files.
"""
from .layout import BARRIER_COLUMNS, CELL_COLUMNS, CELL_PRODUCTS, MANIFEST, RECOMMENDATION_COLUMNS, TAGS
from .reader import NATIONAL, ModelFit, Products, ProductsMissing

__all__ = ["Products", "ProductsMissing", "ModelFit", "NATIONAL", "CELL_COLUMNS", "BARRIER_COLUMNS",
           "RECOMMENDATION_COLUMNS", "CELL_PRODUCTS", "MANIFEST", "TAGS"]
