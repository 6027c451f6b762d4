"""Escalation and escalation-matrix queries."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from store.db import insert_if_absent
from store.models import Escalation, EscalationTrigger, Ticket, UTCDateTime

__all__ = [
    "ACTIVE",
    "Suggestion",
    "by_id",
    "by_ids",
    "count_for",
    "current",
    "recent_texts_of_requester",
    "record_trigger",
    "set_card",
    "suggestions_for",
    "triggers_for",
]

ACTIVE = ("open", "acknowledged")  # an escalation the tier still has


def by_id(session: Session, escalation_id: int) -> Escalation | None:
    return session.get(Escalation, escalation_id, populate_existing=True)


def by_ids(session: Session, ids: list[int]) -> dict[int, Escalation]:
    rows = session.exec(select(Escalation).where(col(Escalation.id).in_(ids))).all()
    return {row.id: row for row in rows if row.id is not None}


def current(session: Session, ticket_id: int) -> Escalation | None:
    """The ticket's escalation that a tier still has, if any (at most one: a new one supersedes it)."""
    statement = (
        select(Escalation)
        .where(col(Escalation.ticket_id) == ticket_id, col(Escalation.status).in_(ACTIVE))
        .order_by(col(Escalation.level).desc())
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def count_for(session: Session, ticket_id: int) -> int:
    """How many times the ticket has been escalated (its last escalation's level)."""
    statement = select(func.max(Escalation.level)).where(col(Escalation.ticket_id) == ticket_id)
    return int(session.exec(statement).one() or 0)


def set_card(session: Session, escalation_id: int, channel: str, ts: str) -> None:
    escalation = session.get(Escalation, escalation_id)
    if escalation is not None:
        escalation.card_channel, escalation.card_ts = channel, ts
        session.add(escalation)


def triggers_for(session: Session, ticket_id: int) -> list[EscalationTrigger]:
    statement = select(EscalationTrigger).where(col(EscalationTrigger.ticket_id) == ticket_id)
    return list(session.exec(statement.order_by(col(EscalationTrigger.id))).all())


class Suggestion(NamedTuple):
    """A matrix trigger whose action is to suggest escalating (what a ticket's card offers)."""

    trigger: str
    tier: str
    reason: str


def suggestions_for(session: Session, ticket_id: int) -> list[Suggestion]:
    """The matrix's suggestions for the ticket. Read for every card the worker renders, so plain
    rows from a statement built once."""
    return [Suggestion(*row) for row in session.execute(_SUGGESTIONS, {"ticket": ticket_id})]


_TRIGGERS = EscalationTrigger.__table__  # type: ignore[attr-defined]
_SUGGESTIONS = (
    sa_select(_TRIGGERS.c.trigger, _TRIGGERS.c.tier, _TRIGGERS.c.reason)
    .where(_TRIGGERS.c.ticket_id == bindparam("ticket"), _TRIGGERS.c.action == "suggest")
    .order_by(_TRIGGERS.c.id)
)


def record_trigger(
    session: Session, *, ticket_id: int, trigger: str, action: str, tier: str, reason: str, now: datetime
) -> bool:
    """Record that `trigger` matched the ticket; False if it had already (each trigger acts once)."""
    values = {"ticket_id": ticket_id, "trigger": trigger, "action": action, "tier": tier, "reason": reason, "at": now}
    return insert_if_absent(session, EscalationTrigger, values, unique=("ticket_id", "trigger")) is not None


def recent_texts_of_requester(
    session: Session, requester_id: str, *, since: datetime, exclude: int, limit: int = 50
) -> list[str]:
    """Title and description of the requester's latest tickets since `since` (not `exclude`)."""
    rows = session.execute(_RECENT, {"requester": requester_id, "since": since, "exclude": exclude, "limit": limit})
    return [f"{title}\n{description}" for title, description in rows]


# Built once, on the table: this runs for every new ticket, and the ORM's per-call work cost more
# than the indexed lookup itself.
_TICKETS = Ticket.__table__  # type: ignore[attr-defined]
_RECENT = (
    sa_select(_TICKETS.c.title, _TICKETS.c.description)
    .where(
        _TICKETS.c.requester_id == bindparam("requester"),
        _TICKETS.c.created_at >= bindparam("since", type_=UTCDateTime()),
        _TICKETS.c.id != bindparam("exclude"),
    )
    .order_by(_TICKETS.c.id.desc())
    .limit(bindparam("limit"))
)
