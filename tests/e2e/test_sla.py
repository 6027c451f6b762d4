"""SLA clocks and stage timers end to end: signed requests move the ticket, `run_due_work(now)` (what
`frontline tick --now` runs) fires what is due, the stand-in shows what people would see
(field cases F4 and F6; F11's "once" with repeated ticks)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from bot.config import parse_config
from bot.sandbox import Sandbox
from bot.worker import run_due_work
from store.models import Ticket, Timer
from tests.e2e.clocks import Clock

NY = ZoneInfo("America/New_York")
AGENT, LEAD, REQUESTER = "U_AGENT1", "U_LEAD", "U_REQUESTER"
CONFIG = {
    "business_hours": {
        "timezone": "America/New_York", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00",
        "holidays": {"extra": ["2026-12-25"]},
    },
    "sla": {"P2": {"first_response": "1h", "resolution": "4h"}, "P3": {"first_response": "8h", "resolution": "8h"},
            "warn_at": [0.75]},
    "channels": {"triage": "C_TRIAGE", "intake": ["C_HELP"], "escalation": {"L2": "C_L2"}},
    "roles": {"agents": [AGENT], "leads": [LEAD]},
}  # fmt: skip


def ny(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NY)


@pytest.fixture
def clock() -> Clock:
    return Clock(ny(12, 4, 16, 55))


@pytest.fixture
def sla_sandbox(database_url: str, clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(database_url=database_url, config=parse_config(CONFIG), clock=clock, with_worker=False) as sandbox:
        yield sandbox


def _tick(sandbox: Sandbox, clock: Clock, at: datetime) -> None:
    clock.now = at
    report = run_due_work(sandbox.deps, at)
    assert (report.timers_failed, report.retrying, report.dead) == (0, 0, 0)


def _ticket(sandbox: Sandbox) -> Ticket:
    with Session(sandbox.deps.engine) as session:
        return session.exec(select(Ticket)).one()


def _dms(sandbox: Sandbox, user: str) -> list[str]:
    channel = sandbox.standin.dm_channel(user)
    return [m["text"] for m in sandbox.standin.messages(channel)] if channel else []


def _posts(sandbox: Sandbox, channel: str) -> list[str]:
    return [m["text"] for m in sandbox.standin.messages(channel)]


def _open_by_message(
    sandbox: Sandbox, clock: Clock, at: datetime, text: str = "Question about the reports page"
) -> str:
    clock.now = at
    event = sandbox.standin.post_as_user("C_HELP", REQUESTER, text)
    assert sandbox.simulator.event(event).status == 200
    return str(event["ts"])


def _in_thread(sandbox: Sandbox, clock: Clock, at: datetime, user: str, *, thread_ts: str, text: str) -> None:
    clock.now = at
    event = sandbox.standin.post_as_user("C_HELP", user, text, thread_ts=thread_ts)
    assert sandbox.simulator.event(event).status == 200


def _command(sandbox: Sandbox, clock: Clock, at: datetime, text: str, user: str = AGENT) -> str:
    clock.now = at
    response = sandbox.simulator.slash_command("/ticket", text, user_id=user, channel_id="C_TRIAGE")
    assert response.status == 200
    return str(response.json()["text"])


def test_f4b_friday_evening_ticket_is_nudged_and_breaches_on_monday_never_at_the_weekend(
    sla_sandbox: Sandbox, clock: Clock
) -> None:
    sandbox = sla_sandbox
    ts = _open_by_message(sandbox, clock, ny(12, 4, 16, 55))
    _command(sandbox, clock, ny(12, 4, 16, 56), "take T-1")
    _in_thread(sandbox, clock, ny(12, 4, 16, 57), AGENT, thread_ts=ts, text="Looking at it first thing Monday")
    ticket = _ticket(sandbox)
    assert ticket.resolution_due == ny(12, 7, 12, 55)  # 17:55Z
    assert ticket.first_response_stopped_at == ny(12, 4, 16, 57) and not ticket.first_response_breached
    for at in (ny(12, 4, 18), ny(12, 5, 12), ny(12, 6, 23, 59), ny(12, 7, 11, 54)):
        _tick(sandbox, clock, at)
    assert _dms(sandbox, AGENT) == [] and _posts(sandbox, "C_L2") == []  # nothing at the weekend
    _tick(sandbox, clock, ny(12, 7, 11, 55))
    _tick(sandbox, clock, ny(12, 7, 11, 56))  # a repeated tick sends nothing more
    [nudge] = _dms(sandbox, AGENT)
    assert nudge.startswith(":hourglass_flowing_sand: T-1's resolution is 75% through its target: 1h left")
    _tick(sandbox, clock, ny(12, 7, 12, 55))
    _tick(sandbox, clock, ny(12, 7, 12, 55))
    assert len(_dms(sandbox, AGENT)) == 2 and _dms(sandbox, AGENT)[1].startswith(
        ":rotating_light: T-1 breached its resolution SLA"
    )
    [escalated] = _posts(sandbox, "C_L2")
    assert f"Owner: <@{AGENT}> · Leads: <@{LEAD}>" in escalated
    ticket = _ticket(sandbox)
    assert ticket.resolution_breached and ticket.breached
    [card] = sandbox.standin.messages("C_TRIAGE")
    assert ":rotating_light: resolution SLA breached" in [reply["text"] for reply in card["replies"]]


def test_f6_pending_pauses_the_clock_and_the_reply_resumes_it(sla_sandbox: Sandbox, clock: Clock) -> None:
    sandbox = sla_sandbox
    ts = _open_by_message(sandbox, clock, ny(12, 7, 9), "Feature request: export the audit log")  # P3
    _command(sandbox, clock, ny(12, 7, 9, 1), "take T-1")
    _in_thread(sandbox, clock, ny(12, 7, 9, 2), AGENT, thread_ts=ts, text="Can you tell me which format you need?")
    _command(sandbox, clock, ny(12, 7, 11), "pending T-1")
    ticket = _ticket(sandbox)
    assert ticket.priority == "P3" and ticket.resolution_due is None and ticket.resolution_used_s == 2 * 3600
    for at in (ny(12, 7, 17), ny(12, 8, 12), ny(12, 9, 9, 59)):
        _tick(sandbox, clock, at)
    assert _dms(sandbox, AGENT) == []  # unpaused it would have breached on Monday at 17:00
    _in_thread(sandbox, clock, ny(12, 9, 10), REQUESTER, thread_ts=ts, text="CSV please")
    ticket = _ticket(sandbox)
    assert (ticket.status, ticket.resolution_due) == ("OPEN", ny(12, 9, 16))
    _tick(sandbox, clock, ny(12, 9, 13, 59))
    assert _dms(sandbox, AGENT) == []
    _tick(sandbox, clock, ny(12, 9, 14))
    assert len(_dms(sandbox, AGENT)) == 1


def test_f6_variant_a_priority_change_while_pending_keeps_the_time_used(sla_sandbox: Sandbox, clock: Clock) -> None:
    sandbox = sla_sandbox
    ts = _open_by_message(sandbox, clock, ny(12, 7, 9), "Feature request: export the audit log")
    _command(sandbox, clock, ny(12, 7, 9, 1), "take T-1")
    _in_thread(sandbox, clock, ny(12, 7, 9, 2), AGENT, thread_ts=ts, text="Which format?")
    _command(sandbox, clock, ny(12, 7, 11), "pending T-1")
    _command(sandbox, clock, ny(12, 8, 12), "priority T-1 P2")
    _in_thread(sandbox, clock, ny(12, 9, 10), REQUESTER, thread_ts=ts, text="CSV please")
    assert _ticket(sandbox).resolution_due == ny(12, 9, 12)  # 2 h used + 2 h left, not Mon 13:00


def test_an_unowned_ticket_is_nudged_in_triage_and_only_the_latest_alert_goes_out(
    sla_sandbox: Sandbox, clock: Clock
) -> None:
    sandbox = sla_sandbox
    _open_by_message(sandbox, clock, ny(12, 7, 9))  # P2: first response 1 h, resolution 4 h
    _tick(sandbox, clock, ny(12, 7, 9, 15))  # NEW and unassigned for 15 min: triage is pinged once
    _tick(sandbox, clock, ny(12, 7, 9, 20))
    pings = [text for text in _posts(sandbox, "C_TRIAGE") if text.startswith(":wave:")]
    assert pings == [":wave: T-1 has waited 15m with nobody on it.\n*T-1* · P2 · NEW — Question about the reports page"]
    # The worker was down all morning: at 12:30 the first response (due 10:00) has breached and the
    # resolution (due 13:00) is past 75 %. One message per clock says where it stands, no stale burst.
    _tick(sandbox, clock, ny(12, 7, 12, 30))
    assert _posts(sandbox, "C_L2") == [
        ":rotating_light: T-1 breached its first response SLA (due <!date^1796655600^{date_short_pretty} {time}"
        "|2026-12-07 15:00 UTC>).\n*T-1* · P2 · NEW — Question about the reports page\n"
        f"Owner: nobody (unassigned) · Leads: <@{LEAD}>"
    ]
    alerts = [text for text in _posts(sandbox, "C_TRIAGE") if text.startswith((":hourglass", ":rotating"))]
    assert alerts == [
        ":hourglass_flowing_sand: T-1's resolution is 75% through its target: 30m left (due "
        "<!date^1796666400^{date_short_pretty} {time}|2026-12-07 18:00 UTC>) · nobody owns it yet\n"
        "*T-1* · P2 · NEW — Question about the reports page",
    ]
    with Session(sandbox.deps.engine) as session:
        fired = {t.name: t.outcome for t in session.exec(select(Timer).where(col(Timer.fired_at).is_not(None)))}
    assert fired == {
        "stage:new_unassigned": "queued",
        "sla:first_response:warn:0.75": "superseded by breach",
        "sla:first_response:breach": "queued",
        "sla:resolution:warn:0.75": "queued",
    }


def test_solved_tickets_close_after_48h_and_pending_ones_are_warned_then_closed(
    sla_sandbox: Sandbox, clock: Clock
) -> None:
    sandbox = sla_sandbox
    ts = _open_by_message(sandbox, clock, ny(12, 7, 9))
    _command(sandbox, clock, ny(12, 7, 9, 5), "take T-1")
    _command(sandbox, clock, ny(12, 7, 9, 10), "pending T-1")
    _tick(sandbox, clock, ny(12, 10, 9, 9))
    _tick(sandbox, clock, ny(12, 10, 9, 10))  # 72 h pending: the requester is told, in their thread
    [source] = sandbox.standin.messages("C_HELP")
    warnings = [r["text"] for r in source["replies"] if r["text"].startswith("We're still waiting")]
    assert warnings == [
        "We're still waiting on your reply about T-1 (Question about the reports page) after 3d. "
        "Without a reply here it closes in 1d; you can always reopen it."
    ]
    _tick(sandbox, clock, ny(12, 11, 9, 10))  # and 24 h later it closes
    ticket = _ticket(sandbox)
    assert (ticket.status, ticket.closed_at) == ("CLOSED", ny(12, 11, 9, 10))
    assert ticket.resolution_stopped_at == ny(12, 11, 9, 10) and ticket.resolution_due is None  # closed while paused
    _command(sandbox, clock, ny(12, 11, 10), "reopen T-1")
    _command(sandbox, clock, ny(12, 11, 10, 5), "solve T-1")
    _tick(sandbox, clock, ny(12, 13, 10, 4))
    assert _ticket(sandbox).status == "SOLVED"
    _tick(sandbox, clock, ny(12, 13, 10, 5))
    assert _ticket(sandbox).status == "CLOSED"
    [card] = sandbox.standin.messages("C_TRIAGE")
    notes = [r["text"] for r in card["replies"] if r["text"].startswith("Closed automatically")]
    assert notes == ["Closed automatically: PENDING for 4d", "Closed automatically: SOLVED for 2d"]
    assert source["ts"] == ts


def test_repeated_ticks_fire_each_timer_once(sla_sandbox: Sandbox, clock: Clock) -> None:
    sandbox = sla_sandbox
    # Five different questions (one requester asking the same thing three times would meet the
    # escalation matrix's "repeat" row and go to L2 instead of waiting in triage).
    topics = ("the reports page", "invoice totals", "SSO setup", "webhook retries", "seat limits")
    for n, topic in enumerate(topics):
        _open_by_message(sandbox, clock, ny(12, 7, 9, n), f"Question about {topic}")
    for _ in range(3):
        _tick(sandbox, clock, ny(12, 7, 9, 30))
    pings = sorted(text.split()[1] for text in _posts(sandbox, "C_TRIAGE") if text.startswith(":wave:"))
    assert pings == ["T-1", "T-2", "T-3", "T-4", "T-5"]
    with Session(sandbox.deps.engine) as session:
        fired = session.exec(select(Timer.name, Timer.outcome).where(col(Timer.fired_at).is_not(None))).all()
    assert sorted(fired) == [("stage:new_unassigned", "queued")] * 5


def test_a_priority_change_counts_the_time_used_on_the_old_calendar(sla_sandbox: Sandbox, clock: Clock) -> None:
    sandbox = sla_sandbox
    _open_by_message(sandbox, clock, ny(12, 4, 16))  # P2 on business hours: 1 h used by Friday 17:00
    _command(sandbox, clock, ny(12, 7, 9), "priority T-1 P0", user=LEAD)  # P0 runs 24x7, 4 h to resolve
    ticket = _ticket(sandbox)
    assert ticket.resolution_used_s == 3600  # the weekend is not counted, whatever P0's calendar
    assert ticket.resolution_due == ny(12, 7, 12)


def test_a_late_first_response_between_sweeps_is_still_told_as_a_breach(sla_sandbox: Sandbox, clock: Clock) -> None:
    sandbox = sla_sandbox
    ts = _open_by_message(sandbox, clock, ny(12, 7, 9))  # first response due 10:00
    _command(sandbox, clock, ny(12, 7, 9, 1), "take T-1")
    _in_thread(sandbox, clock, ny(12, 7, 10, 20), AGENT, thread_ts=ts, text="Sorry for the wait")  # no tick since 9
    assert _ticket(sandbox).first_response_breached
    _tick(sandbox, clock, ny(12, 7, 10, 21))
    _tick(sandbox, clock, ny(12, 7, 10, 22))
    breaches = [text for text in _dms(sandbox, AGENT) if "breached its first response SLA" in text]
    assert len(breaches) == 1 and len(_posts(sandbox, "C_L2")) == 1


def test_after_an_outage_the_requester_gets_the_grace_before_the_close(sla_sandbox: Sandbox, clock: Clock) -> None:
    sandbox = sla_sandbox
    _open_by_message(sandbox, clock, ny(12, 7, 9))
    _command(sandbox, clock, ny(12, 7, 9, 5), "take T-1")
    _command(sandbox, clock, ny(12, 7, 9, 10), "pending T-1")
    _tick(sandbox, clock, ny(12, 20, 9))  # the worker was down for two weeks
    assert _ticket(sandbox).status == "PENDING"  # warned now, not closed in the same breath
    _tick(sandbox, clock, ny(12, 21, 8, 59))
    assert _ticket(sandbox).status == "PENDING"
    _tick(sandbox, clock, ny(12, 21, 9))
    assert _ticket(sandbox).status == "CLOSED"


def test_taking_a_fraction_out_of_warn_at_does_not_break_the_other_alerts(sla_sandbox: Sandbox, clock: Clock) -> None:
    from bot.services.policy import Policy
    from bot.services.sweep import fire_due_timers

    sandbox = sla_sandbox
    _open_by_message(sandbox, clock, ny(12, 7, 9))  # P2, resolution 4 h: planned with warn_at [0.75]
    _command(sandbox, clock, ny(12, 7, 9, 1), "take T-1")
    changed = Policy.from_config(parse_config({**CONFIG, "sla": {**CONFIG["sla"], "warn_at": [0.5]}}))
    report = fire_due_timers(sandbox.deps.engine, changed, worker="w", now=ny(12, 7, 12, 10))
    assert report.failed == 0


def test_f11_a_worker_killed_after_claiming_loses_no_nudge(sla_sandbox: Sandbox, clock: Clock) -> None:
    from store import timers
    from store.db import session_scope

    sandbox = sla_sandbox
    _open_by_message(sandbox, clock, ny(12, 8, 11, 40))  # pinged in triage at 11:55 if nobody takes it
    with session_scope(sandbox.deps.engine) as session:  # a worker claims it, then is killed
        [claimed] = timers.claim_due(session, worker="killed", now=ny(12, 8, 11, 55))
        assert [t.name for t in timers.by_ids(session, [claimed])] == ["stage:new_unassigned"]
    _tick(sandbox, clock, ny(12, 8, 11, 56))  # the other process leaves it alone during the lease
    assert not [text for text in _posts(sandbox, "C_TRIAGE") if text.startswith(":wave:")]
    _tick(sandbox, clock, ny(12, 8, 12, 1))
    _tick(sandbox, clock, ny(12, 8, 12, 2))
    pings = [text for text in _posts(sandbox, "C_TRIAGE") if text.startswith(":wave:")]
    assert len(pings) == 1 and pings[0].startswith(":wave: T-1 has waited 21m")
