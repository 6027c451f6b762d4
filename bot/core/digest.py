"""The daily standup digest (seed 004's daily CS standup): when it is due, and what it holds.
Pure: the numbers come in as a `Snapshot` (the store counts them in SQL), `now` is given.

A digest is due at `digest.time` in the configured timezone, on weekdays unless `weekdays_only`
is off. The sweep asks for the latest slot at or before `now`; a slot that is more than
`LATE_AFTER` old when it is posted (the worker was down at nine) is posted once, marked late, as
long as it is less than `STALE_AFTER` old: a worker down since Friday morning does not post
Friday's digest on Monday (Monday's comes at nine), and a first start late in the evening does
not post the morning's. Only the latest slot is ever posted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "EVERY_DAY",
    "LATE_AFTER",
    "STALE_AFTER",
    "WEEKDAYS",
    "Listed",
    "Snapshot",
    "is_late",
    "is_stale",
    "latest_slot",
    "snapshot_from_json",
    "snapshot_without_titles",
]

LATE_AFTER = timedelta(minutes=15)
STALE_AFTER = timedelta(hours=12)


WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


def latest_slot(now: datetime, *, tz: ZoneInfo, at: time, days: frozenset[int]) -> datetime:
    """The most recent scheduled time at or before `now` (aware, in `tz`) on one of `days`
    (Monday = 0). Built from the local date and wall-clock time, so a DST change moves it with the
    clock (09:00 stays 09:00)."""
    if not days:
        raise ValueError("no day to schedule on")
    local_now = now.astimezone(tz)
    day = local_now.date()
    for _ in range(8):
        slot = datetime.combine(day, at, tzinfo=tz)
        if slot <= local_now and day.weekday() in days:
            return slot
        day -= timedelta(days=1)
    raise AssertionError("every weekday comes within eight days")


def is_late(slot: datetime, now: datetime) -> bool:
    return now - slot > LATE_AFTER


def is_stale(slot: datetime, now: datetime) -> bool:
    """Too old to be worth posting: the next one is nearer than this one was."""
    return now - slot >= STALE_AFTER


@dataclass(frozen=True)
class Listed:
    """A ticket (or escalation, bug, incident) as a digest line."""

    ref: str
    title: str
    priority: str = ""
    owner: str | None = None
    when: datetime | None = None  # created, due, escalated … (what the section is about)
    detail: str = ""


@dataclass(frozen=True)
class Snapshot:
    """What the digest says, counted when it was decided (stored with it, so a retried post says the
    same thing)."""

    day: date
    since: datetime  # the previous digest's slot (or a day before this one)
    new: int = 0
    new_tickets: tuple[Listed, ...] = ()
    open_by_priority: dict[str, int] = field(default_factory=dict)
    breached: int = 0
    breached_tickets: tuple[Listed, ...] = ()
    at_risk: int = 0
    at_risk_tickets: tuple[Listed, ...] = ()
    awaiting_ack: int = 0
    awaiting_ack_list: tuple[Listed, ...] = ()
    oldest_open: tuple[Listed, ...] = ()
    top_categories: tuple[tuple[str, int], ...] = ()
    bugs: tuple[Listed, ...] = ()  # open CS-origin bugs, most-linked first (detail: linked count)
    incidents_open: tuple[Listed, ...] = ()
    incidents_resolved: tuple[Listed, ...] = ()
    surges: tuple[Listed, ...] = ()  # surges active since the last digest (detail: their members)

    @property
    def open_total(self) -> int:
        return sum(self.open_by_priority.values())

    def to_json(self) -> dict[str, Any]:
        encoded: dict[str, Any] = _encode(asdict(self))
        return encoded


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    return value


# The snapshot's lists of tickets, escalations, bugs, incidents and surges (`Listed` each).
LISTS = (
    "new_tickets", "breached_tickets", "at_risk_tickets", "awaiting_ack_list", "oldest_open", "bugs",
    "incidents_open", "incidents_resolved", "surges",
)  # fmt: skip


def snapshot_without_titles(data: dict[str, Any], marker: str) -> dict[str, Any]:
    """A stored snapshot with every listed title replaced by `marker` (retention): the refs,
    priorities, owners, times and counts stay, so the digest still reads as what it was."""
    return {
        key: [{**item, "title": marker} for item in value] if key in LISTS else value for key, value in data.items()
    }


def snapshot_from_json(data: dict[str, Any]) -> Snapshot:
    def listed(items: list[dict[str, Any]]) -> tuple[Listed, ...]:
        return tuple(
            Listed(**{**item, "when": datetime.fromisoformat(item["when"]) if item.get("when") else None})
            for item in items
        )

    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in LISTS:
            values[key] = listed(value)
        elif key == "day":
            values[key] = date.fromisoformat(value)
        elif key == "since":
            values[key] = datetime.fromisoformat(value)
        elif key == "top_categories":
            values[key] = tuple((str(name), int(count)) for name, count in value)
        else:
            values[key] = value
    return Snapshot(**values)
