"""The post-incident review draft (`frontline export incident INC-3 --format markdown`): the facts,
the whole timeline and the sections a team fills in afterwards, as Markdown. A pure function of the
incident's run (`RunView`) and the configured time zone.

The timeline is the one the Slack summary shows (`playbook_blocks.timeline_lines`), written for
Markdown: people as `@U…` (an export has no Slack to turn IDs into names), local times with their
zone, and everything a person typed escaped so that it reads as typed.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.durations import format_duration
from bot.core.pii import mask_pii
from bot.core.playbooks import responsible
from bot.core.text import escape_markdown
from bot.slack.playbook_blocks import RunView, TimelineStyle, timeline_lines

__all__ = ["MARKDOWN_TIMELINE", "SECTIONS", "review_markdown"]

# The sections a team writes after the incident; the draft leaves them empty.
SECTIONS = ("Summary", "Impact", "Root cause", "What went well", "What went wrong")
ACTION_ITEMS = "| Action | Owner | Due | Ticket |\n|---|---|---|---|"


def _person(user: str) -> str:
    return f"@{escape_markdown(user)}"


def _update_text(text: str) -> str:
    # A multi-line update stays in its list item: a hard line break, the next line indented under it.
    return escape_markdown(mask_pii(text), line_break="\\\n  ")


MARKDOWN_TIMELINE = TimelineStyle(
    who=_person,
    text=_update_text,
    marks={
        "done": "✅",
        "skipped": "⏩",
        "chose": "🔀",
        "update": "📣",
        "role": "👤",
        "moved": "📅",
        "finished": "🏁",
    },
)


def review_markdown(view: RunView, tz: ZoneInfo) -> str:
    """INC-<n>'s review draft: title, facts, timeline, then the empty sections to fill in."""
    assert view.incident is not None, "a review is for an incident's run"
    parts = [
        f"# {escape_markdown(view.incident.ref)} · {escape_markdown(mask_pii(view.title))}",
        "_Post-incident review: a draft from Frontline's record of the incident. Fill in the sections below._",
        "## Facts\n\n" + "\n".join(_facts(view, tz)),
        "## Timeline\n\n" + "\n".join(_timeline(view, tz)),
        *(f"## {section}" for section in SECTIONS),
        f"## Action items\n\n{ACTION_ITEMS}",
        "## Customer communication",
    ]
    return "\n\n".join(parts) + "\n"


def _facts(view: RunView, tz: ZoneInfo) -> list[str]:
    incident, run = view.incident, view.run
    assert incident is not None
    lead_role = view.playbook.roles[0]  # the run's lead: an incident's commander
    others = " · ".join(f"{escape_markdown(role)}: {_person(user)}" for role, user in run.roles if role != lead_role)
    resolved = incident.resolved_at
    facts = [
        f"- **Severity:** {escape_markdown(incident.severity)}",
        f"- **Status:** {escape_markdown(incident.status)}",
        f"- **Started:** {_local(run.started_at, tz)} by {_person(run.timeline[0].by)}",
        f"- **Resolved:** {_by(resolved, incident.resolved_by, tz) if resolved else 'not yet'}",
        f"- **Duration:** {format_duration(resolved - run.started_at) if resolved else 'still open'}",
        f"- **Time zone:** {tz.key}",
        f"- **{escape_markdown(lead_role.capitalize())}:** {_person(responsible(view.playbook, run, lead_role))}",
        f"- **Other roles:** {others or 'none assigned'}",
        f"- **Channel:** {_channel(incident.channel_name, incident.channel)}",
        f"- **Linked tickets:** {'' if view.tickets else 'none'}".rstrip(),
        *(f"  - {escape_markdown(ref)}: {escape_markdown(mask_pii(title))}" for ref, title in view.tickets),
    ]
    if incident.notified_at is not None:
        facts.append(f"- **Linked requesters told:** {_by(incident.notified_at, incident.notified_by, tz)}")
    return facts


def _by(moment: datetime, user: str | None, tz: ZoneInfo) -> str:
    return f"{_local(moment, tz)} by {_person(user)}" if user else _local(moment, tz)


def _channel(name: str, channel_id: str | None) -> str:
    # Frontline makes the name from [a-z0-9_-] only, so a code span shows it exactly.
    shown = f"`#{name}`" if "`" not in name else escape_markdown(f"#{name}")
    return f"{shown} ({escape_markdown(channel_id)})" if channel_id else f"{shown} (not created)"


def _timeline(view: RunView, tz: ZoneInfo) -> list[str]:
    """Every event as a list item; dates only when the incident's events span more than one local day."""
    run = view.run
    dated = len({event.at.astimezone(tz).date() for event in run.timeline}) > 1

    def at(moment: datetime) -> str:
        return f"- {_local(moment, tz) if dated else _clock(moment, tz)} —"

    reminders = sum(1 for event in run.timeline if event.what == "reminded")
    return [*timeline_lines(view, at=at, style=MARKDOWN_TIMELINE), "", f"Reminders sent: {reminders} (not listed)."]


def _local(moment: datetime, tz: ZoneInfo) -> str:
    """`2026-12-07 10:05 EST`: the date in ISO order, which reads the same everywhere."""
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d} {_clock(moment, tz)}"


def _clock(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%H:%M} {local.tzname()}"
