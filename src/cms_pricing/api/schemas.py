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


class PublishedReleaseOut(Strict):
    id: str
    schedule: Literal["mpfs"]
    year: int
    effective_from: str
    effective_to: str | None
    sha256: str
    published_at: str | None
    files: list[SourceFileOut]


class ZipDatasetOut(Strict):
    id: str
    year_quarter: str
    sha256: str
    published_at: str | None
    files: list[SourceFileOut]


class PublishedDatasetOut(Strict):
    """A published dataset of a schedule other than the MPFS."""

    id: str
    schedule: str
    effective_from: str
    effective_to: str | None
    sha256: str
    published_at: str | None
    files: list[SourceFileOut]


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
