"""Working-time calendars for SLA clocks: business hours in a local timezone, or 24x7.

Pure arithmetic: no Slack, no database, no configuration, no clock. Every instant is passed in,
must be timezone-aware (naive datetimes raise ``ValueError``), and every instant returned is UTC.

Decisions worth knowing:

* The window is *local wall-clock time*. Each day's window is built by combining the local date
  with the local start/end times through ``zoneinfo``, so a 08:30 London window opens at 07:30Z
  in summer and 08:30Z in winter (field case F5). It is never stored as UTC.
* DST: a window that contains a transition has its real elapsed length (01:00-05:00 on a
  spring-forward night is 3 h, on a fall-back night 5 h). A wall time that falls in a gap is
  read the way Python (and RFC 5545) do, with the offset in force before the gap, i.e. pushed
  forward by the gap's length; an ambiguous wall time means its first occurrence. If that makes
  a window end no later than it starts, the day has no working time.
* ``add(start, timedelta(0))`` returns ``next_working_instant(start)``: that is the limit of
  ``add(start, d)`` as ``d`` shrinks to zero, so a zero budget outside hours comes due when work
  resumes rather than in the middle of the night.
* ``add`` and ``working_time_between`` step a day at a time and are exact inverses: for any
  ``s`` and ``d > 0``, ``working_time_between(s, add(s, d)) == d``.
* Country holidays default to the fixed span ``DEFAULT_HOLIDAY_YEARS`` (2000-2100) rather than
  a range around "now", so building a calendar never reads the clock and a long-running process
  does not lose next year's holidays.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from bot.core.timefmt import to_utc, zone

__all__ = [
    "DEFAULT_HOLIDAY_YEARS",
    "MAX_IDLE_DAYS",
    "AlwaysOpen",
    "BusinessCalendar",
    "Calendar",
    "format_closing_time",
]

#: Years of country holidays loaded when ``from_spec`` is not given ``years`` (about 10 ms for US).
DEFAULT_HOLIDAY_YEARS = range(2000, 2101)
#: A search for the next working window gives up after this many consecutive days without one.
MAX_IDLE_DAYS = 366 * 5

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0, 0)


def format_closing_time(end: time) -> str:
    """A window's end as written in config: midnight at the end of the day is "24:00"."""
    return "24:00" if end == _MIDNIGHT else end.strftime("%H:%M")


_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# "mon" is the documented spelling; full names are accepted because people type them.
_DAY_NUMBERS = {name: n for n, full in enumerate(_DAY_NAMES) for name in (full[:3], full)}
_HHMM = re.compile(r"(\d{1,2}):(\d{2})")

Window = tuple[datetime, datetime]


class Calendar(Protocol):
    """What SLA code needs from a calendar. All results are UTC; inputs must be aware."""

    def is_working(self, at: datetime) -> bool:
        """Whether ``at`` lies inside a working window."""
        ...

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of working time has elapsed after ``start``."""
        ...

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time in ``[a, b)``; zero when ``b <= a``."""
        ...

    def next_working_instant(self, at: datetime) -> datetime:
        """``at`` itself if it is working time, else the start of the next window."""
        ...


def _check_duration(duration: timedelta) -> None:
    # A negative budget has no meaning for an SLA clock and would silently run time backwards.
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration}")


@dataclass(frozen=True)
class AlwaysOpen:
    """The 24x7 calendar: every instant is working time (e.g. P0 by default)."""

    def is_working(self, at: datetime) -> bool:
        to_utc(at)  # still refuse naive datetimes, so both calendars fail the same way
        return True

    def add(self, start: datetime, duration: timedelta) -> datetime:
        _check_duration(duration)
        return to_utc(start) + duration

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        return max(to_utc(b) - to_utc(a), _ZERO)

    def next_working_instant(self, at: datetime) -> datetime:
        return to_utc(at)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working windows ``[start, end)`` in local time on working days that are not holidays.

    ``end == time(0)`` means midnight at the end of the day (a whole-day window when ``start`` is
    also midnight); otherwise ``start < end`` is required, since overnight windows are not supported.
    """

    timezone: str
    days: frozenset[int]
    start: time
    end: time
    # Out of the repr: a century of country holidays would bury every log line and test failure.
    holidays: frozenset[date] = field(repr=False)

    def __post_init__(self) -> None:
        zone(self.timezone)  # fail at construction, not at the first SLA computation
        if not self.days:
            raise ValueError("business_hours.days is empty: there would never be any working time")
        if not self.days <= frozenset(range(7)):
            raise ValueError(f"business_hours.days must be weekday numbers 0-6 (Monday = 0), got {self.days}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("business_hours start/end are local wall-clock times and must not carry a tzinfo")
        if self.end != _MIDNIGHT and self.end <= self.start:
            raise ValueError(
                f"business_hours end {self.end:%H:%M} must be after start {self.start:%H:%M} "
                "(overnight windows are not supported)"
            )

    @classmethod
    def from_spec(
        cls,
        *,
        timezone: str,
        days: Iterable[str],
        start: str,
        end: str,
        holiday_country: str | None,
        holiday_subdiv: str | None = None,
        extra_holidays: Iterable[date] = (),
        years: Iterable[int] | None = None,
    ) -> BusinessCalendar:
        """Build from configuration values: ``days`` like ``["mon", "tue"]``, times ``"HH:MM"``.

        ``end`` may be ``"24:00"`` for end of day. Country holidays come from the ``holidays``
        package for ``years`` (default ``DEFAULT_HOLIDAY_YEARS``) and include observed days.
        """
        closed = frozenset(extra_holidays)
        if holiday_country:
            span = DEFAULT_HOLIDAY_YEARS if years is None else years
            closed |= _country_holidays(holiday_country, holiday_subdiv, span)
        return cls(
            timezone=timezone,
            days=_parse_days(days),
            start=_parse_hhmm(start, "start"),
            end=_parse_hhmm(end, "end"),
            holidays=closed,
        )

    # -- the Calendar protocol ------------------------------------------------------------

    def is_working(self, at: datetime) -> bool:
        at = to_utc(at)
        local_day = at.astimezone(self._zone).date()
        # The previous day too: a window pushed forward by a DST gap may spill past midnight.
        for day in (local_day - _ONE_DAY, local_day):
            window = self.window_on(day)
            if window is not None and window[0] <= at < window[1]:
                return True
        return False

    def add(self, start: datetime, duration: timedelta) -> datetime:
        _check_duration(duration)
        start = to_utc(start)
        remaining = duration
        for opens, closes in self._windows_from(start):
            begin = max(opens, start)
            if begin >= closes:
                continue
            available = closes - begin
            # `<=` so that a budget ending exactly at closing time is due at closing time,
            # not at the next opening.
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable: _windows_from never ends without raising")

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        a, b = to_utc(a), to_utc(b)
        total = _ZERO
        if b <= a:
            return total
        for opens, closes in self._windows_from(a):
            if opens >= b:
                break
            overlap = min(closes, b) - max(opens, a)
            if overlap > _ZERO:
                total += overlap
        return total

    def next_working_instant(self, at: datetime) -> datetime:
        return self.add(at, _ZERO)

    # -- helpers ----------------------------------------------------------------------------

    def window_on(self, local_day: date) -> Window | None:
        """The UTC ``(opens, closes)`` of ``local_day``'s window, or ``None`` if it is a day off."""
        if local_day.weekday() not in self.days or local_day in self.holidays:
            return None
        tz = self._zone
        opens = datetime.combine(local_day, self.start, tzinfo=tz)
        closes_day = local_day + _ONE_DAY if self.end == _MIDNIGHT else local_day
        closes = datetime.combine(closes_day, self.end, tzinfo=tz)
        # Subtracting aware datetimes in one zone ignores offsets, so compare in UTC.
        opens_utc, closes_utc = to_utc(opens), to_utc(closes)
        if closes_utc <= opens_utc:
            return None  # a window swallowed by a DST gap (see module docstring)
        return opens_utc, closes_utc

    @property
    def _zone(self) -> ZoneInfo:
        return zone(self.timezone)  # ZoneInfo caches instances, so this is a dict lookup

    def _windows_from(self, at: datetime) -> Iterator[Window]:
        """Windows in time order, starting with any that could contain ``at`` (UTC)."""
        day = at.astimezone(self._zone).date() - _ONE_DAY
        idle_days = 0
        while True:
            window = self.window_on(day)
            if window is not None:
                idle_days = 0
                yield window
            else:
                idle_days += 1
                if idle_days > MAX_IDLE_DAYS:
                    raise ValueError(
                        f"no working day within {MAX_IDLE_DAYS} days after {day - MAX_IDLE_DAYS * _ONE_DAY}: "
                        "check business_hours.days and holidays"
                    )
            day += _ONE_DAY


def _parse_days(names: Iterable[str]) -> frozenset[int]:
    numbers: set[int] = set()
    for name in names:
        number = _DAY_NUMBERS.get(name.strip().lower())
        if number is None:
            raise ValueError(f"unknown weekday {name!r}; use mon, tue, wed, thu, fri, sat, sun")
        numbers.add(number)
    return frozenset(numbers)


def _parse_hhmm(text: str, field: str) -> time:
    match = _HHMM.fullmatch(text.strip())
    hour, minute = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    if field == "end" and (hour, minute) == (24, 0):
        return _MIDNIGHT  # end of day
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"business_hours.{field} {text!r} is not a time; use HH:MM, e.g. '09:00'")
    return time(hour, minute)


def _country_holidays(country: str, subdiv: str | None, years: Iterable[int]) -> frozenset[date]:
    try:
        with warnings.catch_warnings():
            # Some countries only have data for part of the default span; the package warns about
            # that on every build, which is noise for a span chosen to be deliberately wide.
            warnings.filterwarnings("ignore", message="Requested Holidays are available only", category=UserWarning)
            table = holidays_lib.country_holidays(country, subdiv=subdiv, years=list(years))
    except NotImplementedError as exc:  # how `holidays` reports an unknown country or subdivision
        raise ValueError(f"holidays: {exc}") from exc
    return frozenset(table.keys())
