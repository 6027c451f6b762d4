"""Acting on a ticket's due timer: SLA nudges and breaches, and the stage timers (seed 001).

Each action runs in the transaction that marks the timer fired, and what it tells Slack goes to
the outbox under the timer's key: deciding and recording are one commit, so a nudge is neither lost
nor sent twice, however many workers sweep.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core.durations import format_duration
from bot.core.lifecycle import Status
from bot.core.sla import BREACH, ClockName, latest_due
from bot.core.stages import NEW_UNASSIGNED, PENDING_CLOSE, PENDING_WARN, SOLVED_CLOSE, STUCK
from bot.services import escalation_matrix, escalations, sla
from bot.services.policy import Policy
from bot.services.ticket_changes import notify, record_change
from bot.services.timer_outcome import Reschedule
from bot.slack import blocks
from store import timers
from store.models import Ticket, Timer

__all__ = ["SYSTEM_ACTOR", "Reschedule", "act"]

SYSTEM_ACTOR = "frontline"  # who the audit log names for what the bot does by itself


def act(
    session: Session, policy: Policy, timer: Timer, ticket: Ticket | None, *, unfired: list[Timer], now: datetime
) -> str | Reschedule:
    """Do what `timer` is for, if it still applies to `ticket` (locked by the caller; `unfired` are
    the ticket's other unfired timers); returns the outcome to record on the timer."""
    if ticket is None:
        return "the ticket no longer exists"
    # Only this timer's clock (or the stage timers): its siblings are all `_sla_alert` compares.
    scope = ":".join(timer.name.split(":")[:2]) + ":" if timer.name.startswith("sla:") else "stage:"
    planned = sla.planned_timers(policy, ticket, only=scope)
    when = planned.get(timer.name)
    if when is None:
        return "no longer applies"  # a race with the change that dropped it
    if when > now:
        return Reschedule(when)
    if timer.name.startswith("sla:"):
        return _sla_alert(session, policy, ticket, timer, unfired=unfired, planned=planned, now=now)
    return _stage(session, policy, ticket, timer.name, key=timer.key, now=now)


def _sla_alert(
    session: Session,
    policy: Policy,
    ticket: Ticket,
    timer: Timer,
    *,
    unfired: list[Timer],
    planned: dict[str, datetime],
    now: datetime,
) -> str:
    """Send the one alert of this clock that says the most; earlier ones due at the same time are
    superseded by it (after a pause, a re-target or a worker outage)."""
    assert ticket.id is not None
    clock = ClockName(timer.name.split(":")[1])
    prefix = f"sla:{clock}:"
    siblings = [t for t in unfired if t.id != timer.id and t.fired_at is None and t.name.startswith(prefix)]
    for stale in [t for t in siblings if t.name not in planned]:  # e.g. a fraction taken out of warn_at
        timers.mark_fired(session, stale, now=now, outcome="no longer applies")
    due = [t for t in (timer, *siblings) if t.name in planned and planned[t.name] <= now]
    chosen = latest_due({t.name.removeprefix(prefix): planned[t.name] for t in due}, now)
    assert chosen is not None  # `timer` itself is due
    sent_key = next(t.key for t in due if t.name == prefix + chosen)
    if chosen == BREACH:
        _breach(session, policy, ticket, clock, key=sent_key, now=now)
    else:
        _warning(session, policy, ticket, clock, float(chosen.removeprefix("warn:")), key=sent_key, now=now)
    outcome = {t.id: ("queued" if t.name == prefix + chosen else f"superseded by {chosen}") for t in due}
    for sibling in siblings:
        if sibling.id in outcome:
            timers.mark_fired(session, sibling, now=now, outcome=outcome[sibling.id])
    return outcome[timer.id]


def _warning(
    session: Session, policy: Policy, ticket: Ticket, clock: ClockName, fraction: float, *, key: str, now: datetime
) -> None:
    state, calendar = sla.clock_of(policy, ticket, clock)
    left = format_duration(state.remaining_at(now, calendar))
    message = blocks.sla_warning(ticket, clock=clock, fraction=fraction, left=left, due=getattr(ticket, f"{clock}_due"))
    where = ticket.owner_id or policy.triage_channel
    if where:
        notify(session, ticket, key=key, channel=where, message=message, now=now)


def _breach(session: Session, policy: Policy, ticket: Ticket, clock: ClockName, *, key: str, now: datetime) -> None:
    due = getattr(ticket, f"{clock}_due")
    message = blocks.sla_breach(ticket, clock=clock, leads=policy.leads, due=due)
    if ticket.owner_id:
        notify(session, ticket, key=f"{key}:owner", channel=ticket.owner_id, message=message, now=now)
    # The channel of the tier that has the ticket; tickets at L1 go up to L2's (triage when unset).
    current = escalations.current_tier(session, ticket)
    channel = policy.escalation_channel("L2" if current == "L1" else current)
    if channel:
        notify(session, ticket, key=f"{key}:escalation", channel=channel, message=message, now=now)
    changes = sla.mark_breached(ticket, clock)
    session.add(ticket)
    record_change(
        session,
        ticket,
        SYSTEM_ACTOR,
        changes,
        note=f":rotating_light: {blocks.CLOCK_LABELS[clock]} SLA breached",
        now=now,
    )


def _stage(session: Session, policy: Policy, ticket: Ticket, name: str, *, key: str, now: datetime) -> str | Reschedule:
    waited = format_duration(now - sla.status_since(ticket))
    lifecycle = policy.config.lifecycle
    if name == NEW_UNASSIGNED:
        if not policy.triage_channel:
            return "no triage channel to ping"
        message = blocks.unassigned_ping(ticket, waited=waited)
        notify(session, ticket, key=key, channel=policy.triage_channel, message=message, now=now)
        return "queued"
    if name == PENDING_WARN:
        closes_in = format_duration(lifecycle.pending_close_grace)
        return _warn_requester(session, ticket, key=key, waited=waited, closes_in=closes_in, now=now)
    if name == PENDING_CLOSE:
        warned = timers.by_key(session, sla.timer_key(ticket, PENDING_WARN))
        if warned is not None and warned.fired_at is not None and warned.fired_at + lifecycle.pending_close_grace > now:
            # The warning went out late (the worker was down): the requester still gets the full grace.
            return Reschedule(warned.fired_at + lifecycle.pending_close_grace)
    if name in {PENDING_CLOSE, SOLVED_CLOSE}:
        _close(session, policy, ticket, why=f"{ticket.status} for {waited}", now=now)
        return "closed"
    if name == STUCK:
        return escalation_matrix.on_stuck(session, policy, ticket, waited=waited, now=now)
    return f"unknown stage timer {name}"


def _warn_requester(session: Session, ticket: Ticket, *, key: str, waited: str, closes_in: str, now: datetime) -> str:
    message = blocks.pending_warning(ticket, waited=waited, closes_in=closes_in)
    if ticket.source_channel and ticket.source_ts and ticket.source_kind != "command":
        threaded = {**message, "thread_ts": ticket.source_ts}
        notify(session, ticket, key=key, channel=ticket.source_channel, message=threaded, now=now)
    elif ticket.requester_id:
        notify(session, ticket, key=key, channel=ticket.requester_id, message=message, now=now)
    else:
        return "no requester to warn"
    return "queued"


def _close(session: Session, policy: Policy, ticket: Ticket, *, why: str, now: datetime) -> None:
    before = ticket.status
    ticket.status, ticket.status_since, ticket.closed_at, ticket.updated_at = Status.CLOSED, now, now, now
    changes: list[sla.FieldChange] = [("status", before, Status.CLOSED), ("closed_at", None, now)]
    changes += sla.reconcile(session, policy, ticket, now=now)
    escalations.finish(session, ticket, now=now)
    record_change(session, ticket, SYSTEM_ACTOR, changes, note=f"Closed automatically: {why}", now=now)
