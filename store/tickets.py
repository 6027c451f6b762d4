"""Ticket queries."""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import Session, col, select

from store.models import Ticket

__all__ = ["by_id", "by_number", "by_source", "iter_all", "set_card"]


def by_number(session: Session, number: int, *, for_update: bool = False) -> Ticket | None:
    """`for_update` locks the row until commit (PostgreSQL), so two changes to one ticket queue
    instead of overwriting each other; SQLite's single writer gives the same."""
    statement = select(Ticket).where(Ticket.number == number)
    if for_update and session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return session.exec(statement).first()


def by_source(session: Session, channel: str, ts: str) -> Ticket | None:
    """The ticket made from the message `ts` in `channel`, if any."""
    return session.exec(select(Ticket).where(Ticket.source_channel == channel, Ticket.source_ts == ts)).first()


def by_id(session: Session, ticket_id: int) -> Ticket | None:
    return session.get(Ticket, ticket_id)


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
    ticket = session.get(Ticket, ticket_id)
    if ticket is not None:
        ticket.card_channel, ticket.card_ts = channel, ts
        session.add(ticket)
