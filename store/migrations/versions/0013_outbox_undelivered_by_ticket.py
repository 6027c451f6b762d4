"""outbox: undelivered rows by ticket, for the claim's "an earlier row of this ticket is waiting"

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNDELIVERED = "status IN ('pending', 'sending')"


def upgrade() -> None:
    op.create_index(
        "ix_outbox_ticket_undelivered",
        "outbox",
        ["ticket_id", "id"],
        unique=False,
        sqlite_where=sa.text(UNDELIVERED),
        postgresql_where=sa.text(UNDELIVERED),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_ticket_undelivered", table_name="outbox")
