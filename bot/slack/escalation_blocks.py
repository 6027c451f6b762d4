"""Block Kit for escalations: the handoff card in the tier's channel, the acknowledgement nudge,
the decision matrix's notices, and the transcript attached to a handoff. Pure functions.

Everything a person typed goes through `escape_mrkdwn` and `truncate`: a handoff repeats the
customer's words, and they must not ping anyone or break the card.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core.durations import format_duration
from bot.core.escalation import ATTEMPT_ROWS, MatrixMatch
from bot.core.text import displayable, escape_mrkdwn, truncate
from bot.slack import kit
from bot.slack.blocks import PRIORITY_EMOJI, ticket_line
from bot.slack.kit import TEXT_MAX, Block, Message, slack_date
from store.models import Comment, Escalation, Ticket

__all__ = [
    "ACKNOWLEDGE",
    "ESCALATE_SUGGESTED",
    "RETURN",
    "TAKE",
    "ack_overdue",
    "handoff_card",
    "matrix_line",
    "matrix_notice",
    "suggestion_for_owner",
    "transcript",
]

ACKNOWLEDGE, TAKE, RETURN = "escalation_ack", "escalation_take", "escalation_return"
ESCALATE_SUGGESTED = "escalate_suggested"
_STATE = {
    "open": "awaiting acknowledgement",
    "acknowledged": "acknowledged",
    "returned": "returned to L1",
    "superseded": "escalated further: see the newer handoff",
    "closed": "closed",
}


def _text(value: object, limit: int = 1000) -> str:
    """Escaped, then cut: a field full of `<` or `&` grows fourfold when escaped, and the budget is
    for what Slack receives."""
    return truncate(escape_mrkdwn(str(value or "")), limit) or "—"


def _arr(value: object) -> str:
    return f"${value:,.0f}" if isinstance(value, int | float) and not isinstance(value, bool) else "—"


def _started(value: object) -> str:
    try:
        return slack_date(datetime.fromisoformat(str(value)))
    except ValueError:
        return "—"


def _escalated_by(escalation: Escalation) -> str:
    return "the escalation matrix" if escalation.escalated_by == "frontline" else f"<@{escalation.escalated_by}>"


def handoff_card(escalation: Escalation, ticket: Ticket) -> Message:
    """Seed 001's "Escalation Handoff Template", filled in, with Acknowledge · Take · Return to L1."""
    context, handoff = escalation.context, escalation.handoff
    customer = context.get("customer") or "—"
    tier = f" ({context['tier']})" if context.get("tier") else ""
    emoji = PRIORITY_EMOJI.get(str(context.get("priority")), "")
    when = slack_date(escalation.created_at)
    blocks: list[Block] = [
        kit.header(f"{escalation.tier} escalation · {ticket.ref} · {displayable(ticket.title)}"),
        kit.fields(
            [
                ("Customer", _text(f"{customer}{tier}", 200)),
                ("ARR", _arr(context.get("arr"))),
                ("Sentiment", _text(handoff.get("sentiment") or context.get("sentiment"), 50)),
                ("Previous escalations", str(context.get("previous_escalations", 0))),
                ("Priority", f"{emoji} {_text(context.get('priority'), 10)}"),
                ("Category", _text(context.get("category"), 100)),
                ("Started", _started(context.get("started"))),
                (
                    "Escalated",
                    f"{_escalated_by(escalation)} from {escalation.from_tier}, {when}",
                ),
            ]
        ),
        kit.section(f"*Summary*\n{_text(handoff.get('summary') or context.get('summary'), 2000)}"),
        kit.section(f"*What was tried*\n{_attempts(handoff.get('what_tried') or [])}"),
        kit.section(f"*What is needed*\n{_text(handoff.get('what_needed'), 2000)}"),
    ]
    expectation = _text(handoff.get("customer_expectation"), 2000)
    if handoff.get("needed_by"):
        expectation += f"\nNeeded by {escape_mrkdwn(str(handoff['needed_by']))}"
    blocks.append(kit.section(f"*Customer expectation*\n{expectation}"))
    blocks.append(kit.section(f"*Urgency*\n{_text(handoff.get('urgency_reason'), 2000)}"))
    blocks.append(kit.context(*_handoff_context(escalation, ticket)))
    if escalation.status in {"open", "acknowledged"}:
        blocks.append(_handoff_actions(escalation))
    fallback = f"{escalation.tier} escalation: {ticket.ref} [{ticket.priority}] {escape_mrkdwn(ticket.title)}"
    return {"text": truncate(fallback, TEXT_MAX), "blocks": blocks}


def _attempts(attempts: Sequence[Any]) -> str:
    lines = []
    for attempt in attempts[:ATTEMPT_ROWS]:
        if not isinstance(attempt, dict):
            continue
        # Three pairs fit one section (3,000 characters) whatever they hold.
        result = f" → {_text(attempt.get('result'), 440)}" if attempt.get("result") else ""
        lines.append(f"• {_text(attempt.get('action'), 500)}{result}")
    return "\n".join(lines) or "_Nothing recorded: ask the escalating agent, and see the transcript in the thread._"


def _handoff_context(escalation: Escalation, ticket: Ticket) -> list[str]:
    source = (
        f"<{ticket.source_permalink}|source thread>" if ticket.source_permalink else f"opened via {ticket.source_kind}"
    )
    lines = [f"{source} · card in {kit.channel(ticket.card_channel)}" if ticket.card_channel else source]
    state = _STATE.get(escalation.status, escalation.status)
    if escalation.status == "open":
        due = escalation.created_at + timedelta(seconds=escalation.ack_within_s)
        lines.append(f"*{state}*: acknowledge by {slack_date(due)}")
    elif escalation.acknowledged_by and escalation.status == "acknowledged":
        lines.append(f"*{state}* by <@{escalation.acknowledged_by}> {slack_date(escalation.acknowledged_at)}")
    elif escalation.status == "returned" and escalation.returned_by:
        lines.append(f"*{state}* by <@{escalation.returned_by}> {slack_date(escalation.returned_at)}")
    else:
        lines.append(f"*{state}*")
    if ticket.owner_id:
        lines.append(f"Owner: <@{ticket.owner_id}>")
    return lines


def _handoff_actions(escalation: Escalation) -> Block:
    value = str(escalation.id)
    buttons = [] if escalation.acknowledged_by else [kit.button(ACKNOWLEDGE, "Acknowledge", value, style="primary")]
    buttons += [kit.button(TAKE, "Take", value), kit.button(RETURN, "Return to L1", value)]
    return {"type": "actions", "block_id": "escalation_actions", "elements": buttons}


def ack_overdue(escalation: Escalation, ticket: Ticket, *, waited: str, leads: list[str]) -> Message:
    """Nobody acknowledged in time: the tier's channel and the leads hear of it, once per interval."""
    leads_line = ", ".join(f"<@{lead}>" for lead in leads) or "no leads configured (roles.leads)"
    where = f" (<#{escalation.card_channel}>)" if escalation.card_channel else ""
    text = (
        f":alarm_clock: {ticket.ref}'s {escalation.tier} escalation{where} has waited {waited} without "
        f"acknowledgement.\n{ticket_line(ticket)}\nLeads: {leads_line}"
    )
    return {
        "text": truncate(text, TEXT_MAX),
        "blocks": [kit.section(text), {"type": "actions", "elements": _ack_buttons(escalation)}],
    }


def _ack_buttons(escalation: Escalation) -> list[Block]:
    value = str(escalation.id)
    return [kit.button(ACKNOWLEDGE, "Acknowledge", value, style="primary"), kit.button(TAKE, "Take", value)]


def matrix_notice(ticket: Ticket, match: MatrixMatch) -> Message:
    """A trigger of the escalation matrix, for the people its row names."""
    doing = {
        "escalate": f"escalated to {match.tier}",
        "suggest": f"escalating to {match.tier} is suggested",
        "notify": "for your attention",
    }[match.action]
    text = (
        f":vertical_traffic_light: {ticket.ref}: {kit.reason(match.reason)} — {doing} "
        f"(timeline {format_duration(match.within)}).\n{ticket_line(ticket)}"
    )
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text)]}


def suggestion_for_owner(ticket: Ticket, match: MatrixMatch) -> Message:
    text = f":raising_hand: {ticket.ref}: {kit.reason(match.reason)}. Ask a peer, or escalate.\n{ticket_line(ticket)}"
    button = kit.button(
        ESCALATE_SUGGESTED, f"Escalate to {match.tier}", f"{ticket.number}:{match.tier}:{match.trigger}"
    )
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text), {"type": "actions", "elements": [button]}]}


def matrix_line(match: MatrixMatch, outcome: str) -> str:
    """The line a trigger adds to the ticket card's thread."""
    return f":vertical_traffic_light: Escalation matrix: {kit.reason(match.reason)} → {outcome}"


def transcript(ticket: Ticket, comments: Sequence[Comment]) -> str:
    """The ticket's conversation as plain text, for the next tier (an attachment, never mrkdwn)."""
    lines = [
        f"{ticket.ref} · {ticket.title}",
        f"Priority {ticket.priority} · status {ticket.status} · customer {ticket.customer or '—'}"
        + (f" ({ticket.customer_tier})" if ticket.customer_tier else ""),
        f"Opened {ticket.created_at:%Y-%m-%d %H:%M} UTC by {ticket.created_by} via {ticket.source_kind}",
    ]
    if ticket.source_permalink:
        lines.append(f"Source: {ticket.source_permalink}")
    lines += ["", "Request:", ticket.description or "(no text)", ""]
    replies = [c for c in comments if c.role != "note"]
    notes = [c for c in comments if c.role == "note"]
    lines.append("Conversation:" if replies else "Conversation: no replies yet.")
    lines += [f"[{c.created_at:%Y-%m-%d %H:%M} UTC] {c.author} ({c.role}): {c.text}" for c in replies]
    if notes:
        lines += ["", "Internal notes:"]
        lines += [f"[{c.created_at:%Y-%m-%d %H:%M} UTC] {c.author}: {c.text}" for c in notes]
    return "\n".join(lines) + "\n"
