"""`/metrics` and `/readyz` over real HTTP: a ticket taken in through a signed event, delivered to the
stand-in (through one 429), then the exposition scraped and parsed with prometheus_client's parser."""

from __future__ import annotations

import json
import logging
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlalchemy import text

from bot.app import build_app, fetch_identity
from bot.config import FrontlineConfig
from bot.health import Readiness
from bot.sandbox import Sandbox
from bot.slack.simulator import SlackSimulator
from bot.socket_mode import MeteredSocketModeHandler
from store.db import create_probe_engine

# Every series Frontline adds, with its label names (the process_/python_ ones come from the library).
EXPECTED_LABELS: dict[str, set[str]] = {
    "frontline_slack_requests_total": {"kind", "outcome"},
    "frontline_slack_ack_seconds_bucket": {"kind", "le"},
    "frontline_slack_ack_seconds_count": {"kind"},
    "frontline_slack_ack_seconds_sum": {"kind"},
    "frontline_slack_api_calls_total": {"method", "code"},
    "frontline_sweep_last_success_timestamp_seconds": set(),
    "frontline_sweep_duration_seconds_count": set(),
    "frontline_database_up": set(),
    "frontline_outbox_depth": set(),
    "frontline_outbox_oldest_undelivered_age_seconds": set(),
    "frontline_outbox_dead_messages": set(),
    "frontline_tickets_open": {"priority"},
    "frontline_tickets_at_risk": {"priority"},
    "frontline_tickets_breached": {"priority"},
    "frontline_workers_fresh": set(),
    "frontline_workers_last_heartbeat_timestamp_seconds": set(),
    "frontline_workers_last_sweep_timestamp_seconds": set(),
}
DATABASE_SERIES = {
    name for name in EXPECTED_LABELS if name.startswith(("frontline_outbox", "frontline_tickets", "frontline_workers"))
}


def get(url: str, timeout: float = 10) -> tuple[int, str, float]:
    """Status, body and seconds taken of a GET (an HTTP error status is an answer, not a failure)."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), time.monotonic() - started


def scrape(base_url: str) -> list[Sample]:
    status, body, _ = get(f"{base_url}/metrics")
    assert status == 200
    return [sample for family in text_string_to_metric_families(body) for sample in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
    return found[0]


def wait_for(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_scripted_run_shows_in_metrics_with_prometheus_names_and_labels(sandbox: Sandbox) -> None:
    sandbox.standin.fail_next("chat.postMessage", "ratelimited", status=429)  # the card's first try
    message = {"type": "message", "channel": "C_HELP", "user": "U_REQ", "text": "Checkout is down", "ts": "1.000100"}
    assert sandbox.simulator.event(message, event_id="Ev_METRICS1").status == 200
    forged = SlackSimulator(sandbox.events_url, "not-the-secret")
    assert forged.slash_command("/ticket", "forged", user_id="U_A", channel_id="C_HELP").status == 401
    sandbox.wait_until_delivered()
    wait_for(lambda: value(scrape(sandbox.base_url), "frontline_workers_fresh") == 1)  # the first sweep beat

    samples = scrape(sandbox.base_url)
    ours = {s.name for s in samples if s.name.startswith("frontline_")}
    assert ours >= set(EXPECTED_LABELS), set(EXPECTED_LABELS) - ours
    for sample in samples:
        if sample.name in EXPECTED_LABELS:
            assert set(sample.labels) == EXPECTED_LABELS[sample.name], sample
    assert value(samples, "frontline_slack_requests_total", kind="event", outcome="ok") == 1
    assert value(samples, "frontline_slack_requests_total", kind="command", outcome="rejected") == 1
    assert value(samples, "frontline_slack_ack_seconds_count", kind="event") == 1
    assert value(samples, "frontline_slack_ack_seconds_bucket", kind="event", le="3.0") == 1
    assert value(samples, "frontline_slack_api_calls_total", method="chat.postMessage", code="ratelimited") == 1
    posted = sandbox.standin.calls_to("chat.postMessage")
    assert value(samples, "frontline_slack_api_calls_total", method="chat.postMessage", code="ok") == len(posted) - 1
    assert value(samples, "frontline_database_up") == 1
    assert value(samples, "frontline_outbox_depth") == 0
    assert value(samples, "frontline_outbox_oldest_undelivered_age_seconds") == 0
    opened = {p: value(samples, "frontline_tickets_open", priority=p) for p in ("P0", "P1", "P2", "P3")}
    assert sum(opened.values()) == 1 and opened["P0"] == 1  # "down": an outage
    assert value(samples, "frontline_tickets_breached", priority="P0") == 0
    assert value(samples, "frontline_tickets_at_risk", priority="P0") == 1  # P0's 15 minutes are within the hour
    assert time.time() - value(samples, "frontline_sweep_last_success_timestamp_seconds") < 60
    assert value(samples, "frontline_workers_last_sweep_timestamp_seconds") > 0

    status, body, _ = get(f"{sandbox.base_url}/readyz")
    report = json.loads(body)
    assert status == 200 and report["ready"] is True, report
    assert report["checks"] == {"database": "ok", "migrations": "ok", "slack": "ok"}
    assert report["workers"]["status"] == "ok" and report["workers"]["fresh"] == 1


def test_outbox_depth_and_age_show_what_waits(sandbox: Sandbox) -> None:
    sandbox.standin.set_delay("chat.postMessage", 1.5)  # a slow Slack: the card waits in the outbox meanwhile
    command = sandbox.simulator.slash_command("/ticket", "Printer jams", user_id="U_AGENT1", channel_id="C_HELP")
    assert command.status == 200
    time.sleep(0.6)
    samples = scrape(sandbox.base_url)
    assert value(samples, "frontline_outbox_depth") >= 1
    assert value(samples, "frontline_outbox_oldest_undelivered_age_seconds") >= 0.5
    sandbox.standin.set_delay("chat.postMessage", 0)
    sandbox.wait_until_delivered()
    assert value(scrape(sandbox.base_url), "frontline_outbox_depth") == 0


@pytest.mark.sqlite_only
def test_readyz_and_metrics_answer_when_the_sqlite_file_is_broken(sandbox: Sandbox, database_url: str) -> None:
    path = Path(database_url.removeprefix("sqlite:///"))
    assert get(f"{sandbox.base_url}/readyz")[0] == 200
    saved = path.with_suffix(".saved")
    shutil.copyfile(path, saved)
    path.write_bytes(b"this is not a database" * 100)  # as root, chmod 000 would not stop us reading it
    try:
        status, body, seconds = get(f"{sandbox.base_url}/readyz")
        report = json.loads(body)
        assert status == 503 and report["ready"] is False and seconds < 5
        assert report["checks"]["database"] == "unreachable: file is not a database"
        assert report["checks"]["migrations"] == "unknown (database unreachable)"
        samples = scrape(sandbox.base_url)
        assert value(samples, "frontline_database_up") == 0
        assert not {s.name for s in samples} & DATABASE_SERIES  # skipped, not reported as zeros
    finally:
        shutil.copyfile(saved, path)
    assert get(f"{sandbox.base_url}/readyz")[0] == 200


def test_readyz_names_a_database_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "frontline.db"
    readiness = Readiness(create_probe_engine(f"sqlite:///{missing}"), auth_test=lambda: None, clock=_now)
    report = readiness.report()
    assert report.ready is False
    assert report.checks["database"] == "unreachable: unable to open database file"
    assert report.checks["slack"] == "ok"
    absent = tmp_path / "frontline.db"  # a directory that exists: the probe must not create an empty file
    assert (
        Readiness(create_probe_engine(f"sqlite:///{absent}"), auth_test=lambda: None, clock=_now).report().ready
        is False
    )
    assert not absent.exists()


def test_readyz_names_a_database_not_at_head(empty_database_url: str) -> None:
    from store.db import create_db_engine
    from store.migrate import head_revision, upgrade

    engine = create_db_engine(empty_database_url)
    engine.connect().close()  # an SQLite file exists once opened read-write; the probe opens it read-only
    readiness = Readiness(create_probe_engine(empty_database_url), auth_test=lambda: None, clock=_now)
    empty = readiness.report()
    assert empty.ready is False and empty.checks["database"] == "ok"
    assert empty.checks["migrations"] == f"at nothing, need {head_revision()}: run `frontline migrate`"
    upgrade(engine, "0011")
    behind = readiness.report()
    assert behind.checks["migrations"] == f"at 0011, need {head_revision()}: run `frontline migrate`"
    assert behind.workers == {"status": "unknown (database not migrated)"}
    upgrade(engine)
    at_head = readiness.report()
    assert at_head.ready is True and at_head.notes == {} and "notes" not in at_head.as_json()
    # A rollout ran a newer release's migration first: this (older) process stays in rotation
    # until it is replaced, and says why.
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    ahead = readiness.report()
    assert ahead.ready is True and ahead.checks["migrations"] == "ok"
    assert ahead.as_json()["notes"] == {
        "migrations": f"database at 0099, newer than this version's {head_revision()}: a newer release migrated it;"
        " this process serves until it is replaced"
    }


def test_readyz_reports_slack_refusing_the_token_and_keeps_a_success(database_url: str) -> None:
    calls: list[int] = []

    def auth_test() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("invalid_auth")

    readiness = Readiness(create_probe_engine(database_url), auth_test=auth_test, clock=_now)
    first = readiness.report()
    assert first.ready is False and first.checks["slack"] == "auth.test failed: invalid_auth"
    assert readiness.report().ready is True
    assert readiness.report().ready is True
    assert len(calls) == 2  # asked again after the failure, never after the success


def test_readyz_reports_a_stale_worker_without_failing(database_url: str, config: FrontlineConfig) -> None:
    from datetime import timedelta

    from store import heartbeats
    from store.db import session_scope

    with Sandbox(database_url=database_url, config=config, with_worker=False) as sandbox:
        status, body, _ = get(f"{sandbox.base_url}/readyz")
        assert status == 200 and json.loads(body)["workers"]["status"] == "none"
        with session_scope(sandbox.deps.engine) as session:
            heartbeats.beat(
                session, worker_id="gone:1", now=_now() - timedelta(minutes=5), sweep_seconds=30, swept=True
            )
        status, body, _ = get(f"{sandbox.base_url}/readyz")
        report = json.loads(body)
        assert status == 200, report  # reported, not failed: see README, "Operating Frontline"
        assert report["workers"]["status"] == "stale" and report["workers"]["stale"] == 1
        assert 290 < report["workers"]["newest_heartbeat_age_seconds"] < 400
        assert value(scrape(sandbox.base_url), "frontline_workers_fresh") == 0


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


class _WebSocket:
    """Where Bolt's Socket Mode adapter sends its acknowledgements (the WebSocket to Slack)."""

    def __init__(self) -> None:
        self.logger = logging.getLogger("socket-mode-test")
        self.sent: list[SocketModeResponse] = []

    def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        self.sent.append(response)


def test_socket_mode_requests_are_counted_and_timed(sandbox: Sandbox) -> None:
    handler = MeteredSocketModeHandler(
        build_app(sandbox.deps, fetch_identity(sandbox.deps.client)), "xapp-1-test", metrics=sandbox.deps.metrics
    )
    command = {
        "command": "/ticket", "text": "Checkout is down for everyone", "user_id": "U_REQ", "user_name": "req",
        "channel_id": "C_HELP", "team_id": "T_TEST", "trigger_id": "1.2.3", "response_url": "https://example.invalid/r",
    }  # fmt: skip
    socket = _WebSocket()
    handler.handle(socket, SocketModeRequest(type="slash_commands", envelope_id="env-1", payload=command))  # type: ignore[arg-type]
    handler.handle(socket, SocketModeRequest(type="interactive", envelope_id="env-2", payload={"type": "nonsense"}))  # type: ignore[arg-type]
    assert [r.envelope_id for r in socket.sent] == ["env-1"]  # Bolt acks only what a listener took
    assert "Created *T-1*" in json.dumps(socket.sent[0].payload)
    samples = scrape(sandbox.base_url)
    assert value(samples, "frontline_slack_requests_total", kind="command", outcome="ok") == 1
    assert value(samples, "frontline_slack_ack_seconds_count", kind="command") == 1
    assert value(samples, "frontline_slack_requests_total", kind="other", outcome="unhandled") == 1
    assert structlog.contextvars.get_contextvars() == {}  # the envelopes' log context went with them
