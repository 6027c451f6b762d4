"""Slack events already acted on (retries of the same `event_id` change nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from store.models import SlackEvent

__all__ = ["first_delivery"]


def first_delivery(session: Session, event_id: str, *, now: datetime) -> bool:
    """Record `event_id`; False if it was recorded before (this delivery is a retry)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(SlackEvent)
        .values(event_id=event_id, received_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(col(SlackEvent.event_id))
    )
    return session.execute(statement).first() is not None
