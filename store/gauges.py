"""What `/metrics` reads from the database at scrape time: a few aggregate queries over indexed
columns (the outbox by status, open tickets by priority, the workers' heartbeats), so a scrape costs
the same at 1,000 tickets and at 1,000,000."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from store import digests, heartbeats
from store.models import OutboxMessage, WorkerHeartbeat
from store.outbox import DEAD, PENDING, SENDING

__all__ = ["Gauges", "read"]


@dataclass(frozen=True)
class Gauges:
    outbox_depth: int = 0  # pending and being sent
    outbox_oldest_undelivered_at: datetime | None = None
    outbox_dead: int = 0
    backlog: dict[str, digests.Backlog] = field(default_factory=dict)  # open tickets by priority
    workers: Sequence[WorkerHeartbeat] = ()


def read(session: Session, *, now: datetime) -> Gauges:
    outbox_rows = session.execute(
        select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
        .where(col(OutboxMessage.status).in_((PENDING, SENDING, DEAD)))
        .group_by(OutboxMessage.status)
    ).all()
    undelivered = [(count, oldest) for status, count, oldest in outbox_rows if status != DEAD]
    oldest = min((stamp for _, stamp in undelivered if stamp is not None), default=None)
    return Gauges(
        outbox_depth=sum(int(count) for count, _ in undelivered),
        outbox_oldest_undelivered_at=oldest,
        outbox_dead=sum(int(count) for status, count, _ in outbox_rows if status == DEAD),
        backlog=digests.open_backlog(session, now=now),
        workers=heartbeats.recent(session, now=now),
    )
