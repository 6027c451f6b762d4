"""A ticket's SLA clocks and timers, kept in step with the ticket (bot.core.sla, bot.core.stages).

`reconcile` is called in the transaction of every change to a ticket (creation, status, owner,
priority, first response). It derives what each clock should be doing from the ticket — running,
paused while PENDING, stopped once met or SOLVED/CLOSED — applies the difference, re-targets a
clock whose priority changed, stores the due times, and re-plans the ticket's timers, so the
clocks cannot drift from the ticket whichever path changed it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.calendar import Calendar
from bot.core.lifecycle import Status
from bot.core.sla import BREACH, Clock, ClockName, alerts
from bot.core.stages import StageLimits, stage_timers
from bot.services.policy import Policy
from store import tickets, timers
from store.db import session_scope
from store.models import Ticket

__all__ = [
    "TIMER_KIND",
    "FieldChange",
    "checkpoint",
    "clock_of",
    "mark_breached",
    "planned_timers",
    "reconcile",
    "replan_unfinished",
    "sla_timer_name",
    "status_since",
    "timer_key",
]

TIMER_KIND = "ticket"
FieldChange = tuple[str, object, object]  # (field, before, after), as the audit log records it

_DONE = frozenset({Status.SOLVED, Status.CLOSED})


def sla_timer_name(clock: ClockName, alert: str) -> str:
    return f"sla:{clock}:{alert}"


def _target(policy: Policy, ticket: Ticket, name: ClockName) -> tuple[timedelta, Calendar]:
    target = policy.sla_target(ticket.priority)
    return (target.first_response if name == ClockName.FIRST_RESPONSE else target.resolution), target.calendar


def clock_of(policy: Policy, ticket: Ticket, name: ClockName) -> tuple[Clock, Calendar]:
    """The clock as stored on the ticket, with its priority's current target and calendar."""
    target, calendar = _target(policy, ticket, name)
    clock = Clock(
        target=target,
        used=timedelta(seconds=getattr(ticket, f"{name}_used_s")),
        running_since=getattr(ticket, f"{name}_running_since"),
        stopped_at=getattr(ticket, f"{name}_stopped_at"),
    )
    return clock, calendar


def _wanted(ticket: Ticket, name: ClockName) -> str:
    if ticket.status in _DONE or (name == ClockName.FIRST_RESPONSE and ticket.first_responded_at is not None):
        return "stopped"
    return "paused" if ticket.status == Status.PENDING else "running"


def _moved(clock: Clock, wanted: str, now: datetime, calendar: Calendar) -> Clock:
    if wanted == "running":
        return clock.resume(now)
    if wanted == "paused":
        return clock.pause(now, calendar) if clock.running else Clock(clock.target, clock.used)
    return clock.stop(now, calendar)


def reconcile(
    session: Session, policy: Policy, ticket: Ticket, *, now: datetime, new: bool = False
) -> list[FieldChange]:
    """Bring the clocks and timers in line with the ticket (`new`: created in this transaction, so it
    has no timers yet); returns the SLA fields that changed."""
    changes = reconcile_clocks(policy, ticket, now=now)
    session.add(ticket)
    _plan(session, policy, ticket, new=new)
    return changes


def reconcile_clocks(policy: Policy, ticket: Ticket, *, now: datetime) -> list[FieldChange]:
    """The clock half of `reconcile`, on the ticket alone: a new ticket gets its due times before
    its row is first written (one INSERT, not an INSERT and then an UPDATE)."""
    changes: list[FieldChange] = []
    for name in ClockName:
        clock, calendar = clock_of(policy, ticket, name)
        moved = _moved(clock, _wanted(ticket, name), now, calendar)
        _store(ticket, name, moved)
        due_field = f"{name}_due"
        due = moved.due(calendar) if moved.running else None if moved.paused else getattr(ticket, due_field)
        if due != getattr(ticket, due_field):
            changes.append((due_field, getattr(ticket, due_field), due))
            setattr(ticket, due_field, due)
        if moved.stopped and not clock.stopped and moved.breached_at(now, calendar):
            changes += mark_breached(ticket, name)
    return changes


def plan_new(session: Session, policy: Policy, ticket: Ticket) -> None:
    """The timers of a ticket created in this transaction (its clocks set by `reconcile_clocks`)."""
    _plan(session, policy, ticket, new=True)


def checkpoint(policy: Policy, ticket: Ticket, *, now: datetime) -> None:
    """Count the time the running clocks have used so far on the ticket's current calendar: call
    before changing its priority, whose calendar may differ (business hours vs 24x7)."""
    for name in ClockName:
        clock, calendar = clock_of(policy, ticket, name)
        if clock.running:
            _store(ticket, name, clock.pause(now, calendar).resume(now))


def mark_breached(ticket: Ticket, name: ClockName) -> list[FieldChange]:
    field = f"{name}_breached"
    if getattr(ticket, field):
        return []
    setattr(ticket, field, True)
    ticket.breached = True
    return [(field, False, True)]


def _store(ticket: Ticket, name: ClockName, clock: Clock) -> None:
    setattr(ticket, f"{name}_used_s", int(clock.used.total_seconds()))
    setattr(ticket, f"{name}_running_since", clock.running_since)
    setattr(ticket, f"{name}_stopped_at", clock.stopped_at)


def status_since(ticket: Ticket) -> datetime:
    """When the ticket entered its current status (tickets from before revision 0004: last update)."""
    return ticket.status_since or ticket.updated_at


def planned_timers(policy: Policy, ticket: Ticket, *, only: str | None = None) -> dict[str, datetime]:
    """Every timer the ticket needs now (name -> when): its clocks' alerts and its stage timer.
    `only` narrows it to the timers whose names start with it ("sla:resolution:", "stage:"), for
    the sweep, which checks one timer (and its clock's siblings) at a time."""
    planned: dict[str, datetime] = {}
    for name in ClockName:
        if only is not None and not f"sla:{name}:".startswith(only) and not only.startswith(f"sla:{name}:"):
            continue
        clock, calendar = clock_of(policy, ticket, name)
        for alert, when in alerts(clock, calendar, policy.config.sla.warn_at).items():
            planned[sla_timer_name(name, alert)] = when
        if clock.stopped and clock.stopped_at and getattr(ticket, f"{name}_breached"):
            # Stopped late between two sweeps: the breach is still told (once: a fired timer stays).
            planned[sla_timer_name(name, BREACH)] = clock.stopped_at
    if only is None or not only.startswith("sla:"):
        planned |= stage_timers(
            status=ticket.status,
            owner_id=ticket.owner_id,
            status_since=status_since(ticket),
            limits=_limits(policy),
            priority=ticket.priority,
        )
    return planned


def _limits(policy: Policy) -> StageLimits:
    lifecycle, stuck = policy.config.lifecycle, policy.config.escalation.matrix.stuck
    return StageLimits(
        new_unassigned=lifecycle.new_unassigned,
        pending_warn=lifecycle.pending_warn,
        pending_close_grace=lifecycle.pending_close_grace,
        solved_close=lifecycle.solved_close,
        stuck_after=stuck.after if stuck.action != "off" else None,
        stuck_priorities=tuple(stuck.priorities),
    )


def timer_key(ticket: Ticket, name: str) -> str:
    """SLA alerts are keyed by ticket and clock only (each fires once per ticket and clock); a stage
    timer by the stage's start too (a ticket that is PENDING again later is warned again)."""
    if name.startswith("sla:"):
        return f"ticket:{ticket.id}:{name}"
    return f"ticket:{ticket.id}:{name}:{int(status_since(ticket).timestamp())}"


def _plan(session: Session, policy: Policy, ticket: Ticket, *, new: bool = False) -> None:
    assert ticket.id is not None
    due = {name: (timer_key(ticket, name), when) for name, when in planned_timers(policy, ticket).items()}
    timers.plan(session, kind=TIMER_KIND, subject_id=ticket.id, due=due, fresh=new)


def replan_unfinished(engine: Engine, policy: Policy, *, now: datetime, batch: int = 500) -> int:
    """Reconcile every ticket that is not CLOSED: after an upgrade that added timers (revision 0004)
    the tickets already open have clocks but no timers yet. Returns how many were looked at."""
    done, last = 0, 0
    while True:
        with session_scope(engine) as session:
            rows = tickets.unfinished_after(session, last, limit=batch)
            for ticket in rows:
                reconcile(session, policy, ticket, now=now)
        if not rows:
            return done
        done, last = done + len(rows), rows[-1].number
