"""Empowerment indicators: a registry, their facts, and one aggregator for every cut.

KKBM's success indicators (seed 001: economic empowerment, information services,
advocacy; plus membership, which the CO's periodic update covers) are declared once in
:data:`REGISTRY`. Each :class:`Indicator` carries bilingual labels and definitions,
its numerator and denominator, unit, direction, how its values aggregate (``kind``),
and its **facts**: a :class:`Facts`, SQL over one base relation (:data:`BASES`) that says
which rows count, the date that places them in a period and what each adds. The engine
runs them on DuckDB, over a :class:`~kkbm_analysis.data.ProgramData` in memory or straight
over a processed folder's Parquet files (``compute_indicators("data/processed/demo")``).

Facts
-----
The facts of an indicator (:func:`indicator_facts`) have one row per counted unit (a
business, a report, a loan, an event, a member...) of a known community, with

``community_id``
    The community the unit belongs to (its region follows from the community).
``date``
    The date that places the fact in a reporting period.
``sex``, ``status``
    The member attributes used for disaggregation (missing when the unit has no single
    member, e.g. a group-owned business or a case of a non-member).
``num``, ``den``
    What the unit adds to the numerator and (for ratios) the denominator.
``unit`` (per-unit indicators only)
    The unit whose facts are summed first, e.g. a business's monthly reports add up to its
    volume in the period before the mean or median over businesses is taken.

Facts do not depend on the region level, the period or the disaggregation asked for.
Indicators whose facts share a base relation and a date form a family, aggregated in one
query for every level x period x disaggregation asked for.

Flows and stocks
----------------
Most indicators are **flows**: a fact counts in the period its date falls in, so months
add up to quarters, quarters to years, and years to the whole span. **Stock** indicators
(``stock=True``: active businesses, members, KUR uptake) are values *at the end of each
period*. Their facts are entries (``num=+1`` on the day a unit enters, e.g. joins) and
exits (``num=-1`` on the day it leaves, e.g. a business closes); the aggregator adds them
up cumulatively over the period grid, so the value of a period is the stock at its last
day (at the end of the data for the last, possibly partial, period; at the end of the
span for ``period=None``). Entries dated before the span count in the opening stock.
Stocks do not add up over time, but do add up over regions and disaggregations.

Kinds
-----
``count``
    Additive: ``value = numerator`` = sum of ``num`` (people counts may add more than one
    per fact, e.g. attendees of an event). ``denominator`` is empty.
``total``
    An additive amount (rupiah): ``value = numerator`` = sum of ``num``;
    ``denominator`` = the number of contributing units (loans, businesses), which the
    published table needs for small-cell suppression.
``proportion``
    ``value = numerator / denominator`` with a Wilson 95 % interval.
``mean``
    ``value = numerator / denominator``, the mean over units, with a t 95 % interval
    (approximate for skewed amounts).
``median``
    The median over units; ``denominator`` = the number of units, ``numerator`` empty.
``growth``
    Period-on-period relative change of the ``base`` indicator's total:
    ``value = (V_t - V_{t-1}) / V_{t-1}``, ``numerator = V_t - V_{t-1}``,
    ``denominator = V_{t-1}``. No row for ``period=None`` nor for the first period.

Regions and periods
-------------------
The region of a fact is its community's code at the requested level (``national``:
:data:`~kkbm_analysis.data.NATIONAL_CODE`). A community without a code at that level
(a district-wide community has no village code) is left out *at that level only*; so
village rows need not add up to districts, but every level from the deepest one all
communities have upward adds up exactly. The period grid runs over the data's span
(:func:`data_span`: first to last activity date) unless ``span`` is given; flow facts
outside the span are ignored.

Disaggregations
---------------
``by='sex'`` or ``by='status'`` split rows by the member attribute
(``'sex=P'``, ``'status=pmi_purna'``...). Facts without the attribute go to
``'sex=unknown'`` / ``'status=unknown'`` (shown only when such facts exist), so the
categories always add up to ``'all'`` for additive kinds. An indicator that does not allow
the requested disaggregation (events, groups: no member attached) is returned with
disaggregation ``'all'`` only. Membership status is the status at the last update (the
register keeps no status history), so ``status=`` cuts of past periods use today's status.

Performance and determinism
---------------------------
Built for national scale (1 million members, 9 million monthly business reports): each
family of indicators is one DuckDB query per call (per period grid for per-unit sums),
its facts crossed with the cuts asked for and grouped once; from a processed folder only
the columns used are read. Sums of integral values (counts, rupiah, days) are exact
(``HUGEINT``), so no result depends on DuckDB's threads; fractional values are summed on
one thread, and a mean's sum of squares in unit order. numpy finishes the cells (stocks,
growth, intervals). ``benchmarks/bench_indicators.py`` runs every indicator by province x
month beside a hand-written DuckDB SQL peer on the same Parquet files and checks that both
give the same numbers.

Typical use::

    import kkbm_analysis as kk
    from kkbm_analysis.indicators import compute_indicators, list_indicators
    data = kk.ProgramData.load("data/processed/demo")
    list_indicators()
    compute_indicators(data, ["kur_uptake", "members"], level="province", period="year", by="status")
    compute_indicators("data/processed/demo", level="national", period="month")   # from the Parquet files

Results are the *analysis* view (``suppressed`` is always False). Anything published goes
through :func:`publish` (the cell shape of :func:`cells`, then
:func:`kkbm_analysis.suppression.suppress` with the indicators' :data:`RELATIONS`); the
writers accept only its result. ``kkbm analyse`` publishes every indicator that way
(:mod:`kkbm_analysis.analyse`).

Modules
-------
registry
    :class:`Indicator`, :data:`REGISTRY` (with each indicator's :class:`Facts`),
    :func:`list_indicators`, :func:`with_labels`.
facts
    :class:`Facts`, the base relations (:data:`BASES`, SQL), :func:`data_span`.
engine
    :func:`compute_indicators`, :func:`indicator_table`: aggregation of the facts on DuckDB.
family
    One family of indicators as one query, on period grids (internal).
source
    The processed tables (in memory or Parquet files) as DuckDB views (internal).
published
    :func:`cells` (the published cell shape), :data:`RELATIONS`, :func:`publish`.

Adding an indicator: declare it in :data:`~.registry.REGISTRY` with its :class:`Facts` over
a base relation of :data:`BASES` (add one in :mod:`.facts` when no base holds its rows); the
engine, the published table and the reports pick it up.
"""
from .engine import RESULT_COLUMNS, compute_indicators, indicator_facts, indicator_table
from .facts import BASES, KUR_ELIGIBLE_STATUS, SEX_KEYS, SPAN_COLUMNS, STATUS_KEYS, Facts, data_span, facts_frame
from .published import DIRECTIONS, RELATIONS, cells, period_windows, publish
from .registry import DISAGGREGATIONS, DOMAINS, KINDS, REGISTRY, Indicator, list_indicators, with_labels

__all__ = [
    "Indicator", "Facts", "BASES", "REGISTRY", "RESULT_COLUMNS", "KINDS", "DISAGGREGATIONS", "DOMAINS",
    "list_indicators", "indicator_facts", "facts_frame", "compute_indicators", "indicator_table", "data_span", "with_labels",
    "SPAN_COLUMNS", "SEX_KEYS", "STATUS_KEYS", "KUR_ELIGIBLE_STATUS",
    "RELATIONS", "DIRECTIONS", "cells", "publish", "period_windows",
]
