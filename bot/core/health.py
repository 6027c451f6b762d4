"""Seed 001's Quick Health Triage (a traffic light per signal) and Monthly Support Health Score
(0–100), from a period's `Metrics`. Pure. A signal Frontline cannot measure (agent utilisation,
customer effort) is said to be unmeasured rather than guessed; the score is scaled over the
dimensions it can measure, and says which those are."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.core.metrics import Metrics

__all__ = ["HealthScore", "Light", "Signal", "health_score", "triage"]

HOUR = 3600.0


class Light(StrEnum):
    HEALTHY = "healthy"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "no data"


@dataclass(frozen=True)
class Signal:
    name: str
    value: str  # as shown
    light: Light
    healthy: str  # the seed's healthy band, for the reader


def _light(value: float | None, *, warning: float, critical: float, higher_is_worse: bool = True) -> Light:
    if value is None:
        return Light.UNKNOWN
    if higher_is_worse:
        return Light.CRITICAL if value > critical else Light.WARNING if value >= warning else Light.HEALTHY
    return Light.CRITICAL if value < critical else Light.WARNING if value <= warning else Light.HEALTHY


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / HOUR:.1f} h"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def triage(m: Metrics) -> list[Signal]:
    """The seed's table, row by row (the thresholds are the seed's)."""
    frt = None if m.first_response.average is None else m.first_response.average / HOUR
    resolution = None if m.resolution.average is None else m.resolution.average / HOUR
    backlog = m.backlog / m.daily_volume if m.daily_volume else None
    csat, fcr, escalation = m.csat_score, m.fcr, m.escalation_rate
    return [
        Signal("First response time", _hours(m.first_response.average), _light(frt, warning=4, critical=24), "< 4 h"),
        Signal("Resolution time", _hours(m.resolution.average), _light(resolution, warning=24, critical=72), "< 24 h"),
        Signal("CSAT", _percent(csat), _light(csat, warning=0.85, critical=0.70, higher_is_worse=False), "> 85 %"),
        Signal(
            "First-contact resolution", _percent(fcr), _light(fcr, warning=0.70, critical=0.50, higher_is_worse=False),
            "> 70 %",
        ),
        Signal(
            "Backlog", "—" if backlog is None else f"{backlog:.1f}× daily volume",
            _light(backlog, warning=1, critical=3), "< 1× daily volume",
        ),
        Signal("Escalation rate", _percent(escalation), _light(escalation, warning=0.15, critical=0.30), "< 15 %"),
    ]  # fmt: skip


@dataclass(frozen=True)
class HealthScore:
    score: int | None  # 0–100 over the measured dimensions; None with no data at all
    parts: tuple[tuple[str, float, int], ...]  # (dimension, points, weight) for each measured one
    unmeasured: tuple[str, ...]
    drags: tuple[str, ...]  # what pulls it down most, worst first

    @property
    def measured_weight(self) -> int:
        return sum(weight for _, _, weight in self.parts)


_UNMEASURED = ("Self-service (deflection, KB health)", "Team health (utilisation, attrition)", "Continuous improvement")


def health_score(m: Metrics) -> HealthScore:
    """Customer satisfaction (25), speed (20: SLA compliance) and efficiency (20: first-contact
    resolution) are measured; the seed's other 35 points are not, so the score is out of the 65
    measured and scaled to 100."""
    dimensions = [("Customer satisfaction (CSAT)", m.csat_score, 25), ("Speed (SLA compliance)", m.sla_compliance, 20),
                  ("Efficiency (first-contact resolution)", m.fcr, 20)]  # fmt: skip
    parts = tuple((name, weight * value, weight) for name, value, weight in dimensions if value is not None)
    unmeasured = tuple(name for name, value, _ in dimensions if value is None) + _UNMEASURED
    if not parts:
        return HealthScore(None, (), unmeasured, ())
    total = sum(points for _, points, _ in parts) / sum(weight for _, _, weight in parts)
    lost = sorted(((weight - points, name) for name, points, weight in parts if points < weight), reverse=True)
    signals = [s for s in triage(m) if s.light in {Light.CRITICAL, Light.WARNING}]
    signals.sort(key=lambda s: s.light != Light.CRITICAL)
    drags = tuple(f"{name} ({weight_lost:.0f} points lost)" for weight_lost, name in lost if weight_lost >= 1) + tuple(
        f"{s.name} {s.value} ({s.light}; healthy {s.healthy})" for s in signals
    )
    return HealthScore(round(total * 100), parts, unmeasured, drags)
