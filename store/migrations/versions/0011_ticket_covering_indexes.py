"""covering indexes on tickets for the digest and the metrics

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 16:30:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As store/models.py has them (a migration keeps its own copy: the model may change later).
OPEN_BOARD = [
    "status", "priority", "breached", "created_at",
    "first_response_running_since", "first_response_due", "resolution_running_since", "resolution_due",
]  # fmt: skip
CREATED_METRICS = [
    "created_at", "priority", "category", "first_responded_at", "first_response_used_s",
    "first_response_stopped_at", "first_response_breached", "resolution_stopped_at", "resolution_breached",
]  # fmt: skip
SOLVED_METRICS = ["solved_at", "created_at", "resolution_used_s", "resolution_stopped_at"]


def upgrade() -> None:
    op.create_index("ix_tickets_open_board", "tickets", OPEN_BOARD, postgresql_include=["id"])
    op.create_index("ix_tickets_created_metrics", "tickets", CREATED_METRICS, postgresql_include=["id"])
    op.create_index("ix_tickets_solved_metrics", "tickets", SOLVED_METRICS)


def downgrade() -> None:
    op.drop_index("ix_tickets_solved_metrics", table_name="tickets")
    op.drop_index("ix_tickets_created_metrics", table_name="tickets")
    op.drop_index("ix_tickets_open_board", table_name="tickets")
