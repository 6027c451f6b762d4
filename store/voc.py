"""What the weekly voice-of-the-customer reads: the period's tickets with their embeddings, its
categories, and its frustrated customers' words."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.models import Ticket, TicketVector

__all__ = ["categories", "frustrated", "root_causes", "texts_with_vectors"]


def texts_with_vectors(session: Session, *, start: datetime, end: datetime) -> list[tuple[int, str, bytes]]:
    """(number, title, vector) of each ticket created in [start, end) that has its embedding."""
    statement = (
        select(Ticket.number, Ticket.title, TicketVector.vector)
        .join(TicketVector, col(TicketVector.ticket_id) == col(Ticket.id))
        .where(col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
        .order_by(col(Ticket.number))
    )
    return [(int(n), str(title), bytes(vector)) for n, title, vector in session.exec(statement).all()]


def categories(session: Session, *, start: datetime, end: datetime, limit: int = 8) -> list[tuple[str, int]]:
    statement = (
        select(Ticket.category, func.count())
        .where(col(Ticket.created_at) >= start, col(Ticket.created_at) < end, col(Ticket.category).is_not(None))
        .group_by(Ticket.category)
        .order_by(func.count().desc(), col(Ticket.category))
        .limit(limit)
    )
    return [(str(name), int(count)) for name, count in session.exec(statement).all()]


def frustrated(session: Session, *, start: datetime, end: datetime, limit: int = 3) -> list[str]:
    """The newest words of customers who were angry or frustrated (sentiment negative or urgent)."""
    statement = (
        select(Ticket.description)
        .where(col(Ticket.created_at) >= start, col(Ticket.created_at) < end, col(Ticket.sentiment) == "negative")
        .order_by(col(Ticket.created_at).desc())
        .limit(limit)
    )
    return [str(text) for text in session.exec(statement).all()]


def root_causes(session: Session, *, start: datetime, end: datetime) -> list[tuple[str | None, int]]:
    """Tickets solved in [start, end) by recorded root cause, most first; None counts the solved
    tickets nobody classified."""
    statement = (
        select(Ticket.root_cause, func.count())
        .where(col(Ticket.solved_at) >= start, col(Ticket.solved_at) < end)
        .group_by(Ticket.root_cause)
        .order_by(func.count().desc(), col(Ticket.root_cause))
    )
    return [(None if cause is None else str(cause), int(count)) for cause, count in session.exec(statement).all()]
