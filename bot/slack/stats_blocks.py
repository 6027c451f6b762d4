"""Block Kit for `/support stats`: seed 001's dashboard for a week or a month. Pure."""

from __future__ import annotations

from datetime import timedelta

from bot.core.durations import format_duration
from bot.core.metrics import Durations, Metrics
from bot.slack import kit
from bot.slack.kit import Message, slack_date

__all__ = ["stats_message"]


def _time(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(timedelta(seconds=round(seconds)))


def _durations(calendar: Durations, sla: Durations, *, high: str) -> str:
    if not calendar.count:
        return "— (none yet)"
    median = high == "median"
    return (
        f"avg {_time(calendar.average)} · {high} {_time(calendar.median if median else calendar.p95)} "
        f"({calendar.count})\nSLA time: avg {_time(sla.average)} · {high} {_time(sla.median if median else sla.p95)}"
    )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def stats_message(metrics: Metrics, *, period: str) -> Message:
    m = metrics
    csat = f"{m.csat_average:.1f} / 5 ({m.csat_count} ratings)" if m.csat_average is not None else "— (no ratings yet)"
    facts = [
        ("Created · solved", f"{m.created} · {m.solved}"),
        ("Backlog vs daily volume", f"{m.backlog} open · {m.daily_volume:.1f} new a day"),
        ("First response", _durations(m.first_response, m.first_response_sla, high="median")),
        ("Resolution", _durations(m.resolution, m.resolution_sla, high="p95")),
        ("SLA compliance", f"{_percent(m.sla_compliance)} ({m.sla_achieved} met · {m.sla_breached} breached)"),
        ("First-contact resolution", _percent(m.fcr)),
        ("Escalation rate", f"{_percent(m.escalation_rate)} ({m.escalated})"),
        ("Reopen rate", f"{_percent(m.reopen_rate)} ({m.reopened})"),
        ("CSAT", csat),
    ]
    blocks = [
        kit.header(f"Support stats · last {period}"),
        kit.context(f"{slack_date(m.start)} – {slack_date(m.end)} · definitions in the README (Metrics)"),
        kit.fields(facts[:5]),
        kit.fields(facts[5:]),
    ]
    text = (
        f"Support stats, last {period}: {m.created} created, {m.solved} solved, SLA compliance "
        f"{_percent(m.sla_compliance)}, backlog {m.backlog}"
    )
    return {"text": text, "blocks": blocks}
