"""Small-cell suppression for everything published, and the only way to write it.

Analysis functions return unsuppressed frames. Anything that leaves the project (the
analysis products, CSVs, reports) goes through :func:`suppress`, which returns a
:class:`PublishedTable`; the writers here refuse anything else, so nothing can bypass
suppression by accident. There is one path for every product: indicators, barrier
metrics, mentoring points, resilience and voices are all *cells* of one shape, and the
rules depend only on a cell's ``kind`` (no registry is looked up here).

The cell shape
--------------
Key :data:`CELL_KEY` (``measure_id, level, region_code, period, disaggregation``),
numbers :data:`NUMBERS` (``value, numerator, denominator, n, ci_low, ci_high``) and
``kind`` (:data:`KINDS`); ``n`` is the number of units behind the value (people,
businesses, cases, villages...), by default the numerator of counts, ratios and rates and
the denominator otherwise. Other columns (labels, windows, units...) pass through.

Primary suppression (thresholds from :mod:`kkbm_analysis.config`), by kind
--------------------------------------------------------------------------
``count``
    ``0 < value < min_count`` (default 5). **Zero is published**: a true zero discloses
    nothing about a person, and hiding zeros would hide where the programme is absent.
``total`` (rupiah sums)
    Fewer than ``min_count`` contributing units (``0 < n < 5``).
``proportion``
    ``0 < n < min_denominator`` (default 10), or ``0 < numerator < min_count``: the
    numerator is a count of people that other tables publish as a count.
``mean``, ``median``
    ``0 < n < min_denominator``.
``ratio``, ``rate`` (members per organiser, turnover...)
    ``0 < n < min_count``: the count the ratio is made of.
``growth``
    Withheld whenever its base cell of this or the previous period is (``secondary``).

:func:`small_cells` applies these rules to any cells; verdicts and recommendations use it
("too few" means exactly this, or a withheld cell).

Secondary suppression
---------------------
Published cells satisfy exact linear equations an attacker can subtract along:

* regions: a parent (national, a province...) equals the sum of its children at the next
  finer level present (per measure x period x disaggregation);
* time, for flows (not ``stock``, not medians or growth): ``'all'`` = sum of years, a year
  = sum of its quarters (or months), a quarter = sum of its months; labels that are not
  calendar periods (survey rounds) take part in none;
* disaggregation: ``'all'`` = sum of the ``sex=`` cells, and of the ``status=`` cells (of
  the cells of any ``variable=`` prefix);
* declared :class:`Relations`: measures publishing the same number (possibly scaled),
  sums across measures, stock-flow identities, growth bases.

Every equation is checked on the unsuppressed values (numerators, denominators and n
separately) and used only if it holds exactly. What must stay unknown is a withheld cell's
**numerator** (the count of people, or the sum, behind it) and, when they are themselves
small counts (``0 < x < min_count``), its denominator and ``n``; the denominator of a ratio
or rate is exposure (organisers, communities, staff-months) and never protected. Then,
repeatedly until nothing changes: in every equation in which exactly one such number is
unknown, the smallest other number (non-zero first) is withheld too. So no protected number
is the only unknown of any equation. A cell any of whose numbers is withheld is withheld
whole: every number NA, ``suppressed = True`` and ``suppression`` = ``'primary'`` or
``'secondary'``. (A withheld cell's large denominator may still follow from other published
cells; it discloses nothing on its own, and the value cannot be recomputed without the
numerator.)

Limits: this is the classic one-unknown rule; it does not solve general systems of
equations across several dimensions at once (an attacker combining many equations could,
in rare patterns, narrow a cell down), and applies no dominance rule to rupiah totals
beyond the contributor count.

Modules: :mod:`.rules` (cell shape, kinds, primary rule, relations), :mod:`.equations`
(equations and the one-unknown rule), :mod:`.core` (:func:`suppress`), :mod:`.published`
(:class:`PublishedTable` and the writers).
"""
from .core import suppress
from .published import PublishedTable, require_published, write_published_csv, write_published_parquet
from .rules import CELL_KEY, KINDS, NO_RELATIONS, NUMBERS, Relations, Thresholds, default_n, primary_mask, small_cells

__all__ = ["suppress", "PublishedTable", "require_published", "write_published_parquet", "write_published_csv",
           "Thresholds", "Relations", "NO_RELATIONS", "CELL_KEY", "NUMBERS", "KINDS", "small_cells", "primary_mask",
           "default_n"]
