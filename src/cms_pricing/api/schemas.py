"""Response shapes for the OpenAPI document (``/docs``, ``/openapi.json``).

Answers are built by ``api/wire.py`` for speed; these models describe the same JSON so
the docs are truthful, and ``tests/api`` validates real answers against them
(``extra="forbid"``: a field added to the wire but not here fails the test).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Strict):
    code: str
    message: str
    details: dict[str, Any]


class ErrorEnvelope(Strict):
    error: ErrorDetail


class ReleaseOut(Strict):
    id: str
    effective_from: str
    effective_to: str | None
    sha256: str
    published_at: str | None


class GeographyOut(Strict):
    zip: str | None
    plus4: str | None
    state: str
    state_name: str
    carrier: str
    locality: str
    carrier_locality: str
    locality_name: str
    rural: str
    match: str
    ambiguous: bool
    note: str | None


class GpciOut(Strict):
    work: str
    pe: str
    mp: str


class ComponentsOut(Strict):
    work_rvu: str
    pe_rvu: str
    mp_rvu: str
    gpci: GpciOut
    conversion_factor: str
    unrounded_amount: str
    arithmetic: str


class OppsCapOut(Strict):
    applies: bool
    cap_cents: int | None
    cap: str | None
    mpfs_cents: int | None


class PriceOut(Strict):
    """An MPFS price (``schedule=mpfs``, the default)."""

    schedule: Literal["mpfs"]
    code: str
    modifier: str
    setting: str
    pos: str | None
    payable: bool
    status: str
    status_reason: str
    setting_na: bool
    amount_cents: int | None
    amount: str | None
    non_participating_cents: int | None
    non_participating: str | None
    limiting_charge_cents: int | None
    limiting_charge: str | None
    release: ReleaseOut
    geography: GeographyOut
    components: ComponentsOut
    opps_cap: OppsCapOut
    indicators: dict[str, str]
    notes: list[str]


class SourceFileOut(Strict):
    kind: str
    name: str
    sha256: str
    rows: int


class ReplacedOut(Strict):
    """A published version of the dataset that a CMS correction (same id, new content)
    replaced: its content hash and publication time, what replaced it and when."""

    sha256: str
    published_at: str
    replaced_by: str
    replaced_at: str


class PublishedReleaseOut(Strict):
    id: str
    schedule: Literal["mpfs"]
    year: int
    effective_from: str
    effective_to: str | None
    sha256: str
    published_at: str | None
    files: list[SourceFileOut]
    replaced: list[ReplacedOut]  # the versions corrections replaced, oldest first


class ZipDatasetOut(Strict):
    id: str
    year_quarter: str
    sha256: str
    published_at: str | None
    files: list[SourceFileOut]
    replaced: list[ReplacedOut]  # the versions corrections replaced, oldest first


class PublishedDatasetOut(Strict):
    """A published dataset of a schedule other than the MPFS."""

    id: str
    schedule: str
    effective_from: str
    effective_to: str | None
    sha256: str
    published_at: str | None
    files: list[SourceFileOut]
    replaced: list[ReplacedOut]  # the versions corrections replaced, oldest first


class ReleasesOut(Strict):
    releases: list[PublishedReleaseOut]
    zip_datasets: list[ZipDatasetOut]
    datasets: list[PublishedDatasetOut]


class ScheduleOut(Strict):
    schedule: str
    title: str
    datasets: list[PublishedReleaseOut | PublishedDatasetOut]


class SchedulesOut(Strict):
    schedules: list[ScheduleOut]
    zip_datasets: list[ZipDatasetOut]


# -- the answers of the other schedules ------------------------------------------------------


class DatasetOut(Strict):
    id: str
    schedule: str
    effective_from: str
    effective_to: str | None
    sha256: str
    published_at: str | None


class CostSharingOut(Strict):
    deductible_applies: bool
    coinsurance_rate: str
    # OPPS: the beneficiary's copayment, a fixed amount (instead of rate x amount)
    copayment_cents: int | None = None
    copayment: str | None = None


class LocalityOut(Strict):
    carrier: str
    locality: str
    carrier_locality: str
    state: str
    state_name: str
    name: str
    fee_schedule_area: str
    counties: str
    gpci: GpciOut
    anesthesia_cf: str | None


class LocalitiesOut(Strict):
    """Without ``zip``: ``localities`` (all of them); with ``zip``: ``geography`` + ``locality``."""

    release: ReleaseOut
    localities: list[LocalityOut] | None = None
    geography: GeographyOut | None = None
    locality: LocalityOut | None = None


class RvuRowOut(Strict):
    modifier: str
    status: str
    status_reason: str
    not_used_for_medicare: bool
    work_rvu: str
    nonfacility_pe_rvu: str
    nonfacility_na: bool
    facility_pe_rvu: str
    facility_na: bool
    mp_rvu: str
    nonfacility_total: str
    facility_total: str
    conversion_factor: str
    opps_nonfacility_pe_rvu: str
    opps_facility_pe_rvu: str
    opps_mp_rvu: str
    indicators: dict[str, str]
    description: str | None = None  # only with CMS_PRICING_SERVE_DESCRIPTORS=true


class CodeOut(Strict):
    code: str
    release: ReleaseOut
    rows: list[RvuRowOut]


class _ScheduleAnswer(Strict):
    """What every schedule's answer carries (``release`` names the dataset priced from)."""

    code: str
    modifiers: list[str]
    payable: bool
    reason: str | None
    amount_cents: int | None
    amount: str | None
    release: DatasetOut
    cost_sharing: CostSharingOut
    notes: list[str]


class ClfsComponentsOut(Strict):
    rate: str | None
    indicator: str
    indicator_meaning: str
    effective_date: str


class ClfsPriceOut(_ScheduleAnswer):
    """A Clinical Laboratory Fee Schedule price: the national limitation amount."""

    schedule: Literal["clfs"]
    geography: None
    components: ClfsComponentsOut


class DmeposGeographyOut(Strict):
    state: str
    zip: str | None
    rural: bool
    rural_source: str
    former_cba: str | None


class DmeposComponentsOut(Strict):
    state: str
    rural: bool
    column: str | None = None
    fee_non_rural: str | None = None
    fee_rural: str | None = None
    ceiling: str | None = None
    floor: str | None = None
    jurisdiction: str | None = None
    jurisdiction_meaning: str | None = None
    category: str | None = None
    category_meaning: str | None = None
    fee_file: str | None = None
    state_fee: str | None = None
    former_cba: str | None = None
    former_cba_name: str | None = None
    former_cba_fee: str | None = None
    mail_order_fee: str | None = None
    fee_applied: str


class DmeposPriceOut(_ScheduleAnswer):
    """A DMEPOS fee for the beneficiary's state, rural or not, or a former CBA's fee."""

    schedule: Literal["dmepos"]
    geography: DmeposGeographyOut
    components: DmeposComponentsOut


class AspComponentsOut(Strict):
    payment_limit_per_unit: str | None
    dosage_unit: str
    units: int
    unrounded_amount: str | None
    arithmetic: str | None
    coinsurance_pct: str | None = None
    vaccine_awp_pct: str | None = None
    vaccine_limit: str | None = None
    blood_awp_pct: str | None = None
    blood_limit: str | None = None
    clotting_factor: bool | None = None


class AspPriceOut(_ScheduleAnswer):
    """A Part B drug: the payment limit per dosage unit times the units."""

    schedule: Literal["asp"]
    geography: None
    components: AspComponentsOut


class AnesthesiaGeographyOut(Strict):
    carrier: str
    locality: str
    carrier_locality: str
    name: str
    state: str


class AnesthesiaComponentsOut(Strict):
    base_units: int
    minutes: int
    time_units: str
    total_units: str
    conversion_factor: str
    conversion_factor_source: str
    modifier_share: str
    unrounded_amount: str | None
    arithmetic: str | None
    base_units_source: str


class AnesthesiaPriceOut(_ScheduleAnswer):
    """Anesthesia: (base units + time units) x the locality's anesthesia CF."""

    schedule: Literal["anesthesia"]
    geography: AnesthesiaGeographyOut
    components: AnesthesiaComponentsOut


Component = str | int | bool | None


class FacilityPriceOut(_ScheduleAnswer):
    """A hospital outpatient (OPPS) or ambulatory surgical center (ASC) facility payment:
    the national rate, wage-adjusted when a CBSA or wage index is given (docs/pricing.md)."""

    schedule: Literal["opps", "asc"]
    geography: dict[str, Component]
    components: dict[str, Component]


AnyPriceOut = Annotated[
    PriceOut | ClfsPriceOut | DmeposPriceOut | AspPriceOut | AnesthesiaPriceOut | FacilityPriceOut,
    Field(discriminator="schedule"),
]


class PlaceOut(Strict):
    zip: str | None
    locality: str | None
    cbsa: str | None
    wage_index: str | None
    facility_fees: Literal["national", "wage-adjusted"]


class SiteOut(Strict):
    """One site of service: the professional fee, the facility fee and their sums."""

    site: Literal["office", "hospital_outpatient", "asc"]
    payable: bool
    reason: str | None
    total_cents: int | None
    total: str | None
    beneficiary_cents: int | None
    beneficiary: str | None
    medicare_cents: int | None
    medicare: str | None
    difference_from_office_cents: int | None
    difference_from_office: str | None
    beneficiary_difference_from_office_cents: int | None
    beneficiary_difference_from_office: str | None
    professional: PriceOut | None
    facility: FacilityPriceOut | None
    facility_reason: str | None
    notes: list[str]


class SitesOut(Strict):
    code: str
    place: PlaceOut
    date: str | None
    year: int | None
    lowest: Literal["office", "hospital_outpatient", "asc"] | None
    sites: list[SiteOut]
    notes: list[str]


# -- the look-up page's endpoints ------------------------------------------------------------


class PricesPlaceOut(Strict):
    zip: str | None
    locality: str | None
    setting: str
    cbsa: str | None
    wage_index: str | None
    minutes: int | None


class ListedPriceOut(Strict):
    """One schedule that lists the code: its amount (None when not payable here, with the
    reason) and its whole answer, arithmetic included, as ``/codes/price`` gives it."""

    schedule: Literal["mpfs", "clfs", "dmepos", "asp", "anesthesia", "opps", "asc"]
    title: str
    payable: bool
    reason: str | None
    amount_cents: int | None
    amount: str | None
    answer: AnyPriceOut | None


class CodePricesOut(Strict):
    code: str
    place: PricesPlaceOut
    date: str | None
    year: int | None
    prices: list[ListedPriceOut]
    absent: list[str]
    description: str | None = None  # only with CMS_PRICING_SERVE_DESCRIPTORS=true


class AreaOut(Strict):
    area: str
    name: str
    state: str
    payable: bool
    reason: str | None
    amount_cents: int | None
    amount: str | None


class ExtremeOut(Strict):
    area: str
    name: str
    amount_cents: int
    amount: str


class CodeAreasOut(Strict):
    """``kind`` locality: every carrier-locality of the MPFS release; state: every state
    with a DMEPOS fee column."""

    code: str
    schedule: Literal["mpfs", "dmepos"]
    kind: Literal["locality", "state"]
    setting: str | None
    modifiers: list[str]
    release: ReleaseOut | DatasetOut
    count: int
    lowest: ExtremeOut | None
    highest: ExtremeOut | None
    areas: list[AreaOut]
