"""API keys and ownership: the api_keys table, plans.owner, idempotency keys per owner.

Plans and idempotency keys saved before this revision belong to the owner ``legacy`` (the
columns' server default fills them). ``idempotency_keys``' primary key becomes
(owner, key), so two API keys may send the same Idempotency-Key.

Downgrade drops the keys and the owners: every plan becomes everyone's again, and where two
owners used the same Idempotency-Key only the first owner's (in text order) record is kept,
since the old primary key is the key alone. ``plans.owner`` is dropped with a plain
``ALTER TABLE ... DROP COLUMN`` (SQLite 3.35+), not a batch copy of the table: dropping
``plans`` while foreign keys are on would cascade-delete every ``plan_lines`` row.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _owner() -> sa.Column[str]:
    return sa.Column("owner", sa.String(length=40), server_default="legacy", nullable=False)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("quota", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("previous_hash", sa.String(length=64), nullable=True),
        sa.Column("previous_valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
        sa.UniqueConstraint("previous_hash", name=op.f("uq_api_keys_previous_hash")),
    )
    op.add_column("plans", _owner())
    op.create_index("ix_plans_owner_id", "plans", ["owner", "id"])
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(_owner())
        batch.drop_constraint("pk_idempotency_keys", type_="primary")
        batch.create_primary_key("pk_idempotency_keys", ["owner", "key"])


def downgrade() -> None:
    keys = sa.table("idempotency_keys", sa.column("owner"), sa.column("key"))
    other = keys.alias("other")
    op.execute(
        keys.delete().where(
            sa.exists().where(other.c.key == keys.c.key, other.c.owner < keys.c.owner)
        )
    )
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_constraint("pk_idempotency_keys", type_="primary")
        batch.create_primary_key("pk_idempotency_keys", ["key"])
        batch.drop_column("owner")
    op.drop_index("ix_plans_owner_id", table_name="plans")
    op.drop_column("plans", "owner")
    op.drop_table("api_keys")
