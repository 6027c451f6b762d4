"""tickets: SLA clock state and status_since; timers: the due-work table

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for clock in ("first_response", "resolution"):
            batch_op.add_column(sa.Column(f"{clock}_used_s", sa.Integer(), nullable=False, server_default="0"))
            batch_op.add_column(sa.Column(f"{clock}_running_since", sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column(f"{clock}_stopped_at", sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column(f"{clock}_breached", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("status_since", sa.DateTime(timezone=True), nullable=True))
    # Tickets from before this revision: both clocks run from creation, unless already done.
    op.execute(
        "UPDATE tickets SET status_since = updated_at, "
        "first_response_running_since = CASE WHEN first_responded_at IS NULL AND status IN ('NEW', 'OPEN') "
        "THEN created_at END, "
        "first_response_stopped_at = COALESCE(first_responded_at, solved_at, closed_at), "
        "resolution_running_since = CASE WHEN status IN ('NEW', 'OPEN') THEN created_at END, "
        "resolution_stopped_at = COALESCE(solved_at, closed_at)"
    )
    op.create_table(
        "timers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index(
        "ix_timers_unfired_due",
        "timers",
        ["due_at"],
        unique=False,
        sqlite_where=sa.text("fired_at IS NULL"),
        postgresql_where=sa.text("fired_at IS NULL"),
    )
    op.create_index("ix_timers_subject", "timers", ["kind", "subject_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_timers_subject", table_name="timers")
    op.drop_index("ix_timers_unfired_due", table_name="timers")
    op.drop_table("timers")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("status_since")
        for clock in ("resolution", "first_response"):
            for column in ("breached", "stopped_at", "running_since", "used_s"):
                batch_op.drop_column(f"{clock}_{column}")
