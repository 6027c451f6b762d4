"""Escalations (seed 001 Phase 5): handing a ticket to L2, L3 or management with the full handoff,
acknowledging, taking and returning it, the timed acknowledgement, and the decision matrix.

Each use case is one transaction that locks the ticket, so a double-clicked button or two people
escalating at once record one escalation (the loser is told who won); everything Slack must show
is queued in the outbox in that transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.durations import format_duration
from bot.core.escalation import Handoff
from bot.core.lifecycle import IllegalTransitionError, Status, check_transition
from bot.core.permissions import PermissionDeniedError, check_may_change_others
from bot.core.text import escape_mrkdwn, truncate
from bot.core.tiers import Tier, is_above, next_tier
from bot.core.timefmt import iso_utc
from bot.services import sla
from bot.services.policy import Policy
from bot.services.ticket_changes import notify, record_change, ticket_to_work
from bot.services.timer_outcome import Reschedule
from bot.slack import escalation_blocks
from bot.slack.delivery import (
    FILES_UPLOAD_V2,
    AfterFailed,
    AfterSent,
    GiveUpError,
    Prepare,
    where_posted,
)
from store import audit, escalations, events, outbox, tickets, timers
from store.db import read_scope, session_scope
from store.models import Escalation, OutboxMessage, Ticket, Timer

__all__ = [
    "AFTER_FAILED",
    "AFTER_SENT",
    "PREPARE",
    "SYSTEM_ACTOR",
    "TIMER_KIND",
    "AlreadyEscalatedError",
    "Draft",
    "DuplicateRequestError",
    "EscalationNotFoundError",
    "EscalationRequest",
    "acknowledge",
    "current_tier",
    "deescalate",
    "draft",
    "escalate",
    "escalate_in",
    "escalate_suggested",
    "finish",
    "fire_ack_timer",
    "return_to_l1",
    "take",
    "working_status",
]

SYSTEM_ACTOR = "frontline"
TIMER_KIND = "escalation"


class AlreadyEscalatedError(IllegalTransitionError):
    """The ticket is already with that tier (or was escalated while the form was open)."""


class DuplicateRequestError(AlreadyEscalatedError):
    """The same Slack request arrived again (a double submit, a retry): it was handled the first time."""


class EscalationNotFoundError(LookupError):
    pass


@dataclass(frozen=True)
class EscalationRequest:
    number: int
    actor: str
    handoff: Handoff
    tier: Tier | None = None  # None: the tier above the ticket's current one
    expected_level: int | None = None  # escalations the ticket had when the form was opened
    request_key: str | None = None  # the Slack request (a replay of it changes nothing)
    trigger: str | None = None  # the matrix trigger(s) that escalated by themselves
    within: timedelta | None = None  # acknowledgement deadline; default lifecycle.escalation_ack


@dataclass(frozen=True)
class Draft:
    """What the handoff form opens with."""

    ticket: Ticket
    tier: Tier | None
    level: int  # escalations so far
    context: dict[str, Any]


def current_tier(session: Session, ticket: Ticket) -> Tier:
    """The tier that has the ticket now (L1 unless an escalation is active)."""
    assert ticket.id is not None
    return _current_tier(escalations.current(session, ticket.id))


def working_status(session: Session, ticket: Ticket) -> Status:
    """The status a ticket being worked on has: ESCALATED while a tier has it, else OPEN (what a
    PENDING ticket returns to when the customer replies)."""
    return Status.ESCALATED if current_tier(session, ticket) != Tier.L1 else Status.OPEN


def _current_tier(current: Escalation | None) -> Tier:
    return Tier(current.tier) if current is not None else Tier.L1


def _target(ticket: Ticket, current: Escalation | None, wanted: Tier | None) -> Tier:
    """The tier to escalate to; refuses a finished ticket and a tier that already has it."""
    if ticket.status in {Status.SOLVED, Status.CLOSED}:
        raise IllegalTransitionError(f"{ticket.ref} is {ticket.status}: reopen it before escalating.")
    here = _current_tier(current)
    target = wanted or next_tier(here)
    if target is None:
        raise AlreadyEscalatedError(f"{ticket.ref} is already with management, the top tier.")
    if current is not None and not is_above(target, here):
        raise AlreadyEscalatedError(
            f"{ticket.ref} is already escalated to {current.tier} by {_who(current.escalated_by)} "
            f"({iso_utc(current.created_at)}); nothing changed."
        )
    return target


def _who(user: str) -> str:
    return "the escalation matrix" if user == SYSTEM_ACTOR else f"<@{user}>"


def draft(engine: Engine, policy: Policy, *, number: int, actor: str, tier: Tier | None) -> Draft:
    """Check the escalation may happen and gather the form's pre-filled facts (changes nothing)."""
    with read_scope(engine) as session:
        ticket = ticket_to_work(session, policy, number, actor=actor, what="escalate {ref}", for_update=False)
        assert ticket.id is not None
        current = escalations.current(session, ticket.id)
        _target(ticket, current, tier)
        level = escalations.count_for(session, ticket.id)
        return Draft(ticket, tier, level, _context(policy, ticket, previous=level))


def _context(policy: Policy, ticket: Ticket, *, previous: int, current: Escalation | None = None) -> dict[str, Any]:
    """The ticket as the handoff shows it (seed 001's template), kept as it was when escalated, and
    who owned it at L1 (carried along L2 → L3 → management: "Return to L1" gives it back to them)."""
    customer = policy.customer(ticket.customer) if ticket.customer else None
    l1_owner = current.context.get("l1_owner") if current is not None else ticket.owner_id
    return {
        "l1_owner": l1_owner,
        "customer": ticket.customer,
        "tier": ticket.customer_tier,
        "arr": customer.arr if customer else None,
        "sentiment": ticket.sentiment,
        "previous_escalations": previous,
        "summary": ticket.title,
        "category": ticket.category,
        "priority": ticket.priority,
        "started": iso_utc(ticket.created_at),
        "owner": ticket.owner_id,
    }


def escalate(engine: Engine, policy: Policy, request: EscalationRequest, *, now: datetime) -> Escalation:
    """Escalate with a handoff (the form, the quick path or a suggestion's button)."""
    with session_scope(engine) as session:
        ticket = ticket_to_work(session, policy, request.number, actor=request.actor, what="escalate {ref}")
        if request.request_key and not events.first_delivery(session, request.request_key[:64], now=now):
            raise DuplicateRequestError("This request was already handled (it arrived twice); nothing more changed.")
        return escalate_in(session, policy, ticket, request, now=now)


def escalate_in(
    session: Session, policy: Policy, ticket: Ticket, request: EscalationRequest, *, now: datetime
) -> Escalation:
    """`escalate` inside a transaction the caller owns, on a ticket it has locked (the matrix
    escalating by itself, a suggestion's click)."""
    assert ticket.id is not None
    current = escalations.current(session, ticket.id)
    target = _target(ticket, current, request.tier)
    level = escalations.count_for(session, ticket.id)
    if request.expected_level is not None and request.expected_level != level:
        meanwhile = (
            f"was escalated to {current.tier} by {_who(current.escalated_by)}"
            if current is not None
            else "had its escalations changed"
        )
        raise AlreadyEscalatedError(f"{ticket.ref} {meanwhile} while the form was open; nothing changed.")
    here = _current_tier(current)
    if current is not None:
        current.status = "superseded"
        session.add(current)
        assert current.id is not None
        timers.plan(session, kind=TIMER_KIND, subject_id=current.id, due={})
        _refresh_handoff(session, current, now=now, change="superseded")
    within = request.within or policy.config.lifecycle.escalation_ack
    escalation = Escalation(
        ticket_id=ticket.id,
        level=level + 1,
        tier=target,
        from_tier=here,
        escalated_by=request.actor,
        trigger=request.trigger,
        handoff=request.handoff.as_json(),
        context=_context(policy, ticket, previous=level, current=current),
        ack_within_s=int(within.total_seconds()),
        created_at=now,
    )
    session.add(escalation)
    session.flush()
    assert escalation.id is not None
    fields: list[tuple[str, object, object]] = [("escalation", here, target)]
    if ticket.status != Status.ESCALATED:
        check_transition(Status(ticket.status), Status.ESCALATED)
        fields.insert(0, ("status", ticket.status, Status.ESCALATED))
        ticket.status, ticket.status_since = Status.ESCALATED, now
    fields += sla.reconcile(session, policy, ticket, now=now)
    said = request.handoff.what_tried[0].action if request.handoff.what_tried else request.handoff.urgency_reason
    note = f":arrow_double_up: {_who(request.actor)} escalated it to {target}" + (
        f": {escape_mrkdwn(truncate(said, 300))}" if said else ""
    )
    record_change(session, ticket, request.actor, fields, note=note, now=now)
    audit.record(
        session, at=now, actor=request.actor, entity_type="escalation", entity_id=escalation.id,
        action="created", field="tier", before=here, after=target,
    )  # fmt: skip
    outbox.enqueue(
        session,
        key=f"escalation:{escalation.id}:card",
        method="chat.postMessage",
        args={"channel": policy.escalation_channel(target), "escalation_id": escalation.id},
        purpose=HANDOFF,
        ticket_id=ticket.id,
        now=now,
    )
    _plan_ack(session, escalation, round_=1, due=_ack_due(policy, ticket, now, within))
    return escalation


def _ack_due(policy: Policy, ticket: Ticket, start: datetime, within: timedelta) -> datetime:
    """Acknowledgement is due `within` on the ticket's SLA calendar: a P0's around the clock, the
    others' in business hours (an escalation on Friday evening is not chased all weekend)."""
    return policy.sla_target(ticket.priority).calendar.add(start, within)


def escalate_suggested(
    engine: Engine,
    policy: Policy,
    *,
    number: int,
    actor: str,
    tier: Tier,
    trigger: str,
    request_key: str,
    now: datetime,
) -> Escalation:
    """One click on a suggestion of the matrix: escalate with the trigger's reason as the urgency
    (the transcript in the handoff's thread carries what was tried)."""
    with session_scope(engine) as session:
        ticket = ticket_to_work(session, policy, number, actor=actor, what="escalate {ref}")
        assert ticket.id is not None
        if not events.first_delivery(session, request_key[:64], now=now):
            raise DuplicateRequestError("This click was already handled; nothing more changed.")
        row = next((t for t in escalations.triggers_for(session, ticket.id) if t.trigger == trigger), None)
        reason = row.reason if row is not None else "suggested by the escalation matrix"
        handoff = Handoff(urgency_reason=f"Escalation matrix: {reason}", summary=ticket.title)
        request = EscalationRequest(number, actor, handoff, tier=tier, trigger=trigger[:32])
        return escalate_in(session, policy, ticket, request, now=now)


def finish(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """The ticket is solved or closed: its escalation is over (no more acknowledgement nudges)."""
    assert ticket.id is not None
    current = escalations.current(session, ticket.id)
    if current is None or current.id is None:
        return
    before, current.status = current.status, "closed"
    session.add(current)
    _plan_ack(session, current, round_=current.nudges + 1, due=None)
    audit.record(
        session, at=now, actor=SYSTEM_ACTOR, entity_type="escalation", entity_id=current.id,
        action="changed", field="status", before=before, after="closed",
    )  # fmt: skip
    _refresh_handoff(session, current, now=now, change="closed")


def _plan_ack(session: Session, escalation: Escalation, *, round_: int, due: datetime | None) -> None:
    assert escalation.id is not None
    planned = {f"ack:{round_}": (f"escalation:{escalation.id}:ack:{round_}", due)} if due else {}
    timers.plan(session, kind=TIMER_KIND, subject_id=escalation.id, due=planned)


# --------------------------------------------------------------------------------------------
# Acknowledge, take, return
# --------------------------------------------------------------------------------------------


def _escalation_and_ticket(session: Session, escalation_id: int) -> tuple[Escalation, Ticket]:
    first = escalations.by_id(session, escalation_id)
    if first is None:
        raise EscalationNotFoundError("That escalation does not exist.")
    ticket = tickets.by_id(session, first.ticket_id, for_update=True)  # the ticket's lock, then a fresh read
    escalation = escalations.by_id(session, escalation_id)
    assert ticket is not None and escalation is not None
    return escalation, ticket


def _check_may_handle(policy: Policy, escalation: Escalation, actor: str, what: str) -> None:
    if policy.may_handle(escalation.tier, actor):
        return
    members = ", ".join(f"<@{u}>" for u in policy.tier_members(escalation.tier)) or "nobody yet"
    leads = ", ".join(f"<@{u}>" for u in policy.supervisors) or "none configured"
    raise PermissionDeniedError(
        f"Only {escalation.tier} ({members}) and leads or admins ({leads}) may {what} this escalation."
    )


def _check_active(escalation: Escalation, ticket: Ticket) -> None:
    if escalation.status not in escalations.ACTIVE:
        state = {"returned": "was returned to L1", "superseded": "went on to a higher tier"}.get(
            escalation.status, "is closed"
        )
        raise IllegalTransitionError(f"This {escalation.tier} escalation of {ticket.ref} {state}; nothing changed.")


def acknowledge(engine: Engine, policy: Policy, *, escalation_id: int, actor: str, now: datetime) -> str:
    with session_scope(engine) as session:
        escalation, ticket = _escalation_and_ticket(session, escalation_id)
        _check_may_handle(policy, escalation, actor, "acknowledge")
        _check_active(escalation, ticket)
        if escalation.acknowledged_by:
            return (
                f"{ticket.ref}'s {escalation.tier} escalation was already acknowledged by "
                f"<@{escalation.acknowledged_by}>."
            )
        _acknowledge(session, escalation, ticket, actor, now=now)
        return f"{ticket.ref}: you acknowledged the {escalation.tier} escalation."


def _acknowledge(session: Session, escalation: Escalation, ticket: Ticket, actor: str, *, now: datetime) -> None:
    assert escalation.id is not None
    escalation.status, escalation.acknowledged_by, escalation.acknowledged_at = "acknowledged", actor, now
    session.add(escalation)
    _plan_ack(session, escalation, round_=escalation.nudges + 1, due=None)
    audit.record(
        session, at=now, actor=actor, entity_type="escalation", entity_id=escalation.id,
        action="changed", field="status", before="open", after="acknowledged",
    )  # fmt: skip
    waited = _since(escalation.created_at, now)
    note = f":eyes: <@{actor}> acknowledged the {escalation.tier} escalation (after {waited})"
    record_change(session, ticket, actor, [], note=note, now=now)
    _refresh_handoff(session, escalation, now=now, change="ack")


def take(engine: Engine, policy: Policy, *, escalation_id: int, actor: str, now: datetime) -> str:
    """A member of the tier takes the ticket (acknowledging the escalation if nobody had)."""
    with session_scope(engine) as session:
        escalation, ticket = _escalation_and_ticket(session, escalation_id)
        _check_may_handle(policy, escalation, actor, "take")
        _check_active(escalation, ticket)
        if ticket.owner_id == actor:
            return f"{ticket.ref} is already yours."
        # Taking it from whoever handed it over (its L1 owner, or the tier before) is what the handoff
        # is for; taking it from someone who already took it at this tier is a takeover: a lead's.
        handed_over_by = {escalation.context.get("l1_owner"), escalation.context.get("owner")}  # L1 and the tier before
        if ticket.owner_id is not None and ticket.owner_id not in handed_over_by:
            check_may_change_others(
                actor, policy.roles_of(actor), owner=ticket.owner_id, what="take over", supervisors=policy.supervisors
            )
        if not escalation.acknowledged_by:
            _acknowledge(session, escalation, ticket, actor, now=now)
        fields: list[tuple[str, object, object]] = [("owner_id", ticket.owner_id, actor)]
        ticket.owner_id = actor
        fields += sla.reconcile(session, policy, ticket, now=now)
        note = f"<@{actor}> took it from the {escalation.tier} escalation"
        record_change(session, ticket, actor, fields, note=note, now=now)
        _refresh_handoff(session, escalation, now=now, change=f"take:{actor}")
        return f"{ticket.ref} is yours now."


def deescalate(engine: Engine, policy: Policy, *, number: int, actor: str, reason: str | None, now: datetime) -> str:
    """Return the ticket to L1: its owner before the escalation gets it back, status OPEN."""
    with session_scope(engine) as session:
        ticket = ticket_to_work(session, policy, number, actor=actor, what="return {ref} to L1")
        assert ticket.id is not None
        current = escalations.current(session, ticket.id)
        if current is None or current.id is None:
            raise IllegalTransitionError(f"{ticket.ref} is not escalated; nothing to return.")
        if actor != current.escalated_by:
            _check_may_handle(policy, current, actor, "return")
        was = current.status
        current.status, current.returned_by, current.returned_at = "returned", actor, now
        session.add(current)
        _plan_ack(session, current, round_=current.nudges + 1, due=None)
        fields: list[tuple[str, object, object]] = [("escalation", current.tier, Tier.L1)]
        if ticket.status == Status.ESCALATED:
            fields.append(("status", ticket.status, Status.OPEN))
            ticket.status, ticket.status_since = Status.OPEN, now
        # Back to its L1 owner; a ticket nobody owned at L1 stays with whoever has it now.
        previous_owner = current.context.get("l1_owner", current.context.get("owner")) or ticket.owner_id
        if previous_owner != ticket.owner_id:
            fields.append(("owner_id", ticket.owner_id, previous_owner))
            ticket.owner_id = previous_owner
        fields += sla.reconcile(session, policy, ticket, now=now)
        why = f": {escape_mrkdwn(truncate(reason, 300))}" if reason else ""
        record_change(session, ticket, actor, fields, note=f":arrow_down: <@{actor}> returned it to L1{why}", now=now)
        audit.record(
            session, at=now, actor=actor, entity_type="escalation", entity_id=current.id,
            action="changed", field="status", before=was, after="returned",
        )  # fmt: skip
        _refresh_handoff(session, current, now=now, change="return")
        return f"{ticket.ref} is back with L1" + (f" and <@{previous_owner}>." if previous_owner else ".")


def return_to_l1(engine: Engine, policy: Policy, *, escalation_id: int, actor: str, now: datetime) -> str:
    """The handoff card's "Return to L1": `deescalate` for the ticket this escalation is of."""
    with read_scope(engine) as session:
        escalation = escalations.by_id(session, escalation_id)
        ticket = tickets.by_id(session, escalation.ticket_id) if escalation is not None else None
        if escalation is None or ticket is None:
            raise EscalationNotFoundError("That escalation does not exist.")
        _check_active(escalation, ticket)
        number = ticket.number
    return deescalate(engine, policy, number=number, actor=actor, reason=None, now=now)


def _since(then: datetime, now: datetime) -> str:
    return format_duration(max(now - then, timedelta(0)))


# --------------------------------------------------------------------------------------------
# The acknowledgement timer
# --------------------------------------------------------------------------------------------


def fire_ack_timer(session: Session, policy: Policy, timer: Timer, *, now: datetime) -> str | Reschedule:
    """Unacknowledged after its deadline: nudge the tier's channel and the leads, then again one
    interval later, until someone acknowledges (the caller holds the ticket's lock)."""
    escalation = escalations.by_id(session, timer.subject_id)
    if escalation is None or escalation.status != "open":
        return "no longer applies"
    ticket = tickets.by_id(session, escalation.ticket_id)
    assert ticket is not None and escalation.id is not None
    interval = timedelta(seconds=escalation.ack_within_s)
    if ticket.status == Status.PENDING:  # waiting on the customer: nobody to chase now, look again later
        return Reschedule(_ack_due(policy, ticket, now, interval))
    waited = _since(escalation.created_at, now)
    message = escalation_blocks.ack_overdue(escalation, ticket, waited=waited, leads=policy.leads)
    channel = policy.escalation_channel(escalation.tier)
    if channel:
        notify(session, ticket, key=f"{timer.key}:channel", channel=channel, message=message, now=now)
    for lead in policy.leads:
        notify(session, ticket, key=f"{timer.key}:lead:{lead}", channel=lead, message=message, now=now)
    escalation.nudges += 1
    session.add(escalation)
    _plan_ack(session, escalation, round_=escalation.nudges + 1, due=_ack_due(policy, ticket, now, interval))
    return "queued"


def _refresh_handoff(session: Session, escalation: Escalation, *, now: datetime, change: str) -> None:
    assert escalation.id is not None
    outbox.enqueue(
        session,
        key=f"escalation:{escalation.id}:refresh:{change}:{int(now.timestamp() * 1000)}",
        method="chat.update",
        args={"escalation_id": escalation.id},
        purpose=HANDOFF_REFRESH,
        ticket_id=escalation.ticket_id,
        now=now,
    )


# --------------------------------------------------------------------------------------------
# Delivery: the handoff card is rendered when sent, so it shows the escalation as it is then
# --------------------------------------------------------------------------------------------

HANDOFF, HANDOFF_REFRESH, TRANSCRIPT = "escalation_card", "escalation_card_refresh", "escalation_transcript"
TRANSCRIPT_FAILED = "escalation_transcript_failed"


def _subject(session: Session, message: OutboxMessage) -> tuple[Escalation, Ticket]:
    escalation = escalations.by_id(session, int(message.args["escalation_id"]))
    ticket = tickets.by_id(session, escalation.ticket_id) if escalation is not None else None
    if escalation is None or ticket is None:
        raise GiveUpError(f"escalation {message.args.get('escalation_id')} no longer exists")
    return escalation, ticket


def _where_the_handoff_is(session: Session, escalation: Escalation) -> tuple[str, str]:
    key = f"escalation:{escalation.id}:card"
    return where_posted(
        session, channel=escalation.card_channel, ts=escalation.card_ts, key=key, what="the handoff card"
    )


def _prepare_handoff(session: Session, message: OutboxMessage) -> dict[str, Any]:
    escalation, ticket = _subject(session, message)
    card = escalation_blocks.handoff_card(escalation, ticket)
    return {"channel": message.args["channel"], "unfurl_links": False, **card}


def _prepare_handoff_refresh(session: Session, message: OutboxMessage) -> dict[str, Any]:
    escalation, ticket = _subject(session, message)
    channel, ts = _where_the_handoff_is(session, escalation)
    return {"channel": channel, "ts": ts, **escalation_blocks.handoff_card(escalation, ticket)}


def _prepare_transcript(session: Session, message: OutboxMessage) -> dict[str, Any]:
    _, ticket = _subject(session, message)
    assert ticket.id is not None
    content = escalation_blocks.transcript(ticket, tickets.comments_for(session, ticket.id))
    return {**{k: v for k, v in message.args.items() if k != "escalation_id"}, "content": content}


def _handoff_posted(session: Session, message: OutboxMessage, response: dict[str, Any], now: datetime) -> None:
    """Remember where the handoff card is, and attach the conversation so far in its thread."""
    escalation_id = int(message.args["escalation_id"])
    channel, ts = str(response["channel"]), str(response["ts"])
    escalations.set_card(session, escalation_id, channel, ts)
    outbox.enqueue(
        session,
        key=f"escalation:{escalation_id}:transcript",
        method=FILES_UPLOAD_V2,
        args={
            "escalation_id": escalation_id,
            "channel": channel,
            "thread_ts": ts,
            "filename": "transcript.txt",
            "title": "Conversation so far",
            "initial_comment": "The ticket's conversation so far, for the next tier.",
        },
        purpose=TRANSCRIPT,
        ticket_id=message.ticket_id,
        now=now,
    )


def _transcript_failed(session: Session, message: OutboxMessage, error: str, now: datetime) -> bool:
    """An attachment that cannot be uploaded leaves the handoff delivered: say so in its thread
    (field case F13c) instead of reporting the channel as unreachable."""
    text = (
        f":paperclip: Attachment failed: the transcript could not be uploaded (Slack said `{error}`). "
        "The conversation is in the ticket's source thread."
    )
    outbox.enqueue(
        session,
        key=f"{message.key}:failed"[:255],
        method="chat.postMessage",
        args={"channel": message.args["channel"], "thread_ts": message.args["thread_ts"], "text": text},
        purpose=TRANSCRIPT_FAILED,
        now=now,
    )
    return True


PREPARE: dict[str, Prepare] = {
    HANDOFF: _prepare_handoff,
    HANDOFF_REFRESH: _prepare_handoff_refresh,
    TRANSCRIPT: _prepare_transcript,
}
AFTER_SENT: dict[str, AfterSent] = {HANDOFF: _handoff_posted}
AFTER_FAILED: dict[str, AfterFailed] = {TRANSCRIPT: _transcript_failed}
