"""A PostgreSQL database created as SQL_ASCII (an old cluster, or one initialised without a locale)
must work as a UTF8 one does: it did not, because text came back as bytes and SQLAlchemy could not
even parse the server's version (found running the compose file against such a server)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from bot.config import FrontlineConfig
from bot.sandbox import Sandbox
from store.db import create_db_engine
from store.migrate import head_revision, upgrade
from store.models import Ticket
from tests.conftest import BACKEND_URL, drop_postgres_database

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def sql_ascii_url() -> Iterator[str]:
    name = f"frontline_ascii_{uuid.uuid4().hex[:12]}"
    admin = create_engine(BACKEND_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:  # SQL_ASCII needs template0
        connection.execute(
            text(f"CREATE DATABASE \"{name}\" ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'")
        )
    admin.dispose()
    url = make_url(BACKEND_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    drop_postgres_database(BACKEND_URL, url)


def test_a_sql_ascii_database_migrates_and_keeps_text_intact(sql_ascii_url: str, config: FrontlineConfig) -> None:
    engine = create_db_engine(sql_ascii_url)
    upgrade(engine)
    engine.dispose()
    title = "Café checkout → 500 for São Paulo ✓"
    with Sandbox(database_url=sql_ascii_url, config=config, with_worker=False) as sandbox:
        answer = sandbox.simulator.slash_command("/ticket", title, user_id="U_REQUESTER", channel_id="C_HELP")
        assert answer.status == 200 and "Created *T-1*" in answer.body
        with Session(sandbox.deps.engine) as session:
            [ticket] = session.exec(select(Ticket)).all()
    assert ticket.title == title


def test_probes_read_a_sql_ascii_database(sql_ascii_url: str) -> None:
    from store.db import create_probe_engine

    engine = create_db_engine(sql_ascii_url)
    upgrade(engine)
    engine.dispose()
    probe = create_probe_engine(sql_ascii_url)
    with probe.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    probe.dispose()
