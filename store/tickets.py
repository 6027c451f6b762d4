"""Ticket queries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from store.db import id_in
from store.models import Comment, Ticket

__all__ = [
    "OPEN_STATUSES",
    "TicketQuery",
    "by_id",
    "by_number",
    "by_source",
    "comments_for",
    "iter_all",
    "number_and_description",
    "number_by_source",
    "search",
    "set_card",
]


def by_number(session: Session, number: int, *, for_update: bool = False) -> Ticket | None:
    """`for_update` locks the row until commit (PostgreSQL), so two changes to one ticket queue
    instead of overwriting each other; SQLite's single writer gives the same."""
    statement = select(Ticket).where(Ticket.number == number)
    if for_update and session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return session.exec(statement).first()


def by_source(session: Session, channel: str, ts: str, *, for_update: bool = False) -> Ticket | None:
    """The ticket made from the message `ts` in `channel`, if any; `for_update` as in `by_number`."""
    statement = select(Ticket).where(Ticket.source_channel == channel, Ticket.source_ts == ts)
    if for_update and session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return session.exec(statement).first()


def number_by_source(session: Session, channel: str, ts: str) -> int | None:
    """The number of the ticket made from the message, if any: the intake path asks this of every
    new message, so it reads one column with a statement built once."""
    return session.execute(_NUMBER_BY_SOURCE, {"channel": channel, "ts": ts}).scalar()


_TICKETS = Ticket.__table__  # type: ignore[attr-defined]
_NUMBER_BY_SOURCE = sa_select(_TICKETS.c.number).where(
    _TICKETS.c.source_channel == bindparam("channel"), _TICKETS.c.source_ts == bindparam("ts")
)


def by_id(session: Session, ticket_id: int, *, for_update: bool = False) -> Ticket | None:
    if for_update and session.get_bind().dialect.name == "postgresql":
        return session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)
    return session.get(Ticket, ticket_id)


def by_ids_for_update(session: Session, ids: list[int]) -> dict[int, Ticket]:
    """The tickets, locked until commit on PostgreSQL (in id order, so two lockers never deadlock)."""
    statement = select(Ticket).where(id_in(Ticket.id, ids)).order_by(col(Ticket.id))
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    rows = session.exec(statement.execution_options(populate_existing=True)).all()
    return {ticket.id: ticket for ticket in rows if ticket.id is not None}


def unfinished_after(session: Session, number: int, *, limit: int) -> list[Ticket]:
    """Up to `limit` tickets that are not CLOSED, numbered after `number`, in number order."""
    statement = (
        select(Ticket)
        .where(col(Ticket.number) > number, col(Ticket.status) != "CLOSED")
        .order_by(col(Ticket.number))
        .limit(limit)
    )
    return list(session.exec(statement).all())


def iter_all(session: Session, *, batch: int = 500) -> Iterator[Ticket]:
    """Every ticket in number order, fetched in batches so exports of any size stay small in memory."""
    last = 0
    while True:
        rows = session.exec(select(Ticket).where(Ticket.number > last).order_by(col(Ticket.number)).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].number


def set_card(session: Session, ticket_id: int, channel: str, ts: str) -> None:
    """Where the ticket's card is (a Core update: the worker records this for every card it posts)."""
    session.connection().execute(
        update(_TICKETS).where(_TICKETS.c.id == ticket_id).values(card_channel=channel, card_ts=ts)
    )
    ticket = session.identity_map.get(session.identity_key(Ticket, ticket_id))  # one already loaded stays true
    if isinstance(ticket, Ticket):
        set_committed_value(ticket, "card_channel", channel)
        set_committed_value(ticket, "card_ts", ts)


def number_and_description(session: Session, ticket_id: int) -> tuple[int, str] | None:
    row = session.execute(
        sa_select(_TICKETS.c.number, _TICKETS.c.description).where(_TICKETS.c.id == ticket_id)
    ).first()
    return (int(row[0]), str(row[1])) if row is not None else None


OPEN_STATUSES = ("NEW", "OPEN", "PENDING", "ESCALATED")


@dataclass(frozen=True)
class TicketQuery:
    open_only: bool = True
    owner: str | None = None
    priority: str | None = None
    customer: str | None = None
    unowned: bool = False
    due_before: datetime | None = None  # the next due time (first response if none yet, else resolution)
    requested_by: str | None = None  # tickets this person asked for or opened


def search(session: Session, query: TicketQuery, *, limit: int, offset: int = 0) -> tuple[list[Ticket], int]:
    """Tickets matching `query`, most urgent first (priority, then the next due time); and the total."""
    conditions: list[Any] = []
    if query.open_only:
        conditions.append(col(Ticket.status).in_(OPEN_STATUSES))
    if query.owner:
        conditions.append(Ticket.owner_id == query.owner)
    if query.unowned:
        conditions.append(col(Ticket.owner_id).is_(None))
    if query.priority:
        conditions.append(Ticket.priority == query.priority)
    if query.customer:
        conditions.append(func.lower(Ticket.customer) == query.customer.lower())
    if query.requested_by:
        asker = query.requested_by
        conditions.append(or_(col(Ticket.requester_id) == asker, col(Ticket.created_by) == asker))
    next_due = case(
        (col(Ticket.first_responded_at).is_(None), col(Ticket.first_response_due)), else_=col(Ticket.resolution_due)
    )
    if query.due_before:
        conditions.append(next_due <= query.due_before)
    total = session.exec(select(func.count()).select_from(Ticket).where(*conditions)).one()
    rows = session.exec(
        select(Ticket)
        .where(*conditions)
        .order_by(col(Ticket.priority), next_due, col(Ticket.number))
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total)


def comments_for(session: Session, ticket_id: int) -> list[Comment]:
    """The ticket's thread replies and internal notes, oldest first."""
    statement = (
        select(Comment).where(col(Comment.ticket_id) == ticket_id).order_by(col(Comment.created_at), col(Comment.id))
    )
    return list(session.exec(statement).all())
