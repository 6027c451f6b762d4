"""SIGTERM stops a `frontline worker` within 10 s, also in the middle of a Slack retry (slack_sdk's
429 handler waiting out Retry-After), and what it had claimed goes out once, by another worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import demo_config
from bot.services.policy import Policy
from bot.services.tickets import NewTicket, create_ticket
from bot.slack.standin import SlackStandIn
from bot.worker import failure_backoff
from store.db import create_db_engine
from tests.e2e.private_postgres import free_port
from tests.e2e.test_metrics import get, scrape, value

RETRY_AFTER = 5  # under MAX_INLINE_RETRY_AFTER: slack_sdk's handler waits it out inside the call


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    config = tmp_path / "frontline.yaml"
    config.write_text("channels: {triage: C_TRIAGE}\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FRONTLINE_", "DATABASE_"))}
    return base | {
        "DATABASE_URL": database_url,
        "FRONTLINE_CONFIG": str(config),
        "SLACK_BOT_TOKEN": "xoxb-standin",
        "SLACK_SIGNING_SECRET": "shutdown-test-secret",
        "SLACK_CHANNEL_RATE": "0",
        "LOG_LEVEL": "INFO",
    }


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return start("worker", "--sweep-seconds", "1", *args, env=env)


def start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def outbox_rows(database_url: str) -> list[tuple[str, str | None, int, str | None]]:
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT status, claimed_by, attempts, last_error FROM outbox ORDER BY id"))
        found = [
            (str(status), claimed_by, int(attempts), last_error) for status, claimed_by, attempts, last_error in rows
        ]
    engine.dispose()
    return found


@pytest.mark.parametrize("verb", ["worker", "serve --with-worker"])
def test_sigterm_mid_retry_exits_in_time_and_the_messages_go_out_once(
    verb: str, env: dict[str, str], database_url: str
) -> None:
    engine = create_db_engine(database_url)
    policy = Policy.from_config(demo_config())
    for title in ("Printer jams", "Mouse squeaks", "Screen flickers"):  # three cards: one batch for one worker
        create_ticket(engine, policy, NewTicket(title, title, "U_A", "command"), now=datetime.now(UTC))
    engine.dispose()
    assert [row[0] for row in outbox_rows(database_url)] == ["pending"] * 3

    with SlackStandIn(retry_after=RETRY_AFTER) as standin:
        standin.fail_next("chat.postMessage", "ratelimited", status=429)
        port = free_port()
        first_env = env | {"SLACK_API_URL": standin.api_url}
        if verb == "worker":
            first = start_worker(first_env, "--metrics-port", str(port))
        else:  # the single-box set-up: its /metrics is on the web port
            first = start("serve", "--with-worker", "--host", "127.0.0.1", env=first_env | {"PORT": str(port)})
        try:
            deadline = time.monotonic() + 20
            while not standin.calls_to("chat.postMessage"):
                assert first.poll() is None and time.monotonic() < deadline, first.stderr.read() if first.stderr else ""
                time.sleep(0.02)
            time.sleep(0.3)  # now in the handler's Retry-After wait, the other two rows claimed behind it
            samples = scrape(f"http://127.0.0.1:{port}")
            assert value(samples, "frontline_slack_api_calls_total", method="chat.postMessage", code="ratelimited") == 1
            if verb == "worker":  # its port serves /metrics only: a /readyz probe there must not read "ready"
                assert get(f"http://127.0.0.1:{port}/readyz")[0] == 404
            signalled = time.monotonic()
            first.send_signal(signal.SIGTERM)
            code = first.wait(timeout=15)
            took = time.monotonic() - signalled
        finally:
            if first.poll() is None:
                first.kill()
        logs = first.stderr.read() if first.stderr else ""
        print(f"{verb}: SIGTERM mid-retry to exit: {took:.2f} s")
        assert code == 0 and took < 10, (code, took)
        assert "`token` will be unused" not in logs  # Bolt's warning about SLACK_BOT_TOKEN: nothing wrong
        assert '"event": "worker_started"' in logs, logs[:2000]
        assert ('"event": "web_started"' in logs) == (verb != "worker"), logs[:2000]
        assert took < RETRY_AFTER  # it did not sleep out Retry-After
        assert len(standin.calls_to("chat.postMessage")) == 1  # nothing more was tried on the way out
        rows = outbox_rows(database_url)
        assert [(status, claimed_by) for status, claimed_by, _, _ in rows] == [("pending", None)] * 3
        assert rows[0][2:] == (1, "ratelimited")  # tried once, back for its Retry-After
        assert [row[2] for row in rows[1:]] == [0, 0]  # given back unattempted

        another_worker_delivers_each_once(env | {"SLACK_API_URL": standin.api_url}, standin)
        assert [row[0] for row in outbox_rows(database_url)] == ["sent"] * 3


def another_worker_delivers_each_once(env: dict[str, str], standin: SlackStandIn) -> None:
    second = start_worker(env)
    try:
        deadline = time.monotonic() + 30  # the first row waits out its backoff (10 s)
        while len(standin.messages("C_TRIAGE")) < 3:
            assert second.poll() is None and time.monotonic() < deadline, second.stderr.read() if second.stderr else ""
            time.sleep(0.1)
        time.sleep(1.5)  # more sweeps: nothing goes twice
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=10) == 0
    titles = sorted(m["blocks"][0]["text"]["text"] for m in standin.messages("C_TRIAGE"))
    assert titles == ["T-1 · Printer jams", "T-2 · Mouse squeaks", "T-3 · Screen flickers"]
    succeeded = [call for call in standin.calls_to("chat.postMessage") if call.status == 200]
    assert len(succeeded) == 3


def test_a_shutdown_that_is_stuck_still_ends_by_its_deadline() -> None:
    """The last resort after SIGTERM: a thread held by a database that stopped answering has no
    timeout of its own, so the process exits at the deadline anyway."""
    stuck = (
        "import threading, time\n"
        "from bot.worker import exit_by_deadline\n"
        "exit_by_deadline(0.5)\n"
        "threading.Event().wait(60)\n"  # as a call into a frozen database would
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", stuck], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1 and time.monotonic() - started < 10  # forced: not a clean exit
    assert "shutdown_deadline_passed" in done.stdout + done.stderr


def test_a_failing_delivery_poll_backs_off_to_thirty_seconds() -> None:
    waits = [failure_backoff(n, first=0.2) for n in range(1, 10)]
    assert waits == [0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0]


@pytest.mark.postgres_only
@pytest.mark.parametrize("verb", ["worker", "serve --with-worker"])
def test_sigterm_with_the_database_frozen_exits_within_10_s(verb: str, env: dict[str, str], database_url: str) -> None:
    """PostgreSQL froze (found by a fresh-eyes review: 10.5-10.9 s, since the hard-exit timer was
    armed only when the main loop next looked). The worker's sweep is stuck on the frozen server
    when SIGTERM comes; the process must still be gone within 10 s."""
    from sqlalchemy.engine import make_url

    from tests.e2e.relay import FreezableRelay

    url = make_url(database_url)
    relay = FreezableRelay((url.host or "127.0.0.1", url.port or 5432))
    relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    with SlackStandIn() as standin:
        process_env = env | {"SLACK_API_URL": standin.api_url, "DATABASE_URL": relayed}
        if verb == "worker":
            process = start_worker(process_env)
        else:
            process = start(
                "serve", "--with-worker", "--host", "127.0.0.1", env=process_env | {"PORT": str(free_port())}
            )
        try:
            engine = create_db_engine(database_url)
            deadline = time.monotonic() + 20
            while True:  # running: its first heartbeat is in
                with engine.connect() as connection:
                    if connection.execute(text("SELECT count(*) FROM worker_heartbeats")).scalar():
                        break
                assert process.poll() is None and time.monotonic() < deadline, (
                    process.stderr.read() if process.stderr else ""
                )
                time.sleep(0.1)
            engine.dispose()
            relay.frozen.set()
            time.sleep(2.5)  # the next sweeps and delivery polls are now waiting on the server
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)
            took = time.monotonic() - signalled
        finally:
            if process.poll() is None:
                process.kill()
            relay.close()
    print(f"{verb}: SIGTERM with the database frozen to exit: {took:.2f} s")
    assert took < 10, took
