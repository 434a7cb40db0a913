"""Barrier factors: why empowerment does not turn into practice.

The evaluation must measure the barriers named in the seed documents (see
``docs/DOMAIN.md``): thin mentoring, too few staff and no cadre regeneration, training
that does not become practice, no synergy with government, and little access to capital.
Each function here takes a :class:`~kkbm_analysis.data.ProgramData` and returns a small
result object with tidy DataFrames and a readable ``summary()``; :func:`barrier_profile`
puts one region's numbers next to the national ones, with a sentence in Indonesian and
English for each::

    import kkbm_analysis as kk
    from kkbm_analysis import barriers
    data = kk.ProgramData.load("data/processed/demo")
    barriers.mentoring_gap(data)                  # by province
    barriers.barrier_profile(data, "35")          # Jawa Timur vs. Indonesia

Regions are those of :data:`kkbm_analysis.data.REGION_LEVELS`; everything attached to a
community is placed in the community's region (members in their own community's, sessions
in the session's community's). Rows whose community has no code at the requested level
(e.g. a kecamatan-wide community at village level) are left out. The national code is
``'ID'``.

Definitions (analysis choices, each can be argued; change them here, not in notebooks)
------------------------------------------------------------------------------------------
Mentoring gap (:func:`mentoring_gap`, :func:`member_mentoring`)
    *Trained member*: attended at least one ``entry_training`` session; their *entry date*
    is the first such session's ``held_on``. The mandate (Perka BNP2TKI 6/2017, read via
    :func:`~kkbm_analysis.schema.load_mentoring_points`) is that every trained member
    receives every mentoring point, so member shares, the points-per-member mean and
    distribution, and the mandated-vs-delivered tables count trained members only.
    *Points received*: distinct mentoring points whose sessions the member attended, on any
    date. *First mentoring*: the earliest mentoring-point session attended on or after the
    entry date (for untrained members: the earliest one); *months to first* = days / 30.4375
    (median and IQR over trained members who had one). *Follow-up*: any mentoring-point or ``other_training`` session attended on or
    after the entry date (another entry training is not follow-up). A community *received*
    a point when at least one session of that point was held for it (``sessions`` table);
    its denominator is communities with at least one trained member (the mandated ones).
    *Mandated* = number of points x trained members; *delivered* = points received, summed
    over trained members; *coverage* = delivered / mandated. Sessions held per point count
    every session of that kind held for the community, attended or not.
Stage funnel (:func:`stage_funnel`)
    A member *reached* a stage when the ``stages`` table dates it. Conversion from the
    previous stage = reached / reached the previous stage; from the start = reached /
    reached problem identification. Members without a ``stages`` row reached no stage.
    The *largest drop* is the step with the lowest conversion from the previous stage
    (the earliest on ties).
Staffing (:func:`staffing`)
    The record runs from the earliest community ``formed_on`` to ``as_of`` (default: the
    latest date in any table). Periods are calendar years, quarters or months
    (``period=None``: the whole record as one period ``'all'``). A staff member is *active*
    in a period if ``started_on <= period end`` and (``ended_on`` is NA or ``ended_on >=
    period start``); active staff are counted in FTE (``fte``, 1 where not given).
    *Organisers* are CO and penggerak of a community. *Members* are those who joined by the
    period end (the register has no leaving date). Officers (LP3TKI/BP3TKI/UPT) belong to
    their ``province_code``: officers per community = active officers (FTE) in the province /
    communities formed in the province by the period end; below province level a region gets
    its province's ratio. A *vacancy month* is a calendar month, from the month a community
    was formed to ``as_of``, in which no CO of the community was active on any day.
    *Turnover* = organisers whose service ended in the period / the mean monthly headcount of
    active organisers over the period's months in the record. *Cadre regeneration*: a departed
    organiser is *replaced* when another CO or penggerak of the same community started within
    ``[ended_on - 1 month, ended_on + N months]`` (N = ``replacement_months``, default 6; the
    month before allows a handover); each newcomer replaces at most one leaver (earliest
    departures matched first). Unreplaced departures whose N-month window runs past ``as_of``
    are *censored* and left out of the share; regeneration = replaced / (departures -
    censored), departures counted in the period they ended.
Government synergy (:func:`government_synergy`)
    Villages are the distinct ``village_code`` of communities (communities without one are
    left out); a village *has a Perdes* when ``village_regulations`` lists one for it
    (adoption date = its earliest). Village-government involvement and Disnakertrans
    shares are over communities / advocacy cases where the flag is recorded (NA left out).
Access to capital (:func:`capital_access`)
    Applications are counted per application and placed in the period of ``applied_on``;
    approval rate = approved / applications; amounts are over approved applications with an
    amount; days to approval over approved ones with both dates. *Business-owning members*
    own at least one business individually (``owner_member_id``; group businesses are not
    attributed to persons) that started by the period end; the share who applied counts
    those with an application in the period.
Barrier measures (:data:`MEASURES`, :func:`barrier_cells`) and profiles (:func:`barrier_profile`)
    ``period`` is None (the whole record) or one period label (``'2019'``, ``'2019-Q3'``,
    ``'2019-07'``). For a period, mentoring measures are for members whose entry training
    fell in it (a cohort, with all their later mentoring up to the end of the record), the
    funnel for members identified in it, staffing and KUR for the period itself, Perdes
    adopted by its end and advocacy cases opened in it; each cell's ``window_start`` and
    ``window_end`` say so. Every cell carries its numerator, denominator, ``n`` and a 95 %
    interval by kind: proportions Wilson; means t; the median by order statistics; ratios of
    counts (members per organiser, officers and vacancy months per community) and the
    turnover rate an exact Poisson interval on the numerator with the denominator as
    exposure (an approximation: it ignores the denominator's variation and clustering).
    The benchmark is the same measure computed nationally. The verdict is the interval rule
    of :mod:`kkbm_analysis.verdicts`: ``'better'``/``'worse'`` only when the national value
    lies outside the region's interval, ``'no_clear_difference'`` otherwise,
    ``'too_few'`` under the small-cell rule (:func:`kkbm_analysis.suppression.small_cells`)
    and ``'not_applicable'`` without an interval. Sentences are generated from the numbers;
    Indonesian sentences use comma decimals and dot thousands (``1.234,5``).

Modules
-------
mentoring (:func:`mentoring_gap`, :func:`member_mentoring`), funnel (:func:`stage_funnel`),
staffing (:func:`staffing`), synergy (:func:`government_synergy`), capital
(:func:`capital_access`), measures (:data:`MEASURES`, :data:`SUPPORT`), cells
(:func:`barrier_cells`, :func:`mentoring_point_cells`: every measure, region and period in
one pass), profiles (:func:`barrier_profile`, :func:`barrier_profiles`, :func:`with_verdicts`);
``_common`` holds what they share. Adding a barrier: a module with its analysis and result
class, a :class:`BarrierMeasure` in :data:`MEASURES`, its cells in :mod:`.cells`, and its
label and sentence (``barrier.<id>``) in the i18n catalogue.
"""
from ._common import DAYS_PER_MONTH, ORGANISER_ROLES, valid_region_codes
from .capital import CapitalAccess, capital_access
from .funnel import StageFunnel, stage_funnel
from .mentoring import MentoringGap, member_mentoring, mentoring_gap
from .cells import BarrierGrid, barrier_cells, mentoring_point_cells
from .measures import ALL_MEASURES, MEASURES, SUPPORT, BarrierMeasure
from .profiles import BarrierProfile, barrier_profile, barrier_profiles, with_verdicts
from .staffing import Staffing, staffing
from .synergy import GovernmentSynergy, government_synergy

__all__ = [
    "BarrierProfile", "CapitalAccess", "GovernmentSynergy", "MentoringGap", "StageFunnel", "Staffing",
    "BarrierMeasure", "MEASURES", "SUPPORT", "ALL_MEASURES", "barrier_profile", "barrier_profiles", "capital_access",
    "BarrierGrid", "barrier_cells", "mentoring_point_cells", "with_verdicts",
    "government_synergy", "member_mentoring", "mentoring_gap", "stage_funnel", "staffing", "valid_region_codes",
    "DAYS_PER_MONTH", "ORGANISER_ROLES",
]
