"""Recording a change to a ticket and telling people about it: the two steps every use case that
changes a ticket ends with, in the transaction that made the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.services import cards
from store import audit, outbox
from store.models import Ticket

__all__ = ["FieldChange", "notify", "record_change"]

FieldChange = tuple[str, object, object]  # (field, before, after)


def record_change(
    session: Session, ticket: Ticket, actor: str, fields: list[FieldChange], *, note: str, now: datetime
) -> int:
    """Audit each field change (or, with none, the note itself), then update the ticket's card and
    add `note` (mrkdwn, already escaped) to its thread. Returns the id that names this change."""
    assert ticket.id is not None
    ticket.updated_at = now
    session.add(ticket)
    events = [
        audit.record(
            session, at=now, actor=actor, entity_type="ticket", entity_id=ticket.id, action="changed",
            field=field, before=before, after=after,
        )
        for field, before, after in fields or [("note", None, note)]
    ]  # fmt: skip
    session.flush()
    assert events[0].id is not None
    cards.enqueue_change(session, ticket, change_id=events[0].id, note=note, now=now)
    return events[0].id


def notify(session: Session, ticket: Ticket, *, key: str, channel: str, message: dict[str, Any], now: datetime) -> None:
    """Queue a message about the ticket (a DM when `channel` is a user), once per `key`."""
    outbox.enqueue(
        session,
        key=key[:255],
        method="chat.postMessage",
        args={"channel": channel, "unfurl_links": False, **message},
        purpose="notification",
        ticket_id=ticket.id,
        now=now,
    )
