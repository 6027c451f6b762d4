"""Support metrics (seed 001's dashboard), defined once. Pure: the store counts and measures in SQL
and hands the results in as a `Metrics`; this module says what they mean and derives the ratios.

Every duration is given twice: in calendar time, and in SLA time (the working seconds the ticket's
own SLA clock counted: business hours for P1–P3, around the clock for P0, nothing while PENDING).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["PERIODS", "Durations", "Metrics", "ratio"]

PERIODS = {"week": timedelta(days=7), "month": timedelta(days=30)}


def ratio(part: int, whole: int) -> float | None:
    """`part / whole`, or None when there is nothing to divide (shown as "—", never as 0 %)."""
    return part / whole if whole else None


@dataclass(frozen=True)
class Durations:
    """Seconds; None when no ticket had one."""

    count: int = 0
    average: float | None = None
    median: float | None = None
    p95: float | None = None


@dataclass(frozen=True)
class Metrics:
    """One period's figures. Definitions (README "Metrics" repeats them):

    - created: tickets created in the period.
    - first_response / first_response_sla: for tickets created in the period that have had a first
      response, the time from creation to it (average, median).
    - resolution / resolution_sla: for tickets solved in the period, the time from creation to being
      solved (average, 95th percentile).
    - sla_achieved / sla_breached: clocks of tickets created in the period that stopped within
      their target / that breached it (first-response and resolution clocks both count); clocks
      still running inside their target are neither. Compliance = achieved / (achieved + breached).
    - backlog: tickets open at the end of the period (NEW, OPEN, PENDING, ESCALATED); daily volume:
      created / days in the period.
    - fcr (first-contact resolution): tickets solved in the period with at most one agent reply in
      their thread and never reopened, over tickets solved in the period.
    - escalation rate: tickets created in the period that were escalated, over created.
    - reopen rate: of the tickets solved (or closed) at least once in the period, whether reopened
      since or not, the share that were reopened in the period; never above 100 %, and a period
      whose every solve bounced back reads 100 %, not "—".
    - csat: the average 1–5 rating given in the period, how many ratings, and the share of 4s and
      5s (the CSAT score the health triage reads).
    """

    start: datetime
    end: datetime
    created: int
    solved: int
    first_response: Durations
    first_response_sla: Durations
    resolution: Durations
    resolution_sla: Durations
    sla_achieved: int
    sla_breached: int
    backlog: int
    fcr_count: int
    escalated: int
    reopened: int  # tickets solved in the period that were reopened in it
    solved_any: int = 0  # tickets solved (or closed) at least once in the period, reopened since or not
    csat_average: float | None = None
    csat_count: int = 0
    csat_satisfied: int = 0  # ratings of 4 or 5

    @property
    def days(self) -> float:
        return max((self.end - self.start) / timedelta(days=1), 1e-9)

    @property
    def daily_volume(self) -> float:
        return self.created / self.days

    @property
    def sla_compliance(self) -> float | None:
        return ratio(self.sla_achieved, self.sla_achieved + self.sla_breached)

    @property
    def fcr(self) -> float | None:
        return ratio(self.fcr_count, self.solved)

    @property
    def escalation_rate(self) -> float | None:
        return ratio(self.escalated, self.created)

    @property
    def reopen_rate(self) -> float | None:
        return ratio(self.reopened, self.solved_any)

    @property
    def csat_score(self) -> float | None:
        """The share of ratings that were 4 or 5 (the seed's "CSAT %")."""
        return ratio(self.csat_satisfied, self.csat_count)
