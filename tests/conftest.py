"""Test databases: every run gets its own, on the backend DATABASE_URL names.

- SQLite (default): a migrated template file is made once per run and copied for each test.
- PostgreSQL (`DATABASE_URL=postgresql+psycopg://…`): a database `frontline_test_<random>` is
  created on that server for this run, migrated once, emptied before each test and dropped at the end,
  so parallel or repeated runs never see each other's rows.

Tests marked `postgres_only` / `sqlite_only` are deselected (not skipped) on the other backend, and
with FRONTLINE_FORBID_SKIPS=1 (set by .ci/run) any skipped test fails the run.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import structlog
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers every table on SQLModel.metadata)
from bot.config import FrontlineConfig, demo_config
from bot.logs import configure_logging
from store.db import create_db_engine, is_postgres
from store.migrate import upgrade

if TYPE_CHECKING:
    from bot.sandbox import Sandbox

# Tests log to stdout as structlog does by default, but with plain tracebacks: the default rich
# traceback renders every local of every frame, which took seconds for one failed request under
# load and made the request it was logging time out.
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
        structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback),
    ]
)

BACKEND_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = bool(BACKEND_URL) and is_postgres(BACKEND_URL)
# Every table but Alembic's own, so a new table can never leak rows from one test into the next.
_TABLES_TO_EMPTY = tuple(table.name for table in SQLModel.metadata.sorted_tables)


def pytest_report_header() -> str:
    return f"frontline test backend: {'postgresql' if ON_POSTGRES else 'sqlite'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unwanted = "sqlite_only" if ON_POSTGRES else "postgres_only"
    kept = [item for item in items if unwanted not in item.keywords]
    deselected = [item for item in items if unwanted in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("FRONTLINE_FORBID_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"FRONTLINE_FORBID_SKIPS: {len(skipped)} test(s) skipped; a skip is a failure here")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def create_postgres_database(admin_url: str, prefix: str = "frontline_test") -> str:
    """Create an empty database on the server `admin_url` points at; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for this run: a SQLite template file, or the run's PostgreSQL database."""
    if ON_POSTGRES:
        url = create_postgres_database(BACKEND_URL)
        engine = create_db_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        drop_postgres_database(BACKEND_URL, url)
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    yield str(path)


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> str:
    """A migrated, empty database for one test."""
    if ON_POSTGRES:
        engine = create_db_engine(migrated_template)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(_TABLES_TO_EMPTY)} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return migrated_template
    path = tmp_path / "frontline.db"
    shutil.copyfile(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (for migration tests), on the run's backend."""
    if ON_POSTGRES:
        url = create_postgres_database(BACKEND_URL, prefix="frontline_empty")
        yield url
        drop_postgres_database(BACKEND_URL, url)
        return
    yield f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def config() -> FrontlineConfig:
    """The demo's configuration without its standup channel: these tests run on the real clock with
    a background worker, and the day's digest would come due in some of them and not in others
    (tests of the digest set their own clock and channel)."""
    demo = demo_config()
    return demo.model_copy(update={"channels": demo.channels.model_copy(update={"standup": None})})


@pytest.fixture
def sandbox(database_url: str, config: FrontlineConfig) -> Iterator[Sandbox]:
    from bot.sandbox import Sandbox

    with Sandbox(database_url=database_url, config=config) as running:
        yield running


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The production logging set-up writing to a buffer; the test configuration comes back after."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    out = io.StringIO()
    configure_logging("INFO")
    assert isinstance(root.handlers[0], logging.StreamHandler)
    root.handlers[0].setStream(out)
    yield out
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**saved)
