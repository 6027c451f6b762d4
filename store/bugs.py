"""Bug queries: bugs by number, their linked tickets, and every bug for exports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlmodel import Session, col, select

from store.models import Bug, BugLink, Ticket

__all__ = ["add_link", "by_id", "by_number", "iter_all", "link_of", "link_times", "linked_tickets", "set_card"]


def by_number(session: Session, number: int, *, for_update: bool = False) -> Bug | None:
    """`for_update` locks the row until commit on PostgreSQL (SQLite's single writer gives the same),
    so two links to one bug queue instead of both deciding it is the tenth."""
    statement = select(Bug).where(Bug.number == number)
    if for_update and session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return session.exec(statement.execution_options(populate_existing=for_update)).first()


def by_id(session: Session, bug_id: int) -> Bug | None:
    return session.get(Bug, bug_id)


def link_of(session: Session, bug_id: int, ticket_id: int) -> BugLink | None:
    statement = select(BugLink).where(BugLink.bug_id == bug_id, BugLink.ticket_id == ticket_id)
    return session.exec(statement).first()


def add_link(session: Session, *, bug_id: int, ticket_id: int, actor: str, now: datetime) -> BugLink:
    link = BugLink(bug_id=bug_id, ticket_id=ticket_id, linked_by=actor, linked_at=now)
    session.add(link)
    session.flush()
    return link


def link_times(session: Session, bug_id: int) -> list[datetime]:
    statement = select(BugLink.linked_at).where(BugLink.bug_id == bug_id)
    return list(session.exec(statement).all())


def linked_tickets(session: Session, bug_id: int) -> list[Ticket]:
    """The bug's tickets in the order they were linked."""
    statement = (
        select(Ticket)
        .join(BugLink, col(BugLink.ticket_id) == col(Ticket.id))
        .where(BugLink.bug_id == bug_id)
        .order_by(col(BugLink.linked_at), col(BugLink.id))
    )
    return list(session.exec(statement).all())


def iter_all(session: Session, *, batch: int = 500) -> Iterator[Bug]:
    """Every bug in number order, fetched in batches."""
    last = 0
    while True:
        rows = session.exec(select(Bug).where(Bug.number > last).order_by(col(Bug.number)).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].number


def set_card(session: Session, bug_id: int, channel: str, ts: str) -> None:
    bug = session.get(Bug, bug_id)
    if bug is not None:
        bug.card_channel, bug.card_ts = channel, ts
        session.add(bug)
