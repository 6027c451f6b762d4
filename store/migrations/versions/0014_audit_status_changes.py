"""audit_events: a covering index of status changes by time, for the reopen rate

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 20:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS_CHANGES = "field = 'status'"


def upgrade() -> None:
    # The period's status changes read from the index alone, not a table lookup per row. Partial:
    # only status rows, whose before/after are short statuses (a note's text never enters it).
    op.create_index(
        "ix_audit_events_status_changes",
        "audit_events",
        ["at", "entity_type", "entity_id", "before", "after"],
        unique=False,
        sqlite_where=sa.text(STATUS_CHANGES),
        postgresql_where=sa.text(STATUS_CHANGES),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_events_status_changes", table_name="audit_events")
