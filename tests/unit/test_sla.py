"""SLA clocks: start, pause, resume, re-target, stop, reopen and the alerts (field cases F4-F6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.calendar import AlwaysOpen
from bot.core.sla import BREACH, Clock, alerts, latest_due
from tests.unit.test_calendar import F4, F5, UK, US, H, london, ny, utc

WARN = (0.75,)


def test_f4a_friday_evening_first_response_is_due_monday() -> None:
    clock = Clock.start(1 * H, ny(2026, 12, 4, 16, 30))
    assert clock.due(F4) == utc(2026, 12, 7, 14, 30)


def test_f4b_resolution_and_its_nudge_fall_on_monday_and_nothing_at_the_weekend() -> None:
    clock = Clock.start(4 * H, ny(2026, 12, 4, 16, 55))
    planned = alerts(clock, F4, WARN)
    assert planned == {"warn:0.75": utc(2026, 12, 7, 16, 55), BREACH: utc(2026, 12, 7, 17, 55)}
    saturday, sunday = ny(2026, 12, 5, 12), ny(2026, 12, 6, 23, 59)
    assert latest_due(planned, saturday) is None and latest_due(planned, sunday) is None


def test_f4c_christmas_eve_counts_christmas_and_the_weekend_do_not() -> None:
    assert Clock.start(4 * H, ny(2026, 12, 24, 15)).due(F4) == utc(2026, 12, 28, 16)


def test_f5_business_hours_stay_in_local_time_after_the_clocks_go_back() -> None:
    assert Clock.start(1 * H, london(2026, 11, 2, 16, 45)).due(UK) == utc(2026, 11, 3, 8, 45)
    assert Clock.start(1 * H, london(2026, 11, 2, 7, 45)).due(UK) == utc(2026, 11, 2, 9, 30)
    assert F5.is_working(utc(2026, 11, 2, 17))


def test_f6_pending_pauses_and_the_reply_resumes_with_the_time_left() -> None:
    clock = Clock.start(8 * H, ny(2026, 12, 7, 9)).pause(ny(2026, 12, 7, 11), F4)
    assert clock.paused and clock.used == 2 * H
    assert clock.due(F4) is None and alerts(clock, F4, WARN) == {}  # nothing while pending
    resumed = clock.resume(ny(2026, 12, 9, 10))
    assert alerts(resumed, F4, WARN) == {"warn:0.75": utc(2026, 12, 9, 19), BREACH: utc(2026, 12, 9, 21)}


def test_f6_variant_a_priority_change_while_paused_keeps_the_time_used() -> None:
    clock = Clock.start(8 * H, ny(2026, 12, 7, 9)).pause(ny(2026, 12, 7, 11), F4)
    clock = clock.retarget(4 * H).resume(ny(2026, 12, 9, 10))  # P3 -> P2 on Tuesday, reply on Wednesday
    assert clock.due(F4) == utc(2026, 12, 9, 17)


def test_a_retarget_below_the_time_used_is_due_at_once_and_says_breach_only() -> None:
    start = ny(2026, 12, 7, 9)
    clock = Clock.start(8 * H, start).retarget(1 * H)
    now = ny(2026, 12, 7, 13)
    planned = alerts(clock, F4, (0.5, 0.75, 0.9))
    assert planned[BREACH] == utc(2026, 12, 7, 15)  # 10:00 ET
    assert latest_due(planned, now) == BREACH
    assert clock.breached_at(now, F4) and clock.remaining_at(now, F4) == -3 * H


def test_only_the_latest_warning_is_due_after_an_outage() -> None:
    clock = Clock.start(4 * H, utc(2026, 12, 7, 0))
    planned = alerts(clock, AlwaysOpen(), (0.5, 0.75, 0.9))
    assert latest_due(planned, utc(2026, 12, 7, 3, 10)) == "warn:0.75"
    assert latest_due(planned, utc(2026, 12, 7, 1, 59)) is None


def test_solve_stops_the_clock_and_reopen_resumes_it_with_the_time_used() -> None:
    clock = Clock.start(4 * H, ny(2026, 12, 7, 9)).stop(ny(2026, 12, 7, 12), F4)
    assert clock.stopped and not clock.breached_at(ny(2026, 12, 8, 12), F4)
    assert alerts(clock, F4, WARN) == {}
    reopened = clock.resume(ny(2026, 12, 8, 9))
    assert reopened.running and reopened.due(F4) == utc(2026, 12, 8, 15)  # 1 h left: 10:00 ET


def test_a_clock_stopped_after_its_target_stays_breached() -> None:
    clock = Clock.start(1 * H, ny(2026, 12, 7, 9)).stop(ny(2026, 12, 7, 11), F4)
    assert clock.breached_at(ny(2026, 12, 30), F4)


def test_us_holidays_are_skipped() -> None:
    # Thanksgiving 2026 is Thu 26 Nov: a Wednesday-afternoon P1 (8 h) runs into Friday.
    assert Clock.start(8 * H, ny(2026, 11, 25, 15)).due(US) == utc(2026, 11, 27, 20)


instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
durations = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=80))


@given(instants, durations, durations, durations)
def test_pausing_never_counts_the_paused_time(
    start: datetime, before: timedelta, away: timedelta, left: timedelta
) -> None:
    target = before + left
    paused_at = start + before
    clock = Clock.start(target, start).pause(paused_at, US).resume(paused_at + away)
    assert clock.used == US.working_time_between(start, paused_at)
    due = clock.due(US)
    assert due is not None and due >= paused_at + away
    assert clock.used_at(due, US) == target  # exactly the target, however long the pause


@given(instants, durations)
def test_due_is_never_before_start_plus_target(start: datetime, target: timedelta) -> None:
    due = Clock.start(target, start).due(US)
    assert due is not None and due >= start + target
    assert US.working_time_between(start, due) == target


def test_an_alert_already_passed_when_a_business_clock_resumes_waits_for_business_hours() -> None:
    # Re-targeted below the time used while pending; the requester replies on Saturday.
    clock = Clock.start(8 * H, ny(2026, 12, 7, 9)).pause(ny(2026, 12, 7, 13), F4).retarget(2 * H)
    resumed = clock.resume(ny(2026, 12, 12, 10))
    assert resumed.due(F4) == utc(2026, 12, 14, 14)  # Monday 09:00 ET, not Saturday
