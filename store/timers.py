"""Timers: time-based work, each done once (SLA nudges, stage timers; later escalation and
playbook reminders).

A subject's timers are *planned* together (`plan`): the ones it still needs are inserted or moved,
the ones it no longer needs are dropped; a timer that already fired is never moved or fired again,
which is what makes "each threshold once per ticket and clock" hold. The sweep claims due timers
(a conditional update, `FOR UPDATE SKIP LOCKED` on PostgreSQL, a lease for killed processes) and
acts on each in a transaction that also sets `fired_at`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from store.db import id_in
from store.models import Timer, UTCDateTime

__all__ = [
    "CLAIM_LEASE",
    "batched",
    "by_ids",
    "by_key",
    "claim_due",
    "mark_fired",
    "plan",
    "release",
    "unfired",
]

CLAIM_LEASE = timedelta(minutes=5)


def plan(
    session: Session, *, kind: str, subject_id: int, due: Mapping[str, tuple[str, datetime]], fresh: bool = False
) -> None:
    """Make the subject's unfired timers exactly `due` (name -> (key, when)); `fresh`: the subject
    was created in this transaction, so there is nothing to drop."""
    keys = [key for key, _ in due.values()]
    # A timer a sweep has claimed stays until the sweep fires it (it then finds it no longer applies):
    # the sweep may be the very transaction re-planning (a stage timer that closes the ticket).
    if not fresh:
        table = Timer.__table__  # type: ignore[attr-defined]
        # On the table, not the entity: the ORM's bulk delete would first evaluate every loaded Timer.
        stale = delete(table).where(
            table.c.kind == kind,
            table.c.subject_id == subject_id,
            table.c.fired_at.is_(None),
            table.c.claimed_by.is_(None),
        )
        session.execute(stale.where(table.c.key.not_in(keys)) if keys else stale)
    if not due:
        return
    rows = [
        {"key": key, "kind": kind, "subject_id": subject_id, "name": name, "due_at": when}
        for name, (key, when) in due.items()
    ]
    session.execute(_upsert(session.get_bind().dialect.name), rows)


@lru_cache(maxsize=4)
def _upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE of a timer's due time, built once and run for many rows
    (a statement built per call, with its rows inlined, cost more to compile than to run)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Timer.__table__  # type: ignore[attr-defined]
    columns = ("key", "kind", "subject_id", "name", "due_at")
    statement = insert(table).values({column: bindparam(column) for column in columns})
    # A timer whose time moves loses its claim (it is claimed again when due); one planned again at
    # the same time keeps it: a sweep may be acting on it right now, in this very batch, and an
    # unclaimed timer would be dropped as stale by the next plan of its subject.
    moved = table.c.due_at != statement.excluded.due_at
    return statement.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "due_at": statement.excluded.due_at,
            "claimed_by": case((moved, None), else_=table.c.claimed_by),
            "claimed_at": case((moved, None), else_=table.c.claimed_at),
        },
        where=table.c.fired_at.is_(None),  # a fired timer stays as it was
    )


def by_ids(session: Session, ids: list[int]) -> list[Timer]:
    """The timers, as they are now (re-read, not from the session's cache)."""
    statement = select(Timer).where(id_in(Timer.id, ids)).execution_options(populate_existing=True)
    return list(session.exec(statement).all())


def subjects_of(session: Session, ids: list[int]) -> list[tuple[int, str, int]]:
    """(id, kind, subject id) of each timer: what a sweep must lock before it reads them properly."""
    rows = session.execute(select(Timer.id, Timer.kind, Timer.subject_id).where(id_in(Timer.id, ids)))
    return [(int(timer_id), str(kind), int(subject)) for timer_id, kind, subject in rows]


def unfired(session: Session, *, kind: str, subject_ids: list[int], due_by: datetime) -> dict[int, list[Timer]]:
    """The unfired timers of each subject that are due by `due_by`."""
    statement = select(Timer).where(
        col(Timer.kind) == kind,
        id_in(Timer.subject_id, subject_ids),
        col(Timer.fired_at).is_(None),
        col(Timer.due_at) <= due_by,
    )
    found: dict[int, list[Timer]] = {subject: [] for subject in subject_ids}
    for timer in session.exec(statement.execution_options(populate_existing=True).order_by(col(Timer.due_at))):
        found[timer.subject_id].append(timer)
    return found


def _claimable(now: datetime, lease_now: datetime) -> ColumnElement[bool]:
    """Unfired, due by `now`, and unclaimed or claimed by a process whose lease ran out by
    `lease_now` (the real clock; `now` may be a `tick --now` in the future or the past)."""
    return and_(
        col(Timer.fired_at).is_(None),
        col(Timer.due_at) <= now,
        or_(col(Timer.claimed_at).is_(None), col(Timer.claimed_at) < lease_now - CLAIM_LEASE),
    )


def claim_due(
    session: Session, *, worker: str, now: datetime, limit: int = 100, lease_now: datetime | None = None
) -> list[int]:
    """Claim up to `limit` due timers, earliest first; returns their ids (the sweep reads them again
    under its locks)."""
    lease_now = lease_now or now
    statement = select(Timer.id).where(_claimable(now, lease_now)).order_by(col(Timer.due_at)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    ids = [timer_id for timer_id in session.exec(statement).all() if timer_id is not None]
    if not ids:
        return []
    table = Timer.__table__  # type: ignore[attr-defined]
    claimed = session.connection().execute(
        update(table)
        .where(id_in(table.c.id, ids), _claimable(now, lease_now))
        .values(claimed_by=worker, claimed_at=lease_now)
        .returning(table.c.id, table.c.due_at)
    )
    return [timer_id for timer_id, _ in sorted(claimed, key=lambda row: (row[1], row[0]))]


def by_key(session: Session, key: str) -> Timer | None:
    return session.exec(select(Timer).where(col(Timer.key) == key)).first()


def mark_fired(session: Session, timer: Timer, *, now: datetime, outcome: str) -> None:
    batch = session.info.get(_FIRED)
    if batch is None:
        timer.fired_at, timer.outcome = now, outcome[:255]
        session.add(timer)
        return
    # Seen as fired by the rest of the batch at once, written with the others when it ends.
    set_committed_value(timer, "fired_at", now)
    set_committed_value(timer, "outcome", outcome[:255])
    batch.append({"b_id": timer.id, "b_key": timer.key, "b_fired_at": now, "b_outcome": outcome[:255]})


_FIRED = "frontline.timers_fired"


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Within the block, `mark_fired` records in one executemany at the end instead of one ORM
    update per timer (a sweep fires hundreds per transaction)."""
    rows: list[dict[str, Any]] = []
    session.info[_FIRED] = rows
    try:
        yield
    finally:
        session.info.pop(_FIRED, None)
    if rows:
        session.connection().execute(_MARK_FIRED, rows)


_TABLE = Timer.__table__  # type: ignore[attr-defined]
_MARK_FIRED = (
    update(_TABLE)
    # By id and key: on SQLite a deleted timer's id can be taken again by a new one within the batch.
    .where(_TABLE.c.id == bindparam("b_id"), _TABLE.c.key == bindparam("b_key"))
    .values(fired_at=bindparam("b_fired_at", type_=UTCDateTime()), outcome=bindparam("b_outcome"))
)


def release(session: Session, timer: Timer) -> None:
    """Give a claimed timer back (it is not due after all, or could not be acted on yet)."""
    timer.claimed_by = timer.claimed_at = None
    session.add(timer)
