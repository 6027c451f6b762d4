"""SLA clocks (SPEC §3; seed 001's priority matrix), with Zendesk-style semantics. Pure: no Slack,
no database; `now` is always passed in.

A ticket has two clocks, *first response* and *resolution*. Each counts working time on its
priority's calendar (business hours, or 24x7) towards that priority's target:

* it **starts** when the ticket is created;
* it **pauses** while the ticket is PENDING (waiting on the customer), keeping the time used;
* it **resumes** when the ticket leaves PENDING (the customer replies, or an agent sets it OPEN);
* a **priority change re-targets** it: the new priority's target, the time already used kept;
* the first-response clock **stops** at the first agent response in the ticket's thread (or via
  `/ticket reply`); the resolution clock stops at SOLVED or CLOSED and, if the ticket is
  reopened, resumes with the time it had used.

A running clock is **due** when its used time reaches the target, and **breached** from then on.
Before that, the owner is nudged at each `warn_at` fraction of the target (`alerts`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.calendar import Calendar

__all__ = ["BREACH", "Clock", "ClockName", "alerts", "latest_due", "warning_alert"]

BREACH = "breach"


class ClockName(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class Clock:
    """One SLA clock. Running: `running_since` is set. Paused: neither it nor `stopped_at` is.
    Stopped: `stopped_at` is set. `used` is the working time counted before `running_since`."""

    target: timedelta
    used: timedelta = timedelta(0)
    running_since: datetime | None = None
    stopped_at: datetime | None = None

    @classmethod
    def start(cls, target: timedelta, now: datetime) -> Clock:
        return cls(target=target, running_since=now)

    @property
    def running(self) -> bool:
        return self.running_since is not None

    @property
    def paused(self) -> bool:
        return self.running_since is None and self.stopped_at is None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    def used_at(self, now: datetime, calendar: Calendar) -> timedelta:
        if self.running_since is None or now <= self.running_since:
            return self.used
        return self.used + calendar.working_time_between(self.running_since, now)

    def remaining_at(self, now: datetime, calendar: Calendar) -> timedelta:
        """Working time left before the target (negative once breached)."""
        return self.target - self.used_at(now, calendar)

    def pause(self, now: datetime, calendar: Calendar) -> Clock:
        if not self.running:
            return self
        return dataclasses.replace(self, used=self.used_at(now, calendar), running_since=None)

    def resume(self, now: datetime) -> Clock:
        """Run again after a pause or a stop (a reopened ticket's resolution clock)."""
        if self.running:
            return self
        return dataclasses.replace(self, running_since=now, stopped_at=None)

    def stop(self, now: datetime, calendar: Calendar) -> Clock:
        if self.stopped:
            return self
        return dataclasses.replace(self, used=self.used_at(now, calendar), running_since=None, stopped_at=now)

    def retarget(self, target: timedelta) -> Clock:
        return dataclasses.replace(self, target=target)

    def instant_of(self, fraction: float, calendar: Calendar) -> datetime | None:
        """When the used time reaches `fraction` of the target, if the clock runs. A moment already
        passed in this run is the first working moment since the clock started running again."""
        if self.running_since is None:
            return None
        left = self.target * fraction - self.used
        if left > timedelta(0):
            return calendar.add(self.running_since, left)
        return calendar.next_working_instant(self.running_since)  # never a Saturday alert on business hours

    def due(self, calendar: Calendar) -> datetime | None:
        """When the target is reached, if the clock runs (None while paused or stopped)."""
        return self.instant_of(1.0, calendar)

    def breached_at(self, now: datetime, calendar: Calendar) -> bool:
        """Whether the clock has used its target by `now` (a stopped clock: by when it stopped)."""
        return self.used_at(self.stopped_at or now, calendar) >= self.target


def warning_alert(fraction: float) -> str:
    return f"warn:{fraction:g}"


def alerts(clock: Clock, calendar: Calendar, warn_at: tuple[float, ...]) -> dict[str, datetime]:
    """The alerts of a running clock and when each is due: `warn:<fraction>` for each `warn_at`
    fraction, and `breach`. Nothing for a paused or stopped clock."""
    if not clock.running:
        return {}
    planned = {warning_alert(fraction): clock.instant_of(fraction, calendar) for fraction in warn_at}
    planned[BREACH] = clock.due(calendar)
    return {name: at for name, at in planned.items() if at is not None}


def latest_due(planned: dict[str, datetime], now: datetime) -> str | None:
    """Of the alerts due by `now`, the one that says the most (a breach beats any warning, a later
    fraction an earlier one): after a pause, a re-target or a worker outage, one message says where
    the clock stands instead of a burst of stale ones."""
    due = [name for name, at in planned.items() if at <= now]
    if not due:
        return None
    return BREACH if BREACH in due else max(due, key=lambda name: float(name.removeprefix("warn:")))
