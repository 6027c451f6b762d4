"""The steps every use case that works on a ticket shares: finding the ticket it names (for a
person who may work on it), recording the change, and telling people about it, all in the
transaction that makes the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core.permissions import check_may_work
from bot.services import cards
from bot.services.policy import Policy
from store import audit, outbox, tickets
from store.models import Ticket

__all__ = ["FieldChange", "TicketNotFoundError", "notify", "record_change", "ticket_to_work"]


class TicketNotFoundError(LookupError):
    pass


def ticket_to_work(
    session: Session, policy: Policy, number: int, *, actor: str, what: str, for_update: bool = True
) -> Ticket:
    """T-`number`, locked until commit (`for_update`), once `actor` may work on it: raises
    TicketNotFoundError or PermissionDeniedError ("Only agents work tickets, so you cannot `what`")."""
    ticket = tickets.by_number(session, number, for_update=for_update)
    if ticket is None or ticket.id is None:
        raise TicketNotFoundError(f"T-{number} does not exist.")
    check_may_work(policy.roles_of(actor), what=what.format(ref=ticket.ref), workers=policy.workers)
    return ticket


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
