"""Plan lines of the other fee schedules: plan_lines.schedule, state, rural, minutes.

Existing lines are MPFS lines (``schedule`` defaults to 'mpfs' on the server); the other
columns are NULL where they do not apply.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan_lines") as batch:
        batch.add_column(
            sa.Column("schedule", sa.String(length=16), server_default="mpfs", nullable=False)
        )
        batch.add_column(sa.Column("state", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("rural", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_lines") as batch:
        batch.drop_column("minutes")
        batch.drop_column("rural")
        batch.drop_column("state")
        batch.drop_column("schedule")
