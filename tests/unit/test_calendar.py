"""Unit tests for bot.core.calendar: business-hours arithmetic, field cases F4-F6, DST, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.calendar import AlwaysOpen, BusinessCalendar, Calendar

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
H = timedelta(hours=1)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# F4: New York 09:00-17:00 Mon-Fri, and 25 Dec 2026 as the only holiday (24 Dec is a working day).
F4 = BusinessCalendar.from_spec(
    timezone="America/New_York",
    days=WEEKDAYS,
    start="09:00",
    end="17:00",
    holiday_country=None,
    extra_holidays=[date(2026, 12, 25)],
)
# F5: London 08:30-17:30 Mon-Fri, entered in summer; the window must stay in local time.
F5 = BusinessCalendar.from_spec(
    timezone="Europe/London", days=WEEKDAYS, start="08:30", end="17:30", holiday_country=None
)
# SPEC §1 example: US federal holidays plus Christmas Eve.
US = BusinessCalendar.from_spec(
    timezone="America/New_York",
    days=WEEKDAYS,
    start="09:00",
    end="17:00",
    holiday_country="US",
    extra_holidays=[date(2026, 12, 24)],
)
UK = BusinessCalendar.from_spec(
    timezone="Europe/London",
    days=WEEKDAYS,
    start="08:30",
    end="17:30",
    holiday_country="GB",
    holiday_subdiv="ENG",
)
# Night windows that contain the 02:00 (New York) and 01:00 (London) DST transitions.
NY_NIGHT = BusinessCalendar(
    timezone="America/New_York", days=frozenset(range(7)), start=time(1), end=time(5), holidays=frozenset()
)
LONDON_NIGHT = BusinessCalendar(
    timezone="Europe/London",
    days=frozenset({6}),  # Sundays, when UK clocks change
    start=time(0, 30),
    end=time(2, 30),
    holidays=frozenset({date(2026, 4, 5)}),
)
WHOLE_WEEKDAYS = BusinessCalendar.from_spec(
    timezone="America/New_York", days=WEEKDAYS, start="00:00", end="24:00", holiday_country="US"
)


# -- F4: business hours, weekends and holidays ------------------------------------------------


def test_f4a_friday_evening_first_response_due_monday() -> None:
    assert F4.add(ny(2026, 12, 4, 16, 30), 1 * H) == utc(2026, 12, 7, 14, 30)


def test_f4b_resolution_and_75_percent_nudge_skip_the_weekend() -> None:
    created = ny(2026, 12, 4, 16, 55)
    assert F4.add(created, 4 * H) == utc(2026, 12, 7, 17, 55)
    assert F4.add(created, 0.75 * (4 * H)) == utc(2026, 12, 7, 16, 55)


def test_f4b_weekend_is_not_working_time() -> None:
    assert F4.working_time_between(ny(2026, 12, 4, 17), ny(2026, 12, 7, 9)) == timedelta(0)
    assert not F4.is_working(ny(2026, 12, 5, 12))
    assert not F4.is_working(ny(2026, 12, 6, 12))
    assert F4.next_working_instant(ny(2026, 12, 5, 12)) == utc(2026, 12, 7, 14)


def test_f4c_christmas_eve_works_christmas_and_weekend_skipped() -> None:
    assert F4.add(ny(2026, 12, 24, 15), 4 * H) == utc(2026, 12, 28, 16)
    assert F4.is_working(ny(2026, 12, 24, 15))
    assert not F4.is_working(ny(2026, 12, 25, 10))


# -- F5: the window is local wall-clock time across the October clock change --------------------


def test_f5_window_follows_bst_in_summer() -> None:
    assert F5.is_working(utc(2026, 7, 6, 7, 30))  # 08:30 BST
    assert not F5.is_working(utc(2026, 7, 6, 7, 29))
    assert F5.window_on(date(2026, 7, 6)) == (utc(2026, 7, 6, 7, 30), utc(2026, 7, 6, 16, 30))


def test_f5a_late_afternoon_after_clocks_go_back() -> None:
    assert F5.add(london(2026, 11, 2, 16, 45), 1 * H) == utc(2026, 11, 3, 8, 45)


def test_f5b_clock_starts_at_local_opening() -> None:
    assert F5.add(london(2026, 11, 2, 7, 45), 1 * H) == utc(2026, 11, 2, 9, 30)
    assert F5.next_working_instant(london(2026, 11, 2, 7, 45)) == utc(2026, 11, 2, 8, 30)


def test_f5c_five_pm_is_still_business_hours() -> None:
    assert F5.is_working(utc(2026, 11, 2, 17, 0))
    assert not F5.is_working(utc(2026, 11, 2, 17, 30))  # the window's end is exclusive


# -- F6: the arithmetic behind pausing and re-targeting ------------------------------------------


def test_f6_unpaused_would_breach_monday_evening() -> None:
    assert F4.add(ny(2026, 12, 7, 9), 8 * H) == utc(2026, 12, 7, 22)


def test_f6_time_used_before_pause() -> None:
    assert F4.working_time_between(ny(2026, 12, 7, 9), ny(2026, 12, 7, 11)) == 2 * H


def test_f6_due_after_resume() -> None:
    resumed = ny(2026, 12, 9, 10)
    assert F4.add(resumed, 8 * H - 2 * H) == utc(2026, 12, 9, 21)  # P3: 6 h remain
    assert F4.add(resumed, 0.75 * (8 * H) - 2 * H) == utc(2026, 12, 9, 19)  # its 75 % nudge
    assert F4.add(resumed, 4 * H - 2 * H) == utc(2026, 12, 9, 17)  # variant: re-targeted to P2


# -- 24x7 baseline ---------------------------------------------------------------------------------


def test_always_open_is_wall_clock_arithmetic() -> None:
    cal: Calendar = AlwaysOpen()
    friday_evening = ny(2026, 12, 4, 16, 30)
    assert cal.add(friday_evening, 1 * H) == utc(2026, 12, 4, 22, 30)
    assert cal.add(friday_evening, timedelta(0)) == utc(2026, 12, 4, 21, 30)
    assert cal.is_working(ny(2026, 12, 6, 3))
    assert cal.next_working_instant(friday_evening) == utc(2026, 12, 4, 21, 30)
    assert cal.working_time_between(ny(2026, 12, 4, 17), ny(2026, 12, 7, 9)) == timedelta(hours=64)
    assert cal.working_time_between(ny(2026, 12, 7, 9), ny(2026, 12, 4, 17)) == timedelta(0)
    assert cal.add(friday_evening, 1 * H).tzinfo is UTC


# -- country holidays ------------------------------------------------------------------------------


def test_us_thanksgiving_is_skipped() -> None:
    assert US.window_on(date(2026, 11, 26)) is None
    assert not US.is_working(ny(2026, 11, 26, 12))
    assert US.add(ny(2026, 11, 25, 16), 2 * H) == utc(2026, 11, 27, 15)


def test_us_christmas_and_configured_christmas_eve_are_skipped() -> None:
    assert US.add(ny(2026, 12, 23, 16), 2 * H) == utc(2026, 12, 28, 15)
    assert US.working_time_between(ny(2026, 12, 23, 9), ny(2026, 12, 28, 17)) == 16 * H


def test_us_observed_holiday_is_a_day_off() -> None:
    assert US.window_on(date(2026, 7, 3)) is None  # Independence Day (observed); the 4th is a Saturday


def test_uk_bank_holiday_is_skipped() -> None:
    # Mon 31 Aug 2026 is the English summer bank holiday.
    assert UK.add(london(2026, 8, 28, 17), 1 * H) == london(2026, 9, 1, 9, 0)


def test_explicit_years_limit_country_holidays() -> None:
    cal = BusinessCalendar.from_spec(
        timezone="America/New_York",
        days=WEEKDAYS,
        start="09:00",
        end="17:00",
        holiday_country="US",
        years=[2027],
    )
    assert date(2026, 11, 26) not in cal.holidays
    assert date(2027, 11, 25) in cal.holidays


# -- DST inside a window -----------------------------------------------------------------------------


def test_london_opening_is_0730z_in_summer_and_0830z_in_winter() -> None:
    assert F5.next_working_instant(utc(2026, 6, 1, 0)) == utc(2026, 6, 1, 7, 30)
    assert F5.next_working_instant(utc(2026, 12, 1, 0)) == utc(2026, 12, 1, 8, 30)


def test_spring_forward_window_is_three_hours_and_fall_back_five() -> None:
    assert NY_NIGHT.working_time_between(utc(2026, 3, 8), utc(2026, 3, 9)) == 3 * H
    assert NY_NIGHT.working_time_between(utc(2026, 11, 1), utc(2026, 11, 2)) == 5 * H
    assert NY_NIGHT.working_time_between(utc(2026, 3, 9), utc(2026, 3, 10)) == 4 * H
    # 1 h before the jump, then the remaining 2.5 h on the far side of it.
    assert NY_NIGHT.add(ny(2026, 3, 8, 1), 3.5 * H) == NY_NIGHT.add(ny(2026, 3, 9, 1), 0.5 * H)


def test_london_night_window_across_both_transitions() -> None:
    assert LONDON_NIGHT.window_on(date(2026, 3, 29)) == (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30))
    assert LONDON_NIGHT.window_on(date(2026, 10, 25)) == (utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 2, 30))
    # 23:45Z on Saturday is already Sunday 00:45 BST, so inside Sunday's window.
    assert LONDON_NIGHT.is_working(utc(2026, 10, 24, 23, 45))


def test_window_swallowed_by_spring_forward_gap_has_no_working_time() -> None:
    # 02:30 does not exist on 8 Mar 2026 and reads as 03:30 EDT, after the 03:00 closing.
    gap = BusinessCalendar(
        timezone="America/New_York", days=frozenset({6}), start=time(2, 30), end=time(3), holidays=frozenset()
    )
    assert gap.window_on(date(2026, 3, 8)) is None
    assert gap.next_working_instant(ny(2026, 3, 7, 12)) == ny(2026, 3, 15, 2, 30)


def test_whole_day_windows_and_24_00_end() -> None:
    assert WHOLE_WEEKDAYS.end == time(0)
    assert WHOLE_WEEKDAYS.is_working(ny(2026, 12, 4, 23, 59))
    assert not WHOLE_WEEKDAYS.is_working(ny(2026, 12, 5, 0, 0))
    assert WHOLE_WEEKDAYS.add(ny(2026, 12, 4, 23), 2 * H) == ny(2026, 12, 7, 1)
    assert WHOLE_WEEKDAYS.working_time_between(ny(2026, 3, 9), ny(2026, 3, 14)) == 5 * 24 * H


# -- zero, negative and large durations ---------------------------------------------------------


def test_zero_duration_is_the_next_working_instant() -> None:
    assert F4.add(ny(2026, 12, 7, 10), timedelta(0)) == utc(2026, 12, 7, 15)
    assert F4.add(ny(2026, 12, 5, 10), timedelta(0)) == utc(2026, 12, 7, 14)
    assert F4.add(ny(2026, 12, 4, 17), timedelta(0)) == utc(2026, 12, 7, 14)


def test_duration_ending_at_closing_time_is_due_at_closing() -> None:
    assert F4.add(ny(2026, 12, 4, 16), 1 * H) == utc(2026, 12, 4, 22)


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        F4.add(ny(2026, 12, 7, 10), -H)
    with pytest.raises(ValueError, match="negative"):
        AlwaysOpen().add(ny(2026, 12, 7, 10), -H)


def test_long_durations_step_by_day() -> None:
    # 72 working hours = 9 working days; six weeks = 30 working days (no holidays in F4 then).
    assert F4.add(ny(2026, 11, 2, 9), 72 * H) == ny(2026, 11, 12, 17)
    assert F4.add(ny(2026, 1, 5, 9), 30 * 8 * H) == ny(2026, 2, 13, 17)
    assert F4.working_time_between(ny(2026, 1, 5, 9), ny(2026, 2, 13, 17)) == 240 * H


def test_results_are_utc() -> None:
    for value in (
        F4.add(ny(2026, 12, 7, 10), H),
        F4.next_working_instant(ny(2026, 12, 5, 10)),
    ):
        assert value.tzinfo is UTC


# -- validation ---------------------------------------------------------------------------------


def test_empty_days_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"days is empty"):
        BusinessCalendar.from_spec(
            timezone="America/New_York", days=[], start="09:00", end="17:00", holiday_country=None
        )


def test_no_working_day_for_years_is_a_clear_error() -> None:
    mondays = frozenset(date(2026, 1, 5) + timedelta(weeks=n) for n in range(52 * 7))
    cal = BusinessCalendar(
        timezone="America/New_York", days=frozenset({0}), start=time(9), end=time(17), holidays=mondays
    )
    with pytest.raises(ValueError, match="no working day within"):
        cal.add(ny(2026, 1, 1, 9), H)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": ["mon", "funday"]}, "unknown weekday"),
        ({"start": "9am"}, "not a time"),
        ({"start": "25:00"}, "not a time"),
        ({"end": "17:60"}, "not a time"),
        ({"start": "24:00"}, "not a time"),
        ({"start": "17:00", "end": "09:00"}, "must be after start"),
        ({"start": "09:00", "end": "09:00"}, "must be after start"),
        ({"timezone": "Eastern Standard Time"}, "unknown timezone"),
        ({"holiday_country": "XX"}, "holidays"),
        ({"holiday_country": "US", "holiday_subdiv": "ZZ"}, "holidays"),
    ],
)
def test_bad_spec_is_a_clear_error(kwargs: dict[str, object], message: str) -> None:
    spec: dict[str, object] = {
        "timezone": "America/New_York",
        "days": WEEKDAYS,
        "start": "09:00",
        "end": "17:00",
        "holiday_country": None,
    } | kwargs
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_spec(**spec)  # type: ignore[arg-type]


def test_day_names_are_case_insensitive_and_full_names_work() -> None:
    cal = BusinessCalendar.from_spec(
        timezone="UTC", days=["Mon", "TUESDAY", "sun"], start="9:00", end="17:00", holiday_country=None
    )
    assert cal.days == frozenset({0, 1, 6})
    assert cal.start == time(9)


@pytest.mark.parametrize("cal", [F4, AlwaysOpen()], ids=["business", "24x7"])
def test_naive_datetimes_are_refused(cal: Calendar) -> None:
    naive = datetime(2026, 12, 7, 10)
    aware = ny(2026, 12, 7, 10)
    for call in (
        lambda: cal.is_working(naive),
        lambda: cal.add(naive, H),
        lambda: cal.next_working_instant(naive),
        lambda: cal.working_time_between(naive, aware),
        lambda: cal.working_time_between(aware, naive),
    ):
        with pytest.raises(ValueError, match="naive"):
            call()


# -- properties ------------------------------------------------------------------------------------

CALENDARS = [F4, F5, US, UK, NY_NIGHT, LONDON_NIGHT, WHOLE_WEEKDAYS]
# DST changes in New York and London, US/UK holidays and the turn of the year.
ANCHORS = [
    utc(2026, 3, 8, 7),
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2026, 11, 1, 6),
    utc(2026, 11, 26, 12),
    utc(2026, 12, 25, 12),
    utc(2026, 8, 31, 12),
    utc(2027, 1, 1, 0),
]
SPAN_START = utc(2025, 6, 1)
SPAN_SECONDS = int((utc(2028, 1, 1) - SPAN_START).total_seconds())
INPUT_ZONES = [UTC, NY, LONDON, ZoneInfo("Asia/Kolkata")]

anywhere = st.builds(
    lambda seconds, micros: SPAN_START + timedelta(seconds=seconds, microseconds=micros),
    st.integers(0, SPAN_SECONDS),
    st.integers(0, 999_999),
)
near_anchor = st.builds(
    lambda anchor, seconds: anchor + timedelta(seconds=seconds),
    st.sampled_from(ANCHORS),
    st.integers(-4 * 86_400, 4 * 86_400),
)
instants = st.builds(
    lambda instant, zone: instant.astimezone(zone),
    st.one_of(anywhere, near_anchor),
    st.sampled_from(INPUT_ZONES),
)
# Up to 200 working hours, at microsecond resolution.
durations = st.integers(1, 200 * 3600 * 10**6).map(lambda micros: timedelta(microseconds=micros))
calendars = st.sampled_from(CALENDARS)
FAST = settings(max_examples=120, deadline=None, database=None)


@FAST
@given(calendars, instants, durations)
def test_add_and_working_time_between_are_inverses(cal: BusinessCalendar, raw: datetime, d: timedelta) -> None:
    start = cal.next_working_instant(raw)
    assert cal.is_working(start)
    due = cal.add(start, d)
    assert cal.working_time_between(start, due) == d
    # Starting outside hours changes nothing: the gap before the window is not working time.
    assert cal.add(raw, d) == due
    assert cal.working_time_between(raw, due) == d


@FAST
@given(calendars, instants, durations, durations)
def test_add_composes(cal: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta) -> None:
    assert cal.add(cal.add(start, d1), d2) == cal.add(start, d1 + d2)


@FAST
@given(calendars, instants, instants, instants)
def test_working_time_is_additive(cal: BusinessCalendar, a: datetime, b: datetime, c: datetime) -> None:
    # Order and subtract in UTC: within one zone Python compares and subtracts wall-clock
    # readings, which is wrong across a fall-back hour.
    a, b, c = sorted((a, b, c), key=lambda moment: moment.astimezone(UTC))
    total = cal.working_time_between(a, c)
    assert total == cal.working_time_between(a, b) + cal.working_time_between(b, c)
    assert total <= c.astimezone(UTC) - a.astimezone(UTC)
    assert cal.working_time_between(c, a) == timedelta(0)


@FAST
@given(calendars, instants)
def test_next_working_instant_and_is_working_agree(cal: BusinessCalendar, at: datetime) -> None:
    tick = timedelta(microseconds=1)
    upcoming = cal.next_working_instant(at)
    assert upcoming >= at
    assert cal.working_time_between(at, upcoming) == timedelta(0)
    # Compare and add in UTC: across zones Python's == is always False for a fold=1
    # (repeated-hour) time, and local `at + tick` would drop the fold.
    at_utc = at.astimezone(UTC)
    assert cal.is_working(at) == (upcoming == at_utc)
    assert cal.is_working(at) == (cal.working_time_between(at, at_utc + tick) == tick)
