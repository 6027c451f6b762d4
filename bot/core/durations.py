"""Durations as operators write them in frontline.yaml: "15m", "4h", "7d", "1h30m".

One spelling for reading and writing, so that what the config says and what the bot shows
(a card's "due in 1h30m", a check-config dump) look the same. Resolution is one minute: SLA
targets and stage timers are never finer than that.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["MAX_DURATION_MINUTES", "format_duration", "format_hours", "parse_duration"]

# Units largest first, each at most once: "1d4h30m". Fixed order keeps one spelling per value
# and makes "30m1h" (almost always a slip) an error instead of a guess.
_DURATION = re.compile(r"(?:(?P<d>[0-9]+)d)?(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m)?")
_UNIT_MINUTES = {"d": 24 * 60, "h": 60, "m": 1}
_HINT = "use forms like 15m, 4h, 2d"


MAX_DURATION_MINUTES = 365 * 24 * 60


def parse_duration(text: str) -> timedelta:
    """Parse "15m", "4h", "72h", "7d", "1h30m" (case-insensitive, surrounding blanks ignored).

    Raises ValueError with a message fit to show an operator as is.
    """
    cleaned = text.strip().lower()
    match = _DURATION.fullmatch(cleaned)
    # The pattern's groups are all optional, so "" matches; that is not a duration.
    if not cleaned or match is None:
        raise ValueError(f"invalid duration {text!r} ({_HINT})")
    minutes = sum(int(count) * _UNIT_MINUTES[unit] for unit, count in match.groupdict().items() if count)
    if minutes > MAX_DURATION_MINUTES:
        # Nothing in support runs on a clock longer than a year; a longer value is a typo, and
        # business-hours arithmetic over centuries would stall every request.
        raise ValueError(f"duration {text!r} is too long (at most 365d)")
    return timedelta(minutes=minutes)


def format_hours(duration: timedelta) -> str:
    """A duration in hours and minutes, never days: "24h", "1h30m". For business-hours targets,
    where "1d" would read as a calendar day but means 24 working hours (three working days)."""
    total_minutes = max(duration, timedelta(0)) // timedelta(minutes=1)
    hours, minutes = divmod(total_minutes, _UNIT_MINUTES["h"])
    return "".join(f"{count}{unit}" for count, unit in ((hours, "h"), (minutes, "m")) if count) or "0m"


def format_duration(duration: timedelta) -> str:
    """The canonical spelling of a duration: "1h30m", "2d4h", "45m", "0m".

    Seconds are dropped (floored to the minute); a negative duration gets a leading "-" so an
    overdue time can be shown as "-15m". parse_duration(format_duration(d)) == d for whole,
    non-negative minutes.
    """
    if duration < timedelta(0):
        return "-" + format_duration(-duration)
    total_minutes = duration // timedelta(minutes=1)  # integer division: exact for any size
    days, rest = divmod(total_minutes, _UNIT_MINUTES["d"])
    hours, minutes = divmod(rest, _UNIT_MINUTES["h"])
    parts = [f"{count}{unit}" for count, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if count]
    return "".join(parts) or "0m"
