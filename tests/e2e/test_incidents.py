"""Incidents end to end through the stand-in: `/incident start` (its channel, announcement and the
incident playbook), Done on a step, the status-update reminder driven by `run_due_work(now)` as
`tick --now` does, updates, roles, resolving from any path exactly once (field case F10), closing
the loop with linked requesters, and channel names (field case F9)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from bot.config import parse_config
from bot.core.playbooks import run_from_json
from bot.sandbox import Sandbox
from bot.slack.standin import render_message
from bot.worker import run_due_work
from store.models import Incident, PlaybookRun, Timer
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
    assert "Activate incident response" in text and "Update by" in text and "Resolved by" in text
    assert "Post a status page update: skipped by @Sam Okafor (resolved first)" in text
    assert any(m["text"].startswith("INC-1 finished") for m in inc.standin.messages("C_INCIDENTS"))
    _deliver(inc, clock, clock.now + timedelta(hours=5))
    assert len(_reminders(inc, channel)) == 2
    # What is left is the step after resolution: the post-mortem, due two days on.
    with Session(inc.deps.engine) as session:
        left = session.exec(select(Timer).where(Timer.kind == "playbook", col(Timer.fired_at).is_(None))).all()
    assert [timer.name for timer in left] == ["step:post-mortem:due"]
    _click(inc, LEAD, _step(inc, channel, "Send the post-mortem summary"), channel, "playbook_done")
    _deliver(inc, clock)
    final = [m for m in inc.standin.messages(channel) if m["text"].startswith("INC-1 finished")]
    assert len(final) == 2 and "Finished by" in render_message(final[-1])
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
        _deliver(restarted, clock, clock.now + timedelta(days=1))
        assert restarted.standin.calls_to("chat.postMessage") == []
        # Only the post-mortem, due two days after resolving, still wakes: its channel is gone, so
        # it fails once and the run's reminders stop there.
        _deliver(restarted, clock, clock.now + timedelta(days=2), dead=1)
        _deliver(restarted, clock, clock.now + timedelta(days=5))
        tried = [c for c in restarted.standin.calls_to("chat.postMessage") if c.args.get("channel") == channel]
        assert len(tried) == 1
    resolved = [t for t in _shown(inc, channel) if "INC-1 resolved" in t]
    summaries = [m for m in inc.standin.messages(channel) if m["text"].startswith("INC-1 finished")]
    assert (len(resolved), len(summaries)) == (1, 1)
    assert _reminders(inc, channel) == []
    [incident] = _incidents(inc)
    assert (incident.status, incident.resolved_by) == ("resolved", LEAD)


def test_two_reminders_of_one_run_in_one_sweep_both_count(inc: Sandbox, clock: Clock) -> None:
    """A step's due reminder and the recurring status-page reminder, fired by the same sweep: both
    are on the timeline, and the status page keeps being reminded every 30 minutes after it."""
    _incident(inc, "start Checkout errors")
    _deliver(inc, clock)
    channel = inc.standin.channel_id("inc-1-checkout-errors")
    assert channel is not None
    steps = ("Activate incident response", "Post a status page update", "Prepare the acknowledgement template")
    for minute, title in enumerate(steps, 1):
        clock.now = datetime(2026, 12, 7, 10, minute, tzinfo=NY)
        _click(inc, LEAD, _step(inc, channel, title), channel, "playbook_done")
        _deliver(inc, clock)
    # 10:30 the status page is due again, 10:33 "Respond to all tickets" (30 min after 10:03): one sweep.
    _deliver(inc, clock, datetime(2026, 12, 7, 10, 34, tzinfo=NY))
    assert len(_reminders(inc, channel)) == 1
    assert any("Respond to all tickets with consistent messaging is due" in text for text in _shown(inc, channel))
    with Session(inc.deps.engine) as session:
        [incident] = session.exec(select(Incident)).all()
        run = run_from_json(session.exec(select(PlaybookRun).where(PlaybookRun.id == incident.run_id)).one().state)
    assert [e.step for e in run.timeline if e.what == "reminded"] == ["status-updates", "respond-to-tickets"]
    _deliver(inc, clock, datetime(2026, 12, 7, 11, 4, tzinfo=NY))  # 30 minutes after that reminder
    assert len(_reminders(inc, channel)) == 2


# --------------------------------------------------------------------------------------------
# Channel names (field case F9)
# --------------------------------------------------------------------------------------------

DATED = {"incidents": {"channel_name": "inc-{YYYY}-{MM}-{DD}-{slug}"}}


def _add_leads(sandbox: Sandbox, *users: str) -> None:
    for user in users:
        sandbox.standin.add_user(user, user.lower(), tz="America/New_York")


def test_two_people_starting_the_same_incident_at_once_get_two_channels(database_url: str, clock: Clock) -> None:
    """Field case F9: U_A and U_B run `/incident start Checkout errors` 200 ms apart; the names
    follow `inc-{YYYY}-{MM}-{DD}-{slug}`. Uniqueness is Frontline's, not left to Slack."""
    config = CONFIG | DATED | {"roles": {**CONFIG["roles"], "leads": [LEAD, "U_A", "U_B"]}}
    with Sandbox(database_url=database_url, config=parse_config(config), clock=clock, with_worker=False) as sandbox:
        _add_leads(sandbox, "U_A", "U_B")
        answers: dict[str, str] = {}

        def start(user: str, delay: float) -> None:
            time.sleep(delay)
            answers[user] = _incident(sandbox, "start Checkout errors", user=user)

        threads = [threading.Thread(target=start, args=(u, d)) for u, d in (("U_A", 0.1), ("U_B", 0.3))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        _deliver(sandbox, clock)
        incidents = _incidents(sandbox)
        assert [i.channel_name for i in incidents] == [
            "inc-2026-12-07-checkout-errors",
            "inc-2026-12-07-checkout-errors-2",
        ]
        assert all(sandbox.standin.channel_id(i.channel_name) == i.channel_id for i in incidents)
        assert sorted(answers) == ["U_A", "U_B"] and all("started" in a for a in answers.values())


def test_a_double_submitted_start_form_starts_one_incident(database_url: str, clock: Clock) -> None:
    with _sandbox(database_url, clock, **DATED) as sandbox:
        response = sandbox.simulator.slash_command("/incident", "start", user_id=LEAD, channel_id="C_TRIAGE")
        assert response.status == 200
        sandbox.standin.wait_for_calls("views.open")
        [form] = sandbox.standin.views()
        assert form["callback_id"] == "incident_start"
        state = {
            "title": {"value": {"type": "plain_text_input", "value": "Checkout errors"}},
            "severity": {"value": {"type": "static_select", "selected_option": {"value": "P1"}}},
            "tickets": {"value": {"type": "plain_text_input", "value": ""}},
        }
        submitted = {**form, "state": {"values": state}}
        first = sandbox.simulator.view_submission(user_id=LEAD, view=submitted)
        time.sleep(0.3)
        second = sandbox.simulator.view_submission(user_id=LEAD, view=submitted)
        assert (first.status, second.status) == (200, 200) and first.body == second.body == ""
        _deliver(sandbox, clock)
        [incident] = _incidents(sandbox)
        assert (incident.severity, incident.channel_name) == ("P1", "inc-2026-12-07-checkout-errors")
        assert len(sandbox.standin.calls_to("conversations.create")) == 1


def test_a_name_slack_says_is_taken_is_never_reused(database_url: str, clock: Clock) -> None:
    """F9: an archived `inc-2026-12-07-checkout-errors` exists, so Slack answers `name_taken`:
    Frontline takes `-2` and succeeds."""
    with _sandbox(database_url, clock, **DATED) as sandbox:
        sandbox.standin.add_channel("C_OLD", "inc-2026-12-07-checkout-errors", members=[])
        sandbox.standin.archive("C_OLD")
        _incident(sandbox, "start Checkout errors")
        _deliver(sandbox, clock)
        [incident] = _incidents(sandbox)
        assert incident.channel_name == "inc-2026-12-07-checkout-errors-2"
        assert incident.channel_id == sandbox.standin.channel_id("inc-2026-12-07-checkout-errors-2") != "C_OLD"
        assert sandbox.standin.messages("C_OLD") == []
        posted = [m["text"] for m in sandbox.standin.messages(incident.channel_id or "")]
        assert any("Activate incident response" in text for text in posted)
        # A second incident with that title that day skips both names.
        _incident(sandbox, "start Checkout errors")
        _deliver(sandbox, clock)
        assert _incidents(sandbox)[1].channel_name == "inc-2026-12-07-checkout-errors-3"


# --------------------------------------------------------------------------------------------
# Roles, links, closing the loop
# --------------------------------------------------------------------------------------------


def _report(sandbox: Sandbox, text: str) -> dict[str, Any]:
    """A customer's post in the intake channel, delivered to Frontline as Slack would."""
    event = sandbox.standin.post_as_user("C_HELP", REQUESTER, text)
    assert sandbox.simulator.event(event, event_id=f"Ev{event['ts']}").status == 200
    return event


def _started(sandbox: Sandbox, clock: Clock, text: str = "start Checkout errors") -> str:
    _incident(sandbox, text)
    _deliver(sandbox, clock)
    channel = sandbox.standin.channel_id("inc-1-checkout-errors")
    assert channel is not None
    return channel


def test_steps_are_for_their_role_and_a_role_holder_is_invited(inc: Sandbox, clock: Clock) -> None:
    channel = _started(inc, clock)
    step = _step(inc, channel, "Activate incident response")
    inc.standin.join(channel, AGENT)
    _click(inc, AGENT, step, channel, "playbook_done")  # the commander's step; the agent holds no role
    _deliver(inc, clock)
    [refusal] = _ephemerals(inc, AGENT)
    assert "'Activate incident response' is for the commander (<@U_LEAD>)" in refusal
    assert "Done by" not in str(_step(inc, channel, "Activate incident response")["blocks"])
    # The commander names a comms lead: invited, announced, and the comms steps are theirs.
    answer = _incident(inc, f"role comms <@{AGENT}|dana>", channel=channel)
    assert answer == f"<@{AGENT}> is INC-1's comms."
    _deliver(inc, clock)
    assert AGENT in inc.standin.channel_members(channel)
    assert any(
        f"@{inc.standin.user_name(AGENT)} is comms" in text or "is comms" in text for text in _shown(inc, channel)
    )
    _click(inc, LEAD, step, channel, "playbook_done")
    _deliver(inc, clock)
    status_page = _step(inc, channel, "Post a status page update")
    assert "comms*: <@U_AGENT1>" in str(status_page["blocks"])
    _click(inc, AGENT, status_page, channel, "playbook_done")
    _deliver(inc, clock)
    assert "Done by <@U_AGENT1>" in str(_step(inc, channel, "Post a status page update")["blocks"])
    # A second click on a finished step says who did it and changes nothing.
    _click(inc, LEAD, step, channel, "playbook_done")
    _deliver(inc, clock)
    assert any("was already done by <@U_LEAD>" in text for text in _ephemerals(inc, LEAD))
    # Someone without a role in the incident cannot assign roles.
    refused = _incident(inc, "role scribe <@U_AGENT2|kim>", user=AGENT, channel=channel)
    assert refused.startswith(":warning: Only INC-1's commander (<@U_LEAD>), leads or admins may assign roles")


def test_bad_input_is_answered_and_changes_nothing(inc: Sandbox, clock: Clock) -> None:
    assert _incident(inc, "start Checkout errors", user=AGENT).startswith(
        ":warning: Only leads and admins start incidents"
    )
    assert _incidents(inc) == []
    assert "is not a verb here" in _incident(inc, "launch Checkout")
    assert "usage: `/incident start &lt;title&gt;" in _incident(inc, "start P1 T-4")
    assert "This is not an incident channel" in _incident(inc, "update Still broken")
    assert _incident(inc, "update INC-7 Still broken") == ":warning: INC-7 does not exist."
    assert "'INC-x' is not an incident reference" in _incident(inc, "update INC-x Still broken")
    channel = _started(inc, clock)
    assert "'pilot' is not an incident role" in _incident(inc, "role pilot <@U_AGENT1|dana>", channel=channel)
    assert "is not a person" in _incident(inc, "role comms dana", channel=channel)
    assert _incident(inc, "severity P7", channel=channel).startswith(":warning: usage: `/incident severity")
    assert _incident(inc, "link T-99", channel=channel) == ":warning: T-99 does not exist."
    assert "usage: `/incident update" in _incident(inc, "update", channel=channel)
    with Session(inc.deps.engine) as session:
        run = session.exec(select(PlaybookRun)).one()
    assert [event[2] for event in run.state["timeline"]] == ["started"]


def test_severity_select_and_links_show_on_the_announcement(inc: Sandbox, clock: Clock) -> None:
    _report(inc, "Checkout fails with error 502 since 9:50")
    _deliver(inc, clock)
    channel = _started(inc, clock)
    assert _incident(inc, "link T-1", user=AGENT, channel=channel) == "Linked T-1 to INC-1."
    assert "already linked" in _incident(inc, "link T-1", user=AGENT, channel=channel)
    [announcement] = inc.standin.messages("C_INCIDENTS")
    select_menu = next(
        e
        for b in announcement["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "static_select"
    )
    chosen = {**select_menu, "selected_option": {"text": {"type": "plain_text", "text": "P1"}, "value": "P1"}}
    response = inc.simulator.block_action(
        user_id=LEAD, actions=[chosen], channel_id="C_INCIDENTS", message=announcement
    )
    assert response.status == 200
    _deliver(inc, clock)
    [announcement] = inc.standin.messages("C_INCIDENTS")
    shown = render_message(announcement)
    assert "Severity P1" in shown and "T-1" in shown
    assert _incidents(inc)[0].severity == "P1"


def test_resolving_offers_to_close_the_loop_with_each_linked_requester_once(inc: Sandbox, clock: Clock) -> None:
    source = _report(inc, "Checkout fails with error 502 since 9:50")
    _deliver(inc, clock)
    channel = _started(inc, clock, "start Checkout errors T-1")
    [announcement] = inc.standin.messages("C_INCIDENTS")
    assert not any(
        e["action_id"] == "incident_notify"
        for b in announcement["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    )
    _incident(inc, "resolve", channel=channel)
    _deliver(inc, clock)
    announcement = inc.standin.messages("C_INCIDENTS")[0]
    _click(inc, AGENT, announcement, "C_INCIDENTS", "incident_notify")  # not the commander or comms
    _deliver(inc, clock)
    assert any("Only INC-1's commander" in text for text in _ephemerals(inc, AGENT))
    _click(inc, LEAD, announcement, "C_INCIDENTS", "incident_notify")
    _click(inc, LEAD, announcement, "C_INCIDENTS", "incident_notify")  # clicked twice
    _deliver(inc, clock)
    replies = next(m for m in inc.standin.messages("C_HELP") if m["ts"] == source["ts"]).get("replies", [])
    closing = [r for r in replies if "INC-1" in r["text"] and "is resolved" in r["text"]]
    assert len(closing) == 1 and "T-1" in closing[0]["text"]
    assert any("already told" in text for text in _ephemerals(inc, LEAD))
    assert "Linked requesters notified by <@U_LEAD>" in str(inc.standin.messages("C_INCIDENTS")[0]["blocks"])


def test_a_reminder_into_an_archived_channel_stops_the_reminders_after_one_failure(inc: Sandbox, clock: Clock) -> None:
    """F10: the incident's channel is archived while it is open: the next reminder fails once with
    `is_archived` and no reminder is tried again, with no retry loop."""
    channel = _started(inc, clock)
    inc.standin.archive(channel)
    _deliver(inc, clock, clock.now + timedelta(minutes=30), dead=1)  # two reminders due; the second is dropped
    for minutes in (60, 90, 240):
        _deliver(inc, clock, datetime(2026, 12, 7, 10, 0, tzinfo=NY) + timedelta(minutes=minutes))
    failed = [
        c
        for c in inc.standin.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and c.response.get("error")
    ]
    assert len(failed) == 1
    with Session(inc.deps.engine) as session:
        run = session.exec(select(PlaybookRun)).one()
        assert run.reminders_off and "is_archived" in run.reminders_off
        assert session.exec(select(Timer).where(Timer.kind == "playbook", col(Timer.fired_at).is_(None))).all() == []


def test_the_run_waits_for_resolve_and_the_post_mortem_follows_it(inc: Sandbox, clock: Clock) -> None:
    """All five steps done while the incident is still open: the run keeps reminding about the
    status page and takes updates; resolving starts the post-mortem step."""
    channel = _started(inc, clock)
    for title in (
        "Activate",
        "Post a status page",
        "Prepare the acknowledgement",
        "Respond to all",
        "Update the status page",
    ):
        _click(inc, LEAD, _step(inc, channel, title), channel, "playbook_done")
        _deliver(inc, clock)
    with Session(inc.deps.engine) as session:
        assert session.exec(select(PlaybookRun)).one().status == "running"
    assert "Update posted for INC-1" in _incident(inc, "update Still failing over", channel=channel)
    _deliver(inc, clock, clock.now + timedelta(minutes=31))
    assert len(_reminders(inc, channel)) == 1
    assert not any(m["text"].startswith("INC-1 finished") for m in inc.standin.messages(channel))
    _incident(inc, "resolve", channel=channel)
    _deliver(inc, clock)
    assert any("Send the post-mortem summary" in m["text"] for m in inc.standin.messages(channel)[-3:])


def test_resolved_before_its_channel_exists_still_says_so_there(inc: Sandbox, clock: Clock) -> None:
    _incident(inc, "start Checkout errors")
    _incident(inc, "resolve INC-1")  # a false alarm, before any worker ran
    _deliver(inc, clock)
    channel = inc.standin.channel_id("inc-1-checkout-errors")
    assert channel is not None
    shown = _shown(inc, channel)
    assert any("INC-1 resolved" in text for text in shown)
    assert any(m["text"].startswith("INC-1 finished") for m in inc.standin.messages(channel))


def test_two_incidents_in_one_fallback_channel_must_be_named(inc: Sandbox, clock: Clock) -> None:
    for _ in range(2):
        inc.standin.fail_next("conversations.create", "restricted_action")
    _incident(inc, "start Checkout errors")
    _incident(inc, "start Login errors")
    _deliver(inc, clock, dead=2)  # Slack refused both channels; each incident said so where it runs
    assert [i.channel_id for i in _incidents(inc)] == ["C_INCIDENTS", "C_INCIDENTS"]
    answer = _incident(inc, "update Still failing", channel="C_INCIDENTS")
    assert "Several incidents run in this channel (INC-1, INC-2)" in answer
    assert _incident(inc, "update INC-2 Still failing", channel="C_INCIDENTS").startswith("Update posted for INC-2")


def test_tickets_cannot_be_linked_once_resolved(inc: Sandbox, clock: Clock) -> None:
    _report(inc, "Checkout fails with error 502 since 9:50")
    channel = _started(inc, clock)
    _incident(inc, "resolve", channel=channel)
    answer = _incident(inc, "link T-1", user=AGENT, channel=channel)
    assert answer.startswith(":warning: INC-1 was resolved by <@U_LEAD>") and "Nothing changed" in answer


def test_a_worker_back_after_forty_minutes_keeps_the_status_page_reminder_going(inc: Sandbox, clock: Clock) -> None:
    """Two reminders of one run due in one sweep (the step's, 10:05, and the status page's, 10:30):
    both are sent, and the status page's comes again every 30 minutes after."""
    channel = _started(inc, clock)
    _deliver(inc, clock, datetime(2026, 12, 7, 10, 40, tzinfo=NY))
    assert len(_reminders(inc, channel)) == 1
    assert any(m["text"].startswith(":alarm_clock:") for m in inc.standin.messages(channel))
    for minute in range(45, 181, 5):
        _deliver(inc, clock, datetime(2026, 12, 7, 10, 0, tzinfo=NY) + timedelta(minutes=minute))
    assert len(_reminders(inc, channel)) == 5  # 10:40, 11:10, 11:40, 12:10, 12:40


def test_the_bot_cannot_hold_a_role_and_relinking_names_only_the_new(inc: Sandbox, clock: Clock) -> None:
    _report(inc, "Checkout fails with error 502 since 9:50")
    _report(inc, "Payment page times out")
    channel = _started(inc, clock, "start Checkout errors T-1")
    assert _incident(inc, "role comms <@U_FRONTLINE|frontline>", channel=channel) == (
        ":warning: I can't hold an incident role: name a person."
    )
    assert _incident(inc, "link T-2 T-1", user=AGENT, channel=channel) == "Linked T-2 to INC-1."
