"""`/ticket reply`: an agent answers the requester with a seed-001 template, in the request's own
thread (or, for a ticket opened with /ticket, in a DM). The reply is the ticket's first response
when it is the first one, and the card's thread records it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from bot.core.templates import Template, fill
from bot.core.text import truncate
from bot.services import cards, sla
from bot.services.policy import Policy
from bot.services.ticket_changes import ticket_to_work
from store import audit, events, outbox
from store.db import read_scope, session_scope
from store.models import Comment, Ticket

__all__ = ["Draft", "draft_reply", "send_reply"]


@dataclass(frozen=True)
class Draft:
    ticket: Ticket
    text: str


def draft_reply(engine: Engine, policy: Policy, *, number: int, agent: str, template: Template) -> Draft:
    with read_scope(engine) as session:
        ticket = ticket_to_work(session, policy, number, actor=agent, what="reply on {ref}", for_update=False)
    requester = f"<@{ticket.requester_id}>" if ticket.requester_id else "there"
    text = fill(template, requester=requester, ticket_ref=ticket.ref, priority=ticket.priority, agent=f"<@{agent}>")
    return Draft(ticket, truncate(text, 3000))


def send_reply(
    engine: Engine,
    policy: Policy,
    *,
    number: int,
    agent: str,
    text: str,
    template: str,
    request_key: str,
    now: datetime,
) -> Ticket | None:
    """Post `text` (mrkdwn the agent wrote) to the requester; None if this request was already sent."""
    with session_scope(engine) as session:
        ticket = ticket_to_work(session, policy, number, actor=agent, what="reply on {ref}")
        assert ticket.id is not None
        if not events.first_delivery(session, request_key[:64], now=now):
            return None
        in_thread = bool(ticket.source_channel and ticket.source_ts and ticket.source_kind != "command")
        where = {"channel": ticket.source_channel, "thread_ts": ticket.source_ts} if in_thread else {
            "channel": ticket.requester_id
        }  # fmt: skip
        outbox.enqueue(
            session, key=f"reply:{request_key}"[:255], method="chat.postMessage",
            args={**where, "text": text, "unfurl_links": False}, purpose="reply", ticket_id=ticket.id, now=now,
        )  # fmt: skip
        session.add(
            Comment(ticket_id=ticket.id, author=agent, role="agent", text=text,
                    slack_ts=f"reply:{uuid.uuid4().hex[:25]}", created_at=now)
        )  # fmt: skip
        event = audit.record(
            session, at=now, actor=agent, entity_type="ticket", entity_id=ticket.id, action="replied",
            field="template", after=template,
        )  # fmt: skip
        if ticket.first_responded_at is None:
            ticket.first_responded_at = now
            changes = [("first_responded_at", None, now), *sla.reconcile(session, policy, ticket, now=now)]
            for field, before, after in changes:
                audit.record(
                    session, at=now, actor=agent, entity_type="ticket", entity_id=ticket.id, action="changed",
                    field=field, before=before, after=after,
                )  # fmt: skip
        ticket.updated_at = now
        session.add(ticket)
        session.flush()
        assert event.id is not None
        how = "in the request's thread" if in_thread else "by DM"
        cards.enqueue_change(
            session, ticket, change_id=event.id, note=f"<@{agent}> replied to the requester {how} ({template})", now=now
        )
        return ticket
