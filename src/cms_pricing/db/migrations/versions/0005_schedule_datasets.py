"""Datasets of the other fee schedules (CLFS, DMEPOS, ASP, anesthesia base units).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 22:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule_datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.String(length=16), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_datasets")),
        sa.UniqueConstraint("dataset_id", name=op.f("uq_schedule_datasets_dataset_id")),
    )
    op.create_table(
        "schedule_files",
        sa.Column("dataset_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_pk"],
            ["schedule_datasets.id"],
            name=op.f("fk_schedule_files_dataset_pk_schedule_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_pk", "kind", name=op.f("pk_schedule_files")),
    )


def downgrade() -> None:
    op.drop_table("schedule_files")
    op.drop_table("schedule_datasets")
