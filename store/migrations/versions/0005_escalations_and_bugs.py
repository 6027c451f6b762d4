"""escalations, escalation_triggers, bugs, bug_links

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Text(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("from_tier", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("escalated_by", sa.String(length=32), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=True),
        sa.Column("handoff", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("ack_within_s", sa.Integer(), nullable=False),
        _utc("created_at", nullable=False),
        sa.Column("acknowledged_by", sa.String(length=32), nullable=True),
        _utc("acknowledged_at"),
        sa.Column("returned_by", sa.String(length=32), nullable=True),
        _utc("returned_at"),
        sa.Column("nudges", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("card_channel", sa.String(length=32), nullable=True),
        sa.Column("card_ts", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_escalations_ticket_id", "escalations", ["ticket_id"])
    op.create_index("ix_escalations_status", "escalations", ["status"])
    op.create_index("ux_escalations_ticket_level", "escalations", ["ticket_id", "level"], unique=True)
    op.create_table(
        "escalation_triggers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        _text("reason"),
        _utc("at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_escalation_triggers_ticket", "escalation_triggers", ["ticket_id", "trigger"], unique=True)
    op.create_table(
        "bugs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        _text("title"),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=2), nullable=False),
        _text("impact"),
        sa.Column("area", sa.String(length=128), nullable=False),
        _text("steps"),
        _text("expected"),
        _text("actual"),
        _text("environment"),
        sa.Column("status", sa.String(length=16), nullable=False),
        _utc("flagged_at"),
        sa.Column("reported_by", sa.String(length=32), nullable=False),
        _utc("created_at", nullable=False),
        _utc("updated_at", nullable=False),
        sa.Column("resolved_by", sa.String(length=32), nullable=True),
        _utc("resolved_at"),
        sa.Column("notified_by", sa.String(length=32), nullable=True),
        _utc("notified_at"),
        sa.Column("card_channel", sa.String(length=32), nullable=True),
        sa.Column("card_ts", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_index("ix_bugs_status", "bugs", ["status"])
    op.create_table(
        "bug_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bug_id", sa.Integer(), sa.ForeignKey("bugs.id"), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("linked_by", sa.String(length=32), nullable=False),
        _utc("linked_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bug_links_ticket_id", "bug_links", ["ticket_id"])
    op.create_index("ux_bug_links_bug_ticket", "bug_links", ["bug_id", "ticket_id"], unique=True)


def downgrade() -> None:
    op.drop_table("bug_links")
    op.drop_table("bugs")
    op.drop_table("escalation_triggers")
    op.drop_table("escalations")
