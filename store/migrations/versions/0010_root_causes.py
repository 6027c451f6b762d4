"""tickets.root_cause and tickets.resolution_type (seed 001's taxonomy)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("root_cause", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("resolution_type", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("resolution_type")
        batch.drop_column("root_cause")
