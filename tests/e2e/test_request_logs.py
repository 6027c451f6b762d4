"""Log lines written while a signed request is handled carry its request id and Slack's ids."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bot.config import FrontlineConfig
from bot.sandbox import Sandbox
from store.db import create_db_engine
from store.migrate import upgrade


@pytest.fixture
def broken_sandbox(empty_database_url: str, config: FrontlineConfig) -> Iterator[Sandbox]:
    """Every ticket insert fails (no counters table), so each /ticket logs `listener_failed`."""
    engine = create_db_engine(empty_database_url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE counters"))
    engine.dispose()
    with Sandbox(database_url=empty_database_url, config=config) as running:
        yield running


def test_each_request_logs_its_own_id_and_command_with_pii_masked(
    broken_sandbox: Sandbox, json_logs: io.StringIO
) -> None:
    for words in ("printer jams, call +44 20 7946 0958", "mail jane@acme.io"):
        response = broken_sandbox.simulator.slash_command(
            "/ticket", words, user_id="U_REQUESTER", channel_id="C_GENERAL"
        )
        assert response.status == 200
    failures = [
        record
        for record in (json.loads(line) for line in json_logs.getvalue().splitlines() if line.strip())
        if record["event"] == "listener_failed"
    ]
    assert len(failures) == 2
    assert all(record["command"] == "/ticket" and len(record["request_id"]) == 16 for record in failures)
    assert failures[0]["request_id"] != failures[1]["request_id"]
    assert "7946" not in json_logs.getvalue() and "jane@" not in json_logs.getvalue()
    # The person got a 200 with an apology; the metric still says the request failed.
    registry = broken_sandbox.deps.metrics.registry
    assert registry.get_sample_value("frontline_slack_requests_total", {"kind": "command", "outcome": "error"}) == 2
    assert registry.get_sample_value("frontline_slack_requests_total", {"kind": "command", "outcome": "ok"}) is None


@pytest.mark.parametrize("shape", ["A", "a.", "a1"])
def test_a_huge_unsigned_body_is_refused_at_once_and_logged_short(
    sandbox: Sandbox, json_logs: io.StringIO, shape: str
) -> None:
    """A review sent one unsigned 500 KB POST: Bolt logged the body, the log masker's e-mail pattern
    worked on it for two minutes holding the GIL, and /healthz and SIGTERM waited behind it."""
    body = b"token=x&command=%2Fticket&text=" + shape.encode() * (500_000 // len(shape))
    refused = sandbox.simulator.send_raw(body, "application/x-www-form-urlencoded", signature="v0=00")
    assert refused.status == 401
    assert refused.elapsed < 3.0, refused.elapsed
    lines = json_logs.getvalue().splitlines()
    assert lines and max(len(line) for line in lines) < 20_000
