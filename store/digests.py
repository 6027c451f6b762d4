"""Digest queries: claiming a digest slot, and the counts a digest shows, aggregated in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.core.digest import Listed, Snapshot
from store.db import insert_if_absent
from store.models import Bug, BugLink, Digest, Escalation, Incident, Surge, SurgeMember, Ticket

__all__ = ["OPEN_STATUSES", "Backlog", "claim", "open_backlog", "previous_due", "snapshot"]

OPEN_STATUSES = ("NEW", "OPEN", "PENDING", "ESCALATED")
AT_RISK_WITHIN = timedelta(hours=1)
LISTED = 10


def claim(session: Session, values: dict[str, Any]) -> int | None:
    """Record the digest for its (kind, slot); None when another process (or an earlier sweep)
    already did: that one posts it."""
    new_id = insert_if_absent(session, Digest, values, unique=("kind", "slot"))
    return int(new_id) if new_id is not None else None


def previous_due(session: Session, before: datetime) -> datetime | None:
    """When the last daily digest before `before` was due (what "new since" counts from)."""
    statement = select(func.max(Digest.due_at)).where(Digest.kind == "daily", col(Digest.due_at) < before)
    return session.exec(statement).one()


@dataclass(frozen=True)
class Backlog:
    """Open tickets of one priority: how many, how many breached, how many at risk."""

    open: int
    breached: int
    at_risk: int


def open_backlog(session: Session, *, now: datetime) -> dict[str, Backlog]:
    """The open backlog's three counts by priority in one pass over ix_tickets_open_board (the
    digest's counts, and the `/metrics` gauges). At risk: not breached, with a running clock due
    within the hour."""
    is_open = col(Ticket.status).in_(OPEN_STATUSES)
    rows = session.execute(
        sa_select(col(Ticket.priority), func.count(), _sum_of(_breached()), _sum_of(_at_risk(now)))
        .where(is_open)
        .group_by(Ticket.priority)
    ).all()
    return {
        str(priority): Backlog(open=int(count), breached=int(breached or 0), at_risk=int(at_risk or 0))
        for priority, count, breached, at_risk in rows
    }


# The flag itself as the condition (not `IS TRUE`): PostgreSQL reads `breached` and `NOT breached`
# from ix_tickets_open_board, while `IS TRUE` sent it to every row of the table.
def _breached() -> Any:
    return col(Ticket.breached)


def _at_risk(now: datetime) -> Any:
    return and_(
        ~col(Ticket.breached),
        or_(
            and_(
                col(Ticket.first_response_running_since).is_not(None),
                col(Ticket.first_response_due) <= now + AT_RISK_WITHIN,
            ),
            and_(col(Ticket.resolution_running_since).is_not(None), col(Ticket.resolution_due) <= now + AT_RISK_WITHIN),
        ),
    )


def snapshot(session: Session, *, day: date, since: datetime, now: datetime) -> Snapshot:
    is_open = col(Ticket.status).in_(OPEN_STATUSES)
    new = and_(col(Ticket.created_at) >= since, col(Ticket.created_at) <= now)
    at_risk = and_(is_open, _at_risk(now))
    breached = and_(is_open, _breached())
    backlog = open_backlog(session, now=now)
    categories = session.execute(
        sa_select(col(Ticket.category), func.count())
        .where(new)
        .group_by(Ticket.category)
        .order_by(func.count().desc(), col(Ticket.category))
    ).all()
    return Snapshot(
        day=day,
        since=since,
        new=sum(int(count) for _, count in categories),
        new_tickets=_tickets(session, new, order=("priority", "created_at")),
        open_by_priority={priority: counts.open for priority, counts in backlog.items()},
        breached=sum(counts.breached for counts in backlog.values()),
        breached_tickets=_tickets(session, breached, order=("priority", "resolution_due")),
        at_risk=sum(counts.at_risk for counts in backlog.values()),
        at_risk_tickets=_tickets(session, at_risk, order=("resolution_due",)),
        awaiting_ack=int(
            session.exec(select(func.count()).select_from(Escalation).where(Escalation.status == "open")).one()
        ),
        awaiting_ack_list=_awaiting_ack(session),
        oldest_open=_tickets(session, is_open, order=("created_at",), limit=3),
        top_categories=tuple((str(name), int(count)) for name, count in categories if name is not None)[:5],
        bugs=_bugs(session),
        incidents_open=_incidents(session, col(Incident.status) == "open"),
        surges=_surges(session, since=since),
        incidents_resolved=_incidents(
            session, and_(col(Incident.status) == "resolved", col(Incident.resolved_at) >= since)
        ),
    )


def _sum_of(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _tickets(session: Session, condition: Any, *, order: tuple[str, ...], limit: int = LISTED) -> tuple[Listed, ...]:
    """The first `limit` tickets by the `order` columns (the last one is the time shown): chosen
    from the covering indexes alone, then only those rows read (a deferred join: sorting whole rows
    of a large backlog took most of the time)."""
    # OFFSET 0 makes the candidates a subquery of their own. Without it PostgreSQL, expecting
    # matches everywhere, walked an index in `order` and tested row after row: the open tickets sit
    # at one end of ix_tickets_created_at, so finding the oldest three read 900,000 closed ones.
    candidates = (
        sa_select(col(Ticket.id), *(col(getattr(Ticket, name)) for name in order)).where(condition).offset(0).subquery()
    )
    chosen = sa_select(candidates.c.id).order_by(*(candidates.c[name] for name in order)).limit(limit)
    columns: list[Any] = [Ticket.number, Ticket.title, Ticket.priority, Ticket.owner_id, getattr(Ticket, order[-1])]
    rows = session.execute(  # five columns: past the typed overloads of `select`
        sa_select(*columns).where(col(Ticket.id).in_(chosen)).order_by(*(getattr(Ticket, name) for name in order))
    ).all()
    return tuple(Listed(f"T-{number}", title, priority, owner, at) for number, title, priority, owner, at in rows)


def _awaiting_ack(session: Session) -> tuple[Listed, ...]:
    columns: list[Any] = [Ticket.number, Ticket.title, Ticket.priority, Escalation.tier, Escalation.created_at]
    rows = session.execute(
        sa_select(*columns)
        .select_from(Escalation)
        .join(Ticket, col(Ticket.id) == col(Escalation.ticket_id))
        .where(col(Escalation.status) == "open")
        .order_by(col(Escalation.created_at))
        .limit(LISTED)
    ).all()
    return tuple(Listed(f"T-{n}", title, priority, None, at, detail=str(tier)) for n, title, priority, tier, at in rows)


def _bugs(session: Session) -> tuple[Listed, ...]:
    linked = func.count(col(BugLink.id))
    rows = session.exec(
        select(Bug.number, Bug.title, Bug.priority, linked)
        .join(BugLink, col(BugLink.bug_id) == col(Bug.id), isouter=True)
        .where(Bug.status == "open")
        .group_by(col(Bug.id), col(Bug.number), col(Bug.title), col(Bug.priority))
        .order_by(linked.desc(), col(Bug.number))
        .limit(5)
    ).all()
    return tuple(Listed(f"BUG-{n}", title, priority, detail=str(count)) for n, title, priority, count in rows)


def _incidents(session: Session, condition: Any) -> tuple[Listed, ...]:
    rows = session.exec(
        select(Incident.number, Incident.title, Incident.severity, Incident.created_at)
        .where(condition)
        .order_by(col(Incident.number))
        .limit(LISTED)
    ).all()
    return tuple(Listed(f"INC-{n}", title, severity, None, at) for n, title, severity, at in rows)


def _surges(session: Session, *, since: datetime) -> tuple[Listed, ...]:
    """Surges that grew since `since`: their first member's title, and every member's ref."""
    found = session.exec(
        select(Surge).where(col(Surge.last_member_at) >= since).order_by(col(Surge.number)).limit(5)
    ).all()
    listed = []
    for surge in found:
        members = session.exec(
            select(Ticket.number, Ticket.title)
            .join(SurgeMember, col(SurgeMember.ticket_id) == col(Ticket.id))
            .where(SurgeMember.surge_id == surge.id)
            .order_by(col(Ticket.number))
        ).all()
        if members:
            refs = ", ".join(f"T-{number}" for number, _ in members[:15])
            listed.append(Listed(f"Surge {surge.number}", members[0][1], when=surge.created_at, detail=refs))
    return tuple(listed)
