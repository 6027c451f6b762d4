"""playbook_runs, playbook_run_tickets, incidents, incident_channel_names

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "playbook_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("playbook", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("started_by", sa.String(length=32), nullable=False),
        _utc("created_at", nullable=False),
        _utc("finished_at"),
        sa.Column("reminders_off", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_playbook_runs_status", "playbook_runs", ["status"])
    op.create_index("ix_playbook_runs_channel", "playbook_runs", ["channel"])
    op.create_table(
        "playbook_run_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("playbook_runs.id"), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("linked_by", sa.String(length=32), nullable=False),
        _utc("linked_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_playbook_run_tickets_ticket_id", "playbook_run_tickets", ["ticket_id"])
    op.create_index("ux_playbook_run_tickets", "playbook_run_tickets", ["run_id", "ticket_id"], unique=True)
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("playbook_runs.id"), nullable=False),
        sa.Column("channel_name", sa.String(length=80), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        _utc("created_at", nullable=False),
        sa.Column("resolved_by", sa.String(length=32), nullable=True),
        _utc("resolved_at"),
        sa.Column("last_update", sa.Text(), nullable=True),
        sa.Column("notified_by", sa.String(length=32), nullable=True),
        _utc("notified_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("run_id"),
    )
    op.create_index("ix_incidents_status", "incidents", ["status"])
    op.create_index("ix_incidents_channel_id", "incidents", ["channel_id"])
    op.create_table(
        "incident_channel_names",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("incident_channel_names")
    op.drop_table("incidents")
    op.drop_table("playbook_run_tickets")
    op.drop_table("playbook_runs")
