"""Migrations from an empty database on the run's backend (SQLite by default, PostgreSQL in CI)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text

from store.db import create_db_engine, is_sqlite
from store.migrate import NotMigratedError, current_revision, ensure_migrated, head_revision, upgrade


def test_upgrade_from_empty_reaches_head_with_every_table(empty_database_url: str) -> None:
    engine = create_db_engine(empty_database_url)
    try:
        assert current_revision(engine) is None
        with pytest.raises(NotMigratedError, match="run `frontline migrate` first"):
            ensure_migrated(engine)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        ensure_migrated(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"tickets", "audit_events", "outbox", "counters", "alembic_version"} <= tables
        upgrade(engine)  # idempotent: a second `frontline migrate` changes nothing
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_with_busy_timeout(engine: Engine) -> None:
    assert is_sqlite(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
