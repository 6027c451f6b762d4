"""Slack messages → tickets, comments and annotations. One transaction per event, recorded by
`event_id` in the same transaction, so a retried event changes nothing (SPEC §4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.core.intake import (
    Ignore,
    MessageDecision,
    OpenTicket,
    SourceDeleted,
    SourceEdited,
    ThreadReply,
    message_to_ticket,
)
from bot.core.lifecycle import Status
from bot.core.refs import format_ticket_ref
from bot.core.text import escape_mrkdwn, truncate
from bot.core.ticket_command import TITLE_MAX
from bot.services import cards, escalation_matrix, escalations, sla
from bot.services.policy import Policy
from bot.services.tickets import NewTicket, insert_ticket
from bot.slack.delivery import AfterSent, Prepare
from store import audit, events, outbox, tickets
from store.db import session_scope
from store.models import Comment, OutboxMessage, Ticket

__all__ = ["PREPARE", "IntakeResult", "after_sent_hooks", "handle_message", "ticket_from_reaction"]


@dataclass(frozen=True)
class IntakeResult:
    outcome: str  # created | queued | duplicate | comment | edited | deleted | ignored
    ticket_ref: str | None = None


def handle_message(
    engine: Engine, policy: Policy, decision: MessageDecision, *, event_id: str | None, now: datetime
) -> IntakeResult:
    if isinstance(decision, Ignore):
        return IntakeResult("ignored")
    try:
        with session_scope(engine) as session:
            if event_id and not events.first_delivery(session, event_id, now=now):
                return IntakeResult("duplicate")
            return _apply(session, policy, decision, now)
    except IntegrityError:
        # A concurrent delivery of the same message won the race for its ticket or comment.
        return IntakeResult("duplicate")


def _apply(session: Session, policy: Policy, decision: MessageDecision, now: datetime) -> IntakeResult:
    match decision:
        case OpenTicket():
            return _open(session, policy, decision, now)
        case ThreadReply():
            return _reply(session, policy, decision, now)
        case SourceEdited():
            return _edited(session, decision, now)
        case SourceDeleted():
            return _deleted(session, decision, now)
    return IntakeResult("ignored")


def _title(text: str, files: tuple[dict[str, str], ...]) -> str:
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first_line:
        first_line = "File: " + ", ".join(f["name"] for f in files)
    return truncate(first_line, TITLE_MAX)


def _open(session: Session, policy: Policy, message: OpenTicket, now: datetime) -> IntakeResult:
    existing = tickets.number_by_source(session, message.channel, message.ts)
    if existing is not None:
        return IntakeResult("duplicate", format_ticket_ref(existing))
    request = NewTicket(
        title=_title(message.text, message.files),
        description=message.text,
        created_by=message.opened_by or message.user,
        requester_id=message.user,
        source_kind=message.via,
        source_channel=message.channel,
        source_ts=message.ts,
        attachments=message.files,
    )
    created = insert_ticket(session, policy, request, now=now)
    ticket = created.ticket
    assert ticket.id is not None
    outbox.enqueue(
        session,
        key=f"ticket:{ticket.id}:intake-ack",
        method="chat.postMessage",
        args={
            "channel": message.channel,
            "thread_ts": message.ts,
            "text": f"Ticket {ticket.ref} opened ({ticket.priority}): {escape_mrkdwn(ticket.title)}",
            "unfurl_links": False,
        },
        purpose="intake_ack",
        ticket_id=ticket.id,
        now=now,
    )
    return IntakeResult("created", ticket.ref)


def _reply(session: Session, policy: Policy, reply: ThreadReply, now: datetime) -> IntakeResult:
    ticket = tickets.by_source(session, reply.channel, reply.thread_ts, for_update=True)
    if ticket is None or ticket.id is None:
        return IntakeResult("ignored")
    role = "requester" if reply.user == ticket.requester_id else "agent" if policy.is_agent(reply.user) else "other"
    session.add(
        Comment(ticket_id=ticket.id, author=reply.user, role=role, text=reply.text, slack_ts=reply.ts, created_at=now)
    )
    clocks_moved = False
    if role == "agent" and ticket.first_responded_at is None:
        change_id = _change(
            session, ticket, actor=reply.user, field="first_responded_at", before=None, after=now, now=now
        )
        ticket.first_responded_at = now
        cards.enqueue_change(session, ticket, change_id=change_id, note=f"<@{reply.user}> responded first", now=now)
        clocks_moved = True
    if role == "requester" and ticket.status == Status.PENDING:
        back_to = escalations.working_status(session, ticket)  # still with L2/L3 if escalated
        change_id = _change(
            session, ticket, actor=reply.user, field="status", before=ticket.status, after=back_to, now=now
        )
        ticket.status, ticket.status_since = back_to, now
        note = f"<@{reply.user}> replied: {Status.PENDING} → {back_to}"
        cards.enqueue_change(session, ticket, change_id=change_id, note=note, now=now)
        clocks_moved = True
    if clocks_moved:  # the first response stops a clock; the customer's reply resumes both
        for field, before, after in sla.reconcile(session, policy, ticket, now=now):
            _change(session, ticket, actor=reply.user, field=field, before=before, after=after, now=now)
    ticket.updated_at = now
    session.add(ticket)
    if role == "requester" and ticket.status not in {Status.SOLVED, Status.CLOSED}:
        # A customer's reply can meet the matrix too ("I want to speak to a manager").
        escalation_matrix.apply_matrix(session, policy, ticket, text=reply.text, now=now, new=False)
    return IntakeResult("comment", ticket.ref)


def _edited(session: Session, edit: SourceEdited, now: datetime) -> IntakeResult:
    ticket = tickets.by_source(session, edit.channel, edit.ts, for_update=True)
    if ticket is None or edit.text == ticket.description:
        return IntakeResult("ignored")
    # The ticket keeps what was asked; an edit at the source updates it and is kept in the audit log.
    change_id = _change(
        session,
        ticket,
        actor=ticket.requester_id or "slack",
        field="description",
        before=ticket.description,
        after=edit.text,
        now=now,
    )
    if ticket.title == _title(ticket.description, ()):  # the title came from the text: it follows the edit
        ticket.title = _title(edit.text, tuple(ticket.attachments))
    ticket.description, ticket.updated_at = edit.text, now
    session.add(ticket)
    cards.enqueue_change(session, ticket, change_id=change_id, note="The source message was edited", now=now)
    return IntakeResult("edited", ticket.ref)


def _deleted(session: Session, deletion: SourceDeleted, now: datetime) -> IntakeResult:
    ticket = tickets.by_source(session, deletion.channel, deletion.ts, for_update=True)
    if ticket is None or ticket.source_deleted_at is not None:
        return IntakeResult("ignored")
    # Deleting the message never deletes the ticket (field case F1): it is annotated instead.
    change_id = _change(session, ticket, actor="slack", field="source_deleted_at", before=None, after=now, now=now)
    ticket.source_deleted_at, ticket.updated_at = now, now
    session.add(ticket)
    note = "The source message was deleted; the ticket stays"
    cards.enqueue_change(session, ticket, change_id=change_id, note=note, now=now)
    return IntakeResult("deleted", ticket.ref)


def _change(
    session: Session, ticket: Ticket, *, actor: str, field: str, before: object, after: object, now: datetime
) -> int:
    """Audit one field change; returns its id (which names the card update it causes)."""
    assert ticket.id is not None
    event = audit.record(
        session,
        at=now,
        actor=actor,
        entity_type="ticket",
        entity_id=ticket.id,
        action="changed",
        field=field,
        before=before,
        after=after,
    )
    session.flush()
    assert event.id is not None
    return event.id


REACTION_FETCH = "reaction_intake"


def ticket_from_reaction(
    engine: Engine, *, channel: str, ts: str, reacted_by: str, event_id: str | None, now: datetime
) -> IntakeResult:
    """Someone put the ticket emoji on a message. The event carries no text, so the message is
    fetched through the outbox (retried like any Slack call) and the ticket made when it arrives."""
    with session_scope(engine) as session:
        if event_id and not events.first_delivery(session, event_id, now=now):
            return IntakeResult("duplicate")
        existing = tickets.by_source(session, channel, ts)
        if existing is not None:
            return IntakeResult("duplicate", existing.ref)
        outbox.enqueue(
            session,
            key=f"reaction-intake:{channel}:{ts}",  # one fetch per message, however many react
            method="conversations.replies",
            args={
                "channel": channel,
                "ts": ts,
                "oldest": ts,
                "latest": ts,
                "inclusive": True,
                "limit": 2,
                "opened_by": reacted_by,
            },
            purpose=REACTION_FETCH,
            now=now,
        )
    return IntakeResult("queued")


def _prepare_fetch(session: Session, message: OutboxMessage) -> dict[str, Any]:
    return {key: value for key, value in message.args.items() if key != "opened_by"}


def after_sent_hooks(policy: Policy) -> dict[str, AfterSent]:
    """Outbox hooks that need the configured rules (a fetched message becomes a ticket)."""

    def fetched(session: Session, message: OutboxMessage, response: dict[str, Any], now: datetime) -> None:
        ts, channel = message.args["ts"], message.args["channel"]
        found = next((m for m in response.get("messages", []) if m.get("ts") == ts), None)
        if found is None:
            return  # deleted before we could read it: nothing to make a ticket of
        decision = message_to_ticket(found, channel=channel, opened_by=message.args["opened_by"], via="reaction")
        if isinstance(decision, OpenTicket):
            _open(session, policy, decision, now)

    return {REACTION_FETCH: fetched}


PREPARE: dict[str, Prepare] = {REACTION_FETCH: _prepare_fetch}
