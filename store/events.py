"""Slack events already acted on (retries of the same `event_id` change nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from store.db import insert_if_absent
from store.models import SlackEvent

__all__ = ["first_delivery"]


def first_delivery(session: Session, event_id: str, *, now: datetime) -> bool:
    """Record `event_id`; False if it was recorded before (this delivery is a retry)."""
    values = {"event_id": event_id, "received_at": now}
    return insert_if_absent(session, SlackEvent, values, unique="event_id") is not None
