"""The outbox: Slack calls decided inside a transaction, claimed and delivered by a sender.

Claiming is a conditional update (`pending` → `sending`) so that two processes never deliver the
same row; on PostgreSQL a batch claim uses `FOR UPDATE SKIP LOCKED` so workers do not queue behind
each other. A row left in `sending` by a killed process is reclaimed after its lease expires —
that one message may then be sent twice, which is the only duplicate the design allows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from store.db import insert_if_absent, insert_many_if_absent
from store.models import OutboxMessage

__all__ = [
    "CLAIM_LEASE",
    "batched",
    "by_key",
    "claim",
    "claim_due",
    "enqueue",
    "has_due",
    "mark_dead",
    "mark_retry",
    "mark_sent",
    "release",
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
    """Add a message unless one with `key` exists; returns the new row's id, or None for a duplicate."""
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
    batch = session.info.get(_BATCH)
    if batch is not None:
        batch.append(values)
        return None
    new_id = insert_if_absent(session, OutboxMessage, values, unique="key")
    return int(new_id) if new_id is not None else None


_BATCH = "frontline.outbox_batch"


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Within the block, `enqueue` collects its rows (and returns None: no id yet) and they are
    inserted together when the block ends, in the order decided: the sweep decides hundreds of
    nudges per transaction, and one statement per row was a quarter of its cost."""
    rows: list[dict[str, Any]] = []
    session.info[_BATCH] = rows
    try:
        yield
    finally:
        session.info.pop(_BATCH, None)
    insert_many_if_absent(session, OutboxMessage, rows, unique="key")


# An earlier row of the same ticket (see `_claimable`); built once, it is costly to construct.
_EARLIER = aliased(OutboxMessage)
# Updates by primary key that need not touch objects already in the session: skipping SQLAlchemy's
# "synchronize session" step halves their cost.
_PLAIN_UPDATE = {"synchronize_session": False}


def _claimable(now: datetime, lease_now: datetime | None = None) -> Any:
    """Due by `now`, or claimed by a process whose lease ran out by `lease_now` (the real clock, which
    leases are about; `now` may be a `tick --now` in the future or the past)."""
    lease_now = lease_now or now
    due = or_(
        and_(col(OutboxMessage.status) == PENDING, col(OutboxMessage.next_attempt_at) <= now),
        and_(col(OutboxMessage.status) == SENDING, col(OutboxMessage.claimed_at) < lease_now - CLAIM_LEASE),
    )
    # One ticket's messages go out in the order they were decided (its card before the card's
    # updates, thread lines in order): a row waits while an earlier row of its ticket is undelivered.
    waiting_behind = (
        select(_EARLIER.id)
        .where(
            col(_EARLIER.ticket_id) == col(OutboxMessage.ticket_id),
            col(_EARLIER.id) < col(OutboxMessage.id),
            col(_EARLIER.status).in_((PENDING, SENDING)),
        )
        .exists()
    )
    return and_(due, or_(col(OutboxMessage.ticket_id).is_(None), ~waiting_behind))


def claim_due(
    session: Session, *, worker: str, now: datetime, limit: int = 10, lease_now: datetime | None = None
) -> list[OutboxMessage]:
    """Claim up to `limit` rows due by `now`, oldest first: pick them, then one conditional UPDATE
    takes those still claimable (another worker may have taken some in between), returning what it
    took. The claim's lease starts at `lease_now` (default `now`): the real clock, when `now` is not."""
    claimable = _claimable(now, lease_now)
    statement = select(OutboxMessage.id).where(claimable).order_by(col(OutboxMessage.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    ids = [message_id for message_id in session.exec(statement).all() if message_id is not None]
    return _claim(session, ids, worker=worker, now=now, lease_now=lease_now)


def claim(session: Session, message_id: int, *, worker: str, now: datetime) -> OutboxMessage | None:
    """Claim one row if it is still claimable; None if someone else has it or it is done."""
    claimed = _claim(session, [message_id], worker=worker, now=now)
    return claimed[0] if claimed else None


def _claim(
    session: Session, ids: list[int], *, worker: str, now: datetime, lease_now: datetime | None = None
) -> list[OutboxMessage]:
    if not ids:
        return []
    claimed = session.scalars(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), _claimable(now, lease_now))
        .values(status=SENDING, claimed_by=worker, claimed_at=lease_now or now, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage),
        execution_options={**_PLAIN_UPDATE, "populate_existing": True},  # the returned row is the truth
    ).all()
    return sorted(claimed, key=lambda message: message.id or 0)


def mark_sent(session: Session, message_id: int, *, now: datetime, result: dict[str, Any]) -> None:
    # On the connection, past the ORM's execute: it runs for every message delivered.
    session.connection().execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.id == message_id)
        .values(status=SENT, sent_at=now, result=result, last_error=None)
    )


_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]


def mark_retry(session: Session, message_id: int, *, error: str, retry_at: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(status=PENDING, last_error=error, next_attempt_at=retry_at, claimed_by=None, claimed_at=None),
        execution_options=_PLAIN_UPDATE,
    )


def defer(session: Session, message_id: int, *, until: datetime) -> None:
    """Put a claimed row back until `until` without counting the claim as an attempt (pacing)."""
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(
            status=PENDING,
            next_attempt_at=until,
            claimed_by=None,
            claimed_at=None,
            attempts=OutboxMessage.attempts - 1,
        ),
        execution_options=_PLAIN_UPDATE,
    )


def release(session: Session, message_ids: Sequence[int], *, worker: str) -> None:
    """Give back rows `worker` claimed and did not attempt (it is shutting down): pending again, due
    as they were, the claim not counted as an attempt, so another worker sends them at once."""
    if not message_ids:
        return
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(message_ids),
            col(OutboxMessage.status) == SENDING,
            col(OutboxMessage.claimed_by) == worker,
        )
        .values(status=PENDING, claimed_by=None, claimed_at=None, attempts=OutboxMessage.attempts - 1),
        execution_options=_PLAIN_UPDATE,
    )


def mark_dead(session: Session, message_id: int, *, error: str) -> None:
    """A permanent failure: kept for `frontline outbox`, never retried."""
    session.execute(
        update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(status=DEAD, last_error=error),
        execution_options=_PLAIN_UPDATE,
    )


def by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(col(OutboxMessage.key) == key)).first()


def has_due(session: Session, now: datetime) -> bool:
    return session.exec(select(OutboxMessage.id).where(_claimable(now)).limit(1)).first() is not None


def latest_of(session: Session, purpose: str) -> OutboxMessage | None:
    """The most recently decided row of `purpose` (the last digest posted, say)."""
    statement = (
        select(OutboxMessage).where(col(OutboxMessage.purpose) == purpose).order_by(col(OutboxMessage.id).desc())
    )
    return session.exec(statement.limit(1)).first()


def undelivered(session: Session) -> Sequence[OutboxMessage]:
    statement = select(OutboxMessage).where(col(OutboxMessage.status) != SENT).order_by(col(OutboxMessage.id))
    return session.exec(statement).all()
