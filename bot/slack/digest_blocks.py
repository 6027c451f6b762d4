"""Block Kit for the standup digest: counts first in the channel, the details in its thread
(readable at a glance). Pure functions of a `Snapshot`; every title is escaped and PII-masked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.digest import Listed, Snapshot
from bot.core.pii import mask_pii
from bot.core.text import escape_mrkdwn, truncate
from bot.slack import kit
from bot.slack.kit import SECTION_MAX, TEXT_MAX, Block, Message, slack_date

__all__ = ["details", "headline"]

PRIORITIES = ("P0", "P1", "P2", "P3")


def headline(snapshot: Snapshot, *, due: datetime, late: bool, requested_by: str | None, posted: datetime) -> Message:
    """The counts, in the channel."""
    by_priority = " · ".join(f"{p} {snapshot.open_by_priority.get(p, 0)}" for p in PRIORITIES)
    facts = [
        (f"New since {slack_date(snapshot.since)}", str(snapshot.new)),
        ("Open", f"{snapshot.open_total} ({by_priority})"),
        ("Breached", str(snapshot.breached)),
        ("At risk (due within the hour)", str(snapshot.at_risk)),
        ("Escalations awaiting acknowledgement", str(snapshot.awaiting_ack)),
        ("Incidents open", str(len(snapshot.incidents_open))),
        ("Surges", str(len(snapshot.surges))),
    ]
    blocks: list[Block] = [kit.header(f"Standup digest · {snapshot.day:%a %d %b %Y}"), kit.fields(facts)]
    if late:
        blocks.append(
            kit.context(
                f":hourglass: Late: due {slack_date(due)}, posted {slack_date(posted)} (no worker was running then)."
            )
        )
    if requested_by:
        blocks.append(kit.context(f"Asked for by <@{requested_by}> with `/support digest`."))
    blocks.append(kit.context("Details in the thread :thread:"))
    text = (
        f"Standup digest {snapshot.day.isoformat()}{' (late)' if late else ''}: {snapshot.new} new, "
        f"{snapshot.open_total} open, {snapshot.breached} breached, {snapshot.at_risk} at risk, "
        f"{snapshot.awaiting_ack} awaiting acknowledgement"
    )
    return {"text": truncate(text, TEXT_MAX), "blocks": blocks}


def details(snapshot: Snapshot) -> Message:
    """Every list behind the counts, in the digest's thread; an empty list is left out."""
    sections = [
        ("New", snapshot.new_tickets, snapshot.new, _ticket),
        ("Breached", snapshot.breached_tickets, snapshot.breached, _ticket),
        ("At risk", snapshot.at_risk_tickets, snapshot.at_risk, _due),
        ("Awaiting acknowledgement", snapshot.awaiting_ack_list, snapshot.awaiting_ack, _escalation),
        ("Oldest open", snapshot.oldest_open, len(snapshot.oldest_open), _ticket),
        ("CS-origin bugs", snapshot.bugs, len(snapshot.bugs), _bug),
        ("Surges", snapshot.surges, len(snapshot.surges), _surge),
        ("Incidents open", snapshot.incidents_open, len(snapshot.incidents_open), _incident),
        ("Incidents resolved", snapshot.incidents_resolved, len(snapshot.incidents_resolved), _incident),
    ]
    blocks: list[Block] = []
    for title, items, total, line in sections:
        if items:
            blocks.append(kit.section(_listing(title, items, total, line)))
    if snapshot.top_categories:
        shown = " · ".join(f"{escape_mrkdwn(name)} {count}" for name, count in snapshot.top_categories)
        blocks.append(kit.section(f"*Top categories of the new tickets*\n{shown}"))
    if not blocks:
        blocks.append(kit.section("Nothing to list: no new, open, breached or escalated tickets, bugs or incidents."))
    return {"text": f"Standup digest {snapshot.day.isoformat()}: the details", "blocks": blocks[:50]}


def _listing(title: str, items: Sequence[Listed], total: int, line: object) -> str:
    assert callable(line)
    lines = [line(item) for item in items]
    more = f"\n… and {total - len(items)} more" if total > len(items) else ""
    return truncate(f"*{title}* ({total})\n" + "\n".join(lines) + more, SECTION_MAX)


def _title(item: Listed) -> str:
    return escape_mrkdwn(truncate(mask_pii(item.title), 90))


def _owner(item: Listed) -> str:
    return f" · <@{item.owner}>" if item.owner else " · unassigned"


def _ticket(item: Listed) -> str:
    return f"• *{item.ref}* {item.priority} {_title(item)}{_owner(item)}"


def _due(item: Listed) -> str:
    return f"• *{item.ref}* {item.priority} {_title(item)}{_owner(item)} · due {slack_date(item.when)}"


def _escalation(item: Listed) -> str:
    return f"• *{item.ref}* {_title(item)} · {escape_mrkdwn(item.detail)} since {slack_date(item.when)}"


def _bug(item: Listed) -> str:
    tickets = "ticket" if item.detail == "1" else "tickets"
    return f"• *{item.ref}* {item.priority} {_title(item)} · {item.detail} linked {tickets}"


def _incident(item: Listed) -> str:
    return f"• *{item.ref}* {item.priority} {_title(item)} · started {slack_date(item.when)}"


def _surge(item: Listed) -> str:
    return f"• *{item.ref}* {_title(item)} · {escape_mrkdwn(item.detail)} · since {slack_date(item.when)}"
