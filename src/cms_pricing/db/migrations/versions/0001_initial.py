"""Initial schema: releases, ZIP datasets, their files and rows, the ingestion log.

Generated with ``alembic revision --autogenerate`` and reviewed. Exact decimals are BIGINT
columns holding the value times 10**places (``cms_pricing.db.models.ScaledDecimal``); this
file spells the plain column types so that it never changes when the models do.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 13:07:59
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingestion_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("dataset_id", sa.String(length=16), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestion_runs")),
    )
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
        sa.UniqueConstraint("release_id", name=op.f("uq_releases_release_id")),
    )
    op.create_table(
        "zip_datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=16), nullable=False),
        sa.Column("year_quarter", sa.String(length=5), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zip_datasets")),
        sa.UniqueConstraint("dataset_id", name=op.f("uq_zip_datasets_dataset_id")),
    )
    op.create_table(
        "anes_rows",
        sa.Column("release_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("mac", sa.String(length=5), nullable=False),
        sa.Column("locality", sa.String(length=2), nullable=False),
        sa.Column("locality_name", sa.Text(), nullable=False),
        sa.Column("anes_cf", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_pk"],
            ["releases.id"],
            name=op.f("fk_anes_rows_release_pk_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("release_pk", "seq", name=op.f("pk_anes_rows")),
        sa.UniqueConstraint(
            "release_pk", "mac", "locality", name=op.f("uq_anes_rows_release_pk_mac_locality")
        ),
    )
    op.create_table(
        "gpci_rows",
        sa.Column("release_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("mac", sa.String(length=5), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("locality", sa.String(length=2), nullable=False),
        sa.Column("locality_name", sa.Text(), nullable=False),
        sa.Column("work", sa.BigInteger(), nullable=False),
        sa.Column("pe", sa.BigInteger(), nullable=False),
        sa.Column("mp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_pk"],
            ["releases.id"],
            name=op.f("fk_gpci_rows_release_pk_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("release_pk", "seq", name=op.f("pk_gpci_rows")),
        sa.UniqueConstraint(
            "release_pk", "mac", "locality", name=op.f("uq_gpci_rows_release_pk_mac_locality")
        ),
    )
    op.create_table(
        "locality_county_rows",
        sa.Column("release_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("mac", sa.String(length=5), nullable=False),
        sa.Column("locality", sa.String(length=2), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("fee_schedule_area", sa.Text(), nullable=False),
        sa.Column("counties", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_pk"],
            ["releases.id"],
            name=op.f("fk_locality_county_rows_release_pk_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("release_pk", "seq", name=op.f("pk_locality_county_rows")),
    )
    op.create_table(
        "oppscap_rows",
        sa.Column("release_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hcpcs", sa.String(length=5), nullable=False),
        sa.Column("modifier", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("carrier", sa.String(length=5), nullable=False),
        sa.Column("locality", sa.String(length=2), nullable=False),
        sa.Column("fac_price", sa.BigInteger(), nullable=False),
        sa.Column("nonfac_price", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_pk"],
            ["releases.id"],
            name=op.f("fk_oppscap_rows_release_pk_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("release_pk", "seq", name=op.f("pk_oppscap_rows")),
        sa.UniqueConstraint(
            "release_pk",
            "hcpcs",
            "modifier",
            "carrier",
            "locality",
            name=op.f("uq_oppscap_rows_release_pk_hcpcs_modifier_carrier_locality"),
        ),
    )
    op.create_table(
        "release_files",
        sa.Column("release_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_pk"],
            ["releases.id"],
            name=op.f("fk_release_files_release_pk_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("release_pk", "kind", name=op.f("pk_release_files")),
    )
    op.create_table(
        "rvu_rows",
        sa.Column("release_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hcpcs", sa.String(length=5), nullable=False),
        sa.Column("modifier", sa.String(length=2), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("not_used_for_medicare", sa.String(length=1), nullable=False),
        sa.Column("work_rvu", sa.BigInteger(), nullable=False),
        sa.Column("nonfac_pe_rvu", sa.BigInteger(), nullable=False),
        sa.Column("nonfac_na", sa.Boolean(), nullable=False),
        sa.Column("fac_pe_rvu", sa.BigInteger(), nullable=False),
        sa.Column("fac_na", sa.Boolean(), nullable=False),
        sa.Column("mp_rvu", sa.BigInteger(), nullable=False),
        sa.Column("nonfac_total", sa.BigInteger(), nullable=False),
        sa.Column("fac_total", sa.BigInteger(), nullable=False),
        sa.Column("pctc", sa.String(length=1), nullable=False),
        sa.Column("global_days", sa.String(length=3), nullable=False),
        sa.Column("pre_op", sa.BigInteger(), nullable=False),
        sa.Column("intra_op", sa.BigInteger(), nullable=False),
        sa.Column("post_op", sa.BigInteger(), nullable=False),
        sa.Column("mult_proc", sa.String(length=1), nullable=False),
        sa.Column("bilateral", sa.String(length=1), nullable=False),
        sa.Column("assistant", sa.String(length=1), nullable=False),
        sa.Column("co_surgeon", sa.String(length=1), nullable=False),
        sa.Column("team", sa.String(length=1), nullable=False),
        sa.Column("endo_base", sa.String(length=5), nullable=False),
        sa.Column("conversion_factor", sa.BigInteger(), nullable=False),
        sa.Column("supervision", sa.String(length=2), nullable=False),
        sa.Column("calc_flag", sa.String(length=1), nullable=False),
        sa.Column("imaging_family", sa.String(length=2), nullable=False),
        sa.Column("opps_nonfac_pe_rvu", sa.BigInteger(), nullable=False),
        sa.Column("opps_fac_pe_rvu", sa.BigInteger(), nullable=False),
        sa.Column("opps_mp_rvu", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_pk"],
            ["releases.id"],
            name=op.f("fk_rvu_rows_release_pk_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("release_pk", "seq", name=op.f("pk_rvu_rows")),
        sa.UniqueConstraint(
            "release_pk", "hcpcs", "modifier", name=op.f("uq_rvu_rows_release_pk_hcpcs_modifier")
        ),
    )
    op.create_table(
        "zip5_rows",
        sa.Column("dataset_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("zip5", sa.String(length=5), nullable=False),
        sa.Column("carrier", sa.String(length=5), nullable=False),
        sa.Column("locality", sa.String(length=2), nullable=False),
        sa.Column("rural", sa.String(length=1), nullable=False),
        sa.Column("lab_cb_locality", sa.String(length=2), nullable=False),
        sa.Column("rural2", sa.String(length=1), nullable=False),
        sa.Column("plus_four", sa.Boolean(), nullable=False),
        sa.Column("part_b_drug", sa.String(length=1), nullable=False),
        sa.Column("year_quarter", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_pk"],
            ["zip_datasets.id"],
            name=op.f("fk_zip5_rows_dataset_pk_zip_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_pk", "seq", name=op.f("pk_zip5_rows")),
        sa.UniqueConstraint("dataset_pk", "zip5", name=op.f("uq_zip5_rows_dataset_pk_zip5")),
    )
    op.create_table(
        "zip_files",
        sa.Column("dataset_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_pk"],
            ["zip_datasets.id"],
            name=op.f("fk_zip_files_dataset_pk_zip_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_pk", "kind", name=op.f("pk_zip_files")),
    )


def downgrade() -> None:
    op.drop_table("zip_files")
    op.drop_table("zip5_rows")
    op.drop_table("rvu_rows")
    op.drop_table("release_files")
    op.drop_table("oppscap_rows")
    op.drop_table("locality_county_rows")
    op.drop_table("gpci_rows")
    op.drop_table("anes_rows")
    op.drop_table("zip_datasets")
    op.drop_table("releases")
    op.drop_table("ingestion_runs")
