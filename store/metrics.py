"""Support metrics measured in SQL: counts, averages and percentiles are computed by the database
(a percentile is one ordered, offset read), never by walking rows in Python."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, cast, exists, func, literal_column, text
from sqlalchemy import Float as SqlFloat
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.core.metrics import Durations, Metrics
from store.models import AUDIT_STATUS_CHANGES, AuditEvent, Comment, CsatRating, Escalation, Ticket

__all__ = ["measure"]

OPEN_STATUSES = ("NEW", "OPEN", "PENDING", "ESCALATED")
_DONE = ("SOLVED", "CLOSED")


def _seconds(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """`later - earlier` in seconds, on either backend."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier), SqlFloat)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _durations(session: Session, value: Any, where: ColumnElement[bool], *, count: int, average: Any) -> Durations:
    """Average, median and 95th percentile of `value` over the rows `where` says, given their count
    and average (read beside other figures in one pass)."""
    if not count:
        return Durations()
    return Durations(
        count=int(count),
        average=float(average),
        median=_percentile(session, value, where, count=int(count), q=0.5),
        p95=_percentile(session, value, where, count=int(count), q=0.95),
    )


def _percentile(
    session: Session, value: ColumnElement[Any], where: ColumnElement[bool], *, count: int, q: float
) -> float:
    """The nearest-rank percentile: the value at rank ceil(q·n), read with one ordered query."""
    rank = max(int(-(-q * count // 1)), 1)
    statement = select(value).where(where, value.is_not(None)).order_by(value).offset(rank - 1).limit(1)
    return float(session.execute(statement).scalar_one())


def _met_and_missed() -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """Per ticket, how many of its two SLA clocks were met and how many breached."""
    met = case(
        (and_(col(Ticket.first_response_stopped_at).is_not(None), col(Ticket.first_response_breached).is_(False)), 1),
        else_=0,
    ) + case(
        (and_(col(Ticket.resolution_stopped_at).is_not(None), col(Ticket.resolution_breached).is_(False)), 1), else_=0
    )
    missed = case((col(Ticket.first_response_breached).is_(True), 1), else_=0) + case(
        (col(Ticket.resolution_breached).is_(True), 1), else_=0
    )
    return met, missed


def measure(session: Session, *, start: datetime, end: datetime) -> Metrics:
    """The period's figures. The tickets created in it are read in one pass over
    ix_tickets_created_metrics and those solved in it in one over ix_tickets_solved_metrics; each
    percentile is one more ordered read of the same index."""
    created_in = and_(col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
    solved_in = and_(col(Ticket.solved_at) >= start, col(Ticket.solved_at) < end)
    responded = and_(created_in, col(Ticket.first_responded_at).is_not(None))
    responded_on_clock = and_(responded, col(Ticket.first_response_stopped_at).is_not(None))
    resolved = and_(solved_in, col(Ticket.resolution_stopped_at).is_not(None))
    first_response = _seconds(session, col(Ticket.first_responded_at), col(Ticket.created_at))
    resolution = _seconds(session, col(Ticket.solved_at), col(Ticket.created_at))
    first_response_sla = case(
        (and_(col(Ticket.first_responded_at).is_not(None), col(Ticket.first_response_stopped_at).is_not(None)),
         col(Ticket.first_response_used_s)),
    )  # fmt: skip
    resolution_sla = case((col(Ticket.resolution_stopped_at).is_not(None), col(Ticket.resolution_used_s)))
    met, missed = _met_and_missed()

    def count(where: Any, model: Any = Ticket) -> int:
        return int(session.exec(select(func.count()).select_from(model).where(where)).one())

    created, sla_met, sla_missed, responses, response_avg, on_clock, on_clock_avg = session.execute(
        sa_select(
            func.count(), func.sum(met), func.sum(missed),
            func.count(first_response), func.avg(cast(first_response, SqlFloat)),
            func.count(first_response_sla), func.avg(cast(first_response_sla, SqlFloat)),
        ).where(created_in)
    ).one()  # fmt: skip
    solved, resolutions, resolution_avg, resolved_on_clock, resolved_on_clock_avg = session.execute(
        sa_select(
            func.count(), func.count(resolution), func.avg(cast(resolution, SqlFloat)),
            func.count(resolution_sla), func.avg(cast(resolution_sla, SqlFloat)),
        ).where(solved_in)
    ).one()  # fmt: skip
    agent_replies = (
        select(func.count())
        .select_from(Comment)
        .where(Comment.ticket_id == Ticket.id, Comment.role == "agent")
        .scalar_subquery()
    )
    reopenings = and_(
        col(AuditEvent.entity_type) == "ticket",
        col(AuditEvent.field) == "status",
        col(AuditEvent.before).in_(_DONE),
        col(AuditEvent.after).not_in(_DONE),
    )
    ever_reopened = exists().where(reopenings, col(AuditEvent.entity_id) == Ticket.id)
    # The reopen rate, in one pass over the period's status changes grouped by ticket: solved (or
    # closed) in the period, and of those, reopened in it.
    is_ticket = col(AuditEvent.entity_type) == "ticket"
    if session.get_bind().dialect.name == "sqlite":
        # Without statistics SQLite would take the (entity_type, entity_id) index, the equality
        # looking more selective than the period, and read every ticket event ever; marked as
        # unselective, the term leaves it the covering index of status changes by time.
        is_ticket = func.likelihood(is_ticket, literal_column("0.9"))
    status_changes = and_(
        text(AUDIT_STATUS_CHANGES),  # written out, not bound: SQLite then sees the partial index applies
        is_ticket,
        col(AuditEvent.at) >= start,
        col(AuditEvent.at) < end,
    )
    solve = and_(col(AuditEvent.before).not_in(_DONE), col(AuditEvent.after).in_(_DONE))
    bounce = and_(col(AuditEvent.before).in_(_DONE), col(AuditEvent.after).not_in(_DONE))
    per_ticket = (
        select(
            func.max(case((solve, 1), else_=0)).label("solved"),
            func.max(case((bounce, 1), else_=0)).label("bounced"),
        )
        .where(status_changes)
        .group_by(col(AuditEvent.entity_id))
        .subquery()
    )
    solved_any, reopened = session.execute(
        select(func.sum(per_ticket.c.solved), func.sum(per_ticket.c.solved * per_ticket.c.bounced))
    ).one()
    escalated = exists().where(col(Escalation.ticket_id) == Ticket.id)
    rated_in = and_(col(CsatRating.rated_at) >= start, col(CsatRating.rated_at) < end)
    satisfied = func.sum(case((col(CsatRating.rating) >= 4, 1), else_=0))
    csat_average, csat_count, csat_satisfied = session.execute(
        select(func.avg(cast(col(CsatRating.rating), SqlFloat)), func.count(), satisfied).where(rated_in)
    ).one()
    return Metrics(
        start=start,
        end=end,
        created=int(created),
        solved=int(solved),
        first_response=_durations(session, first_response, responded, count=responses, average=response_avg),
        first_response_sla=_durations(
            session,
            col(Ticket.first_response_used_s),
            responded_on_clock,
            count=on_clock,
            average=on_clock_avg,
        ),
        resolution=_durations(session, resolution, solved_in, count=resolutions, average=resolution_avg),
        resolution_sla=_durations(
            session,
            col(Ticket.resolution_used_s),
            resolved,
            count=resolved_on_clock,
            average=resolved_on_clock_avg,
        ),
        sla_achieved=int(sla_met or 0),
        sla_breached=int(sla_missed or 0),
        backlog=count(col(Ticket.status).in_(OPEN_STATUSES)),
        fcr_count=count(and_(solved_in, agent_replies <= 1, ~ever_reopened)),
        escalated=count(and_(created_in, escalated)),
        reopened=int(reopened or 0),
        solved_any=int(solved_any or 0),
        csat_average=float(csat_average) if csat_average is not None else None,
        csat_count=int(csat_count),
        csat_satisfied=int(csat_satisfied or 0),
    )


def daily(session: Session, *, start: datetime, end: datetime) -> list[tuple[str, int, int, int]]:
    """Per UTC day of creation in [start, end): (YYYY-MM-DD, tickets created, SLA clocks met,
    SLA clocks breached), one grouped query; days without tickets are absent."""
    created = col(Ticket.created_at)
    day = (
        func.to_char(func.timezone("UTC", created), "YYYY-MM-DD")
        if session.get_bind().dialect.name == "postgresql"
        else func.date(created)
    )
    met, missed = _met_and_missed()
    rows = session.execute(
        select(day, func.count(), func.sum(met), func.sum(missed))
        .where(created >= start, created < end)
        .group_by(day)
        .order_by(day)
    ).all()
    return [(str(d), int(n), int(a or 0), int(b or 0)) for d, n, a, b in rows]
