"""Small, pure helpers for turning instants into UTC values and human-readable local text.

Everything in Frontline stores and compares instants in UTC; local time exists only for people
(ticket cards, digests) and for business-hours windows (see ``bot.core.calendar``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["format_local", "iso_utc", "to_utc", "zone"]

# Fixed English names: strftime's %a/%b follow the process locale, and a card must not change
# language because the worker happened to start under a different LANG.
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def to_utc(dt: datetime) -> datetime:
    """Return ``dt`` as an aware UTC datetime; a naive datetime is ambiguous, so it is refused."""
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise ValueError(f"naive datetime {dt.isoformat()} has no timezone; pass an aware datetime")
    return dt.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    """Look up an IANA timezone, turning the lookup's KeyError into a readable ValueError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name!r}; use an IANA name such as 'America/New_York'") from exc


def iso_utc(dt: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix, to the second: ``2026-12-07T14:30:00Z``.

    Sub-second precision is dropped (truncated): these strings are for people, exports and
    logs, where microseconds are noise.
    """
    return to_utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_local(dt: datetime, tz: str, *, now: datetime | None = None) -> str:
    """What a person reads on a ticket card, e.g. ``Mon 7 Dec 09:30 EST``.

    The year is shown only when it differs from ``now``'s year (both taken in ``tz``). Without
    ``now`` the year is always shown: this function never reads the clock, and a date with a
    year is never misleading.
    """
    local_zone = zone(tz)
    local = to_utc(dt).astimezone(local_zone)
    show_year = now is None or to_utc(now).astimezone(local_zone).year != local.year
    date_part = f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"
    if show_year:
        date_part += f" {local.year}"
    return f"{date_part} {local:%H:%M} {local.tzname()}"
