"""Gapless sequences: the number is taken inside the transaction that creates the record."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

__all__ = ["next_value"]


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
