"""tickets: an index for the queue queries (`/ticket list mine`, the Home tab)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 06:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_owner_status_priority", ["owner_id", "status", "priority"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_owner_status_priority")
