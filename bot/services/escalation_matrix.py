"""The escalation decision matrix at work (seed 001 Phase 5): which rows a ticket meets, recorded
once per ticket and row, and what each does: escalate (a handoff built from the ticket), suggest
(a button on the card) or notify (tier channels, the leads, the social channel)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core.escalation import Handoff, MatrixMatch, TicketFacts, match_matrix, same_issue, stuck_match
from bot.core.lifecycle import IllegalTransitionError, Status
from bot.core.tiers import Tier
from bot.services.escalations import SYSTEM_ACTOR, EscalationRequest, escalate_in
from bot.services.policy import Policy
from bot.services.ticket_changes import notify, record_change
from bot.slack import escalation_blocks
from store import audit, escalations
from store.models import Ticket

__all__ = ["apply_matrix", "on_stuck"]


# --------------------------------------------------------------------------------------------


def apply_matrix(session: Session, policy: Policy, ticket: Ticket, *, text: str, now: datetime, new: bool) -> None:
    """Check the matrix against what just arrived (`new`: a new ticket's text; else a customer's
    reply or a change) and act on every trigger met for the first time."""
    assert ticket.id is not None
    if ticket.status in {Status.SOLVED, Status.CLOSED}:
        return  # nothing to escalate; the trigger stays unspent for a reopened ticket
    matrix = policy.config.escalation.matrix
    # A ticket created in this transaction has met no trigger yet: no need to ask.
    done = set() if new else {row.trigger for row in escalations.triggers_for(session, ticket.id)}
    customer = policy.customer(ticket.customer) if ticket.customer else None
    repeats = 1
    # "Same requester" means a customer writing again; an agent filing tickets for customers is not one.
    repeatable = ticket.requester_id is not None and not policy.is_agent(ticket.requester_id)
    if new and repeatable and "repeat" not in done and matrix.repeat.action != "off":
        assert ticket.requester_id is not None
        earlier = escalations.recent_texts_of_requester(
            session, ticket.requester_id, since=now - matrix.repeat.window, exclude=ticket.id
        )
        repeats += same_issue(f"{ticket.title}\n{ticket.description}", earlier)
    social = policy.config.channels.social
    facts = TicketFacts(
        text=text,
        priority=ticket.priority,
        arr=customer.arr if customer else 0.0,
        customer=ticket.customer,
        from_social_channel=new and ticket.source_channel is not None and ticket.source_channel == social,
        same_issue_count=repeats,
    )
    matches = match_matrix(matrix, facts, skip=done)
    if matches:
        _act_on(session, policy, ticket, matches, now=now)


def on_stuck(session: Session, policy: Policy, ticket: Ticket, *, waited: str, now: datetime) -> str:
    """The stuck timer: an escalated-priority ticket OPEN with its owner too long."""
    assert ticket.id is not None and ticket.owner_id is not None
    done = {row.trigger for row in escalations.triggers_for(session, ticket.id)}
    match = stuck_match(policy.config.escalation.matrix, owner=ticket.owner_id, waited=waited)
    if match is None or "stuck" in done:
        return "no longer applies"
    _act_on(session, policy, ticket, [match], now=now)
    message = escalation_blocks.suggestion_for_owner(ticket, match)
    notify(session, ticket, key=f"matrix:{ticket.id}:stuck:owner", channel=ticket.owner_id, message=message, now=now)
    return "queued"


def _act_on(session: Session, policy: Policy, ticket: Ticket, matches: list[MatrixMatch], *, now: datetime) -> None:
    assert ticket.id is not None
    fresh = [
        match
        for match in matches
        if escalations.record_trigger(
            session,
            ticket_id=ticket.id,
            trigger=match.trigger,
            action=match.action,
            tier=match.tier,
            reason=match.reason,
            now=now,
        )
    ]
    if not fresh:
        return
    escalating = [match for match in fresh if match.action == "escalate"]
    escalated_to = _auto_escalate(session, policy, ticket, escalating, now=now) if escalating else None
    lines = []
    for match in fresh:
        _notify(session, policy, ticket, match, now=now)
        outcome = {
            "escalate": f"escalated to {escalated_to}" if escalated_to else f"{match.tier} already has it",
            "suggest": f"suggests escalating to {match.tier}",
            "notify": "told " + ", ".join(_target_name(target) for target in match.notify),
        }[match.action]
        lines.append(escalation_blocks.matrix_line(match, outcome))
        audit.record(
            session, at=now, actor=SYSTEM_ACTOR, entity_type="ticket", entity_id=ticket.id, action="matrix",
            field=match.trigger, after=f"{match.action}: {match.reason}",
        )  # fmt: skip
    record_change(session, ticket, SYSTEM_ACTOR, [], note="\n".join(lines), now=now)


def _target_name(target: str) -> str:
    return {"leads": "the leads", "social": "the social team"}.get(target, target)


def _auto_escalate(
    session: Session, policy: Policy, ticket: Ticket, matches: list[MatrixMatch], *, now: datetime
) -> Tier | None:
    """Escalate once for every escalating trigger met together: to the highest tier any asks for,
    acknowledged within the shortest timeline, with every reason as the urgency."""
    tier = max((match.tier for match in matches), key=list(Tier).index)
    reasons = "; ".join(match.reason for match in matches)
    request = EscalationRequest(
        number=ticket.number,
        actor=SYSTEM_ACTOR,
        handoff=Handoff(urgency_reason=f"Escalation matrix: {reasons}", summary=ticket.title),
        tier=tier,
        trigger=",".join(match.trigger for match in matches)[:32],
        within=min(match.within for match in matches),
    )
    try:
        escalate_in(session, policy, ticket, request, now=now)
    except IllegalTransitionError:
        return None  # already there or above, or the ticket is finished: the reason is still noted
    return tier


def _notify(session: Session, policy: Policy, ticket: Ticket, match: MatrixMatch, *, now: datetime) -> None:
    assert ticket.id is not None
    message = escalation_blocks.matrix_notice(ticket, match)
    for target in match.notify:
        if target == "leads":
            for lead in policy.leads:
                key = f"matrix:{ticket.id}:{match.trigger}:lead:{lead}"
                notify(session, ticket, key=key, channel=lead, message=message, now=now)
            continue
        # Only channels that are set: the triage channel already shows the trigger on the card.
        channels = policy.config.channels
        channel = channels.social if target == "social" else getattr(channels.escalation, target, None)
        if channel:
            notify(
                session,
                ticket,
                key=f"matrix:{ticket.id}:{match.trigger}:{target}",
                channel=channel,
                message=message,
                now=now,
            )
