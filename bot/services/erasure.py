"""`frontline erase-user U…`: one person's personal data erased from every table, counts kept.

What goes: tickets they own become unowned (their nudges go to triage) and messages waiting to be
sent to them are withdrawn; the tickets they asked for lose their words (title, description, attachments, replies,
notes, CSAT comments, handoffs, audit text, delivered messages, sentence vectors) and their
requester; what they wrote elsewhere goes; then their ID and every copy of those words (the digest's
snapshot, playbook and incident timelines, cards waiting to be sent, …) are replaced in every text
and JSON column of every table. Rows stay, with their times, statuses and priorities, so metrics do
not change. The audit log records that an erasure ran and when, under a random id, not whom."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.erasure import ERASED, Scrubber, is_user_id
from bot.services.ticket_changes import record_change
from store import audit
from store import erasure as store
from store.db import read_scope, session_scope

__all__ = ["ErasureReport", "InvalidUserIdError", "erase_user"]

ERASURE_ACTOR = "frontline"


class InvalidUserIdError(ValueError):
    """Not a Slack user ID."""


@dataclass(frozen=True)
class ErasureReport:
    erasure_id: str | None  # None: nothing of the person was left
    tickets: int  # tickets they asked for, now without their words
    rows: int  # rows changed in all


def erase_user(engine: Engine, user_id: str, *, now: datetime) -> ErasureReport:
    """Erase `user_id`'s personal data; running it again finds nothing and changes nothing."""
    if not is_user_id(user_id):
        raise InvalidUserIdError(
            f"'{user_id[:40]}' is not a Slack user ID (like U0123ABCD or W0123ABCD: U or W, then capitals and digits)"
        )
    tables = store.scrubbable_tables()
    # Found first without the write lock: a large database is read once, and only the rows that
    # hold something of the person are read again and changed in the one transaction below.
    with read_scope(engine) as session:
        ticket_ids = store.tickets_requested_by(session, user_id)
        scrubber = Scrubber.of(user_id, store.texts_of(session, user_id, ticket_ids))
        found = {where.table.name: store.candidate_keys(session, where, scrubber) for where in tables}
    if not ticket_ids and not any(found.values()):
        return ErasureReport(None, 0, 0)
    erasure_id = secrets.token_hex(8)
    with session_scope(engine) as session:
        rows = _unown(session, user_id, now=now) + store.withdraw_messages_to(session, user_id)
        rows += store.erase_ticket_content(session, ticket_ids) + store.erase_words_of(session, user_id)
        for where in tables:
            rows += store.scrub_rows(session, where, found[where.table.name], scrubber)
        audit.record(
            session, at=now, actor=ERASURE_ACTOR, entity_type="erasure", entity_id=0, action="erased", after=erasure_id
        )
    return ErasureReport(erasure_id, len(ticket_ids), rows)


UNOWNED_NOTE = "Unassigned: its owner's personal data was erased."


def _unown(session: Session, user_id: str, *, now: datetime) -> int:
    """Their tickets become unowned, as if they had handed them back: audited (without naming them),
    the card updated, a line in its thread, and from now on the nudges go to triage."""
    owned = store.owned_by(session, user_id)
    for ticket in owned:
        ticket.owner_id = None
        record_change(session, ticket, ERASURE_ACTOR, [("owner_id", ERASED, None)], note=UNOWNED_NOTE, now=now)
    return len(owned)
