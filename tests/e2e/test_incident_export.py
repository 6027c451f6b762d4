"""`frontline export incident INC-<n> --format markdown` as an operator runs it (a subprocess, real
environment variables) on an incident worked end to end through the stand-in: started with a
linked ticket, a step done, an update, reminders from the sweep, resolved. And bad input: one line
on stderr, a non-zero exit, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import parse_config
from bot.sandbox import Sandbox
from bot.worker import run_due_work
from tests.e2e.clocks import Clock

NY = ZoneInfo("America/New_York")
AGENT, LEAD = "U_AGENT1", "U_LEAD"
CONFIG: dict[str, Any] = {
    "timezone": "America/New_York",
    "channels": {"triage": "C_TRIAGE", "intake": ["C_HELP"], "incidents": "C_INCIDENTS"},
    "roles": {"agents": [AGENT], "leads": [LEAD]},
}
CONFIG_YAML = (
    "timezone: America/New_York\n"
    "channels: {triage: C_TRIAGE, intake: [C_HELP], incidents: C_INCIDENTS}\n"
    "roles: {agents: [U_AGENT1], leads: [U_LEAD]}\n"
)


def frontline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    config = tmp_path / "frontline.yaml"
    config.write_text(CONFIG_YAML)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FRONTLINE_", "DATABASE_"))}
    return base | {"DATABASE_URL": database_url, "FRONTLINE_CONFIG": str(config), "LOG_LEVEL": "WARNING"}


def _deliver(sandbox: Sandbox, clock: Clock, at: datetime | None = None) -> None:
    clock.now = at or clock.now
    report = run_due_work(sandbox.deps, clock.now)
    assert (report.timers_failed, report.dead) == (0, 0), report


def _command(sandbox: Sandbox, command: str, text: str, user: str, channel: str) -> str:
    response = sandbox.simulator.slash_command(command, text, user_id=user, channel_id=channel)
    assert response.status == 200
    return str(response.json()["text"])


def _click_done(sandbox: Sandbox, channel: str, step_title: str) -> None:
    message = next(m for m in sandbox.standin.messages(channel) if f"step 1/6: {step_title}" in m["text"])
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    done = next(e for e in buttons if e["action_id"] == "playbook_done")
    response = sandbox.simulator.block_action(user_id=LEAD, actions=[done], channel_id=channel, message=message)
    assert response.status == 200


def _work_an_incident(database_url: str) -> None:
    """INC-1 from 10:00 to 11:15 New York time on Monday 7 December 2026."""
    clock = Clock(datetime(2026, 12, 7, 10, 0, tzinfo=NY))
    config = parse_config(CONFIG)
    with Sandbox(database_url=database_url, config=config, clock=clock, with_worker=False) as sandbox:
        _command(sandbox, "/ticket", "Card payments fail | EU *now*", AGENT, "C_HELP")
        started = _command(sandbox, "/incident", "start Checkout | EU *down* T-1", LEAD, "C_TRIAGE")
        assert started.startswith("INC-1 started")
        _deliver(sandbox, clock)
        channel = sandbox.standin.channel_id("inc-1-checkout-eu-down")
        assert channel is not None
        clock.now += timedelta(minutes=4)
        _click_done(sandbox, channel, "Activate incident response")
        _deliver(sandbox, clock, datetime(2026, 12, 7, 10, 16, tzinfo=NY))  # the status page step is due
        clock.now = datetime(2026, 12, 7, 10, 20, tzinfo=NY)
        _command(sandbox, "/incident", "update Failing over | *not* `yet` <!channel>", LEAD, channel)
        _deliver(sandbox, clock, datetime(2026, 12, 7, 10, 51, tzinfo=NY))  # 30 minutes after the update
        clock.now = datetime(2026, 12, 7, 11, 15, tzinfo=NY)
        assert _command(sandbox, "/incident", "resolve", LEAD, channel).startswith("INC-1 resolved")
        _deliver(sandbox, clock)


def test_the_review_draft_of_a_worked_incident(env: dict[str, str], database_url: str, tmp_path: Path) -> None:
    _work_an_incident(database_url)
    result = frontline("export", "incident", "INC-1", "--format", "markdown", env=env)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("# INC-1 · Checkout \\| EU \\*down\\*\n")
    for fact in (
        "- **Severity:** P0",
        "- **Status:** resolved",
        "- **Started:** 2026-12-07 10:00 EST by @U\\_LEAD",
        "- **Resolved:** 2026-12-07 11:15 EST by @U\\_LEAD",
        "- **Duration:** 1h15m",
        "- **Time zone:** America/New_York",
        "- **Commander:** @U\\_LEAD",
        "- **Other roles:** none assigned",
        "- **Channel:** `#inc-1-checkout-eu-down` (C",
        "  - T-1: Card payments fail \\| EU \\*now\\*",
    ):
        assert fact in text, fact
    timeline = text.split("## Timeline\n\n")[1].split("\n\n")[0].splitlines()
    assert timeline == [
        "- 10:00 EST — Started by @U\\_LEAD",
        "- 10:04 EST — ✅ Activate incident response: @U\\_LEAD (4m)",
        "- 10:20 EST — 📣 Update by @U\\_LEAD: Failing over \\| \\*not\\* \\`yet\\` @channel",
        "- 11:15 EST — ⏩ Post a status page update: skipped by @U\\_LEAD (resolved first) (1h11m)",
        "- 11:15 EST — 🏁 Resolved by @U\\_LEAD · 1h15m after the start",
    ]
    assert "Reminders sent: 2 (not listed)." in text
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections == [
        "## Facts",
        "## Timeline",
        "## Summary",
        "## Impact",
        "## Root cause",
        "## What went well",
        "## What went wrong",
        "## Action items",
        "## Customer communication",
    ]
    assert "| Action | Owner | Due | Ticket |\n|---|---|---|---|" in text

    out = tmp_path / "inc-1.md"
    written = frontline("export", "incident", "inc-1", "-o", str(out), env=env)
    assert written.returncode == 0 and written.stdout == ""
    assert written.stderr.strip() == f"wrote INC-1's review draft to {out}"
    assert out.read_text(encoding="utf-8") == text


BAD_INPUT = (
    (["INC-x"], "incident: 'INC-x' is not an incident reference; use INC-<n>, e.g. INC-3"),
    (["INC-0"], "incident: 'INC-0' does not exist; incident numbers start at INC-1"),
    (["INC-2"], "INC-2 does not exist."),
    (["INC-1", "--format", "html"], "--format: 'html' is not a format for an incident; only markdown is"),
)


def test_bad_input_is_one_line_and_writes_nothing(env: dict[str, str], database_url: str, tmp_path: Path) -> None:
    _work_an_incident(database_url)  # INC-1 exists: a wrong format for it still writes nothing
    out = tmp_path / "review.md"
    for args, expected in BAD_INPUT:
        result = frontline("export", "incident", *args, "--output", str(out), env=env)
        assert result.returncode != 0, args
        assert result.stderr.splitlines() == [expected], args
        assert result.stdout == "" and not out.exists(), args
