"""Gapless sequences: the number is taken inside the transaction that creates the record."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

__all__ = ["next_value", "put", "value_of"]


def next_value(session: Session, name: str) -> int:
    # One statement on both backends: the row lock (PostgreSQL) or the write lock (SQLite) is held
    # until commit, so two creators never get the same number and a rollback leaves no gap.
    row = session.execute(
        text(
            "INSERT INTO counters (name, value) VALUES (:name, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value"
        ),
        {"name": name},
    ).one()
    return int(row[0])


def value_of(session: Session, name: str) -> int | None:
    row = session.execute(text("SELECT value FROM counters WHERE name = :name"), {"name": name}).first()
    return None if row is None else int(row[0])


def put(session: Session, name: str, value: int) -> None:
    """Set a counter used as a marker (such as the hour of the last complete retention pass)."""
    session.execute(
        text(
            "INSERT INTO counters (name, value) VALUES (:name, :value) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        ),
        {"name": name, "value": value},
    )
