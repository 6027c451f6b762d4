"""`/support stats`: seed 001's dashboard measured in SQL over one working day of real traffic
(intake posts, agent replies in the threads, solve, reopen, escalate, a breach found by the sweep),
checked against the definitions in the README, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.config import parse_config
from bot.sandbox import Sandbox
from bot.services import csat
from bot.slack.standin import render_message
from bot.worker import run_due_work
from store.db import read_scope
from store.metrics import measure
from store.models import CsatRating
from tests.e2e.clocks import Clock

NY = ZoneInfo("America/New_York")
AGENT, LEAD, REQUESTER, OTHER = "U_AGENT1", "U_LEAD", "U_REQUESTER", "U_AGENT2"
CONFIG: dict[str, Any] = {
    "timezone": "America/New_York",
    "channels": {"triage": "C_TRIAGE", "intake": ["C_HELP"], "escalation": {"L2": "C_L2"}},
    "roles": {"agents": [AGENT], "l2": [OTHER], "leads": [LEAD]},
}


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 7, hour, minute, tzinfo=NY)  # a Monday, inside business hours


@pytest.fixture
def clock() -> Clock:
    return Clock(_at(10))


@pytest.fixture
def st(database_url: str, clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(database_url=database_url, config=parse_config(CONFIG), clock=clock, with_worker=False) as sandbox:
        yield sandbox


def _tick(sandbox: Sandbox, clock: Clock, at: datetime) -> None:
    clock.now = at
    report = run_due_work(sandbox.deps, at)
    assert (report.timers_failed, report.dead) == (0, 0), report


def _post(sandbox: Sandbox, clock: Clock, at: datetime, user: str, text: str, *, thread_ts: str | None = None) -> str:
    clock.now = at
    event = sandbox.standin.post_as_user("C_HELP", user, text, thread_ts=thread_ts)
    assert sandbox.simulator.event(event, event_id=f"Ev{event['ts']}").status == 200
    _tick(sandbox, clock, at)
    return str(event["ts"])


def _ticket(sandbox: Sandbox, clock: Clock, at: datetime, text: str, user: str, *, priority: str = "P2") -> str:
    ts = _post(sandbox, clock, at, user, text)
    number = len([m for m in sandbox.standin.messages("C_TRIAGE") if m["text"].startswith("T-")])
    _command(sandbox, clock, at, f"priority T-{number} {priority}", LEAD)
    return ts


def _command(sandbox: Sandbox, clock: Clock, at: datetime, text: str, user: str, *, command: str = "/ticket") -> str:
    clock.now = at
    response = sandbox.simulator.slash_command(command, text, user_id=user, channel_id="C_TRIAGE")
    assert response.status == 200 and response.elapsed < 3.0
    _tick(sandbox, clock, at)
    return str(response.json()["text"])


def _working_day(st: Sandbox, clock: Clock) -> None:
    """Monday 10:00–17:00: four tickets, replies, an escalation, solves, a reopen and a breach."""
    t1 = _ticket(st, clock, _at(10), "Export to CSV fails on the reports page", REQUESTER)
    t2 = _ticket(st, clock, _at(10, 1), "Invoices PDF is blank since the update", REQUESTER)
    _post(st, clock, _at(10, 30), AGENT, "Looking at it now", thread_ts=t1)  # T-1: first response in 29-30 min
    _ticket(st, clock, _at(11), "Cannot log in to the admin console", REQUESTER, priority="P1")
    _command(st, clock, _at(11, 10), "escalate T-3 L2 Reset the session; same loop", AGENT)
    _post(st, clock, _at(11, 31), AGENT, "We can reproduce it", thread_ts=t2)  # T-2: 90 min
    t4 = _ticket(st, clock, _at(12), "How do I add a second admin?", REQUESTER)
    _command(st, clock, _at(12), "solve T-1", AGENT)  # T-1: 2 h
    _post(st, clock, _at(12, 10), AGENT, "Settings → Team → Invite", thread_ts=t4)  # T-4: 10 min
    _post(st, clock, _at(12, 20), AGENT, "Then pick the Admin role", thread_ts=t4)  # a second agent reply
    _command(st, clock, _at(13), "solve T-4", AGENT)  # T-4: 1 h
    _command(st, clock, _at(16, 1), "solve T-2", AGENT)  # T-2: 6 h
    _command(st, clock, _at(16, 30), "reopen T-1", AGENT)
    _tick(st, clock, _at(17))  # T-3's first response (P1: 1 h) breached at 12:00


def test_a_working_day_measured(st: Sandbox, clock: Clock) -> None:
    _working_day(st, clock)

    with read_scope(st.deps.engine) as session:
        m = measure(session, start=_at(17) - timedelta(days=7), end=_at(17))
    assert (m.created, m.solved, m.backlog) == (4, 2, 2)  # T-1 reopened and T-3 escalated are open
    assert m.first_response.count == 3
    assert m.first_response.average == pytest.approx((30 + 90 + 10) * 60 / 3, abs=90)
    assert m.first_response.median == pytest.approx(30 * 60, abs=90)  # nearest rank: 10, 30, 90 min
    assert m.first_response_sla.average == pytest.approx(m.first_response.average, abs=5)  # all in business hours
    assert m.resolution.count == 2 and m.resolution.p95 == pytest.approx(6 * 3600, abs=90)
    assert m.resolution.average == pytest.approx(3.5 * 3600, abs=90)
    # Clocks: T-1 responded (its resolution runs again), T-2 and T-4 both met, T-3's response breached.
    assert (m.sla_achieved, m.sla_breached) == (5, 1) and m.sla_compliance == pytest.approx(5 / 6)
    assert (m.fcr_count, m.fcr) == (1, 0.5)  # T-2 yes; T-4 had two replies
    assert (m.escalated, m.escalation_rate) == (1, 0.25)
    assert (m.reopened, m.solved_any, m.reopen_rate) == (1, 3, 1 / 3)  # T-1, T-4, T-2 solved; T-1 reopened

    shown = _command(st, clock, _at(17), "stats week", AGENT, command="/support")
    assert shown.startswith("Support stats, last week: 4 created, 2 solved, SLA compliance 83%, backlog 2")
    assert "Only agents" in _command(st, clock, _at(17), "stats", REQUESTER, command="/support")
    assert "is no period" in _command(st, clock, _at(17), "stats year", AGENT, command="/support")


def test_requesters_rate_solved_tickets_once_and_may_comment(st: Sandbox, clock: Clock) -> None:
    _working_day(st, clock)
    # CSAT: the requester was asked by DM when T-1, T-4 and T-2 were solved; one rating per ticket.
    dm = st.standin.dm_channel(REQUESTER)
    assert dm is not None
    prompts = [m for m in st.standin.messages(dm) if m["text"].startswith("How did we do on")]
    assert sorted(p["text"].split()[5].rstrip("?") for p in prompts) == ["T-1", "T-2", "T-4"]
    for prompt, rating in zip(prompts, ("5", "3", "4"), strict=True):
        button = next(
            e
            for b in prompt["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["text"]["text"].startswith(rating)
        )
        st.simulator.block_action(user_id=REQUESTER, actions=[button], channel_id=dm, message=prompt)
    other = next(
        e
        for b in prompts[0]["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"].startswith("1")
    )
    st.simulator.block_action(user_id=REQUESTER, actions=[other], channel_id=dm, message=prompts[0])  # changes nothing
    _tick(st, clock, _at(17))
    told = [e["text"] for e in st.standin.ephemerals() if e.get("user") == REQUESTER]
    assert any("already rated" in t for t in told)
    with pytest.raises(csat.CsatError, match="Only the person who asked for help rates T-"):
        csat.rate(st.deps.engine, ticket_id=1, rating=1, user=AGENT, now=_at(17))
    add = next(
        e
        for b in prompts[1]["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "csat_comment"
    )
    st.simulator.block_action(user_id=REQUESTER, actions=[add], channel_id=dm, message=prompts[1])
    deadline = time.monotonic() + 5
    while not st.standin.views():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    form = st.standin.views()[-1]
    empty = st.simulator.view_submission(user_id=REQUESTER, view={**form, "state": {"values": {}}})
    assert "Write a comment" in empty.body
    state = {"comment": {"value": {"type": "plain_text_input", "value": "Quick, but the PDF fix took a day"}}}
    assert st.simulator.view_submission(user_id=REQUESTER, view={**form, "state": {"values": state}}).body == ""
    with read_scope(st.deps.engine) as session:
        comments = session.exec(select(CsatRating.comment).where(col(CsatRating.comment).is_not(None))).all()
    assert comments == ["Quick, but the PDF fix took a day"]
    with read_scope(st.deps.engine) as session:
        rated = measure(session, start=_at(17) - timedelta(days=7), end=_at(17, 1))
    assert (rated.csat_count, rated.csat_average) == (3, 4.0)


def test_stats_over_an_empty_database_say_so_instead_of_dividing_by_zero(st: Sandbox, clock: Clock) -> None:
    with read_scope(st.deps.engine) as session:
        m = measure(session, start=_at(17) - timedelta(days=30), end=_at(17))
    assert (m.created, m.solved, m.sla_compliance, m.fcr, m.escalation_rate, m.reopen_rate) == (
        0,
        0,
        None,
        None,
        None,
        None,
    )
    response = st.simulator.slash_command("/support", "stats month", user_id=AGENT, channel_id="C_TRIAGE")
    text = render_message(response.json())
    assert "SLA compliance — (0 met · 0 breached)" in text and "— (none yet)" in text


def test_forged_ratings_are_ignored_not_500(st: Sandbox, clock: Clock) -> None:
    _working_day(st, clock)
    dm = st.standin.dm_channel(REQUESTER)
    assert dm is not None
    prompt = next(m for m in st.standin.messages(dm) if m["text"].startswith("How did we do on"))
    [button] = [
        e
        for b in prompt["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"].startswith("5")
    ]
    ticket = button["value"].split(":")[0]
    for value in (f"{ticket}:²", f"{ticket}:٣", f"{ticket}:0", f"{ticket}:", "²:5", f"{ticket}:{'9' * 30}"):
        response = st.simulator.block_action(
            user_id=REQUESTER, actions=[{**button, "value": value}], channel_id=dm, message=prompt
        )
        assert response.status == 200, value
    _tick(st, clock, _at(17))
    with read_scope(st.deps.engine) as session:
        assert session.exec(select(CsatRating)).all() == []
