"""Queries for surge detection: ticket vectors, surges and their members."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from store import counters
from store.models import Surge, SurgeMember, Ticket, TicketVector

__all__ = [
    "Member",
    "StoredVector",
    "Unchecked",
    "add_member",
    "add_vector",
    "by_id",
    "create",
    "has_vector",
    "last_vector_id",
    "members_of",
    "serialise_checks",
    "set_alert",
    "set_incident",
    "surges_between",
    "ticket_numbers",
    "touch",
    "unchecked",
    "vectors_after",
]


@dataclass(frozen=True)
class Unchecked:
    ticket_id: int
    text: str
    requester: str
    category: str | None
    created_at: datetime


@dataclass(frozen=True)
class StoredVector:
    vector_id: int
    ticket_id: int
    requester: str
    topic: str | None
    created_at: datetime
    vector: bytes


@dataclass(frozen=True)
class Member:
    ticket_id: int
    number: int
    title: str
    requester: str | None
    created_at: datetime


def serialise_checks(session: Session) -> None:
    """Surge checks run one at a time across processes: each takes this row's lock (PostgreSQL; the
    write lock on SQLite) until it commits, so two tickets arriving at once are checked one after
    the other and the second sees the first — never two alerts for one surge."""
    counters.next_value(session, "surge-check")


def unchecked(session: Session, *, since: datetime, limit: int) -> list[Unchecked]:
    """Tickets created since `since` that have no vector yet (not yet through the check), oldest first."""
    rows = session.execute(
        sa_select(
            col(Ticket.id),
            col(Ticket.title),
            col(Ticket.description),
            col(Ticket.requester_id),
            col(Ticket.created_by),
            col(Ticket.category),
            col(Ticket.created_at),
        )
        .where(
            col(Ticket.created_at) >= since,
            # NOT EXISTS, so PostgreSQL probes the unique index instead of reading every vector
            ~sa_select(col(TicketVector.id)).where(col(TicketVector.ticket_id) == Ticket.id).exists(),
        )
        .order_by(col(Ticket.created_at), col(Ticket.id))
        .limit(limit)
    ).all()
    found = []
    for ticket_id, title, description, requester, created_by, category, created_at in rows:
        assert ticket_id is not None
        text = description if description.startswith(title.removesuffix("…")) else f"{title}\n{description}"
        found.append(Unchecked(ticket_id, text, requester or created_by, category, created_at))
    return found


def has_vector(session: Session, ticket_id: int) -> bool:
    return session.exec(select(TicketVector.id).where(TicketVector.ticket_id == ticket_id)).first() is not None


def vectors_after(session: Session, *, after_id: int, model: str, since: datetime) -> list[StoredVector]:
    """Vectors stored after `after_id` (in the order they were stored) of tickets created since `since`.
    Vectors are only written under the surge-check lock, so their ids rise in commit order."""
    rows = session.execute(
        sa_select(
            col(TicketVector.id),
            col(Ticket.id),
            col(Ticket.requester_id),
            col(Ticket.created_by),
            col(TicketVector.topic),
            col(Ticket.created_at),
            col(TicketVector.vector),
        )
        .join(Ticket, col(Ticket.id) == TicketVector.ticket_id)
        .where(col(TicketVector.id) > after_id, col(TicketVector.model) == model, col(Ticket.created_at) >= since)
        .order_by(col(TicketVector.id))
    ).all()
    return [
        StoredVector(vector_id, ticket_id, requester or created_by, topic, created_at, vector)
        for vector_id, ticket_id, requester, created_by, topic, created_at, vector in rows
    ]


def last_vector_id(session: Session) -> int:
    return int(session.execute(sa_select(func.max(col(TicketVector.id)))).scalar() or 0)


def surges_between(session: Session, *, start: datetime, end: datetime) -> dict[int, int]:
    """Ticket id → surge id for the surge members created in [start, end]."""
    # From the surges whose last member came after `start` (an indexed handful), not from the
    # window's thousands of tickets: PostgreSQL otherwise read every ticket in the window.
    live = sa_select(col(Surge.id)).where(col(Surge.last_member_at) >= start)
    rows = session.execute(
        sa_select(col(SurgeMember.ticket_id), col(SurgeMember.surge_id))
        .join(Ticket, col(Ticket.id) == SurgeMember.ticket_id)
        .where(col(SurgeMember.surge_id).in_(live), col(Ticket.created_at) >= start, col(Ticket.created_at) <= end)
    ).all()
    return {int(ticket_id): int(surge_id) for ticket_id, surge_id in rows}


def add_vector(
    session: Session, *, ticket_id: int, model: str, topic: str | None, vector: bytes, now: datetime
) -> None:
    session.add(TicketVector(ticket_id=ticket_id, model=model, topic=topic, vector=vector, created_at=now))


def create(session: Session, *, now: datetime, last_member_at: datetime) -> Surge:
    surge = Surge(number=counters.next_value(session, "surge"), created_at=now, last_member_at=last_member_at)
    session.add(surge)
    session.flush()
    return surge


def add_member(session: Session, surge: Surge, ticket_id: int, *, now: datetime) -> None:
    assert surge.id is not None
    session.add(SurgeMember(surge_id=surge.id, ticket_id=ticket_id, joined_at=now))


def touch(session: Session, surge: Surge, created_at: datetime) -> None:
    surge.last_member_at = max(surge.last_member_at, created_at)
    session.add(surge)


def by_id(session: Session, surge_id: int, *, for_update: bool = False) -> Surge | None:
    query = select(Surge).where(Surge.id == surge_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def members_of(session: Session, surge_id: int, *, ticket_id: int | None = None) -> list[Member]:
    """The surge's tickets in the order they were created (only `ticket_id`'s, when given)."""
    query = (
        sa_select(
            col(SurgeMember.ticket_id),
            col(Ticket.number),
            col(Ticket.title),
            col(Ticket.requester_id),
            col(Ticket.created_at),
        )
        .join(SurgeMember, col(SurgeMember.ticket_id) == Ticket.id)
        .where(col(SurgeMember.surge_id) == surge_id)
        .order_by(col(Ticket.created_at), col(Ticket.number))
    )
    if ticket_id is not None:
        query = query.where(col(SurgeMember.ticket_id) == ticket_id)
    return [Member(*row) for row in session.execute(query).all()]


def set_alert(session: Session, surge_id: int, channel: str, ts: str) -> None:
    session.execute(update(Surge).where(col(Surge.id) == surge_id).values(alert_channel=channel, alert_ts=ts))


def set_incident(session: Session, surge_id: int, *, incident_id: int, actor: str) -> bool:
    """Record the incident started from the surge; False when one already was (the first wins)."""
    result = session.execute(
        update(Surge)
        .where(col(Surge.id) == surge_id, col(Surge.incident_id).is_(None))
        .values(incident_id=incident_id, incident_by=actor)
    )
    return bool(getattr(result, "rowcount", 0))


def ticket_numbers(session: Session, surge_id: int) -> Sequence[int]:
    return [member.number for member in members_of(session, surge_id)]
