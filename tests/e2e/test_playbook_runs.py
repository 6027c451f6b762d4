"""`/playbook` end to end through the stand-in: list, help, run for a ticket or with a title, one
step at a time with Done · Skip and decision buttons gated to the step's role, reminders through
`run_due_work(now)` (as `tick --now`), the social-media crisis in `channels.social`, the summary at
the end, and no reminder after it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from bot.config import parse_config
from bot.sandbox import Sandbox
from bot.services.sweep import fire_due_timers
from bot.slack.standin import render_message
from bot.worker import run_due_work
from store.models import PlaybookRun, RunTicket, Timer
from tests.e2e.clocks import Clock

NY = ZoneInfo("America/New_York")
AGENT, AGENT2, LEAD, REQUESTER = "U_AGENT1", "U_AGENT2", "U_LEAD", "U_REQUESTER"
CONFIG: dict[str, Any] = {
    "timezone": "America/New_York",
    "channels": {"triage": "C_TRIAGE", "intake": ["C_HELP"], "social": "C_SOCIAL"},
    "roles": {"agents": [AGENT, AGENT2], "leads": [LEAD], "admins": ["U_ADMIN"]},
}


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 7, 10, 0, tzinfo=NY))


@pytest.fixture
def pb(database_url: str, clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(database_url=database_url, config=parse_config(CONFIG), clock=clock, with_worker=False) as sandbox:
        yield sandbox


def _deliver(sandbox: Sandbox, clock: Clock, at: datetime | None = None) -> None:
    clock.now = at or clock.now
    report = run_due_work(sandbox.deps, clock.now)
    assert (report.timers_failed, report.dead) == (0, 0), report


def _command(sandbox: Sandbox, command: str, text: str, user: str = LEAD, channel: str = "C_TRIAGE") -> str:
    response = sandbox.simulator.slash_command(command, text, user_id=user, channel_id=channel)
    assert response.status == 200 and response.elapsed < 3.0
    return str(response.json()["text"])


def _playbook(sandbox: Sandbox, text: str, user: str = LEAD, channel: str = "C_TRIAGE") -> str:
    return _command(sandbox, "/playbook", text, user, channel)


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def _click(sandbox: Sandbox, user: str, message: dict[str, Any], channel: str, label: str) -> None:
    button = next(e for e in _buttons(message) if e["text"]["text"] == label)
    response = sandbox.simulator.block_action(user_id=user, actions=[button], channel_id=channel, message=message)
    assert response.status == 200 and response.elapsed < 3.0


def _current_step(sandbox: Sandbox, channel: str) -> dict[str, Any]:
    """The newest step message that still has buttons."""
    return next(m for m in reversed(sandbox.standin.messages(channel)) if " step " in m["text"] and _buttons(m))


def _ephemerals(sandbox: Sandbox, user: str) -> list[str]:
    return [e["text"] for e in sandbox.standin.ephemerals() if e.get("user") == user]


def _runs(sandbox: Sandbox) -> list[PlaybookRun]:
    with Session(sandbox.deps.engine) as session:
        return list(session.exec(select(PlaybookRun).order_by(col(PlaybookRun.id))).all())


def _wait_for_view(sandbox: Sandbox, timeout: float = 5.0) -> dict[str, Any]:
    """The form a lazy listener opens, once it has (it runs after the click's ack)."""
    deadline = time.monotonic() + timeout
    while not sandbox.standin.views():
        assert time.monotonic() < deadline, "no form was opened"
        time.sleep(0.02)
    return sandbox.standin.views()[-1]


def _open_ticket(sandbox: Sandbox, clock: Clock) -> None:
    assert "Created *T-1*" in _command(sandbox, "/ticket", "Your product is garbage and I want answers now", REQUESTER)
    assert "T-1" in _command(sandbox, "/ticket", "take T-1", AGENT)
    _deliver(sandbox, clock)


def test_list_and_help_name_every_playbook_and_verb(pb: Sandbox) -> None:
    listed = _playbook(pb, "list", user=AGENT)
    for name in ("incident", "social-crisis", "angry-customer", "churn-threat", "refund"):
        assert f"`{name}`" in listed
    assert "/playbook run angry-customer T-42" in _playbook(pb, "help", user=AGENT)
    assert "/playbook run angry-customer T-42" in _playbook(pb, "", user=AGENT)


def test_bad_input_is_answered_and_changes_nothing(pb: Sandbox, clock: Clock) -> None:
    assert _playbook(pb, "run dragons") == (
        ":warning: There is no playbook `dragons`. Playbooks: `angry-customer`, `churn-threat`, `incident`, "
        "`refund`, `social-crisis`."
    )
    assert _playbook(pb, "run refund", user=AGENT).startswith(":warning: Only leads and admins run playbooks")
    assert "usage: `/playbook run &lt;name&gt;" in _playbook(pb, "run")
    assert "is not a verb here" in _playbook(pb, "launch refund")
    assert _playbook(pb, "run refund T-404") == ":warning: T-404 does not exist."
    assert "/incident start" in _playbook(pb, "run incident Checkout down")
    assert _runs(pb) == []
    assert pb.standin.calls_to("chat.postMessage") == []


def test_a_run_for_a_ticket_goes_step_by_step_and_ends_with_a_summary(pb: Sandbox, clock: Clock) -> None:
    _open_ticket(pb, clock)
    answer = _playbook(pb, "run angry-customer T-1")
    assert answer == "Started Angry or abusive customer (run 1) in <#C_TRIAGE>: its first step is posted there."
    _deliver(pb, clock)
    card = next(m for m in pb.standin.messages("C_TRIAGE") if m["text"].startswith("Angry or abusive customer (run 1)"))
    assert "T-1" in render_message(card)
    with Session(pb.deps.engine) as session:
        assert len(session.exec(select(RunTicket)).all()) == 1
    step = _current_step(pb, "C_TRIAGE")
    assert "step 1/" in step["text"] and "Let them vent" in step["text"]
    assert "agent*: <@U_AGENT1>" in str(step["blocks"])  # the ticket's owner works it
    assert "Never:" in render_message(step) and 'Say "calm down"' in render_message(step)
    # Another agent may not; the owner may; a lead may too.
    _click(pb, AGENT2, step, "C_TRIAGE", "Done")
    _deliver(pb, clock)
    assert any("is for the agent (<@U_AGENT1>)" in text for text in _ephemerals(pb, AGENT2))
    _click(pb, AGENT, step, "C_TRIAGE", "Done")
    _deliver(pb, clock)
    step = _current_step(pb, "C_TRIAGE")
    assert "Acknowledge with empathy" in step["text"]
    assert "I understand why you're frustrated." in render_message(step)  # the template to post
    # Its template goes to the ticket's requester through the reply form.
    _click(pb, AGENT, step, "C_TRIAGE", "Reply on T-1")
    form = _wait_for_view(pb)
    assert form["callback_id"] == "ticket_reply"
    assert form["blocks"][0]["element"]["initial_value"] == "I understand why you're frustrated."
    state = {"message": {"value": {"type": "plain_text_input", "value": "I understand why you're frustrated."}}}
    assert pb.simulator.view_submission(user_id=AGENT, view={**form, "state": {"values": state}}).status == 200
    _deliver(pb, clock)
    dm = pb.standin.dm_channel(REQUESTER)
    assert dm and any("I understand why you're frustrated." in m["text"] for m in pb.standin.messages(dm))
    status = _playbook(pb, "status", user=AGENT)
    assert "step 2/8: *Acknowledge with empathy* (agent: <@U_AGENT1>, due" in status
    # Due in 15 minutes: its owner is reminded once.
    _deliver(pb, clock, clock.now + timedelta(minutes=15))
    _deliver(pb, clock, clock.now + timedelta(minutes=15))
    reminders = [m for m in pb.standin.messages("C_TRIAGE") if m["text"].startswith(":alarm_clock:")]
    assert (
        len(reminders) == 1
        and "<@U_AGENT1>" in reminders[0]["text"]
        and "Acknowledge with empathy" in reminders[0]["text"]
    )
    _click(pb, LEAD, step, "C_TRIAGE", "Skip")
    _deliver(pb, clock)
    for label in ("Done", "No: carry on", "Done"):  # focus on action; not abusive; follow through
        _click(pb, AGENT, _current_step(pb, "C_TRIAGE"), "C_TRIAGE", label)
        _deliver(pb, clock)
    [run] = _runs(pb)
    assert run.status == "finished"
    summary = next(m for m in pb.standin.messages("C_TRIAGE") if "finished after" in m["text"])
    shown = render_message(summary)
    assert "Let them vent: @" in shown and "skipped by" in shown and "T-1" in shown and "Finished by" in shown
    assert "1 skipped" in shown
    # The status answers, and no reminder comes after the end.
    assert _playbook(pb, "status").startswith("No playbook is running.")

    def reminders() -> list[str]:
        return [
            m["text"] for m in pb.standin.messages("C_TRIAGE") if m["text"].startswith((":alarm_clock:", ":repeat:"))
        ]

    before = reminders()
    _deliver(pb, clock, clock.now + timedelta(days=2))
    assert reminders() == before


def test_a_decision_leads_where_its_button_says(pb: Sandbox, clock: Clock) -> None:
    _playbook(pb, "run refund Refund for invoice 1043")
    _deliver(pb, clock)
    step = _current_step(pb, "C_TRIAGE")
    assert [b["text"]["text"] for b in _buttons(step)] == ["Yes", "No"]
    _click(pb, LEAD, step, "C_TRIAGE", "No")
    _deliver(pb, clock)
    assert "chose *No*" in str(next(m for m in pb.standin.messages("C_TRIAGE") if m["ts"] == step["ts"])["blocks"])
    step = _current_step(pb, "C_TRIAGE")
    assert "A valid reason" in step["text"] and [b["text"]["text"] for b in _buttons(step)] == ["Yes", "Maybe", "No"]
    _click(pb, LEAD, step, "C_TRIAGE", "Maybe")
    _deliver(pb, clock)
    assert (
        "Offer an alternative" in _current_step(pb, "C_TRIAGE")["text"]
        or "alternative" in _current_step(pb, "C_TRIAGE")["text"].lower()
    )


def test_the_social_crisis_runs_in_the_social_channel_on_its_clock(pb: Sandbox, clock: Clock) -> None:
    """Issue 7 §5: public acknowledgement due in 30 minutes, then move to DM, resolve privately,
    update the public thread, and 24 h of monitoring with check-ins until the run ends."""
    answer = _playbook(pb, "run social-crisis Viral thread: checkout charged twice", channel="C_HELP")
    assert "in <#C_SOCIAL>" in answer
    _deliver(pb, clock)
    assert pb.standin.messages("C_HELP") == []
    step = _current_step(pb, "C_SOCIAL")
    assert "Acknowledge publicly" in step["text"] and "We see this and we're looking into it." in render_message(step)
    _deliver(pb, clock, clock.now + timedelta(minutes=29))
    assert not [m for m in pb.standin.messages("C_SOCIAL") if m["text"].startswith(":alarm_clock:")]
    _deliver(pb, clock, clock.now + timedelta(minutes=1))
    [late] = [m for m in pb.standin.messages("C_SOCIAL") if m["text"].startswith(":alarm_clock:")]
    assert "Acknowledge publicly" in late["text"] and "<@U_LEAD>" in late["text"]
    for title in (
        "Acknowledge publicly",
        "Move to a private channel",
        "Resolve it in private",
        "Update the public thread",
    ):
        step = _current_step(pb, "C_SOCIAL")
        assert title in step["text"]
        _click(pb, LEAD, step, "C_SOCIAL", "Done")
        _deliver(pb, clock)
    monitoring_from = clock.now
    assert "Monitor for 24 hours" in _current_step(pb, "C_SOCIAL")["text"]
    for hours in (2, 4, 6):
        _deliver(pb, clock, monitoring_from + timedelta(hours=hours))
    check_ins = [m for m in pb.standin.messages("C_SOCIAL") if m["text"].startswith(":repeat:")]
    assert len(check_ins) == 3 and all("Monitor for 24 hours" in m["text"] for m in check_ins)
    _click(pb, LEAD, _current_step(pb, "C_SOCIAL"), "C_SOCIAL", "Done")
    _deliver(pb, clock)
    assert _runs(pb)[0].status == "finished"
    _deliver(pb, clock, monitoring_from + timedelta(hours=30))
    assert len([m for m in pb.standin.messages("C_SOCIAL") if m["text"].startswith(":repeat:")]) == 3
    with Session(pb.deps.engine) as session:
        assert session.exec(select(Timer).where(Timer.kind == "playbook", col(Timer.fired_at).is_(None))).all() == []


def test_a_stale_or_forged_button_changes_nothing(pb: Sandbox, clock: Clock) -> None:
    _playbook(pb, "run refund Refund for invoice 1043")
    _deliver(pb, clock)
    step = _current_step(pb, "C_TRIAGE")
    forged = {**_buttons(step)[0], "value": "1:window:9:0"}  # an earlier pass that never was
    pb.simulator.block_action(user_id=LEAD, actions=[forged], channel_id="C_TRIAGE", message=step)
    for value in (
        "1:nosuchstep:1",
        "x:y",
        "99:window:1:0",
        "1:window:1:4",
        "99999999999999999999:window:1:0",
        "²:window:1",
    ):
        pb.simulator.block_action(
            user_id=LEAD, actions=[{**forged, "value": value}], channel_id="C_TRIAGE", message=step
        )
    _deliver(pb, clock)
    [run] = _runs(pb)
    assert run.state["current"] == "window" and [e[2] for e in run.state["timeline"]] == ["started"]
    told = _ephemerals(pb, LEAD)
    assert any("earlier pass" in t for t in told) and any("is no step of" in t for t in told)
    assert any("Run 99 does not exist" in t for t in told) and any("not one of" in t for t in told)


def test_a_lead_step_nobody_holds_is_for_leads_not_the_agent(pb: Sandbox, clock: Clock) -> None:
    _open_ticket(pb, clock)
    _playbook(pb, "run refund T-1")
    _deliver(pb, clock)
    for label in ("No", "Yes", "Done", "Yes: manager approval"):  # not in the window; a valid reason; refund
        _click(pb, AGENT, _current_step(pb, "C_TRIAGE"), "C_TRIAGE", label)
        _deliver(pb, clock)
    approval = _current_step(pb, "C_TRIAGE")
    assert "Escalate to a manager for approval" in approval["text"] and "lead*: <@U_LEAD>" in str(approval["blocks"])
    _click(pb, AGENT, approval, "C_TRIAGE", "Done")
    _deliver(pb, clock)
    assert any("only they, leads or admins" in t for t in _ephemerals(pb, AGENT))
    assert _runs(pb)[0].status == "running"
    _click(pb, LEAD, approval, "C_TRIAGE", "Done")
    _deliver(pb, clock)
    assert _runs(pb)[0].status == "finished"


def test_a_due_reminder_held_up_until_after_done_is_not_sent(pb: Sandbox, clock: Clock) -> None:
    _open_ticket(pb, clock)
    _playbook(pb, "run angry-customer T-1")
    _deliver(pb, clock)
    _click(pb, AGENT, _current_step(pb, "C_TRIAGE"), "C_TRIAGE", "Done")
    _deliver(pb, clock)
    clock.now += timedelta(minutes=15)
    # The sweep queues the reminder, but it is not delivered yet (Slack slow, the sender busy) ...
    fire_due_timers(pb.deps.engine, pb.deps.policy, worker="test", now=clock.now)
    _click(pb, AGENT, _current_step(pb, "C_TRIAGE"), "C_TRIAGE", "Done")  # ... and the step is done meanwhile
    _deliver(pb, clock, clock.now + timedelta(minutes=5))
    reminders = [m for m in pb.standin.messages("C_TRIAGE") if m["text"].startswith(":alarm_clock:")]
    assert reminders == []


def test_a_reassigned_ticket_takes_its_playbook_steps_with_it(pb: Sandbox, clock: Clock) -> None:
    _open_ticket(pb, clock)
    _playbook(pb, "run angry-customer T-1")
    _deliver(pb, clock)
    assert "T-1" in _command(pb, "/ticket", f"assign T-1 <@{AGENT2}|kim>", LEAD)
    _deliver(pb, clock)
    step = _current_step(pb, "C_TRIAGE")
    assert "agent*: <@U_AGENT2>" in str(step["blocks"])
    _click(pb, AGENT, step, "C_TRIAGE", "Done")  # no longer theirs
    _deliver(pb, clock)
    assert any("is for the agent (<@U_AGENT2>)" in t for t in _ephemerals(pb, AGENT))
    _click(pb, AGENT2, step, "C_TRIAGE", "Done")
    _deliver(pb, clock, clock.now + timedelta(minutes=15))
    [reminder] = [m for m in pb.standin.messages("C_TRIAGE") if m["text"].startswith(":alarm_clock:")]
    assert "<@U_AGENT2>" in reminder["text"]
