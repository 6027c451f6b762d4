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
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.models import OutboxMessage

__all__ = [
    "CLAIM_LEASE",
    "claim",
    "claim_due",
    "enqueue",
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
) -> OutboxMessage | None:
    """Add a message unless one with `key` exists; returns the new row, or None for a duplicate."""
    message = OutboxMessage(
        key=key,
        method=method,
        args=args,
        purpose=purpose,
        ticket_id=ticket_id,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        return None
    return message


def _claimable(now: datetime) -> Any:
    return or_(
        and_(col(OutboxMessage.status) == PENDING, col(OutboxMessage.next_attempt_at) <= now),
        and_(col(OutboxMessage.status) == SENDING, col(OutboxMessage.claimed_at) < now - CLAIM_LEASE),
    )


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


def claim_due(session: Session, *, worker: str, now: datetime, limit: int = 50) -> list[OutboxMessage]:
    """Claim up to `limit` due rows, oldest first."""
    statement = select(OutboxMessage.id).where(_claimable(now)).order_by(col(OutboxMessage.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    ids = list(session.exec(statement).all())
    claimed = [claim(session, message_id, worker=worker, now=now) for message_id in ids if message_id]
    return [message for message in claimed if message is not None]


def mark_sent(session: Session, message: OutboxMessage, *, now: datetime, result: dict[str, Any]) -> None:
    message.status, message.sent_at, message.result, message.last_error = SENT, now, result, None
    session.add(message)


def mark_retry(session: Session, message: OutboxMessage, *, error: str, retry_at: datetime) -> None:
    message.status, message.last_error, message.next_attempt_at = PENDING, error, retry_at
    message.claimed_by = message.claimed_at = None
    session.add(message)


def mark_dead(session: Session, message: OutboxMessage, *, error: str) -> None:
    """A permanent failure: kept for `frontline outbox`, never retried."""
    message.status, message.last_error = DEAD, error
    session.add(message)


def undelivered(session: Session) -> Sequence[OutboxMessage]:
    statement = select(OutboxMessage).where(col(OutboxMessage.status) != SENT).order_by(col(OutboxMessage.id))
    return session.exec(statement).all()
