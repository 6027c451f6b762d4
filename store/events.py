"""Slack events already acted on (retries of the same `event_id` change nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col

from store.db import insert_on_conflict
from store.models import SlackEvent

__all__ = ["first_delivery"]


def first_delivery(session: Session, event_id: str, *, now: datetime) -> bool:
    """Record `event_id`; False if it was recorded before (this delivery is a retry)."""
    insert = insert_on_conflict(session)
    statement = (
        insert(SlackEvent)
        .values(event_id=event_id, received_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(col(SlackEvent.event_id))
    )
    return session.execute(statement).first() is not None
