"""Block Kit renderers for bugs: the bug card in L3's channel, the `/ticket bug BUG-7` detail, the
10x alert and the note a requester gets when their bug is fixed. Pure functions built with `kit`;
all user text is escaped (it never pings) and cut to Block Kit's limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.text import escape_mrkdwn, truncate
from bot.slack import kit
from bot.slack.blocks import PRIORITY_EMOJI
from bot.slack.kit import SECTION_MAX, TEXT_MAX, Block, Message, slack_date
from store.models import Bug, Ticket

__all__ = [
    "BUG_NOTIFY",
    "BUG_RESOLVE",
    "LinkedTickets",
    "bug_card",
    "bug_detail",
    "requester_notice",
    "ten_x_alert",
]

BUG_RESOLVE, BUG_NOTIFY = "bug_resolve", "bug_notify"

SEVERITY_EMOJI = {"critical": ":boom:", "major": ":warning:", "minor": ":small_blue_diamond:", "trivial": ":feather:"}
REFS_SHOWN = 40  # linked ticket refs listed on the card; the count covers the rest


@dataclass(frozen=True)
class LinkedTickets:
    """What the card says about the bug's tickets: their refs (in link order) and how many
    requesters a notification would reach."""

    refs: Sequence[str]
    notifiable: int

    @property
    def count(self) -> int:
        return len(self.refs)


def _user_text(text: str, limit: int = SECTION_MAX) -> str:
    return truncate(escape_mrkdwn(text), limit) if text.strip() else "—"


def _labelled(label: str, text: str) -> Block:
    prefix = f"*{label}*\n"
    return kit.section(prefix + _user_text(text, SECTION_MAX - len(prefix)))


def _refs_line(linked: LinkedTickets) -> str:
    shown = ", ".join(linked.refs[:REFS_SHOWN]) or "none"
    more = f" and {linked.count - REFS_SHOWN} more" if linked.count > REFS_SHOWN else ""
    return f"{shown}{more}"


def _fields(bug: Bug, linked: LinkedTickets) -> Block:
    return kit.fields(
        [
            ("Severity", f"{SEVERITY_EMOJI.get(bug.severity, '')} {escape_mrkdwn(bug.severity)}"),
            ("Priority", f"{PRIORITY_EMOJI.get(bug.priority, '')} {bug.priority}"),
            ("Status", "Resolved" if bug.status == "resolved" else "Open"),
            ("Area", _user_text(bug.area, 200)),
            ("Reported by", kit.user(bug.reported_by, empty="—")),
            ("Linked tickets", str(linked.count)),
        ]
    )


def _flag(bug: Bug) -> list[Block]:
    if bug.flagged_at is None:
        return []
    return [
        kit.section(
            ":rotating_light: *10x rule*: more than 10 tickets in 30 days — raised to at least P1 "
            f"{slack_date(bug.flagged_at)}. Seed 001: fix it as a P1."
        )
    ]


def _story(bug: Bug) -> list[Block]:
    return [
        _labelled("Impact", bug.impact),
        _labelled("Steps to reproduce", bug.steps),
        _labelled("Expected", bug.expected),
        _labelled("Actual", bug.actual),
        _labelled("Environment", bug.environment),
    ]


def _status_lines(bug: Bug, linked: LinkedTickets) -> list[str]:
    lines = [f"Linked: {_refs_line(linked)}", f"Filed {slack_date(bug.created_at)} by {kit.user(bug.reported_by)}"]
    if bug.resolved_at is not None:
        lines.append(f"Resolved {slack_date(bug.resolved_at)} by {kit.user(bug.resolved_by, empty='—')}")
    if bug.notified_at is not None:
        lines.append(f"Requesters told {slack_date(bug.notified_at)} by {kit.user(bug.notified_by, empty='—')}")
    return lines


def _actions(bug: Bug, linked: LinkedTickets) -> list[Block]:
    value = str(bug.number)
    if bug.status != "resolved":
        buttons = [kit.button(BUG_RESOLVE, "Resolve", value, style="primary")]
    elif linked.notifiable:  # again for tickets linked since the last notify
        label = f"Notify {linked.notifiable} requester{'s' if linked.notifiable != 1 else ''}"
        buttons = [kit.button(BUG_NOTIFY, label, value, style="primary")]
    else:
        return []
    return [{"type": "actions", "block_id": "bug_actions", "elements": buttons}]


def _fallback(bug: Bug, linked: LinkedTickets) -> str:
    title = escape_mrkdwn(bug.title)
    return truncate(f"{bug.ref} [{bug.priority}] {title} · {linked.count} linked ticket(s)", TEXT_MAX)


def bug_card(bug: Bug, linked: LinkedTickets) -> Message:
    """The one card a bug has (in L3's channel), updated in place as tickets are linked, the 10x
    rule trips, and the bug is resolved and its requesters told."""
    blocks: list[Block] = [
        kit.header(f"{bug.ref} · {bug.title}"),
        _fields(bug, linked),
        *_flag(bug),
        *_story(bug),
        kit.context(*_status_lines(bug, linked)),
        *_actions(bug, linked),
    ]
    return {"text": _fallback(bug, linked), "blocks": blocks}


def bug_detail(bug: Bug, linked: LinkedTickets) -> Message:
    """`/ticket bug BUG-7`: everything about one bug, for the asker only."""
    lines = _status_lines(bug, linked)
    if bug.card_channel and bug.card_ts:
        lines.append(f"Card in {kit.channel(bug.card_channel)}")
    blocks: list[Block] = [
        kit.header(f"{bug.ref} · {bug.title}"),
        _fields(bug, linked),
        *_flag(bug),
        *_story(bug),
        kit.context(*lines),
    ]
    return {"text": _fallback(bug, linked), "blocks": blocks}


def ten_x_alert(bug: Bug, *, recent_links: int, before: str) -> Message:
    """To L3's channel, once per bug: the 10x rule tripped."""
    raised = f"raised {before} → {bug.priority}" if before != bug.priority else f"already {bug.priority}"
    text = (
        f":rotating_light: *{bug.ref}* has {recent_links} tickets linked in the last 30 days (the 10x rule: "
        f"more than 10 a month is a P1 fix) — {raised}.\n>{escape_mrkdwn(truncate(bug.title, 300))}"
    )
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text)]}


def requester_notice(bug: Bug, ticket: Ticket) -> Message:
    """To a linked ticket's requester, in their request's thread (or by DM): the bug is fixed."""
    requester = kit.user(ticket.requester_id, empty="there")
    title = escape_mrkdwn(truncate(ticket.title, 200))
    text = (
        f"Hi {requester}, good news about {ticket.ref} ({title}): the problem behind it ({bug.ref}) is fixed. "
        "If you still see it, reply here and we'll look again."
    )
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text)]}
