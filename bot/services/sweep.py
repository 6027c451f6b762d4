"""The sweep over due timers: claim a batch, act on each timer in its own transaction.

Claims are committed before acting (a conditional update; `FOR UPDATE SKIP LOCKED` on PostgreSQL),
so several workers split the due timers between them; the action re-reads its timer under the
ticket's row lock and skips one that another process fired meanwhile. A process killed mid-batch
leaves its claims to another after the lease.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import Engine

from bot.services import nudges, sla
from bot.services.policy import Policy
from store import tickets, timers
from store.db import session_scope

__all__ = ["SweepReport", "fire_due_timers"]

log = structlog.get_logger(__name__)


@dataclass
class SweepReport:
    fired: int = 0
    rescheduled: int = 0
    failed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def fire_due_timers(engine: Engine, policy: Policy, *, worker: str, now: datetime, batch: int = 100) -> SweepReport:
    """Act on every timer due at `now`."""
    report = SweepReport()
    while True:
        with session_scope(engine) as session:
            claimed = [timer.id for timer in timers.claim_due(session, worker=worker, now=now, limit=batch)]
        if not claimed:
            return report
        for timer_id in claimed:
            assert timer_id is not None
            try:
                _fire(engine, policy, timer_id, now, report)
            except Exception:  # one bad timer must not stop the others; its claim lapses and it is retried
                report.failed += 1
                log.exception("timer_failed", timer_id=timer_id)


def _fire(engine: Engine, policy: Policy, timer_id: int, now: datetime, report: SweepReport) -> None:
    with session_scope(engine) as session:
        timer = timers.get(session, timer_id)
        if timer is None or timer.fired_at is not None:
            return
        if timer.kind != sla.TIMER_KIND:
            timers.mark_fired(session, timer, now=now, outcome=f"unknown kind {timer.kind}")
            return
        # Lock the ticket first, as every change to it does, then read the timer again: a process
        # that fired it meanwhile held this lock, and its commit is visible now.
        ticket = tickets.by_id(session, timer.subject_id, for_update=True)
        timer = timers.get(session, timer_id)
        if timer is None or timer.fired_at is not None:
            return
        # Fired before acting: an action that re-plans the ticket's timers (closing it, say) keeps it.
        timers.mark_fired(session, timer, now=now, outcome="acting")
        session.flush()
        outcome = nudges.act(session, policy, timer, ticket, now=now)
        if isinstance(outcome, nudges.Reschedule):
            timer.fired_at, timer.outcome, timer.due_at = None, None, outcome.when
            timers.release(session, timer)
            report.rescheduled += 1
            return
        timers.mark_fired(session, timer, now=now, outcome=outcome)
        report.fired += 1
        report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
