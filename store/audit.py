"""The audit log: rows are only ever added."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from store.models import AuditEvent

__all__ = ["events_for", "record"]


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    entity_type: str,
    entity_id: int,
    action: str,
    field: str | None = None,
    before: object = None,
    after: object = None,
) -> AuditEvent:
    """Add one event; `before` and `after` are stored as text (None stays None)."""
    event = AuditEvent(
        at=at,
        actor=actor,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        field=field,
        before=None if before is None else str(before),
        after=None if after is None else str(after),
    )
    session.add(event)
    return event


def events_for(session: Session, entity_type: str, entity_id: int) -> Sequence[AuditEvent]:
    statement = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    )
    return session.exec(statement).all()
