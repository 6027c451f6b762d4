"""Field case F14: SQLite under concurrent writers never answers "database is locked"."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bot.sandbox import Sandbox
from store import outbox
from store.db import create_db_engine, session_scope
from store.models import Ticket


@pytest.mark.sqlite_only
def test_twenty_commands_in_a_second_with_a_busy_writer_and_a_long_reader(
    sandbox: Sandbox, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stop = threading.Event()
    writer_errors: list[Exception] = []

    def sla_loop_writes() -> None:
        # Stands in for the SLA sweep writing nudge state every 100 ms on its own connection.
        engine = create_db_engine(database_url)
        n = 0
        while not stop.is_set():
            try:
                with session_scope(engine) as session:
                    outbox.enqueue(
                        session,
                        key=f"nudge:{n}",
                        method="chat.postMessage",
                        args={"channel": "C_NOWHERE", "text": "x"},
                        purpose="nudge",
                        now=datetime.now(UTC),
                    )
                n += 1
            except Exception as error:  # recorded and asserted on below
                writer_errors.append(error)
            stop.wait(0.1)
        engine.dispose()

    # A CLI process (an export, say) holding a read transaction open throughout.
    reader = create_db_engine(database_url).execution_options(frontline_read_only=True).connect()
    reader.execute(text("SELECT count(*) FROM tickets")).scalar()
    writer = threading.Thread(target=sla_loop_writes)
    writer.start()
    users = ["U_A", "U_B", "U_REQUESTER", "U_AGENT1", "U_AGENT2"]

    def command(n: int):  # type: ignore[no-untyped-def]
        return sandbox.simulator.slash_command(
            "/ticket", f"load test {n}", user_id=users[n % len(users)], channel_id="C_HELP"
        )

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(command, range(1, 21)))
    finally:
        stop.set()
        writer.join()
        reader.rollback()
        reader.close()

    assert [r.status for r in responses] == [200] * 20
    assert max(r.elapsed for r in responses) < 3.0
    with Session(sandbox.deps.engine) as session:
        tickets = session.exec(select(Ticket)).all()
    assert sorted(t.number for t in tickets) == list(range(1, 21))
    assert sorted(t.title for t in tickets) == sorted(f"load test {n}" for n in range(1, 21))
    assert writer_errors == []
    assert "database is locked" not in caplog.text
