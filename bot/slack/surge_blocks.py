"""Block Kit for surge alerts: the one alert a surge has in triage, updated in place as tickets join,
with its "Start incident" button until an incident is started from it. Pure functions; ticket text
is escaped (it never pings) and cut to Block Kit's limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.text import escape_mrkdwn, truncate
from bot.slack import kit
from bot.slack.kit import SECTION_MAX, TEXT_MAX, Block, Message

__all__ = ["MEMBERS_SHOWN", "START_INCIDENT", "SurgeLine", "joined_note", "surge_alert"]

START_INCIDENT = "surge_start_incident"  # the alert's button; its value is the surge's id
MEMBERS_SHOWN = 25  # member lines on the alert; the header's count covers the rest


@dataclass(frozen=True)
class SurgeLine:
    """One member ticket as the alert lists it."""

    number: int
    title: str
    requester: str | None
    created_at: datetime


def _span_minutes(members: Sequence[SurgeLine]) -> int:
    if len(members) < 2:
        return 0
    return max(1, round((members[-1].created_at - members[0].created_at).total_seconds() / 60))


def surge_alert(
    surge_id: int, number: int, members: Sequence[SurgeLine], *, incident: str | None, incident_by: str | None
) -> Message:
    people = len({m.requester for m in members if m.requester})
    refs = ", ".join(f"T-{m.number}" for m in members)
    headline = (
        f":rotating_light: *Surge {number}*: {len(members)} tickets from {people} "
        f"{'person' if people == 1 else 'people'} in {_span_minutes(members)} min look like the same failure"
    )
    lines = [
        f"• *T-{m.number}* {escape_mrkdwn(truncate(m.title, 120))} · {kit.user(m.requester, empty='—')} · "
        f"{kit.slack_date(m.created_at)}"
        for m in members[:MEMBERS_SHOWN]
    ]
    if len(members) > MEMBERS_SHOWN:
        lines.append(f"…and {len(members) - MEMBERS_SHOWN} more")
    blocks: list[Block] = [
        kit.section(truncate(headline, SECTION_MAX)),
        kit.section(truncate("\n".join(lines), SECTION_MAX)),
    ]
    if incident:
        blocks.append(kit.context(f"Incident {escape_mrkdwn(incident)} started by {kit.user(incident_by)}"))
    else:
        blocks.append(
            {
                "type": "actions",
                "elements": [kit.button(START_INCIDENT, "Start incident", str(surge_id), style="danger")],
            }
        )
    text = f"Surge {number}: {len(members)} tickets look like the same failure: {refs}"
    return {"text": truncate(text, TEXT_MAX), "blocks": blocks}


def joined_note(number: int, title: str) -> str:
    return f"T-{number} joined this surge: {escape_mrkdwn(truncate(title, 200))}"
