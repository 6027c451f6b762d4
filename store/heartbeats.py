"""Worker heartbeats: each worker upserts its row on every sweep; any process reads them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from store.models import WorkerHeartbeat

__all__ = ["FORGET_AFTER", "beat", "recent", "remove"]

# A worker silent this long is forgotten (killed processes leave their row; ids are host:pid, so
# rows would otherwise pile up with every restart).
FORGET_AFTER = timedelta(days=1)

_TABLE = WorkerHeartbeat.__table__  # type: ignore[attr-defined]


def beat(session: Session, *, worker_id: str, now: datetime, sweep_seconds: float, swept: bool) -> None:
    """Record that `worker_id` is alive at `now` (and, when `swept`, that a sweep just succeeded)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(_TABLE).values(
        worker_id=worker_id,
        started_at=now,
        beat_at=now,
        last_sweep_at=now if swept else None,
        sweep_seconds=sweep_seconds,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["worker_id"],
        set_={
            "beat_at": statement.excluded.beat_at,
            "last_sweep_at": func.coalesce(statement.excluded.last_sweep_at, _TABLE.c.last_sweep_at),
            "sweep_seconds": statement.excluded.sweep_seconds,
        },
    )
    session.execute(statement)
    session.execute(delete(WorkerHeartbeat).where(col(WorkerHeartbeat.beat_at) < now - FORGET_AFTER))


def remove(session: Session, worker_id: str) -> None:
    """A worker that stops cleanly takes its row away: it is not stale, it is gone."""
    session.execute(delete(WorkerHeartbeat).where(col(WorkerHeartbeat.worker_id) == worker_id))


def recent(session: Session, *, now: datetime) -> Sequence[WorkerHeartbeat]:
    """Workers heard from within FORGET_AFTER, the most recent beat first."""
    statement = (
        select(WorkerHeartbeat)
        .where(col(WorkerHeartbeat.beat_at) >= now - FORGET_AFTER)
        .order_by(col(WorkerHeartbeat.beat_at).desc())
    )
    return session.exec(statement).all()
