"""The indicator registry: every programme indicator, declared once (see the package docstring).

Each :class:`Indicator` carries bilingual labels and definitions, numerator and
denominator, unit, direction, how its values aggregate (``kind``) and its facts: a
:class:`~.facts.Facts` (which rows of a base relation count, dated how, adding what).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import pandas as pd

from .facts import DECIDED_OUTCOMES, Facts, sql_list

__all__ = ["Indicator", "REGISTRY", "KINDS", "DISAGGREGATIONS", "DOMAINS", "list_indicators", "with_labels"]


# The facts of each indicator (:class:`~.facts.Facts`, SQL over a base relation of :data:`~.facts.BASES`).
_BUSINESSES_FORMED = Facts("businesses", "started_on")
_BUSINESSES_ACTIVE = Facts("business_spells", "d", num="w")
_BUSINESS_VOLUME = Facts("reports", "period", num="revenue_idr", where="revenue_idr IS NOT NULL",
                         unit="business_rank", grain="month")
_KUR_APPLICATIONS = Facts("loans", "applied_on")
_KUR_APPROVED = Facts("loans", "approval_date", where="approved")
_KUR_APPROVAL_RATE = Facts("loans", "applied_on", num="CAST(approved AS INTEGER)", den="1")
_KUR_UPTAKE = Facts("uptake", "d", num="wn", den="wd")
_KUR_AMOUNT = Facts("loans", "approval_date", num="amount_idr", where="approved AND amount_idr IS NOT NULL",
                    unit="loan_rank", grain="fact")
_ADVOCACY_CASES = Facts("cases", "opened_on")
_ADVOCACY_RESOLVED = Facts("cases", "decided_on", where="outcome = 'resolved'")
_ADVOCACY_RESOLUTION_RATE = Facts("cases", "decided_on", num="CAST(outcome = 'resolved' AS INTEGER)", den="1",
                                  where=f"outcome IN {sql_list(DECIDED_OUTCOMES)}")
_ADVOCACY_DAYS = Facts("cases", "closed_on", num="(epoch_ms(CAST(closed_on AS TIMESTAMP)) - epoch_ms(CAST(opened_on AS TIMESTAMP))) / 86400000", den="1",
                       where="outcome = 'resolved' AND closed_on IS NOT NULL")
_MEMBERS = Facts("members", "joined_on")


def _groups(kind: str | None) -> Facts:
    return Facts("groups", "formed_on", where=None if kind is None else f"kind = '{kind}'")


def _services(kind: str | None, column: str | None = None) -> Facts:
    return Facts("info_services", "held_on", num="1" if column is None else f"coalesce({column}, 0)",
                 where=None if kind is None else f"kind = '{kind}'")


def _prevention(column: str | None) -> Facts:
    return Facts("prevention_events", "held_on", num="1" if column is None else f"coalesce({column}, 0)")


#: How values aggregate (see the module docstring).
KINDS: tuple[str, ...] = ("count", "total", "proportion", "mean", "median", "growth")


#: Disaggregations an indicator may allow.
DISAGGREGATIONS: tuple[str, ...] = ("sex", "status")


DOMAINS: tuple[str, ...] = ("economic", "information", "advocacy", "membership")


@dataclass(frozen=True, repr=False)
class Indicator:
    """One empowerment indicator.

    Attributes
    ----------
    id : str
        Stable identifier (used in tables and file names; never renamed).
    domain : str
        ``'economic'``, ``'information'``, ``'advocacy'`` or ``'membership'``.
    label_id, label_en : str
        Short name in Bahasa Indonesia and English.
    definition_id, definition_en : str
        Full definition (what is counted, the date that places it in a period).
    numerator, denominator : str or None
        What the numerator and denominator columns hold (``denominator`` None: empty).
    unit : str
        ``'count'``, ``'people'``, ``'proportion'``, ``'rupiah'``, ``'rupiah_per_business'``,
        ``'rupiah_per_loan'``, ``'days'``, ``'ratio'``.
    direction : int
        +1 higher is better, -1 lower is better, 0 neutral.
    kind : str
        How values aggregate, one of :data:`KINDS`.
    facts : Facts or callable
        The indicator's facts (:class:`~.facts.Facts`: SQL the engine aggregates). Indicators
        computed elsewhere (the resilience survey's) give a callable that explains where.
    disaggregations : tuple of str
        Allowed among ``('sex', 'status')``.
    stock : bool
        True for values at period end (see the module docstring).
    base : str, optional
        For ``kind='growth'``: the ``total`` indicator whose change it is.
    sources : tuple of str
        Processed tables used.
    """

    id: str
    domain: str
    label_id: str
    label_en: str
    definition_id: str
    definition_en: str
    numerator: str
    denominator: str | None
    unit: str
    direction: int
    kind: str
    facts: Facts | Callable[..., pd.DataFrame] = field(repr=False, compare=False)
    disaggregations: tuple[str, ...] = ()
    stock: bool = False
    base: str | None = None
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind must be one of {KINDS}")
        if self.direction not in (-1, 0, 1):
            raise ValueError(f"{self.id}: direction must be -1, 0 or +1")
        if not set(self.disaggregations) <= set(DISAGGREGATIONS):
            raise ValueError(f"{self.id}: disaggregations must be among {DISAGGREGATIONS}")
        if self.stock and self.kind not in ("count", "proportion"):
            raise ValueError(f"{self.id}: only count and proportion indicators can be stocks")
        if (self.kind == "growth") != (self.base is not None):
            raise ValueError(f"{self.id}: growth indicators (and only they) name a base")

    def __repr__(self) -> str:
        flags = ", stock" if self.stock else ""
        sign = {1: "+1 higher is better", -1: "-1 lower is better", 0: "0 neutral"}[self.direction]
        return (f"<Indicator {self.id}: {self.label_en} / {self.label_id} [{self.kind}, {self.unit}{flags}, "
                f"{sign}]>")

    @property
    def time_additive(self) -> bool:
        """Whether the numerator adds up over periods (flows of additive kinds)."""
        return not self.stock and self.kind not in ("median", "growth")


_SEX_STATUS = ("sex", "status")


_I = Indicator


_INDICATORS: tuple[Indicator, ...] = (
    # ------------------------------------------------------------ economic empowerment
    _I("businesses_formed", "economic", "Unit usaha terbentuk", "Business units formed",
       "Jumlah unit usaha (milik anggota atau kelompok) yang tanggal mulai usahanya jatuh dalam periode. "
       "Pilahan jenis kelamin/status menurut pemilik; usaha milik kelompok masuk 'unknown'.",
       "Business units (owned by a member or by a group) whose start date falls in the period. Sex and "
       "status are the owner's; group-owned businesses fall under 'unknown'.",
       "businesses started in the period", None, "count", 1, "count", _BUSINESSES_FORMED,
       _SEX_STATUS, sources=("businesses", "members")),
    _I("businesses_active", "economic", "Usaha aktif (akhir periode)", "Active businesses (at period end)",
       "Jumlah usaha yang berjalan pada hari terakhir periode: sudah mulai dan belum tutup. Usaha berstatus "
       "vakum dihitung aktif sampai akhir bulan terakhir dengan omzet positif (tidak pernah, bila tidak "
       "pernah melapor omzet positif).",
       "Businesses operating on the last day of the period: started and not closed. A business whose "
       "current status is dormant counts as active until the end of its last month with positive reported "
       "volume (never, if it never reported a positive volume).",
       "businesses active at period end", None, "count", 1, "count", _BUSINESSES_ACTIVE, _SEX_STATUS,
       stock=True, sources=("businesses", "business_reports", "members")),
    _I("business_volume_total", "economic", "Volume usaha (total omzet)", "Business volume (total turnover)",
       "Jumlah omzet bulanan (Rp) yang dilaporkan usaha untuk bulan-bulan dalam periode. Penyebut: jumlah "
       "usaha yang melaporkan omzet dalam periode.",
       "Sum of the monthly turnover (Rp) businesses reported for the months in the period. Denominator: "
       "businesses reporting a volume in the period (for suppression; value = numerator).",
       "sum of reported monthly turnover (Rp)", "businesses reporting a volume in the period", "rupiah", 1,
       "total", _BUSINESS_VOLUME, _SEX_STATUS, sources=("business_reports", "businesses", "members")),
    _I("business_volume_mean", "economic", "Rata-rata volume per usaha", "Mean business volume per business",
       "Total omzet dalam periode dibagi jumlah usaha yang melapor; volume satu usaha = jumlah omzet "
       "bulanannya dalam periode. Selang kepercayaan t 95% (perkiraan).",
       "Total volume in the period divided by the businesses reporting; a business's volume is the sum of "
       "its monthly turnover in the period. Approximate t 95% interval.",
       "sum of reported monthly turnover (Rp)", "businesses reporting a volume in the period",
       "rupiah_per_business", 1, "mean", _BUSINESS_VOLUME, _SEX_STATUS,
       sources=("business_reports", "businesses", "members")),
    _I("business_volume_median", "economic", "Median volume per usaha", "Median business volume per business",
       "Median, di antara usaha yang melapor, dari volume usaha dalam periode (jumlah omzet bulanannya).",
       "Median over the businesses reporting of their volume in the period (sum of their monthly turnover).",
       "(none)", "businesses reporting a volume in the period", "rupiah_per_business", 1, "median",
       _BUSINESS_VOLUME, _SEX_STATUS, sources=("business_reports", "businesses", "members")),
    _I("business_volume_growth", "economic", "Pertumbuhan volume usaha", "Business volume growth",
       "Perubahan relatif total omzet dibanding periode sebelumnya: (V_t - V_{t-1}) / V_{t-1}. Mencakup "
       "usaha baru, usaha tutup dan perubahan pelaporan; perkembangan per usaha dibaca dari rata-rata/median.",
       "Relative change of total volume from the previous period: (V_t - V_{t-1}) / V_{t-1}. It mixes "
       "businesses entering, leaving and (not) reporting with the growth of existing ones; per-business "
       "development is read from the mean and median. No value for the first period or period=None.",
       "change of total volume from the previous period (Rp)", "total volume in the previous period (Rp)",
       "ratio", 1, "growth", _BUSINESS_VOLUME, _SEX_STATUS, base="business_volume_total",
       sources=("business_reports", "businesses", "members")),
    _I("groups_formed", "economic", "Kelompok usaha/koperasi terbentuk", "Business groups and cooperatives formed",
       "Jumlah kelompok usaha bersama (KUB) dan koperasi yang dibentuk dalam periode.",
       "Joint business groups (KUB) and cooperatives formed in the period.",
       "groups and cooperatives formed in the period", None, "count", 1, "count", _groups(None),
       sources=("groups",)),
    _I("cooperatives_formed", "economic", "Koperasi terbentuk", "Cooperatives formed",
       "Jumlah koperasi yang dibentuk dalam periode.", "Cooperatives formed in the period.",
       "cooperatives formed in the period", None, "count", 1, "count", _groups("cooperative"),
       sources=("groups",)),
    _I("kur_applications", "economic", "Pengajuan KUR", "KUR applications",
       "Jumlah pengajuan Kredit Usaha Rakyat oleh anggota dengan tanggal pengajuan dalam periode.",
       "Applications for Kredit Usaha Rakyat (people's business credit) by members, dated by application.",
       "applications made in the period", None, "count", 1, "count", _KUR_APPLICATIONS, _SEX_STATUS,
       sources=("kur_loans", "members")),
    _I("kur_loans_approved", "economic", "KUR disetujui", "KUR loans approved",
       "Jumlah pengajuan KUR yang disetujui, menurut tanggal persetujuan (tanggal pengajuan bila kosong).",
       "KUR applications approved, dated by approval (by application when the approval date is missing).",
       "applications approved in the period", None, "count", 1, "count", _KUR_APPROVED, _SEX_STATUS,
       sources=("kur_loans", "members")),
    _I("kur_approval_rate", "economic", "Tingkat persetujuan KUR", "KUR approval rate",
       "Proporsi pengajuan KUR yang disetujui, di antara pengajuan dengan tanggal pengajuan dalam periode.",
       "Share of the KUR applications made in the period that were approved.",
       "applications made in the period and approved", "applications made in the period", "proportion", 1,
       "proportion", _KUR_APPROVAL_RATE, _SEX_STATUS, sources=("kur_loans", "members")),
    _I("kur_uptake", "economic", "Pemanfaatan KUR oleh anggota", "KUR uptake among eligible members",
       "Proporsi anggota yang memenuhi syarat (PMI purna dan keluarga PMI) yang pernah memperoleh KUR "
       "disetujui sampai akhir periode, di antara anggota yang memenuhi syarat dan sudah bergabung sampai "
       "akhir periode. Status = status terakhir. Calon PMI (skema KUR penempatan) dan PMI aktif (di luar "
       "negeri) tidak termasuk.",
       "Share of eligible members (PMI purna and family members) with at least one approved KUR loan by the "
       "period end, among eligible members who had joined by then. Status is the last recorded status. "
       "Calon PMI (placement KUR scheme) and PMI abroad are not eligible for business KUR here. A loan "
       "approved before joining counts from the joining date.",
       "eligible members with an approved KUR loan by period end", "eligible members at period end",
       "proportion", 1, "proportion", _KUR_UPTAKE, _SEX_STATUS, stock=True,
       sources=("members", "kur_loans")),
    _I("kur_amount_total", "economic", "Total plafon KUR disetujui", "Total KUR amount approved",
       "Jumlah plafon (Rp) KUR yang disetujui dalam periode (menurut tanggal persetujuan). Penyebut: jumlah "
       "pinjaman disetujui yang plafonnya tercatat.",
       "Sum of the approved KUR amounts (Rp), dated by approval. Denominator: approved loans with a "
       "recorded amount (for suppression; value = numerator).",
       "sum of approved amounts (Rp)", "approved loans with an amount", "rupiah", 1, "total", _KUR_AMOUNT,
       _SEX_STATUS, sources=("kur_loans", "members")),
    _I("kur_amount_mean", "economic", "Rata-rata plafon KUR disetujui", "Mean KUR amount approved",
       "Rata-rata plafon (Rp) per pinjaman KUR yang disetujui dalam periode. Selang kepercayaan t 95%.",
       "Mean approved amount (Rp) per KUR loan approved in the period; t 95% interval.",
       "sum of approved amounts (Rp)", "approved loans with an amount", "rupiah_per_loan", 1, "mean",
       _KUR_AMOUNT, _SEX_STATUS, sources=("kur_loans", "members")),
    _I("business_consultations", "economic", "Konsultasi usaha dengan pihak luar",
       "Business consultations with outside parties",
       "Jumlah konsultasi pengembangan usaha dengan pihak luar (bank, pemerintah, perguruan tinggi, LSM, "
       "swasta) dalam periode.",
       "Business-development consultations with outside parties (banks, government, universities, NGOs, "
       "private firms) held in the period.",
       "consultations held in the period", None, "count", 1, "count", Facts("consultations", "held_on"),
       sources=("consultations",)),
    # ------------------------------------------------------------ information services
    _I("dissemination_events", "information", "Kegiatan diseminasi/sosialisasi", "Dissemination events",
       "Jumlah kegiatan diseminasi/sosialisasi dalam periode.", "Dissemination events held in the period.",
       "dissemination events in the period", None, "count", 1, "count", _services("dissemination"),
       sources=("info_services",)),
    _I("dissemination_reach", "information", "Orang terjangkau diseminasi", "People reached by dissemination",
       "Jumlah peserta kegiatan diseminasi dalam periode (kegiatan tanpa jumlah peserta dihitung 0; orang "
       "yang hadir beberapa kali terhitung beberapa kali).",
       "Attendees of dissemination events in the period (events without an attendee count add 0; people "
       "attending several events count several times).",
       "attendees of dissemination events", None, "people", 1, "count",
       _services("dissemination", "attendees"), sources=("info_services",)),
    _I("information_services", "information", "Layanan informasi", "Information services",
       "Jumlah layanan informasi (migrasi aman, lowongan, prosedur) yang diberikan dalam periode.",
       "Information services (safe migration, vacancies, procedures) given in the period.",
       "information services in the period", None, "count", 1, "count", _services("information_service"),
       sources=("info_services",)),
    _I("information_service_reach", "information", "Penerima layanan informasi",
       "People served by information services",
       "Jumlah penerima layanan informasi dalam periode (tanpa jumlah: 0).",
       "People served by information services in the period (services without a count add 0).",
       "people served", None, "people", 1, "count", _services("information_service", "attendees"),
       sources=("info_services",)),
    _I("placement_facilitations", "information", "Fasilitasi penempatan prosedural",
       "Procedural placement facilitation events",
       "Jumlah kegiatan fasilitasi proses penempatan prosedural dalam periode.",
       "Events facilitating the procedural placement process in the period.",
       "facilitation events in the period", None, "count", 1, "count",
       _services("placement_facilitation"), sources=("info_services",)),
    _I("placements_facilitated", "information", "Penempatan prosedural difasilitasi",
       "Procedural placements facilitated",
       "Jumlah calon PMI yang penempatan prosedurnya difasilitasi, dari semua kegiatan layanan dalam periode.",
       "Prospective migrant workers whose procedural placement was facilitated, over all service events "
       "in the period.",
       "placements facilitated", None, "people", 1, "count", _services(None, "placements_facilitated"),
       sources=("info_services",)),
    # ------------------------------------------------------------ advocacy
    _I("advocacy_cases", "advocacy", "Kasus PMI didampingi", "Advocacy cases facilitated",
       "Jumlah kasus PMI bermasalah yang didampingi komunitas, menurut tanggal pengaduan. Pilahan menurut "
       "anggota yang bersangkutan ('unknown' bila bukan anggota).",
       "Cases of migrant workers in trouble that the community assisted, dated by report. Sex and status "
       "are those of the member concerned ('unknown' for non-members). Neutral direction: more cases mean "
       "more reach but also more trouble.",
       "cases reported in the period", None, "count", 0, "count", _ADVOCACY_CASES, _SEX_STATUS,
       sources=("advocacy_cases", "members")),
    _I("advocacy_cases_resolved", "advocacy", "Kasus advokasi selesai", "Advocacy cases resolved",
       "Jumlah kasus yang selesai (tuntas), menurut tanggal selesai (tanggal pengaduan bila kosong).",
       "Cases resolved, dated by closure (by report when the closure date is missing).",
       "cases resolved in the period", None, "count", 1, "count", _ADVOCACY_RESOLVED, _SEX_STATUS,
       sources=("advocacy_cases", "members")),
    _I("advocacy_resolution_rate", "advocacy", "Tingkat penyelesaian kasus", "Advocacy resolution rate",
       "Proporsi kasus selesai di antara kasus yang sudah diputuskan (selesai, dirujuk, tidak selesai) dalam "
       "periode, menurut tanggal selesai (tanggal pengaduan bila kosong). Kasus dirujuk tidak dihitung "
       "selesai; kasus dalam proses tidak dihitung.",
       "Share resolved among cases decided (resolved, referred or unresolved) in the period, dated by "
       "closure (by report when missing). Referred cases are not resolved; ongoing cases are left out.",
       "cases resolved", "cases decided (resolved, referred, unresolved)", "proportion", 1, "proportion",
       _ADVOCACY_RESOLUTION_RATE, _SEX_STATUS, sources=("advocacy_cases", "members")),
    _I("advocacy_days_to_resolution", "advocacy", "Lama penyelesaian kasus (median hari)",
       "Time to resolution (median days)",
       "Median jumlah hari dari pengaduan sampai selesai, untuk kasus selesai dengan tanggal selesai dalam "
       "periode.",
       "Median days from report to closure of the cases resolved (with a closure date) in the period.",
       "(none)", "resolved cases with a closure date", "days", -1, "median", _ADVOCACY_DAYS, _SEX_STATUS,
       sources=("advocacy_cases", "members")),
    _I("prevention_events", "advocacy", "Kegiatan pencegahan nonprosedural",
       "Non-procedural placement prevention events",
       "Jumlah kegiatan pencegahan penempatan nonprosedural dalam periode.",
       "Activities to prevent non-procedural (irregular) placement held in the period.",
       "prevention events in the period", None, "count", 1, "count", _prevention(None),
       sources=("prevention_events",)),
    _I("prevention_reach", "advocacy", "Orang terjangkau pencegahan", "People reached by prevention",
       "Jumlah orang yang dijangkau kegiatan pencegahan dalam periode (tanpa jumlah: 0).",
       "People reached by prevention activities in the period (activities without a count add 0).",
       "people reached", None, "people", 1, "count", _prevention("people_reached"),
       sources=("prevention_events",)),
    _I("people_dissuaded", "advocacy", "Orang batal berangkat nonprosedural",
       "People dissuaded from non-procedural placement",
       "Jumlah orang yang batal berangkat secara nonprosedural berkat kegiatan pencegahan dalam periode.",
       "People dissuaded from departing non-procedurally by the prevention activities of the period.",
       "people dissuaded", None, "people", 1, "count", _prevention("people_dissuaded"),
       sources=("prevention_events",)),
    # ------------------------------------------------------------ membership
    _I("members", "membership", "Anggota (akhir periode)", "Members (at period end)",
       "Jumlah anggota yang sudah bergabung sampai hari terakhir periode (register tidak mencatat keluar). "
       "Pilahan status menurut status terakhir: calon PMI, PMI aktif, PMI purna, keluarga.",
       "Members who had joined by the last day of the period (the register records no leaving). Status is "
       "the last recorded status: calon PMI, PMI abroad, PMI purna, family.",
       "members joined by period end", None, "count", 1, "count", _MEMBERS, _SEX_STATUS, stock=True,
       sources=("members",)),
    _I("members_joined", "membership", "Anggota baru", "New members",
       "Jumlah anggota yang bergabung dalam periode.", "Members who joined in the period.",
       "members joined in the period", None, "count", 1, "count", _MEMBERS, _SEX_STATUS,
       sources=("members",)),
)


del _I

#: Every indicator, by id, in presentation order.
REGISTRY: dict[str, Indicator] = {ind.id: ind for ind in _INDICATORS}


def list_indicators() -> pd.DataFrame:
    """The indicator registry as a table (for notebooks and the indicator codebook).

    Returns
    -------
    DataFrame
        One row per indicator: ``id, domain, label_id, label_en, definition_id,
        definition_en, numerator, denominator, unit, direction, kind, stock,
        disaggregations, sources``.
    """
    rows = [{"id": i.id, "domain": i.domain, "label_id": i.label_id, "label_en": i.label_en,
             "definition_id": i.definition_id, "definition_en": i.definition_en, "numerator": i.numerator,
             "denominator": i.denominator, "unit": i.unit, "direction": i.direction, "kind": i.kind,
             "stock": i.stock, "disaggregations": ", ".join(i.disaggregations) or "(none)",
             "sources": ", ".join(i.sources)} for i in REGISTRY.values()]
    return pd.DataFrame(rows).astype({c: "string" for c in ("id", "domain", "label_id", "label_en",
                                                            "definition_id", "definition_en", "numerator",
                                                            "denominator", "unit", "kind",
                                                            "disaggregations", "sources")})


def with_labels(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each row's indicator ``label_id``, ``label_en`` and ``unit`` added (from the registry).

    Charts (:mod:`kkbm_analysis.viz`) know no registry: a frame of one indicator that
    carries these columns gets its axis label and percent format from them.
    """
    ids = table["indicator_id"].astype("string")
    meta = {c: ids.map({k: getattr(v, c) for k, v in REGISTRY.items()}).astype("string")
            for c in ("label_id", "label_en", "unit")}
    return table.assign(**meta)


def _resolve(indicators: str | Indicator | Iterable[str | Indicator] | None) -> list[Indicator]:
    if indicators is None:
        return list(REGISTRY.values())
    if isinstance(indicators, (str, Indicator)):
        indicators = [indicators]
    out = []
    for i in indicators:
        if isinstance(i, Indicator):
            out.append(i)
        elif i in REGISTRY:
            out.append(REGISTRY[i])
        else:
            raise KeyError(f"unknown indicator {i!r}; known: {', '.join(REGISTRY)}")
    return out
