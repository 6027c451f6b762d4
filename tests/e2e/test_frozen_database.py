"""A PostgreSQL server that freezes (stops answering, keeps the TCP connection) cannot hold a
statement, a commit or a pooled connection for ever: each exchange gives up at its deadline, the
connection is discarded, and work goes on once the server answers again.

The freeze is a TCP relay between the engine and the test's PostgreSQL that stops relaying while
keeping both sockets open, which is what a server whose processes are stopped looks like to a
client: every byte is acknowledged and nothing comes back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from store.db import POSTGRES_CONNECT_ARGS, create_db_engine, session_scope, without_answer_deadline
from tests.e2e.relay import FreezableRelay

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def relay(database_url: str) -> Iterator[FreezableRelay]:
    url = make_url(database_url)
    relay = FreezableRelay((url.host or "127.0.0.1", url.port or 5432))
    yield relay
    relay.close()


@pytest.fixture
def relayed_engine(database_url: str, relay: FreezableRelay, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr("store.db._DeadlineConnection.answer_deadline", 1.0)
    url = make_url(database_url).set(host="127.0.0.1", port=relay.port)
    engine = create_db_engine(url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()


def test_a_statement_on_a_frozen_server_fails_at_its_deadline_and_work_resumes_after(
    relayed_engine: Engine, relay: FreezableRelay
) -> None:
    with relayed_engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
        relay.frozen.set()
        started = time.monotonic()
        with pytest.raises(OperationalError, match="did not answer within 1 s"):
            connection.execute(text("SELECT 2"))
        assert 0.9 < time.monotonic() - started < 2.5

    # A checkout meets the frozen server twice: the pool's ping (the answer deadline) and then the
    # new connection it opens instead (connect_timeout, 5 s). Bounded, not for ever.
    started = time.monotonic()
    with pytest.raises(OperationalError), relayed_engine.connect() as connection:
        connection.execute(text("SELECT 2"))
    assert time.monotonic() - started < 1 + POSTGRES_CONNECT_ARGS["connect_timeout"] + 1.5

    relay.frozen.clear()
    with relayed_engine.connect() as connection:
        assert connection.execute(text("SELECT 3")).scalar() == 3


def test_a_commit_on_a_frozen_server_fails_at_its_deadline(relayed_engine: Engine, relay: FreezableRelay) -> None:
    with relayed_engine.begin() as connection:
        connection.execute(text("CREATE TEMPORARY TABLE frozen_probe (n int)"))

    started = time.monotonic()
    with pytest.raises(OperationalError, match="did not answer within 1 s"), session_scope(relayed_engine) as session:
        session.execute(text("SELECT 1"))
        relay.frozen.set()  # the COMMIT goes out and nothing answers
    assert time.monotonic() - started < 2.5

    # As with any connection lost at COMMIT, whether it took effect is the server's to decide when
    # it wakes; the engine has dropped that connection and carries on with a new one.
    relay.frozen.clear()
    with session_scope(relayed_engine) as session:
        assert session.execute(text("SELECT 4")).scalar() == 4


def test_migrations_lift_the_deadline_for_their_own_connection(relayed_engine: Engine) -> None:
    with relayed_engine.connect() as connection:
        with without_answer_deadline(connection):
            # pg_sleep past the 1 s deadline: a long DDL statement in a migration is allowed.
            connection.execute(text("SELECT pg_sleep(1.5)"))
        driver = connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        with pytest.raises(OperationalError, match="did not answer within 1 s"):
            connection.execute(text("SELECT pg_sleep(1.5)"))
