"""The outbox: Slack calls decided inside a transaction, claimed and delivered by a sender.

Claiming is a conditional update (`pending` → `sending`) so that two processes never deliver the
same row; on PostgreSQL a batch claim uses `FOR UPDATE SKIP LOCKED` so workers do not queue behind
each other. A row left in `sending` by a killed process is reclaimed after its lease expires —
that one message may then be sent twice, which is the only duplicate the design allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from store.db import insert_on_conflict
from store.models import OutboxMessage

__all__ = [
    "CLAIM_LEASE",
    "claim",
    "claim_due",
    "enqueue",
    "has_due",
    "mark_dead",
    "mark_retry",
    "mark_sent",
    "undelivered",
]

CLAIM_LEASE = timedelta(minutes=5)

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"


def enqueue(
    session: Session,
    *,
    key: str,
    method: str,
    args: dict[str, Any],
    purpose: str,
    now: datetime,
    ticket_id: int | None = None,
) -> int | None:
    """Add a message unless one with `key` exists; returns the new row's id, or None for a duplicate.

    ON CONFLICT DO NOTHING (both backends) rather than catching IntegrityError: no savepoint, and a
    concurrent duplicate waits for the other transaction instead of failing it.
    """
    values = {
        "key": key,
        "method": method,
        "args": args,
        "purpose": purpose,
        "ticket_id": ticket_id,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    insert = insert_on_conflict(session)
    statement = insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["key"])
    row = session.execute(statement.returning(col(OutboxMessage.id))).first()
    return int(row[0]) if row is not None else None


def _claimable(now: datetime) -> Any:
    due = or_(
        and_(col(OutboxMessage.status) == PENDING, col(OutboxMessage.next_attempt_at) <= now),
        and_(col(OutboxMessage.status) == SENDING, col(OutboxMessage.claimed_at) < now - CLAIM_LEASE),
    )
    # One ticket's messages go out in the order they were decided (its card before the card's
    # updates, thread lines in order): a row waits while an earlier row of its ticket is undelivered.
    earlier = aliased(OutboxMessage)
    waiting_behind = (
        select(earlier.id)
        .where(
            col(earlier.ticket_id) == col(OutboxMessage.ticket_id),
            col(earlier.id) < col(OutboxMessage.id),
            col(earlier.status).in_((PENDING, SENDING)),
        )
        .exists()
    )
    return and_(due, or_(col(OutboxMessage.ticket_id).is_(None), ~waiting_behind))


def claim(session: Session, message_id: int, *, worker: str, now: datetime) -> OutboxMessage | None:
    """Claim one row if it is still claimable; None if someone else has it or it is done."""
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, _claimable(now))
        .values(status=SENDING, claimed_by=worker, claimed_at=now, attempts=OutboxMessage.attempts + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.flush()
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    return message


def claim_due(session: Session, *, worker: str, now: datetime, limit: int = 10) -> list[OutboxMessage]:
    """Claim up to `limit` due rows, oldest first."""
    statement = select(OutboxMessage.id).where(_claimable(now)).order_by(col(OutboxMessage.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    ids = list(session.exec(statement).all())
    claimed = [claim(session, message_id, worker=worker, now=now) for message_id in ids if message_id]
    return [message for message in claimed if message is not None]


def mark_sent(session: Session, message_id: int, *, now: datetime, result: dict[str, Any]) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(status=SENT, sent_at=now, result=result, last_error=None)
    )


def mark_retry(session: Session, message_id: int, *, error: str, retry_at: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(status=PENDING, last_error=error, next_attempt_at=retry_at, claimed_by=None, claimed_at=None)
    )


def mark_dead(session: Session, message_id: int, *, error: str) -> None:
    """A permanent failure: kept for `frontline outbox`, never retried."""
    session.execute(
        update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(status=DEAD, last_error=error)
    )


def has_due(session: Session, now: datetime) -> bool:
    return session.exec(select(OutboxMessage.id).where(_claimable(now)).limit(1)).first() is not None


def undelivered(session: Session) -> Sequence[OutboxMessage]:
    statement = select(OutboxMessage).where(col(OutboxMessage.status) != SENT).order_by(col(OutboxMessage.id))
    return session.exec(statement).all()
