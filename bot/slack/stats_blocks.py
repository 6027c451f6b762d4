"""Block Kit for `/support stats`: seed 001's dashboard for a week or a month. Pure."""

from __future__ import annotations

from datetime import timedelta

from bot.core.durations import format_duration
from bot.core.health import HealthScore, Light, Signal
from bot.core.metrics import Durations, Metrics
from bot.core.pii import mask_pii
from bot.core.root_causes import ROOT_CAUSES
from bot.core.text import escape_mrkdwn, truncate
from bot.core.voc import KB_RULE, RepeatedQuestion
from bot.slack import kit
from bot.slack.kit import Block, Message, slack_date

__all__ = ["health_message", "stats_message", "traffic_lights", "voice_of_customer", "weekly_message"]


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


_LIGHT = {
    Light.HEALTHY: ":large_green_circle:",
    Light.WARNING: ":large_yellow_circle:",
    Light.CRITICAL: ":red_circle:",
    Light.UNKNOWN: ":white_circle:",
}


def traffic_lights(signals: list[Signal]) -> Block:
    lines = [f"{_LIGHT[s.light]} *{s.name}* {s.value} (healthy {s.healthy})" for s in signals]
    return kit.section("*Health triage* (seed 001)\n" + "\n".join(lines))


def health_message(score: HealthScore, signals: list[Signal], *, period: str) -> Message:
    """`/support health`: the score, its parts, what drags it down, and what is not measured."""
    if score.score is None:
        text = f"Support health, last {period}: not enough data yet (no solved, rated or SLA-decided tickets)."
        return {"text": text, "blocks": [kit.section(text), traffic_lights(signals)]}
    parts = " · ".join(f"{name} {points:.0f}/{weight}" for name, points, weight in score.parts)
    drags = "\n".join(f"• {drag}" for drag in score.drags[:6]) or "• nothing: every measured signal is healthy"
    blocks = [
        kit.header(f"Support health · last {period}: {score.score}/100"),
        kit.section(f"*Measured* ({score.measured_weight} of the seed's 100 points, scaled to 100): {parts}"),
        kit.section(f"*What drags it down*\n{drags}"),
        traffic_lights(signals),
        kit.context("Not measured: " + ", ".join(score.unmeasured)),
    ]
    return {"text": f"Support health, last {period}: {score.score}/100", "blocks": blocks}


def weekly_message(metrics: Metrics, signals: list[Signal], score: HealthScore, *, late: bool) -> Message:
    """The Monday review: last week's dashboard with a traffic light per signal (the chart follows
    in the thread)."""
    shown = stats_message(metrics, period="week")
    blocks = [kit.header(f"Weekly support review · week to {metrics.end:%a %d %b %Y}"), *shown["blocks"][1:]]
    blocks.append(traffic_lights(signals))
    if score.score is not None:
        blocks.append(kit.context(f"Health score {score.score}/100 (`/support health` says what drags it down)"))
    if late:
        blocks.append(kit.context(":hourglass: Late: no worker was running when it was due."))
    return {"text": f"Weekly support review{' (late)' if late else ''}: " + shown["text"], "blocks": blocks}


def voice_of_customer(
    categories: list[tuple[str, int]],
    causes: list[tuple[str | None, int]],
    questions: list[RepeatedQuestion],
    quotes: list[str],
) -> Message:
    """The weekly voice of the customer, in the review's thread: what they wrote about, why it
    happened (root causes with seed 001's action for each), the questions that need a KB article
    (the 10x rule), and a few of their own words, anonymised."""
    shown = " · ".join(f"{escape_mrkdwn(name)} {count}" for name, count in categories) or "none recorded"
    asked = (
        "\n".join(
            f"• {len(q.refs)}× like “{escape_mrkdwn(truncate(mask_pii(q.example), 120))}” ({', '.join(q.refs[:8])}"
            + (" …)" if len(q.refs) > 8 else ")")
            for q in questions[:5]
        )
        or f"none asked more than {KB_RULE} times in the last 30 days"
    )
    said = (
        "\n".join(f"> {escape_mrkdwn(truncate(mask_pii(' '.join(q.split())), 200))}" for q in quotes)
        or "none this week"
    )
    blocks = [
        kit.section(f"*Voice of the customer*\n*Top categories this week:* {shown}"),
        kit.section(f"*Root causes of the tickets solved this week:*\n{_root_causes(causes)}"),
        kit.section(f"*Questions that need a KB article* (asked more than {KB_RULE} times a month):\n{asked}"),
        kit.section(f"*In their words* (frustrated customers, anonymised):\n{said}"),
    ]
    return {
        "text": "Voice of the customer: top categories, root causes, repeated questions, their words",
        "blocks": blocks,
    }


def _root_causes(causes: list[tuple[str | None, int]]) -> str:
    classified = [(cause, count) for cause, count in causes if cause is not None]
    unclassified = sum(count for cause, count in causes if cause is None)
    total = sum(count for _, count in causes)
    lines = [
        f"• {ROOT_CAUSES[cause][0] if cause in ROOT_CAUSES else escape_mrkdwn(cause)}: {count}"
        f" ({count / total:.0%})" + (f" → {ROOT_CAUSES[cause][1]}" if cause in ROOT_CAUSES else "")
        for cause, count in classified
    ]
    if unclassified:
        lines.append(f"• not recorded: {unclassified} (`/ticket cause T-42 <root cause>` records one)")
    return "\n".join(lines) or "no tickets solved this week"
