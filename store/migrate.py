"""Alembic, driven from code: `frontline migrate` and the "is this database migrated?" check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, text

from store.db import without_answer_deadline

__all__ = [
    "NotMigratedError",
    "current_revision",
    "ensure_migrated",
    "head_revision",
    "is_known_revision",
    "upgrade",
]

_MIGRATIONS = Path(__file__).parent / "migrations"


class NotMigratedError(RuntimeError):
    """The database schema is not at the revision this code needs."""


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(bind: Engine | Connection) -> str | None:
    """The database's revision, through a new connection of `bind` or on the connection given."""
    if isinstance(bind, Connection):
        return MigrationContext.configure(bind).get_current_revision()
    with bind.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# Any constant works; it only has to be the same in every process that migrates.
_MIGRATION_LOCK = 7_061_636_105


def is_known_revision(revision: str) -> bool:
    """Whether this version's migration scripts hold `revision` (False: a newer release wrote it)."""
    try:
        return ScriptDirectory.from_config(_alembic_config()).get_revision(revision) is not None
    except CommandError:  # alembic's "Can't locate revision"
        return False


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision`. Several processes may call this at once (a `release` step and a
    container's entrypoint, say): on PostgreSQL they queue on an advisory lock and the later ones
    find nothing to do; on SQLite the write lock does the same. NotMigratedError if the database
    is at a revision this version does not know (a newer release migrated it)."""
    current = current_revision(engine)
    if current is not None and not is_known_revision(current):
        raise NotMigratedError(
            f"database {engine.url.render_as_string(hide_password=True)} is at revision {current}, which this "
            f"version does not know (its newest is {head_revision()}): a newer Frontline migrated it; "
            "run that version, or restore a backup taken before it"
        )
    config = _alembic_config()
    with engine.begin() as connection, without_answer_deadline(connection):
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def ensure_migrated(engine: Engine) -> None:
    """Refuse to run on a database that `frontline migrate` has not brought to head."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise NotMigratedError(f"database {where} is not migrated: run `frontline migrate` first")
    if not is_known_revision(current):
        raise NotMigratedError(
            f"database {where} is at revision {current}, newer than this version knows (its newest is {head}): "
            "a newer Frontline migrated it; run that version"
        )
    raise NotMigratedError(
        f"database {where} is at revision {current}, this version needs {head}: run `frontline migrate`"
    )
