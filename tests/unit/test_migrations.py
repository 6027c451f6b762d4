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


def test_concurrent_migrations_do_not_collide(empty_database_url: str) -> None:
    import threading

    errors: list[BaseException] = []

    def migrate() -> None:
        engine = create_db_engine(empty_database_url)
        try:
            upgrade(engine)
        except BaseException as error:  # collected and asserted on below
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = create_db_engine(empty_database_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_upgrade_keeps_existing_tickets(empty_database_url: str) -> None:
    engine = create_db_engine(empty_database_url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO tickets (number, title, description, status, priority, priority_reason, tags,"
                    " created_by, source_kind, created_at, updated_at, breached)"
                    " VALUES (1, 'Old', '', 'NEW', 'P2', '', '[]', 'U_A', 'command', :now, :now, false)"
                ),
                {"now": "2026-11-01 10:00:00"},
            )
        upgrade(engine)
        with engine.connect() as connection:
            row = connection.execute(text("SELECT title, attachments FROM tickets")).one()
        assert row[0] == "Old" and row[1] in ([], "[]")
    finally:
        engine.dispose()


def test_migrations_match_the_models(empty_database_url: str) -> None:
    """A model change without its migration shows up here, on both backends."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    import store.models  # noqa: F401  (registers the tables)

    engine = create_db_engine(empty_database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            differences = compare_metadata(context, SQLModel.metadata)
        assert differences == []
    finally:
        engine.dispose()
