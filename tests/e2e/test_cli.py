"""The `frontline` CLI as operators run it: a real subprocess, real environment variables."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from bot.config import demo_config
from bot.services.policy import Policy
from bot.services.tickets import NewTicket, create_ticket
from bot.slack.simulator import SlackSimulator
from bot.slack.standin import SlackStandIn
from store import outbox
from store.db import create_db_engine, session_scope


def frontline(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    config = tmp_path / "frontline.yaml"
    config.write_text("channels: {triage: C_TRIAGE}\ncustomers: {acme: {tier: enterprise, arr: 120000}}\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FRONTLINE_", "DATABASE_"))}
    return base | {
        "DATABASE_URL": database_url,
        "FRONTLINE_CONFIG": str(config),
        "SLACK_BOT_TOKEN": "xoxb-standin",
        "SLACK_SIGNING_SECRET": "cli-test-secret",
        "LOG_LEVEL": "WARNING",
    }


def test_check_config_ok_and_errors(env: dict[str, str], tmp_path: Path) -> None:
    ok = frontline("check-config", env=env)
    assert (ok.returncode, ok.stdout) == (0, "ok\n")

    bad = tmp_path / "bad.yaml"
    bad.write_text("channels: {triage: support}\nsla: {P1: {first_response: 1 hour, resolution: 8h}}\n")
    result = frontline("check-config", env=env | {"FRONTLINE_CONFIG": str(bad)})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert "channels.triage: must be a channel ID like C0123 or a name like #support-triage (got 'support')" in lines
    assert "sla.P1.first_response: invalid duration '1 hour' (use forms like 15m, 4h, 2d)" in lines
    assert len(lines) == 2

    port = frontline("check-config", env=env | {"PORT": "abc"})
    assert port.returncode == 2 and "Traceback" not in port.stderr
    assert port.stderr.startswith("env PORT:")

    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "incident.yaml").write_text("name: incident\ntitle: T\ndescription: D\nroles: []\nsteps: []\n")
    broken = frontline("check-config", env=env | {"FRONTLINE_PLAYBOOKS": str(playbooks)})
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert broken.stderr.splitlines()[0].startswith(f"{playbooks / 'incident.yaml'}: roles: ")


def test_usage_errors_are_one_line_naming_the_verb(env: dict[str, str]) -> None:
    cases = [
        (["worker", "--metrics-port", "abc"], "frontline worker", "Invalid value for '--metrics-port'"),
        (["nosuch"], "frontline", "No such command 'nosuch'"),
        (["export", "tickets", "--bogus"], "frontline export tickets", "No such option: --bogus"),
        (["erase-user"], "frontline erase-user", "Missing argument 'USER_ID'"),
        (["export", "tickets", "--format"], "frontline export tickets", "Option '--format' requires an argument"),
    ]
    for args, where, problem in cases:
        result = frontline(*args, env=env)
        assert result.returncode == 2, args
        assert result.stdout == "", args
        assert result.stderr.startswith(f"{where}: {problem}"), (args, result.stderr)
        assert result.stderr.endswith(f" (see '{where} --help')\n"), (args, result.stderr)
        assert len(result.stderr.splitlines()) == 1, (args, result.stderr)
    helped = frontline("tick", "--help", env=env)
    assert helped.returncode == 0 and "--now" in helped.stdout
    bare = frontline("export", env=env)  # no verb: its help, and no empty error line after it
    assert bare.returncode == 2 and "tickets" in bare.stdout and bare.stderr == ""


def test_verbs_refuse_an_unmigrated_database(env: dict[str, str], empty_database_url: str) -> None:
    for verb in (["serve"], ["worker"], ["tick"], ["export", "tickets"], ["outbox"]):
        result = frontline(*verb, env=env | {"DATABASE_URL": empty_database_url})
        assert result.returncode == 2, verb
        assert "is not migrated: run `frontline migrate` first" in result.stderr, verb
        assert "Traceback" not in result.stderr


def test_migrate_from_empty(env: dict[str, str], empty_database_url: str) -> None:
    first = frontline("migrate", env=env | {"DATABASE_URL": empty_database_url})
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("database at revision ") and "(was empty)" in first.stdout
    again = frontline("migrate", env=env | {"DATABASE_URL": empty_database_url})
    assert again.returncode == 0 and "was" not in again.stdout


def test_a_database_migrated_by_a_newer_version_is_one_line(env: dict[str, str], empty_database_url: str) -> None:
    newer = env | {"DATABASE_URL": empty_database_url}
    assert frontline("migrate", env=newer).returncode == 0
    engine = create_db_engine(empty_database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    for verb in ("migrate", "tick"):
        result = frontline(verb, env=newer)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "is at revision 9999" in result.stderr and "a newer Frontline migrated it" in result.stderr


def test_manifest_refuses_a_url_slack_cannot_call(env: dict[str, str]) -> None:
    for url in ("https://", 'https://a b/"x', "http://bot.example.com/slack/events", "https://localhost/slack"):
        result = frontline("manifest", "--request-url", url, env=env)
        assert result.returncode == 2 and result.stderr.startswith("--request-url: Slack needs a public https URL")


def test_tick_parses_now(env: dict[str, str]) -> None:
    bad = frontline("tick", "--now", "yesterday", env=env)
    assert bad.returncode == 2 and "--now: 'yesterday' is not an ISO 8601 time" in bad.stderr
    naive = frontline("tick", "--now", "2026-12-07T09:00:00", env=env)
    assert naive.returncode == 2 and "has no time zone" in naive.stderr
    with SlackStandIn() as standin:
        good = frontline("tick", "--now", "2026-12-07T14:30:00Z", env=env | {"SLACK_API_URL": standin.api_url})
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("as of 2026-12-07T14:30:00+00:00: 0 timers fired, 0 delivered")


def test_tick_delivers_what_was_left_undelivered(env: dict[str, str], database_url: str) -> None:
    engine = create_db_engine(database_url)
    policy = Policy.from_config(demo_config())
    from datetime import UTC, datetime

    create_ticket(engine, policy, NewTicket("Printer jams", "Printer jams", "U_A", "command"), now=datetime.now(UTC))
    engine.dispose()
    with SlackStandIn() as standin:
        result = frontline("tick", env=env | {"SLACK_API_URL": standin.api_url})
        assert result.returncode == 0, result.stderr
        assert ", 1 delivered" in result.stdout
        assert len(standin.messages("C_TRIAGE")) == 1


def test_export_tickets_jsonl_and_csv(env: dict[str, str], database_url: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    engine = create_db_engine(database_url)
    policy = Policy.from_config(demo_config())
    now = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    create_ticket(engine, policy, NewTicket("Site down", "Site down", "U_A", "command", customer="acme"), now=now)
    create_ticket(engine, policy, NewTicket("How to export?", "How to export?", "U_B", "command"), now=now)
    engine.dispose()

    jsonl = frontline("export", "tickets", "--format", "jsonl", env=env)
    assert jsonl.returncode == 0, jsonl.stderr
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [r["id"] for r in records] == ["T-1", "T-2"]
    first = records[0]
    assert first["priority"] == "P0" and first["priority_reason"] == "P0: keyword 'down'; tier enterprise"
    assert first["created_at"] == "2026-12-07T15:00:00Z"
    assert first["first_response_due"] == "2026-12-07T15:15:00Z"
    assert first["resolution_due"] == "2026-12-07T19:00:00Z"
    assert first["breached"] is False and first["owner"] is None and first["requester"] is None
    # P2 on business hours (America/New_York, 09:00-17:00): created 10:00 ET, 4 h → 14:00 ET = 19:00Z.
    assert records[1]["first_response_due"] == "2026-12-07T19:00:00Z"

    out = tmp_path / "tickets.csv"
    result = frontline("export", "tickets", "--format", "csv", "-o", str(out), env=env)
    assert result.returncode == 0 and "wrote 2 tickets" in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["id"] for r in rows] == ["T-1", "T-2"] and rows[0]["status"] == "ESCALATED"
    assert rows[0]["description"] == "Site down" and rows[0]["breached"] == "false"
    assert first["description"] == "Site down" and first["number"] == 1

    bad = frontline("export", "tickets", "--format", "xml", env=env)
    assert bad.returncode == 2 and "xml" in bad.stderr


def test_manifest_is_yaml_with_every_command(env: dict[str, str]) -> None:
    result = frontline("manifest", "--request-url", "https://support.example.com/slack/events", env=env)
    assert result.returncode == 0
    manifest = yaml.safe_load(result.stdout)
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/ticket", "/support", "/playbook", "/incident"}
    assert manifest["settings"]["interactivity"]["request_url"] == "https://support.example.com/slack/events"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(env: dict[str, str]) -> Iterator[tuple[str, SlackStandIn]]:
    """`frontline serve --with-worker` (the single-box set-up) as its own process, against a stand-in."""
    with SlackStandIn() as standin:
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--with-worker"],
            env=env | {"PORT": str(port), "SLACK_API_URL": standin.api_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(f"{base}/healthz", process)
            yield base, standin
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0  # a clean stop, not killed by the signal


def _wait_for(url: str, process: subprocess.Popen[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stderr.read() if process.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_serve_answers_health_and_signed_commands(served: tuple[str, SlackStandIn], env: dict[str, str]) -> None:
    base, standin = served
    with urllib.request.urlopen(f"{base}/healthz") as response:
        assert response.read() == b"ok\n"
    simulator = SlackSimulator(f"{base}/slack/events", env["SLACK_SIGNING_SECRET"])
    answer = simulator.slash_command("/ticket", "Checkout is down customer:acme", user_id="U_A", channel_id="C_HELP")
    assert answer.status == 200 and "Created *T-1*" in answer.json()["text"]
    forged = SlackSimulator(f"{base}/slack/events", "not-the-secret")
    assert forged.slash_command("/ticket", "forged", user_id="U_A", channel_id="C_HELP").status == 401
    deadline = time.monotonic() + 10
    while not standin.messages("C_TRIAGE") and time.monotonic() < deadline:
        time.sleep(0.05)
    # The card, and (a P0 is escalated at once, and this config names no L2 channel) the handoff.
    headers = [m["blocks"][0]["text"]["text"] for m in standin.messages("C_TRIAGE")]
    assert headers[0] == "T-1 · Checkout is down"


def test_worker_delivers_undelivered_messages_and_stops_on_sigterm(env: dict[str, str], database_url: str) -> None:
    from datetime import UTC, datetime

    engine = create_db_engine(database_url)
    policy = Policy.from_config(demo_config())
    create_ticket(engine, policy, NewTicket("Printer jams", "Printer jams", "U_A", "command"), now=datetime.now(UTC))
    engine.dispose()
    with SlackStandIn() as standin:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker", "--sweep-seconds", "1"],
            env=env | {"SLACK_API_URL": standin.api_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 20
            while not standin.messages("C_TRIAGE") and time.monotonic() < deadline:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                time.sleep(0.1)
            assert len(standin.messages("C_TRIAGE")) == 1
            time.sleep(1.5)  # a few more sweeps: nothing is sent twice
            assert len(standin.calls_to("chat.postMessage")) == 1
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0


def test_a_worker_with_a_wrong_token_does_not_start(env: dict[str, str]) -> None:
    with SlackStandIn() as standin:
        wrong = frontline("worker", env=env | {"SLACK_API_URL": standin.api_url, "SLACK_BOT_TOKEN": "xoxb-wrong-1"})
    assert wrong.returncode == 1
    assert wrong.stderr.strip().splitlines()[-1] == (
        "frontline: Slack answered 'invalid_auth': check SLACK_BOT_TOKEN and SLACK_API_URL"
    )


def test_serve_names_missing_credentials(env: dict[str, str]) -> None:
    no_token = frontline("serve", env={k: v for k, v in env.items() if k != "SLACK_BOT_TOKEN"})
    assert no_token.returncode == 2
    assert no_token.stderr.strip() == "env SLACK_BOT_TOKEN: required (see README, 'Slack app set-up')"
    socket_mode = frontline("serve", "--socket", env=env)
    assert socket_mode.returncode == 2
    assert socket_mode.stderr.strip() == "env SLACK_APP_TOKEN: required (see README, 'Slack app set-up')"


@pytest.mark.parametrize(
    ("args", "extra_env", "expected"),
    [
        (["serve"], {"SLACK_API_URL": "http://127.0.0.1:9/api/"}, "frontline: cannot reach Slack:"),
        (["export", "tickets", "-o", "/nonexistent-dir/t.jsonl"], {}, "frontline: No such file or directory"),
        (["manifest", "--name", ""], {}, "--name: app name must be 1 to 35 characters (got 0)"),
        (["manifest", "--request-url", "not a url"], {}, "--request-url: Slack needs a public https URL"),
        (["tick", "--now", "0001-01-01T00:00:00Z"], {}, "--now: '0001-01-01T00:00:00Z' is outside the years"),
    ],
)
def test_operator_mistakes_get_one_line_not_a_traceback(
    env: dict[str, str], args: list[str], extra_env: dict[str, str], expected: str
) -> None:
    result = frontline(*args, env=env | extra_env)
    assert result.returncode in {1, 2}
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(expected)


def test_database_unreachable_is_one_line(env: dict[str, str]) -> None:
    result = frontline("migrate", env=env | {"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("frontline: database error:")


def test_logs_are_json_lines_including_library_logs(env: dict[str, str], empty_database_url: str) -> None:
    result = frontline("migrate", env=env | {"DATABASE_URL": empty_database_url, "LOG_LEVEL": "INFO"})
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "alembic logs its steps at INFO"
    records = [json.loads(line) for line in lines]
    assert {record["logger"] for record in records} >= {"alembic.runtime.migration"}
    assert all("event" in record and "level" in record and "timestamp" in record for record in records)


def test_migrating_past_0004_plans_timers_for_tickets_already_open(
    env: dict[str, str], empty_database_url: str
) -> None:
    from store.migrate import upgrade

    engine = create_db_engine(empty_database_url)
    upgrade(engine, "0003")
    with engine.begin() as connection:
        for number, status in ((1, "NEW"), (2, "PENDING"), (3, "CLOSED")):
            connection.execute(
                text(
                    "INSERT INTO tickets (number, title, description, status, priority, priority_reason, tags,"
                    " created_by, source_kind, created_at, updated_at, breached, attachments)"
                    " VALUES (:number, 'Old', '', :status, 'P2', '', '[]', 'U_A', 'command', :now, :now, false, '[]')"
                ),
                {"number": number, "status": status, "now": "2026-11-02 15:00:00"},
            )
    engine.dispose()
    result = frontline("migrate", env=env | {"DATABASE_URL": empty_database_url})
    assert result.returncode == 0, result.stderr
    assert "planned SLA and stage timers for 2 unfinished tickets" in result.stdout
    engine = create_db_engine(empty_database_url)
    with engine.connect() as connection:
        planned = connection.execute(text("SELECT subject_id, name FROM timers ORDER BY subject_id, name")).all()
        due = connection.execute(text("SELECT number, resolution_due FROM tickets ORDER BY number")).all()
    engine.dispose()
    names = {(subject, name) for subject, name in planned}
    assert (1, "stage:new_unassigned") in names and (1, "sla:resolution:breach") in names
    assert (2, "stage:pending_warn") in names and not any(s == 2 and n.startswith("sla:") for s, n in names)
    assert not any(subject == 3 for subject, _ in names)
    assert due[0][1] is not None and due[1][1] is None  # running vs paused while pending


def test_replan_applies_a_shortened_target_to_open_tickets(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from bot.config import parse_config

    engine = create_db_engine(database_url)
    before = parse_config({"sla": {"P2": {"first_response": "1h", "resolution": "8h", "calendar": "24x7"}}})
    opened = datetime(2026, 12, 7, 9, tzinfo=UTC)
    create_ticket(
        engine, Policy.from_config(before), NewTicket("Printer jams", "Printer jams", "U_A", "command"), now=opened
    )
    config = tmp_path / "shorter.yaml"
    config.write_text("sla:\n  P2: {first_response: 1h, resolution: 2h, calendar: 24x7}\n")
    result = frontline("replan", env=env | {"FRONTLINE_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "re-planned the SLA and stage timers of 1 unfinished tickets"
    with engine.connect() as connection:
        due = connection.execute(text("SELECT resolution_due FROM tickets")).scalar_one()
        breach = connection.execute(text("SELECT due_at FROM timers WHERE name = 'sla:resolution:breach'")).scalar_one()
    engine.dispose()
    assert str(due).startswith("2026-12-07 11:00") and str(breach).startswith("2026-12-07 11:00")


def test_outbox_lists_what_waits_and_who_is_sending_what(env: dict[str, str], database_url: str) -> None:
    assert frontline("outbox", env=env).stdout == "outbox empty: every decided message was delivered\n"
    engine = create_db_engine(database_url)
    now = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        for key in ("being-sent", "given-up", "waiting"):
            outbox.enqueue(session, key=key, method="chat.postMessage", args={"channel": "C_X"}, purpose="t", now=now)
        outbox.claim_due(session, worker="worker-a", now=now, limit=1)  # the oldest: being-sent
        [dead] = outbox.claim_due(session, worker="worker-a", now=now, limit=1)
        assert dead.id is not None
        outbox.mark_dead(session, dead.id, error="channel_not_found")
    engine.dispose()
    lines = frontline("outbox", env=env).stdout.splitlines()
    assert [line.split("\t")[1:4] for line in lines] == [
        ["sending", "chat.postMessage", "being-sent"],
        ["dead", "chat.postMessage", "given-up"],
        ["pending", "chat.postMessage", "waiting"],
    ]
    assert "claimed by worker-a until 2026-12-07T15:05:00+00:00" in lines[0]
    assert "channel_not_found" in lines[1] and "next=2026-12-07T15:00:00+00:00" in lines[2]
