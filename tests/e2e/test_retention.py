"""Retention: `retention.closed_ticket_days` empties closed tickets past that age on the sweep (driven
here by `run_due_work` and `frontline tick --now` at chosen times), keeps their rows, times and
priorities so metrics do not move, goes in batches, and does nothing twice. A bad value is one line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import text
from sqlmodel import col, select

from bot.config import parse_config
from bot.sandbox import Sandbox
from bot.services.retention import PURGED, purge_closed_tickets
from bot.worker import run_due_work
from store.db import read_scope
from store.metrics import measure
from store.models import AuditEvent, Comment, Digest, Ticket, TicketVector
from tests.e2e.clocks import Clock

NY = ZoneInfo("America/New_York")
AGENT, REQUESTER = "U_AGENT1", "U_REQUESTER"
CONFIG: dict[str, Any] = {
    "timezone": "America/New_York",
    "channels": {"triage": "C_TRIAGE", "intake": ["C_HELP"]},
    "roles": {"agents": [AGENT], "leads": ["U_LEAD"], "admins": ["U_ADMIN"]},
    "retention": {"closed_ticket_days": 30},
}
START = datetime(2026, 12, 7, 10, 0, tzinfo=NY)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def box(database_url: str, clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(database_url=database_url, config=parse_config(CONFIG), clock=clock, with_worker=False) as sandbox:
        yield sandbox


def _tick(box: Sandbox, clock: Clock, at: datetime) -> int:
    clock.now = at
    report = run_due_work(box.deps, at)
    assert (report.timers_failed, report.dead, report.notes) == (0, 0, []), report
    return report.purged


def _ticket(box: Sandbox, clock: Clock, words: str) -> str:
    event = box.standin.post_as_user("C_HELP", REQUESTER, words)
    assert box.simulator.event(event, event_id=f"Ev{event['ts']}").status == 200
    return str(event["ts"])


def _command(box: Sandbox, words: str) -> None:
    response = box.simulator.slash_command("/ticket", words, user_id=AGENT, channel_id="C_TRIAGE")
    assert response.status == 200 and ":warning:" not in response.body, response.body


def _tickets(box: Sandbox) -> dict[str, Ticket]:
    with read_scope(box.deps.engine) as session:
        return {t.ref: t for t in session.exec(select(Ticket).order_by(col(Ticket.number))).all()}


def _metrics(box: Sandbox) -> Any:
    with read_scope(box.deps.engine) as session:
        return measure(session, start=START - timedelta(days=1), end=START + timedelta(days=90))


def _seed(box: Sandbox, clock: Clock) -> None:
    """T-1…T-5 closed on day 0 (with a reply, a note and a vector each); T-6 stays open (escalated:
    the requester's third ticket about the same issue)."""
    for n in range(1, 7):
        ts = _ticket(box, clock, f"Ledger sync number {n} fails for ann.smith@example.com since the upgrade")
        if n <= 5:
            box.simulator.event(
                box.standin.post_as_user("C_HELP", AGENT, f"Looking into ledger {n}", thread_ts=ts),
                event_id=f"Ev_reply_{n}",
            )
            _command(box, f"note T-{n} customer prefers phone +1 415 555 0132")
            _command(box, f"solve T-{n}")
            _command(box, f"close T-{n}")
    _tick(box, clock, START + timedelta(minutes=5))


def test_closed_tickets_past_retention_lose_their_words_and_keep_their_numbers(box: Sandbox, clock: Clock) -> None:
    _seed(box, clock)
    before = _tickets(box)
    assert [t.status == "CLOSED" for t in before.values()] == [True] * 5 + [False]
    assert _tick(box, clock, START + timedelta(days=29, hours=23)) == 0  # not yet 30 days
    metrics = _metrics(box)  # after T-6's breach was found, before the purge
    assert _tick(box, clock, START + timedelta(days=30, hours=1)) == 5
    after = _tickets(box)
    for ref in ("T-1", "T-2", "T-3", "T-4", "T-5"):
        ticket, was = after[ref], before[ref]
        assert (ticket.title, ticket.description, ticket.requester_id, ticket.attachments) == (PURGED, "", None, [])
        kept = ("status", "priority", "created_at", "closed_at", "solved_at", "first_responded_at", "category")
        assert [getattr(ticket, name) for name in kept] == [getattr(was, name) for name in kept]
    assert after["T-6"].title == before["T-6"].title and after["T-6"].requester_id == REQUESTER
    assert _metrics(box) == metrics

    with read_scope(box.deps.engine) as session:
        comments = session.exec(select(Comment.text)).all()
        notes = session.exec(
            select(AuditEvent.after).where(AuditEvent.field == "note", col(AuditEvent.entity_id) <= 5)
        ).all()
        kept_notes = session.exec(
            select(AuditEvent.after).where(AuditEvent.field == "note", AuditEvent.entity_id == 6)
        ).all()
        vectors = {v.ticket_id: bytes(v.vector) for v in session.exec(select(TicketVector)).all()}
    assert comments == [PURGED] * 10  # replies and notes (a note is a comment too)
    # The agents' notes and the thread lines Frontline recorded as notes (a matrix suggestion).
    assert len(notes) >= 5 and set(notes) == {PURGED} and kept_notes and PURGED not in kept_notes
    assert sorted(ticket for ticket, vector in vectors.items() if not any(vector)) == [1, 2, 3, 4, 5]
    assert any(vectors[6])
    with box.deps.engine.connect() as connection:
        outbox = " ".join(str(row[0]) for row in connection.execute(text("SELECT args FROM outbox")))
    assert [f"Ledger sync number {n} " in outbox for n in range(1, 7)] == [False] * 5 + [True]

    # Idempotent: the next hour's sweep finds nothing; so does the same hour's.
    assert _tick(box, clock, START + timedelta(days=30, hours=1, minutes=30)) == 0
    assert _tick(box, clock, START + timedelta(days=31)) == 0
    assert _tickets(box) == after


def test_a_backlog_goes_in_batches_across_sweeps(box: Sandbox, clock: Clock) -> None:
    _seed(box, clock)
    at = START + timedelta(days=40)
    policy, engine = box.deps.policy, box.deps.engine
    done = [purge_closed_tickets(engine, policy, now=at, batch=2, max_batches=1) for _ in range(4)]
    assert done == [2, 2, 1, 0]
    assert [t.title == PURGED for t in _tickets(box).values()] == [True] * 5 + [False]


def _cli_env(tmp_path: Path, database_url: str, box: Sandbox, retention: object) -> dict[str, str]:
    config = tmp_path / "frontline.yaml"
    config.write_text(yaml.safe_dump({**CONFIG, "retention": {"closed_ticket_days": retention}}))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FRONTLINE_", "DATABASE_"))}
    return base | {
        "DATABASE_URL": database_url,
        "FRONTLINE_CONFIG": str(config),
        "SLACK_BOT_TOKEN": box.standin.bot_token,
        "SLACK_SIGNING_SECRET": "retention-test",
        "SLACK_API_URL": box.standin.api_url,
        "LOG_LEVEL": "WARNING",
    }


def _frontline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_tick_now_purges_and_says_so(box: Sandbox, clock: Clock, tmp_path: Path, database_url: str) -> None:
    _seed(box, clock)
    env = _cli_env(tmp_path, database_url, box, 30)
    early = _frontline("tick", "--now", (START + timedelta(days=10)).isoformat(), env=env)
    assert early.returncode == 0 and "purged" not in early.stdout, early.stderr
    due = _frontline("tick", "--now", (START + timedelta(days=45)).isoformat(), env=env)
    assert due.returncode == 0, due.stderr
    assert ", 5 closed tickets purged (retention)" in due.stdout


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (0, "must be more than 0 (got 0)"),
        (-7, "must be more than 0 (got -7)"),
        (True, "must be a whole number (got True)"),  # YAML's `true` is not one day
        (
            3,  # shorter than lifecycle.reopen_window: a purged ticket could be reopened
            "3 is shorter than lifecycle.reopen_window (7d), so a ticket could be reopened after its words"
            " were purged; make it at least 7, or shorten the reopen window",
        ),
    ],
)
def test_zero_or_negative_retention_is_one_line_at_check_and_start(
    box: Sandbox, tmp_path: Path, database_url: str, value: object, problem: str
) -> None:
    env = _cli_env(tmp_path, database_url, box, value)
    for verb in (["check-config"], ["tick"], ["serve"], ["worker"]):
        result = _frontline(*verb, env=env)
        assert (result.returncode, result.stderr) == (2, f"retention.closed_ticket_days: {problem}\n"), verb


def test_digests_past_retention_lose_the_titles_they_listed(database_url: str, clock: Clock) -> None:
    config = parse_config(CONFIG | {"channels": {**CONFIG["channels"], "standup": "C_STANDUP"}})
    with Sandbox(database_url=database_url, config=config, clock=clock, with_worker=False) as box:
        _ticket(box, clock, "Ledger sync fails for the Acme warehouse since the upgrade")
        box.simulator.slash_command("/support", "digest", user_id=AGENT, channel_id="C_TRIAGE")
        clock.now = START + timedelta(days=20)
        box.simulator.slash_command("/support", "digest", user_id=AGENT, channel_id="C_TRIAGE")
        _tick(box, clock, START + timedelta(days=20, minutes=5))
        with read_scope(box.deps.engine) as session:
            before = [d.snapshot for d in session.exec(select(Digest).order_by(col(Digest.id))).all()]
        assert len(before) == 2 and all("Ledger sync fails" in str(snapshot) for snapshot in before)

        _tick(box, clock, START + timedelta(days=30, hours=1))
        with read_scope(box.deps.engine) as session:
            after = [d.snapshot for d in session.exec(select(Digest).order_by(col(Digest.id))).all()]
        assert "Ledger sync fails" not in str(after[0]) and after[1] == before[1]  # only the one past 30 days
        # Every listed title, and nothing else: counts, refs, priorities and times stay.
        assert after[0]["new_tickets"] == [{**item, "title": PURGED} for item in before[0]["new_tickets"]]
        assert {key: value for key, value in after[0].items() if not isinstance(value, list)} == {
            key: value for key, value in before[0].items() if not isinstance(value, list)
        }
        for key, items in before[0].items():
            if isinstance(items, list) and items and isinstance(items[0], dict):
                assert after[0][key] == [{**item, "title": PURGED} for item in items], key
        _tick(box, clock, START + timedelta(days=50, hours=1))  # the later one goes in its turn, once
        with read_scope(box.deps.engine) as session:
            last = [d.snapshot for d in session.exec(select(Digest).order_by(col(Digest.id))).all()]
        # (The daily digests the ticks decided since list the still-open ticket, and are not 30 days old.)
        assert "Ledger sync fails" not in str(last[:2]) and last[0] == after[0]


def test_a_purged_ticket_cannot_be_reopened(box: Sandbox, clock: Clock) -> None:
    _seed(box, clock)
    assert _tick(box, clock, START + timedelta(days=30, hours=1)) == 5
    response = box.simulator.slash_command("/ticket", "reopen T-1", user_id=AGENT, channel_id="C_TRIAGE")
    assert response.status == 200
    assert "T-1's words were purged (retention.closed_ticket_days); open a new ticket" in response.body
    assert _tickets(box)["T-1"].status == "CLOSED"
