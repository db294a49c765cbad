"""Plans with OPPS/ASC lines: plans.cbsa, plans.wage_index, plan_lines.cbsa, .wage_index.

The wage index is a scaled integer (4 places, ``models.CF``) as every decimal column is;
existing plans and lines have neither (NULL).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("plans", "plan_lines"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("cbsa", sa.String(length=5), nullable=True))
            batch.add_column(sa.Column("wage_index", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for table in ("plan_lines", "plans"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("wage_index")
            batch.drop_column("cbsa")
