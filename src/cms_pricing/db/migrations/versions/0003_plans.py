"""Saved treatment plans: plans, plan_lines and idempotency_keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("zip", sa.String(length=10), nullable=True),
        sa.Column("locality", sa.String(length=7), nullable=True),
        sa.Column("date_of_service", sa.Date(), nullable=True),
        sa.Column("release_id", sa.String(length=16), nullable=True),
        sa.Column("setting", sa.String(length=16), nullable=True),
        sa.Column("pos", sa.String(length=2), nullable=True),
        sa.Column("deductible_remaining", sa.BigInteger(), nullable=True),
        sa.Column("sequestration", sa.Boolean(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("public_id", name=op.f("uq_plans_public_id")),
    )
    op.create_table(
        "plan_lines",
        sa.Column("plan_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("modifiers", sa.String(length=32), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("setting", sa.String(length=16), nullable=True),
        sa.Column("pos", sa.String(length=2), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_pk"],
            ["plans.id"],
            name=op.f("fk_plan_lines_plan_pk_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_pk", "seq", name=op.f("pk_plan_lines")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_keys")),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("plan_lines")
    op.drop_table("plans")
