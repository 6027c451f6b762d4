"""Incidents end to end through the stand-in: `/incident start` (its channel, announcement and the
incident playbook), Done on a step, the status-update reminder driven by `run_due_work(now)` as
`tick --now` does, updates, roles, resolving from any path exactly once (field case F10), closing
the loop with linked requesters, and channel names (field case F9)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from bot.config import parse_config
from bot.sandbox import Sandbox
from bot.slack.standin import render_message
from bot.worker import run_due_work
from store.models import Incident, Timer
from tests.e2e.clocks import Clock

NY = ZoneInfo("America/New_York")
AGENT, LEAD, ADMIN, REQUESTER, ENG = "U_AGENT1", "U_LEAD", "U_ADMIN", "U_REQUESTER", "U_ENG"
CONFIG: dict[str, Any] = {
    "timezone": "America/New_York",
    "channels": {"triage": "C_TRIAGE", "intake": ["C_HELP"], "incidents": "C_INCIDENTS", "social": "C_SOCIAL"},
    "roles": {"agents": [AGENT, "U_AGENT2"], "leads": [LEAD], "admins": [ADMIN]},
}


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 7, 10, 0, tzinfo=NY))  # Monday 15:00Z


def _sandbox(database_url: str, clock: Clock, **extra: Any) -> Sandbox:
    return Sandbox(database_url=database_url, config=parse_config(CONFIG | extra), clock=clock, with_worker=False)


@pytest.fixture
def inc(database_url: str, clock: Clock) -> Iterator[Sandbox]:
    with _sandbox(database_url, clock) as sandbox:
        yield sandbox


def _deliver(sandbox: Sandbox, clock: Clock, at: datetime | None = None, *, dead: int = 0) -> None:
    clock.now = at or clock.now
    report = run_due_work(sandbox.deps, clock.now)
    assert (report.timers_failed, report.dead) == (0, dead), report


def _command(sandbox: Sandbox, command: str, text: str, user: str = LEAD, channel: str = "C_TRIAGE") -> str:
    response = sandbox.simulator.slash_command(command, text, user_id=user, channel_id=channel)
    assert response.status == 200 and response.elapsed < 3.0
    return str(response.json()["text"])


def _incident(sandbox: Sandbox, text: str, user: str = LEAD, channel: str = "C_TRIAGE") -> str:
    return _command(sandbox, "/incident", text, user, channel)


def _shown(sandbox: Sandbox, channel: str) -> list[str]:
    return [render_message(message) for message in sandbox.standin.messages(channel)]


def _click(sandbox: Sandbox, user: str, message: dict[str, Any], channel: str, action_id: str) -> None:
    actions = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    button = next(e for e in actions if e["action_id"] == action_id)
    response = sandbox.simulator.block_action(user_id=user, actions=[button], channel_id=channel, message=message)
    assert response.status == 200 and response.elapsed < 3.0


def _step(sandbox: Sandbox, channel: str, title: str) -> dict[str, Any]:
    return next(m for m in sandbox.standin.messages(channel) if title in m["text"] and "step" in m["text"])


def _ephemerals(sandbox: Sandbox, user: str) -> list[str]:
    return [e["text"] for e in sandbox.standin.ephemerals() if e.get("user") == user]


def _incidents(sandbox: Sandbox) -> list[Incident]:
    with Session(sandbox.deps.engine) as session:
        return list(session.exec(select(Incident).order_by(col(Incident.number))).all())


def _reminders(sandbox: Sandbox, channel: str) -> list[str]:
    return [text for text in _shown(sandbox, channel) if "Update the status page every 30 minutes is due again" in text]


def test_an_incident_runs_in_its_own_channel_step_by_step(inc: Sandbox, clock: Clock) -> None:
    answer = _incident(inc, "start Checkout errors <!channel>")
    assert answer.startswith("INC-1 started (P0): creating #inc-1-checkout-errors-channel")
    _deliver(inc, clock)
    channel = inc.standin.channel_id("inc-1-checkout-errors-channel")
    assert channel is not None
    # The announcement in the incidents channel; the card and the first step in the incident's own.
    [announcement] = inc.standin.messages("C_INCIDENTS")
    shown = render_message(announcement)
    assert "INC-1 · Checkout errors @channel" in shown and f"<#{channel}>" in str(announcement["blocks"])
    assert "<!channel>" not in str(announcement["blocks"])
    posted = [m["text"] for m in inc.standin.messages(channel)]
    assert (
        posted[0].startswith("INC-1 · Checkout errors @channel") and "step 1/6: Activate incident response" in posted[1]
    )
    assert LEAD in inc.standin.channel_members(channel)
    # Done moves to the next step; the first step's message shows who did it.
    _click(inc, LEAD, _step(inc, channel, "Activate incident response"), channel, "playbook_done")
    _deliver(inc, clock)
    done = _step(inc, channel, "Activate incident response")
    assert "Done by <@U_LEAD>" in str(done["blocks"]) and not [b for b in done["blocks"] if b["type"] == "actions"]
    assert "step 2/6: Post a status page update" in [m["text"] for m in inc.standin.messages(channel)][-1]
    # The status page is due every 30 minutes from the start, whatever step the run is on.
    _deliver(inc, clock, clock.now + timedelta(minutes=29))
    assert _reminders(inc, channel) == []
    _deliver(inc, clock, clock.now + timedelta(minutes=1))
    assert len(_reminders(inc, channel)) == 1, _shown(inc, channel)
    _deliver(inc, clock)  # the same moment again: nothing twice
    assert len(_reminders(inc, channel)) == 1
    # An update posts in both channels and resets that reminder.
    clock.now += timedelta(minutes=10)  # 10:40
    _incident(inc, "update Payments provider failing over; next update by 11:10", channel=channel)
    _deliver(inc, clock)
    assert any("INC-1 update" in text and "failing over" in text for text in _shown(inc, channel))
    assert any("INC-1 update" in text for text in _shown(inc, "C_INCIDENTS"))
    _deliver(inc, clock, datetime(2026, 12, 7, 11, 0, tzinfo=NY))  # 30 min after the first reminder
    assert len(_reminders(inc, channel)) == 1
    _deliver(inc, clock, datetime(2026, 12, 7, 11, 10, tzinfo=NY))  # 30 min after the update
    assert len(_reminders(inc, channel)) == 2
    # Resolve: a summary with the timeline; no reminder after it.
    assert _incident(inc, "resolve", channel=channel) == "INC-1 resolved; the summary is posted in its channel."
    _deliver(inc, clock)
    summary = next(m for m in inc.standin.messages(channel) if m["text"].startswith("INC-1 finished"))
    text = render_message(summary)
    assert "Activate incident response" in text and "Update by" in text and "Finished by" in text
    assert any(m["text"].startswith("INC-1 finished") for m in inc.standin.messages("C_INCIDENTS"))
    _deliver(inc, clock, clock.now + timedelta(hours=5))
    assert len(_reminders(inc, channel)) == 2
    with Session(inc.deps.engine) as session:
        assert session.exec(select(Timer).where(Timer.kind == "playbook", col(Timer.fired_at).is_(None))).all() == []


def test_resolving_twice_from_two_paths_resolves_once_and_stops_every_reminder(inc: Sandbox, clock: Clock) -> None:
    """Field case F10: resolved from the announcement's button at 10:10, the same resolve retried at
    10:10:05, the channel archived at 10:15, Frontline restarted at 10:20: no reminder at 10:30,
    11:00 or later, and the on-resolve actions happen once."""
    _incident(inc, "start Checkout errors")
    _deliver(inc, clock)
    channel = inc.standin.channel_id("inc-1-checkout-errors")
    assert channel is not None
    clock.now = datetime(2026, 12, 7, 10, 10, tzinfo=NY)
    [announcement] = inc.standin.messages("C_INCIDENTS")
    _click(inc, LEAD, announcement, "C_INCIDENTS", "incident_resolve")
    clock.now += timedelta(seconds=5)
    again = _incident(inc, "resolve INC-1", channel="C_TRIAGE")
    assert again.startswith(":warning: INC-1 was resolved by <@U_LEAD>")
    _deliver(inc, clock)
    inc.standin.archive(channel)
    clock.now = datetime(2026, 12, 7, 10, 20, tzinfo=NY)
    with _sandbox(inc.settings.database_url, clock) as restarted:
        for moment in (datetime(2026, 12, 7, 10, 30, tzinfo=NY), datetime(2026, 12, 7, 11, 0, tzinfo=NY)):
            _deliver(restarted, clock, moment)
        _deliver(restarted, clock, clock.now + timedelta(days=3))
        assert restarted.standin.calls_to("chat.postMessage") == []
    resolved = [t for t in _shown(inc, channel) if "INC-1 resolved" in t]
    summaries = [m for m in inc.standin.messages(channel) if m["text"].startswith("INC-1 finished")]
    assert (len(resolved), len(summaries)) == (1, 1)
    assert _reminders(inc, channel) == []
    [incident] = _incidents(inc)
    assert (incident.status, incident.resolved_by) == ("resolved", LEAD)
