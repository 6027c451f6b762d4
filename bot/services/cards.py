"""A ticket's presence in Slack: its card in the triage channel (posted once, then updated in place)
and the short lines in the card's thread that tell the ticket's story top to bottom.

Everything goes through the outbox, and card contents are rendered when the worker sends them,
so a card always shows the ticket as it is at that moment, however many changes queued up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core.refs import format_ticket_ref
from bot.services.policy import Policy
from bot.slack import blocks
from bot.slack.delivery import FILES_UPLOAD_V2, AfterSent, NotReadyError, Prepare, where_posted
from store import escalations, outbox, tickets
from store.models import OutboxMessage, Ticket

__all__ = ["AFTER_SENT", "PREPARE", "enqueue_card", "enqueue_change"]

CARD, REFRESH, NOTE, FULL_TEXT = "ticket_card", "ticket_card_refresh", "ticket_thread_note", "ticket_full_text"


def enqueue_card(session: Session, policy: Policy, ticket: Ticket, *, now: datetime) -> list[int]:
    """Queue the ticket's card for the triage channel (nothing when no triage channel is set)."""
    assert ticket.id is not None
    if not policy.triage_channel:
        return []
    message_id = outbox.enqueue(
        session,
        key=f"ticket:{ticket.id}:card",
        method="chat.postMessage",
        args={"channel": policy.triage_channel},
        purpose=CARD,
        ticket_id=ticket.id,
        now=now,
    )
    return [message_id] if message_id is not None else []


def enqueue_change(session: Session, ticket: Ticket, *, change_id: int, note: str, now: datetime) -> None:
    """After a change: update the card in place and add `note` (mrkdwn, already escaped) to its thread.
    Nothing for a ticket that has no card (no triage channel was set when it was created)."""
    assert ticket.id is not None
    if not ticket.card_ts and outbox.by_key(session, f"ticket:{ticket.id}:card") is None:
        return
    for purpose, method, args in ((REFRESH, "chat.update", {}), (NOTE, "chat.postMessage", {"text": note})):
        outbox.enqueue(
            session,
            key=f"ticket:{ticket.id}:{purpose}:{change_id}",
            method=method,
            args=args,
            purpose=purpose,
            ticket_id=ticket.id,
            now=now,
        )


def _ticket_of(session: Session, message: OutboxMessage) -> Ticket:
    ticket = tickets.by_id(session, message.ticket_id) if message.ticket_id is not None else None
    if ticket is None:
        raise NotReadyError(f"ticket id {message.ticket_id} not found")
    return ticket


def _where_the_card_is(session: Session, ticket: Ticket) -> tuple[str, str]:
    key = f"ticket:{ticket.id}:card"
    return where_posted(
        session, channel=ticket.card_channel, ts=ticket.card_ts, key=key, what=f"the card of {ticket.ref}"
    )


def _render(session: Session, ticket: Ticket) -> blocks.Message:
    """The card as the ticket is now, with its escalation and the matrix's suggestions."""
    assert ticket.id is not None
    # A tier has the ticket only while it is ESCALATED or PENDING: other cards skip the lookup.
    escalated = ticket.status in {"ESCALATED", "PENDING"}
    current = escalations.current(session, ticket.id) if escalated else None
    return blocks.ticket_card(ticket, escalation=current, suggestions=escalations.suggestions_for(session, ticket.id))


def _prepare_card(session: Session, message: OutboxMessage) -> dict[str, Any]:
    ticket = _ticket_of(session, message)
    return {"channel": message.args["channel"], "unfurl_links": False, **_render(session, ticket)}


def _prepare_refresh(session: Session, message: OutboxMessage) -> dict[str, Any]:
    ticket = _ticket_of(session, message)
    channel, ts = _where_the_card_is(session, ticket)
    return {"channel": channel, "ts": ts, **_render(session, ticket)}


def _prepare_note(session: Session, message: OutboxMessage) -> dict[str, Any]:
    channel, ts = _where_the_card_is(session, _ticket_of(session, message))
    return {"channel": channel, "thread_ts": ts, "text": message.args["text"], "unfurl_links": False}


def _card_posted(session: Session, message: OutboxMessage, response: dict[str, Any], now: datetime) -> None:
    """Remember where the card is (later changes update it in place); attach the full text when cut.
    Two plain statements, not the ticket as an object: this runs for every card posted."""
    assert message.ticket_id is not None
    channel, ts = str(response["channel"]), str(response["ts"])
    tickets.set_card(session, message.ticket_id, channel, ts)
    found = tickets.number_and_description(session, message.ticket_id)
    if found is None or not blocks.text_is_cut(found[1]):
        return
    number, description = found
    ref = format_ticket_ref(number)
    outbox.enqueue(
        session,
        key=f"ticket:{message.ticket_id}:full-text",
        method=FILES_UPLOAD_V2,
        args={
            "channel": channel,
            "thread_ts": ts,
            "content": description,
            "filename": f"{ref}.txt",
            "title": f"{ref} full text",
            "initial_comment": f"Full text of {ref} ({len(description):,} characters).",
        },
        purpose=FULL_TEXT,
        ticket_id=message.ticket_id,
        now=now,
    )


AFTER_SENT: dict[str, AfterSent] = {CARD: _card_posted}
PREPARE: dict[str, Prepare] = {CARD: _prepare_card, REFRESH: _prepare_refresh, NOTE: _prepare_note}
