"""Surge detection end to end through the stand-in, with the real model: tickets from the intake
channel, the check in `run_due_work(now)` (after the ack, as the worker does), one alert per surge in
triage updated in place with a thread line per joiner, and its "Start incident" button (issue 11 §4)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from bot.config import parse_config
from bot.sandbox import Sandbox
from bot.slack.standin import render_message
from bot.worker import run_due_work
from store.models import Incident, RunTicket, Surge, SurgeMember, Ticket, TicketVector
from tests.e2e.clocks import Clock

NY = ZoneInfo("America/New_York")
AGENT, LEAD = "U_AGENT1", "U_LEAD"
CONFIG: dict[str, Any] = {
    "timezone": "America/New_York",
    "channels": {"triage": "C_TRIAGE", "intake": ["C_HELP"], "incidents": "C_INCIDENTS"},
    "roles": {"agents": [AGENT], "leads": [LEAD], "admins": ["U_ADMIN"]},
}
_events = count(1)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 7, 10, 0, tzinfo=NY))


@pytest.fixture
def box(database_url: str, clock: Clock) -> Iterator[Sandbox]:
    sandbox = Sandbox(database_url=database_url, config=parse_config(CONFIG), clock=clock, with_worker=False)
    with sandbox:
        yield sandbox


def _ticket(box: Sandbox, clock: Clock, text: str, requester: str, *, minutes: float = 2) -> None:
    clock.now = clock.now + timedelta(minutes=minutes)
    event = box.standin.post_as_user("C_HELP", requester, text)
    response = box.simulator.event(event, event_id=f"Ev_SURGE_{next(_events)}")
    assert response.status == 200 and response.elapsed < 3.0


def _sweep(box: Sandbox, clock: Clock) -> None:
    report = run_due_work(box.deps, clock.now)
    assert (report.timers_failed, report.dead, report.notes) == (0, 0, []), report


def _alerts(box: Sandbox) -> list[dict[str, Any]]:
    return [m for m in box.standin.messages("C_TRIAGE") if m["text"].startswith("Surge ")]


def _click(box: Sandbox, user: str, message: dict[str, Any]) -> None:
    actions = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    [button] = [e for e in actions if e["action_id"] == "surge_start_incident"]
    response = box.simulator.block_action(user_id=user, actions=[button], channel_id="C_TRIAGE", message=message)
    assert response.status == 200 and response.elapsed < 3.0


def _members(box: Sandbox) -> dict[int, list[int]]:
    with Session(box.deps.engine) as session:
        rows = session.exec(
            select(Surge.number, Ticket.number)
            .join(SurgeMember, col(SurgeMember.surge_id) == Surge.id)
            .join(Ticket, col(Ticket.id) == SurgeMember.ticket_id)
            .order_by(col(Surge.number), col(Ticket.number))
        ).all()
    found: dict[int, list[int]] = {}
    for surge, ticket in rows:
        found.setdefault(surge, []).append(ticket)
    return found


DASHBOARD = [
    ("my dashboard numbers are all zero", "U_ACME"),
    ("analytics shows nothing since this morning", "U_BETA"),
    ("the weekly chart is empty, did we lose data?", "U_ACME"),
]


def test_three_wordings_from_two_people_raise_one_alert_and_a_fourth_joins_it(box: Sandbox, clock: Clock) -> None:
    _ticket(box, clock, "please add a dark theme to the dashboard", "U_DARK")  # shares words, asks for something
    for text, requester in DASHBOARD:
        _ticket(box, clock, text, requester)
    _sweep(box, clock)
    [alert] = _alerts(box)
    assert "3 tickets from 2 people" in alert["blocks"][0]["text"]["text"]
    assert alert["text"].endswith(": T-2, T-3, T-4")  # not T-1, the request that shares their words
    assert _members(box) == {1: [2, 3, 4]}
    # A fourth, worded differently again, joins: the same message is updated, and its thread says so.
    _ticket(box, clock, "reports page shows 0 for every metric today 😱", "U_GAMMA")
    _sweep(box, clock)
    [alert] = _alerts(box)
    assert "4 tickets from 3 people" in alert["blocks"][0]["text"]["text"] and "T-5" in alert["text"]
    assert [r["text"] for r in alert["replies"]] == [
        "T-5 joined this surge: reports page shows 0 for every metric today 😱"
    ]
    assert len(box.standin.calls_to("chat.update")) >= 1
    _sweep(box, clock)  # nothing twice
    assert len(_alerts(box)) == 1 and len(_alerts(box)[0]["replies"]) == 1


def test_one_customer_writing_three_times_is_one_voice(box: Sandbox, clock: Clock) -> None:
    for text in DASHBOARD:
        _ticket(box, clock, text[0], "U_LOUD")
    _sweep(box, clock)
    assert _alerts(box) == [] and _members(box) == {}


def test_two_surges_at_once_give_two_alerts_with_their_own_tickets(box: Sandbox, clock: Clock) -> None:
    stream = [
        ("none of our notification emails are being delivered", "U_D1"),
        ("the iOS app crashes as soon as I open it", "U_D2"),
        ("customers say they never received the password reset email", "U_D3"),
        ("android app closes immediately on launch after the update", "U_D4"),
        ("outgoing mail seems stuck, no emails sent from the platform since noon", "U_D5"),
        ("mobile app keeps crashing on startup 📱💥", "U_D6"),
    ]
    for text, requester in stream:
        _ticket(box, clock, text, requester, minutes=1)
    _sweep(box, clock)
    assert len(_alerts(box)) == 2
    assert _members(box) == {1: [1, 3, 5], 2: [2, 4, 6]}


def test_start_incident_from_the_alert_links_the_members_once(box: Sandbox, clock: Clock) -> None:
    for text, requester in DASHBOARD:
        _ticket(box, clock, text, requester)
    _sweep(box, clock)
    [alert] = _alerts(box)
    _click(box, AGENT, alert)  # agents may not start incidents
    _sweep(box, clock)
    assert any("Only leads and admins" in e["text"] for e in box.standin.ephemerals() if e.get("user") == AGENT)
    _click(box, LEAD, alert)
    _click(box, LEAD, alert)  # a second click on the old message starts nothing more
    _sweep(box, clock)
    with Session(box.deps.engine) as session:
        [incident] = session.exec(select(Incident)).all()
        linked = session.exec(select(Ticket.number).join(RunTicket, col(RunTicket.ticket_id) == Ticket.id)).all()
    assert sorted(linked) == [1, 2, 3]
    [alert] = _alerts(box)
    assert not [b for b in alert["blocks"] if b["type"] == "actions"]
    assert f"Incident {incident.ref} started by <@{LEAD}>" in str(alert["blocks"])
    assert any("already started" in e["text"] for e in box.standin.ephemerals() if e.get("user") == LEAD)

    # A look-alike after the incident started joins the surge and is linked to the incident, so its
    # requester hears when the incident is resolved.
    _ticket(box, clock, "reports page shows 0 for every metric today 😱", "U_GAMMA")
    _sweep(box, clock)
    with Session(box.deps.engine) as session:
        linked = session.exec(select(Ticket.number).join(RunTicket, col(RunTicket.ticket_id) == Ticket.id)).all()
    assert sorted(linked) == [1, 2, 3, 4]
    [alert] = _alerts(box)
    assert alert["replies"][-1]["text"] == (
        f"T-4 joined this surge: reports page shows 0 for every metric today 😱 · linked to {incident.ref}"
    )


def test_simultaneous_checks_make_one_alert(box: Sandbox, clock: Clock) -> None:
    for text, requester in DASHBOARD:
        _ticket(box, clock, text, requester, minutes=0)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            run_due_work(box.deps, clock.now)
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    _sweep(box, clock)
    assert len(_alerts(box)) == 1 and _members(box) == {1: [1, 2, 3]}


def test_emoji_only_and_huge_tickets_reach_the_check(box: Sandbox, clock: Clock) -> None:
    _ticket(box, clock, "😡😡😡🔥", "U_EMOJI")
    _ticket(box, clock, "checkout fails with error 500 " + "x" * 39_970, "U_HUGE")
    _sweep(box, clock)
    with Session(box.deps.engine) as session:
        assert len(session.exec(select(TicketVector)).all()) == 2
    assert _alerts(box) == []


def test_the_standup_digest_lists_the_surges_since_the_last_one(database_url: str, clock: Clock) -> None:
    config = parse_config(CONFIG | {"channels": {**CONFIG["channels"], "standup": "C_STANDUP"}})
    with Sandbox(database_url=database_url, config=config, clock=clock, with_worker=False) as sandbox:
        for text, requester in DASHBOARD:
            _ticket(sandbox, clock, text, requester)
        _sweep(sandbox, clock)  # the surge is raised
        response = sandbox.simulator.slash_command("/support", "digest", user_id=AGENT, channel_id="C_TRIAGE")
        assert response.status == 200
        _sweep(sandbox, clock)
        [digest] = [m for m in sandbox.standin.messages("C_STANDUP") if "Asked for by" in str(m["blocks"])]
        assert "Surges 1" in render_message(digest)
        details = render_message(digest["replies"][0])
        assert "Surge 1" in details and "T-1, T-2, T-3" in details
