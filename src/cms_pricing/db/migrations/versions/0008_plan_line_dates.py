"""Plan lines with their own date of service: plan_lines.date_of_service.

Existing lines have none (NULL): they take the plan's date, as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan_lines") as batch:
        batch.add_column(sa.Column("date_of_service", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_lines") as batch:
        batch.drop_column("date_of_service")
