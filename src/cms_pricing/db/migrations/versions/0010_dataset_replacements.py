"""Dataset replacements: the hash and time of each published dataset a correction replaced.

A CMS correction keeps the dataset id and changes its content; ingest replaces the published
version as before and now also records the replaced version's ``sha256`` and ``published_at``
with the new hash and the time of the replacement (``db/replacements.py``). Datasets
replaced before this revision have no record. Downgrade drops the table (the history only).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataset_replacements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_by", sa.String(length=64), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_replacements")),
    )
    op.create_index(
        "ix_dataset_replacements_kind_dataset_id", "dataset_replacements", ["kind", "dataset_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_dataset_replacements_kind_dataset_id", "dataset_replacements")
    op.drop_table("dataset_replacements")
