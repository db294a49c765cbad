"""SQLAlchemy models: published CMS releases, ZIP datasets, their rows and the ingestion log.

Contract:

- ``releases`` holds one row per published MPFS release (``release_id`` such as ``RVU25A`` is
  unique). Its rows live in ``rvu_rows``, ``gpci_rows``, ``locality_county_rows``,
  ``anes_rows`` and ``oppscap_rows``; its source files in ``release_files``. All reference the
  release by the surrogate ``releases.id`` with ``ON DELETE CASCADE``, so a CMS correction is
  "delete the old release, insert the new one" inside one transaction.
- ``zip_datasets`` / ``zip_files`` / ``zip5_rows`` do the same for ZIP5 files.
- Every row table keeps ``seq``, the row's position in the parsed file, so rows load back in
  file order and compare equal to a fresh parse. Column names equal the field names of the
  dataclasses in ``cms_pricing.reference.rows``, in the same order.
- ``ingestion_runs`` records every attempt (outcome ``running``, ``published``, ``replaced``,
  ``unchanged``, ``rejected`` or ``failed``) with its message, so refused files are on record
  even though none of their rows are.
- ``plans`` / ``plan_lines`` / ``idempotency_keys`` hold saved plans (``db/plans.py``), each
  with its ``owner``; ``api_keys`` holds the API keys' hashes (``db/keys.py``).

Money and RVUs are ``ScaledDecimal(places)``: the ``Decimal`` times ``10**places`` stored as a
BIGINT. SQLAlchemy's ``Numeric`` on SQLite goes through floating point and warns about it
(pytest turns warnings into errors); a scaled integer is exact on every database, stays
numerically comparable in SQL, and a value with more places than the column holds is refused
instead of silently rounded. Every CMS field has a fixed number of places in its layout
(RVUs 2, GPCIs 3, the conversion factor 4), so the ``Decimal`` read back has exactly the
places the file prints.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ScaledDecimal(TypeDecorator[Decimal]):
    """An exact ``Decimal`` with a fixed number of places, stored as a scaled BIGINT.

    Reading is the hot path of service start (over a million values), so the result
    processor memoizes: CMS files repeat a few thousand distinct values, and ``Decimal`` is
    immutable, so equal integers can share one ``Decimal``.
    """

    impl = BigInteger
    cache_ok = True
    memo_limit = 200_000

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places
        self._memo: dict[int, Decimal] = {}

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = value.scaleb(self.places)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).scaleb(-self.places)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], Decimal | None]:
        memo, limit, exponent = self._memo, self.memo_limit, -self.places

        def process(value: Any) -> Decimal | None:
            if value is None:
                return None
            try:
                return memo[value]
            except KeyError:
                decimal = Decimal(value).scaleb(exponent)
                if len(memo) < limit:
                    memo[value] = decimal
                return decimal

        return process


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC timestamp")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


RVU = ScaledDecimal(2)
GPCI = ScaledDecimal(3)
CF = ScaledDecimal(4)
MONEY = ScaledDecimal(2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _release_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True)


def _zip_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("zip_datasets.id", ondelete="CASCADE"), primary_key=True)


class Release(Base):
    """One published MPFS release; ``sha256`` versions its content."""

    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReleaseFile(Base):
    __tablename__ = "release_files"

    release_pk: Mapped[int] = _release_fk()
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)


class RvuRecord(Base):
    __tablename__ = "rvu_rows"
    __table_args__ = (UniqueConstraint("release_pk", "hcpcs", "modifier"),)

    release_pk: Mapped[int] = _release_fk()
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hcpcs: Mapped[str] = mapped_column(String(5))
    modifier: Mapped[str] = mapped_column(String(2))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(1))
    not_used_for_medicare: Mapped[str] = mapped_column(String(1))
    work_rvu: Mapped[Decimal] = mapped_column(RVU)
    nonfac_pe_rvu: Mapped[Decimal] = mapped_column(RVU)
    nonfac_na: Mapped[bool] = mapped_column(Boolean)
    fac_pe_rvu: Mapped[Decimal] = mapped_column(RVU)
    fac_na: Mapped[bool] = mapped_column(Boolean)
    mp_rvu: Mapped[Decimal] = mapped_column(RVU)
    nonfac_total: Mapped[Decimal] = mapped_column(RVU)
    fac_total: Mapped[Decimal] = mapped_column(RVU)
    pctc: Mapped[str] = mapped_column(String(1))
    global_days: Mapped[str] = mapped_column(String(3))
    pre_op: Mapped[Decimal] = mapped_column(RVU)
    intra_op: Mapped[Decimal] = mapped_column(RVU)
    post_op: Mapped[Decimal] = mapped_column(RVU)
    mult_proc: Mapped[str] = mapped_column(String(1))
    bilateral: Mapped[str] = mapped_column(String(1))
    assistant: Mapped[str] = mapped_column(String(1))
    co_surgeon: Mapped[str] = mapped_column(String(1))
    team: Mapped[str] = mapped_column(String(1))
    endo_base: Mapped[str] = mapped_column(String(5))
    conversion_factor: Mapped[Decimal] = mapped_column(CF)
    supervision: Mapped[str] = mapped_column(String(2))
    calc_flag: Mapped[str] = mapped_column(String(1))
    imaging_family: Mapped[str] = mapped_column(String(2))
    opps_nonfac_pe_rvu: Mapped[Decimal] = mapped_column(RVU)
    opps_fac_pe_rvu: Mapped[Decimal] = mapped_column(RVU)
    opps_mp_rvu: Mapped[Decimal] = mapped_column(RVU)


class GpciRecord(Base):
    __tablename__ = "gpci_rows"
    __table_args__ = (UniqueConstraint("release_pk", "mac", "locality"),)

    release_pk: Mapped[int] = _release_fk()
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mac: Mapped[str] = mapped_column(String(5))
    state: Mapped[str] = mapped_column(String(2))
    locality: Mapped[str] = mapped_column(String(2))
    locality_name: Mapped[str] = mapped_column(Text)
    work: Mapped[Decimal] = mapped_column(GPCI)
    pe: Mapped[Decimal] = mapped_column(GPCI)
    mp: Mapped[Decimal] = mapped_column(GPCI)


class LocalityCountyRecord(Base):
    __tablename__ = "locality_county_rows"

    release_pk: Mapped[int] = _release_fk()
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mac: Mapped[str] = mapped_column(String(5))
    locality: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(Text)
    fee_schedule_area: Mapped[str] = mapped_column(Text)
    counties: Mapped[str] = mapped_column(Text)


class AnesRecord(Base):
    __tablename__ = "anes_rows"
    __table_args__ = (UniqueConstraint("release_pk", "mac", "locality"),)

    release_pk: Mapped[int] = _release_fk()
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mac: Mapped[str] = mapped_column(String(5))
    locality: Mapped[str] = mapped_column(String(2))
    locality_name: Mapped[str] = mapped_column(Text)
    anes_cf: Mapped[Decimal] = mapped_column(MONEY)


class OppsCapRecord(Base):
    __tablename__ = "oppscap_rows"
    __table_args__ = (UniqueConstraint("release_pk", "hcpcs", "modifier", "carrier", "locality"),)

    release_pk: Mapped[int] = _release_fk()
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hcpcs: Mapped[str] = mapped_column(String(5))
    modifier: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(1))
    carrier: Mapped[str] = mapped_column(String(5))
    locality: Mapped[str] = mapped_column(String(2))
    fac_price: Mapped[Decimal] = mapped_column(MONEY)
    nonfac_price: Mapped[Decimal] = mapped_column(MONEY)


class ZipDataset(Base):
    """One published ZIP5-to-locality file (``dataset_id`` such as ``ZIP5-20254``)."""

    __tablename__ = "zip_datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(String(16), unique=True)
    year_quarter: Mapped[str] = mapped_column(String(5))
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ZipFile(Base):
    __tablename__ = "zip_files"

    dataset_pk: Mapped[int] = _zip_fk()
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)


class Zip5Record(Base):
    __tablename__ = "zip5_rows"
    __table_args__ = (UniqueConstraint("dataset_pk", "zip5"),)

    dataset_pk: Mapped[int] = _zip_fk()
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(2))
    zip5: Mapped[str] = mapped_column(String(5))
    carrier: Mapped[str] = mapped_column(String(5))
    locality: Mapped[str] = mapped_column(String(2))
    rural: Mapped[str] = mapped_column(String(1))
    lab_cb_locality: Mapped[str] = mapped_column(String(2))
    rural2: Mapped[str] = mapped_column(String(1))
    plus_four: Mapped[bool] = mapped_column(Boolean)
    part_b_drug: Mapped[str] = mapped_column(String(1))
    year_quarter: Mapped[str] = mapped_column(String(5))


class ScheduleDataset(Base):
    """One published dataset of a fee schedule other than the MPFS (CLFS, DMEPOS, ASP,
    anesthesia base units): ``dataset_id`` such as ``CLFS-2025Q1`` is unique."""

    __tablename__ = "schedule_datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule: Mapped[str] = mapped_column(String(16))
    dataset_id: Mapped[str] = mapped_column(String(32), unique=True)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScheduleFile(Base):
    """A source file of a schedule dataset and its parsed rows.

    ``content`` holds the rows as JSON lines (db/schedules.py): one array of field values per
    row, in file order, decimals as exact strings. One generic table serves every schedule, so a
    new schedule needs a parser and a row type, not a migration.
    """

    __tablename__ = "schedule_files"

    dataset_pk: Mapped[int] = mapped_column(
        ForeignKey("schedule_datasets.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)


class DatasetReplacement(Base):
    """A published dataset that a correction (same id, other content) replaced.

    ``kind`` names the table the dataset lives in (``release``, ``zip``, ``schedule``);
    ``sha256`` and ``published_at`` are the replaced version's, ``replaced_by`` the new content
    hash and ``replaced_at`` the new version's publication time. Written in the transaction
    that replaces the dataset (``db/replacements.py``); ``GET /releases`` shows them. No
    foreign key: the dataset's row is deleted and written anew on every replacement.
    """

    __tablename__ = "dataset_replacements"
    __table_args__ = (Index("ix_dataset_replacements_kind_dataset_id", "kind", "dataset_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    dataset_id: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    replaced_by: Mapped[str] = mapped_column(String(64))
    replaced_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IngestionRun(Base):
    """One attempt to ingest one dataset; ``finished_at`` stays NULL if the process died.

    ``host`` and ``pid`` name the process that runs it and ``heartbeat_at`` is renewed while
    it runs, so a ``running`` row whose process is gone can be marked ``failed``
    (``db/runs.py``). Rows written before migration 0004 have them NULL.
    """

    __tablename__ = "ingestion_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    dataset_id: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CacheInvalidation(Base):
    """A manual cache invalidation, so every worker and instance sees it (with or without Redis).

    Instances compare the newest ``id`` with the one they last applied when they poll the
    database (``CMS_PRICING_POLL_SECONDS``); with Redis they also hear it on pub/sub at once.
    ``scope`` is ``all``, ``release`` (``target`` = release id) or ``pattern`` (``target`` =
    key prefix).
    """

    __tablename__ = "cache_invalidations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    scope: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text, default="")


# --- saved treatment plans (db/plans.py) ----------------------------------------------------


class SavedPlan(Base):
    """A saved treatment plan. ``public_id`` is what the API shows; ``id`` orders the list.

    ``version`` starts at 1 and grows by one on every update: it is the ETag, and an update
    or delete applies only where the version the caller read is still the current one.
    ``owner`` is the API key id that saved it (migration 0009; plans saved before it are
    ``legacy``); a list reads one owner's plans in ``id`` order, hence the (owner, id) index.
    """

    __tablename__ = "plans"
    __table_args__ = (Index("ix_plans_owner_id", "owner", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    owner: Mapped[str] = mapped_column(String(40), server_default="legacy")
    name: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    zip: Mapped[str | None] = mapped_column(String(10))
    locality: Mapped[str | None] = mapped_column(String(7))
    date_of_service: Mapped[date | None] = mapped_column(Date)
    release_id: Mapped[str | None] = mapped_column(String(16))
    setting: Mapped[str | None] = mapped_column(String(16))
    pos: Mapped[str | None] = mapped_column(String(2))
    deductible_remaining: Mapped[Decimal | None] = mapped_column(MONEY)
    sequestration: Mapped[bool] = mapped_column(Boolean)
    line_count: Mapped[int] = mapped_column(Integer)
    # OPPS/ASC lines' wage adjustment (migration 0007): NULL for plans without it.
    cbsa: Mapped[str | None] = mapped_column(String(5))
    wage_index: Mapped[Decimal | None] = mapped_column(CF)  # 4 places, as the CF
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SavedPlanLine(Base):
    """One line of a saved plan, in plan order (``seq``); replaced whole on every update."""

    __tablename__ = "plan_lines"

    plan_pk: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(5))
    modifiers: Mapped[str] = mapped_column(String(32))  # comma-separated, as normalised
    units: Mapped[int] = mapped_column(Integer)
    setting: Mapped[str | None] = mapped_column(String(16))
    pos: Mapped[str | None] = mapped_column(String(2))
    provider: Mapped[str] = mapped_column(String(64))
    # Lines of the other fee schedules (migration 0006): rows written before it are MPFS.
    schedule: Mapped[str] = mapped_column(String(16), server_default="mpfs")
    state: Mapped[str | None] = mapped_column(String(2))  # DMEPOS: state priced
    rural: Mapped[bool | None] = mapped_column(Boolean)  # DMEPOS: rural fee asked for
    minutes: Mapped[int | None] = mapped_column(Integer)  # anesthesia time
    cbsa: Mapped[str | None] = mapped_column(String(5))  # OPPS/ASC: line's own (0007)
    wage_index: Mapped[Decimal | None] = mapped_column(CF)  # OPPS/ASC: 4 places (0007)
    date_of_service: Mapped[date | None] = mapped_column(Date)  # the line's own date (0008)


class IdempotencyKey(Base):
    """The first answer to a create sent with an ``Idempotency-Key``, replayed on a retry.

    ``request_sha256`` is the hash of the normalised request body: the same key with another
    body is a conflict, never a second plan. Keys are per owner (migration 0009): two API
    keys sending the same ``Idempotency-Key`` make two records.
    """

    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(String(40), primary_key=True, server_default="legacy")
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- API keys (db/keys.py) ------------------------------------------------------------------


class ApiKey(Base):
    """An API key: only the SHA-256 of the key string is stored, never the key.

    ``id`` (12 hex characters) is the key's public name and the ``owner`` of what it saves;
    rotation keeps it and moves the old hash to ``previous_hash``, valid until
    ``previous_valid_until``. ``scopes`` is space-separated and sorted; ``quota`` a JSON
    object of endpoint class -> rate text (``{}`` when the defaults apply).
    """

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(String(100))
    quota: Mapped[str] = mapped_column(Text)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    previous_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    previous_valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
