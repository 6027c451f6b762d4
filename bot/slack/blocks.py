"""Block Kit renderers: pure functions from records to message payloads.

All user text passes through `escape_mrkdwn` (or goes into plain_text) and `truncate`, so cards
never ping anyone and never break Block Kit's limits (blockkit-limits.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.config import FrontlineConfig
from bot.core.calendar import format_closing_time
from bot.core.durations import format_duration, format_hours
from bot.core.text import escape_mrkdwn, truncate
from bot.slack import kit
from bot.slack.kit import HEADER_MAX, SECTION_MAX, TEXT_MAX, Block, Message, slack_date
from store.escalations import Suggestion
from store.models import AuditEvent, Escalation, Ticket

__all__ = [
    "HEADER_MAX",
    "SECTION_MAX",
    "TEXT_MAX",
    "Message",
    "created_confirmation",
    "description_is_cut",
    "error_message",
    "help_message",
    "home_view",
    "info_message",
    "pending_warning",
    "sla_breach",
    "sla_policy",
    "sla_state",
    "sla_warning",
    "slack_date",
    "text_is_cut",
    "ticket_card",
    "ticket_detail",
    "ticket_history",
    "ticket_line",
    "ticket_list",
    "unassigned_ping",
    "work_buttons",
]

PRIORITY_EMOJI = {
    "P0": ":red_circle:",
    "P1": ":large_orange_circle:",
    "P2": ":large_yellow_circle:",
    "P3": ":white_circle:",
}


def sla_state(ticket: Ticket, clock: str) -> str:
    """Where a clock stands, for a card field: due (in the reader's time zone), paused, met or breached."""
    breached = bool(getattr(ticket, f"{clock}_breached"))
    stopped_at: datetime | None = getattr(ticket, f"{clock}_stopped_at")
    due: datetime | None = getattr(ticket, f"{clock}_due")
    if stopped_at is not None:
        return (
            f":rotating_light: breached, done {slack_date(stopped_at)}" if breached else f"met {slack_date(stopped_at)}"
        )
    if breached and getattr(ticket, f"{clock}_running_since") is not None:
        return f":rotating_light: breached; now due {slack_date(due)}"  # e.g. re-prioritised after the breach
    if breached:
        return ":rotating_light: breached; paused while pending"
    if getattr(ticket, f"{clock}_running_since") is None:
        return ":double_vertical_bar: paused while pending"
    return f"due {slack_date(due)}"


def _customer(ticket: Ticket) -> str:
    if not ticket.customer:
        return "—"
    tier = f" ({ticket.customer_tier})" if ticket.customer_tier else ""
    return escape_mrkdwn(ticket.customer + tier)


def _fallback_text(ticket: Ticket) -> str:
    return truncate(f"{ticket.ref} [{ticket.priority}] {escape_mrkdwn(ticket.title)}", TEXT_MAX)


def description_is_cut(ticket: Ticket) -> bool:
    """Whether the card shows only part of the description (the full text then goes in its thread)."""
    return text_is_cut(ticket.description)


def text_is_cut(description: str) -> bool:
    escaped = escape_mrkdwn(description)
    return truncate(escaped, SECTION_MAX) != escaped


def _description_blocks(ticket: Ticket) -> list[Block]:
    if not ticket.description.strip():
        files = ", ".join(escape_mrkdwn(a.get("name", "file")) for a in ticket.attachments) or "nothing"
        return [kit.section(f"_No text; attached: {files}_")]
    section = kit.section(escape_mrkdwn(ticket.description))
    if not description_is_cut(ticket):
        return [section]
    note = f"_Cut to fit: the full text ({len(ticket.description):,} characters) is attached in the thread._"
    return [section, kit.context(note)]


def ticket_card(
    ticket: Ticket, *, escalation: Escalation | None = None, suggestions: Sequence[Suggestion] = ()
) -> Message:
    """The one card a ticket has in the triage channel: with its escalation, if a tier has it, and
    what the escalation matrix suggests."""
    emoji = PRIORITY_EMOJI.get(ticket.priority, "")
    blocks: list[Block] = [
        kit.header(f"{ticket.ref} · {ticket.title}"),
        kit.fields(
            [
                ("Priority", f"{emoji} {ticket.priority}"),
                ("Status", ticket.status),
                ("Owner", kit.user(ticket.owner_id)),
                ("Requester", kit.user(ticket.requester_id, empty="—")),
                ("Customer", _customer(ticket)),
                ("Category", escape_mrkdwn(ticket.category or "—")),
                ("First response", sla_state(ticket, "first_response")),
                ("Resolution", sla_state(ticket, "resolution")),
            ]
        ),
        *_description_blocks(ticket),
        *_escalation_blocks(ticket, escalation, suggestions),
        kit.context(*_card_context(ticket)),
        _card_actions(ticket),
    ]
    return {"text": _fallback_text(ticket), "blocks": blocks}


def _escalation_blocks(ticket: Ticket, escalation: Escalation | None, suggestions: Sequence[Suggestion]) -> list[Block]:
    blocks: list[Block] = []
    if escalation is not None:
        by = "the escalation matrix" if escalation.escalated_by == "frontline" else f"<@{escalation.escalated_by}>"
        state = (
            f"acknowledged by <@{escalation.acknowledged_by}>"
            if escalation.acknowledged_by
            else "awaiting acknowledgement"
        )
        where = f" in <#{escalation.card_channel}>" if escalation.card_channel else ""
        blocks.append(kit.context(f":arrow_double_up: Escalated to {escalation.tier} by {by}{where} · {state}"))
    open_ = ticket.status not in {"SOLVED", "CLOSED"}
    for trigger in suggestions:
        if not open_ or escalation is not None:
            continue
        blocks.append(kit.section(f":vertical_traffic_light: *Suggested:* {kit.reason(trigger.reason)}"))
        tier = trigger.tier
        value = f"{ticket.number}:{tier}:{trigger.trigger}"
        button = kit.button("escalate_suggested", f"Escalate to {tier}", value)
        blocks.append({"type": "actions", "block_id": f"suggestion_{trigger.trigger}", "elements": [button]})
    return blocks[:6]


PRIORITY_NAMES = {"P0": "P0 · critical", "P1": "P1 · high", "P2": "P2 · normal", "P3": "P3 · low"}


def _priority_option(ticket_number: int, priority: str) -> Block:
    return {"text": {"type": "plain_text", "text": PRIORITY_NAMES[priority]}, "value": f"{ticket_number}:{priority}"}


def _card_actions(ticket: Ticket) -> Block:
    """Take · Pending · Solve (or Reopen once solved or closed) and the priority select."""
    value = str(ticket.number)
    if ticket.status in {"SOLVED", "CLOSED"}:
        buttons = [kit.button("ticket_reopen", "Reopen", value)]
    else:
        buttons = [
            kit.button("ticket_take", "Take", value),
            kit.button("ticket_pending", "Pending", value),
            kit.button("ticket_solve", "Solve", value, style="primary"),
            kit.button("ticket_escalate", "Escalate", value),
            kit.button("ticket_bug", "Report bug", value),
        ]
    select: Block = {
        "type": "static_select",
        "action_id": "ticket_priority",
        "placeholder": {"type": "plain_text", "text": "Priority"},
        "options": [_priority_option(ticket.number, priority) for priority in PRIORITY_NAMES],
    }
    if ticket.priority in PRIORITY_NAMES:
        select["initial_option"] = _priority_option(ticket.number, ticket.priority)
    return {"type": "actions", "block_id": "ticket_actions", "elements": [*buttons, select]}


def _card_context(ticket: Ticket) -> list[str]:
    lines = [f"Priority reason: {kit.reason(ticket.priority_reason or '—')}"]
    source = f"<{ticket.source_permalink}|source message>" if ticket.source_permalink else ticket.source_kind
    lines.append(f"Opened {slack_date(ticket.created_at)} by {kit.user(ticket.created_by, empty='—')} via {source}")
    return lines


INVITE_HINT = "I'm not in this channel: `/invite @Frontline` here to get this ticket's updates in it."


def created_confirmation(ticket: Ticket, triage_channel: str | None, *, bot_absent: bool = False) -> Message:
    where = (
        f" · card in {kit.channel(triage_channel)}"
        if triage_channel
        else " · no card posted: `channels.triage` is not set in frontline.yaml"
    )
    text = (
        f"Created *{ticket.ref}* · {ticket.priority} ({kit.reason(ticket.priority_reason)}){where}\n"
        f">{escape_mrkdwn(truncate(ticket.title, 500))}"
    )
    if bot_absent:
        text += f"\n{INVITE_HINT}"
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text)]}


def ticket_detail(ticket: Ticket) -> Message:
    """`/ticket show`: everything about one ticket, for the asker only."""
    fields = [
        ("Status", ticket.status),
        ("Priority", f"{ticket.priority} — {kit.reason(ticket.priority_reason)}"),
        ("Owner", kit.user(ticket.owner_id)),
        ("Requester", kit.user(ticket.requester_id, empty="—")),
        ("Customer", _customer(ticket)),
        ("Created", slack_date(ticket.created_at)),
        ("First response", sla_state(ticket, "first_response")),
        ("Resolution", sla_state(ticket, "resolution")),
    ]
    blocks = [kit.header(f"{ticket.ref} · {ticket.title}"), kit.fields(fields), *_description_blocks(ticket)]
    if ticket.card_channel and ticket.card_ts:
        blocks.append(kit.context(f"Card in {kit.channel(ticket.card_channel)}"))
    return {"text": _fallback_text(ticket), "blocks": blocks}


def _list_line(ticket: Ticket) -> str:
    due = ticket.first_response_due if ticket.first_responded_at is None else ticket.resolution_due
    owner = kit.user(ticket.owner_id, empty="unassigned")
    title = escape_mrkdwn(truncate(ticket.title, 80))
    return f"*{ticket.ref}* · {ticket.priority} · {ticket.status} · {owner} · due {slack_date(due)} — {title}"


def ticket_list(tickets: list[Ticket], *, total: int, page: int, page_size: int) -> Message:
    """`/ticket list`: one line per ticket, most urgent first, with where this page stands."""
    if not tickets:
        text = "No tickets match." if page == 1 else f"No tickets on page {page} (there are {total})."
        return {"text": text, "blocks": [kit.section(text)]}
    first = (page - 1) * page_size + 1
    heading = f"{total} ticket{'s' if total != 1 else ''} · {first}–{first + len(tickets) - 1}"
    more = f" · next: `page {page + 1}`" if first + len(tickets) - 1 < total else ""
    lines = "\n".join(_list_line(ticket) for ticket in tickets)
    return {
        "text": truncate(f"{heading}\n{lines}", TEXT_MAX),
        "blocks": [kit.context(heading + more), kit.section(lines)],
    }


HISTORY_MAX = 40


def _history_value(field: str, value: str | None) -> str:
    if value is None:
        return "—"
    if field.endswith(("_at", "_due")):
        try:
            return slack_date(datetime.fromisoformat(value))
        except ValueError:
            pass
    return kit.reason(value) if field == "priority_reason" else escape_mrkdwn(value)


def _actor(actor: str) -> str:
    return kit.user(actor) if actor[:1] in {"U", "W"} else escape_mrkdwn(actor.capitalize())


def _history_line(event: AuditEvent, *, show_notes: bool) -> str:
    when, who = slack_date(event.at), _actor(event.actor)
    if event.action == "created":
        return f"{when} · {who} opened it ({kit.reason(event.after or '')})"
    if event.field == "note":
        # A note's text is already mrkdwn (we wrote it); it is for agents only.
        return f"{when} · {event.after}" if show_notes else f"{when} · {who} added an internal note"
    what = escape_mrkdwn(event.field or event.action)
    before, after = _history_value(what, event.before), _history_value(what, event.after)
    return truncate(f"{when} · {who} · {what}: {before} → {after}", 600)


def ticket_history(ticket: Ticket, events: list[AuditEvent], *, show_notes: bool = False) -> Message:
    """`/ticket history`: every change, oldest first (the latest HISTORY_MAX when there are more)."""
    shown = events[-HISTORY_MAX:]
    heading = f"History of {ticket.ref} · {len(events)} change{'s' if len(events) != 1 else ''}"
    if len(events) > len(shown):
        heading += f" (the latest {len(shown)})"
    lines = "\n".join(_history_line(event, show_notes=show_notes) for event in shown) or "No changes yet."
    return {"text": heading, "blocks": [kit.context(heading), kit.section(lines)]}


def _home_section(title: str, tickets: list[Ticket], empty: str) -> list[Block]:
    body = "\n".join(_list_line(ticket) for ticket in tickets) or f"_{empty}_"
    return [kit.header(title), kit.section(body)]


def home_view(*, mine: list[Ticket], at_risk: list[Ticket], unassigned: list[Ticket]) -> dict[str, Any]:
    """The App Home tab: your open tickets by urgency, then the team's at-risk and unassigned."""
    return {
        "type": "home",
        "blocks": [
            *_home_section("Your queue", mine, "Nothing assigned to you."),
            {"type": "divider"},
            *_home_section("At risk (due within the hour or overdue)", at_risk, "Nothing at risk."),
            {"type": "divider"},
            *_home_section("Unassigned", unassigned, "Every open ticket has an owner."),
            kit.context("Most urgent first. `/ticket list` for more; `/ticket help` for what you can do."),
        ],
    }


def requester_home_view(requests: list[Ticket]) -> dict[str, Any]:
    """The App Home tab of someone outside the support team: the tickets they asked for."""
    return {
        "type": "home",
        "blocks": [
            *_home_section("Your requests", requests, "No open requests. `/ticket <text>` asks for help."),
            kit.context("Open requests you asked for or opened, most urgent first. `/ticket show T-42` for one."),
        ],
    }


HELP_TEXT = "\n".join(
    [
        "*/ticket* — support tickets",
        "• `/ticket <text>` create a ticket. Hints: `customer:acme` `users:250` anywhere;"
        " `P1` `@owner` at the start or end",
        "   e.g. `/ticket Checkout returns 500 for all EU users customer:acme users:300`",
        "• `/ticket show T-42` everything about one ticket · `/ticket history T-42` every change",
        "• `/ticket list [mine] [open|all] [breaching] [P0-P3] [@person] [customer:acme] [page 2]`",
        "• `/ticket take T-42` · `/ticket assign T-42 @person` (someone else's ticket: leads)",
        "• `/ticket pending|solve|close|reopen T-42` · `/ticket status T-42 open|pending|solved|closed`",
        "• `/ticket solve T-42 documentation_gap [agent_resolved]` or `/ticket cause T-42 …` records why it"
        " happened (the weekly voice of the customer counts root causes)",
        "• `/ticket priority T-42 P1` (someone else's ticket: leads) · `/ticket tag T-42 billing vip`",
        "• `/ticket note T-42 <text>` an internal note in the card's thread ·"
        " `/ticket customer T-42 acme` name the customer (tier and ARR then count)",
        "• `/ticket escalate T-42 [L2|L3|management]` the handoff form · add what was tried to post at once:"
        " `/ticket escalate T-42 L2 restarted the sync, same error`",
        "• `/ticket deescalate T-42 [why]` back to L1 and its owner",
        "• `/ticket bug T-42` file a bug from a ticket (a form) · `/ticket link T-43 BUG-7` link another ticket to it",
        "• `/ticket bug BUG-7` the bug and its tickets · `/ticket bug BUG-7 resolve` (L3, leads, admins)"
        " · `/ticket bug BUG-7 notify` tell every linked ticket's requester it is fixed",
        "• `/ticket help` this list",
    ]
)


def help_message() -> Message:
    return {"text": HELP_TEXT, "blocks": [kit.section(HELP_TEXT)]}


def info_message(text: str) -> Message:
    """A short answer for one person; `text` is mrkdwn we wrote (user parts already escaped)."""
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text)]}


def error_message(text: str) -> Message:
    body = f":warning: {text}"
    return {"text": truncate(body, TEXT_MAX), "blocks": [kit.section(body)]}


# --- SLA nudges and stage timers --------------------------------------------------------------------

CLOCK_LABELS = {"first_response": "first response", "resolution": "resolution"}


def ticket_line(ticket: Ticket) -> str:
    return f"*{ticket.ref}* · {ticket.priority} · {ticket.status} — {escape_mrkdwn(truncate(ticket.title, 200))}"


def work_buttons(ticket: Ticket) -> Block:
    """One-click actions on a notification: the card's own buttons, handled the same way."""
    value = str(ticket.number)
    buttons = [kit.button("ticket_take", "Take", value)] if ticket.owner_id is None else []
    buttons += [
        kit.button("ticket_pending", "Pending", value),
        kit.button("ticket_solve", "Solve", value, style="primary"),
    ]
    return {"type": "actions", "block_id": "ticket_actions", "elements": buttons}


def sla_warning(ticket: Ticket, *, clock: str, fraction: float, left: str, due: datetime | None) -> Message:
    """A pre-breach nudge: to the owner by DM, or to triage while nobody owns the ticket."""
    who = "" if ticket.owner_id else " · nobody owns it yet"
    head = (
        f":hourglass_flowing_sand: {ticket.ref}'s {CLOCK_LABELS[clock]} is {fraction:.0%} through its target: "
        f"{left} left (due {slack_date(due)}){who}"
    )
    text = f"{head}\n{ticket_line(ticket)}"
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text), work_buttons(ticket)]}


def sla_breach(ticket: Ticket, *, clock: str, leads: list[str], due: datetime | None) -> Message:
    """At breach: the owner, the escalation channel and the leads are told."""
    owner = kit.user(ticket.owner_id, empty="nobody (unassigned)")
    leads_line = ", ".join(f"<@{lead}>" for lead in leads) or "no leads configured (roles.leads)"
    text = (
        f":rotating_light: {ticket.ref} breached its {CLOCK_LABELS[clock]} SLA (due {slack_date(due)}).\n"
        f"{ticket_line(ticket)}\nOwner: {owner} · Leads: {leads_line}"
    )
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text), work_buttons(ticket)]}


def unassigned_ping(ticket: Ticket, *, waited: str) -> Message:
    text = f":wave: {ticket.ref} has waited {waited} with nobody on it.\n{ticket_line(ticket)}"
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text), work_buttons(ticket)]}


def pending_warning(ticket: Ticket, *, waited: str, closes_in: str) -> Message:
    """To the requester: we are waiting on them, and the ticket closes without a reply."""
    text = (
        f"We're still waiting on your reply about {ticket.ref} ({escape_mrkdwn(truncate(ticket.title, 200))}) "
        f"after {waited}. Without a reply here it closes in {closes_in}; you can always reopen it."
    )
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text)]}


def sla_policy(config: FrontlineConfig) -> Message:
    """`/support sla`: the targets, calendars, nudges and stage timers in force."""
    hours = config.business_hours
    days = ", ".join(day.capitalize() for day in hours.days)
    holidays = [f"{hours.holidays.country} public holidays"] if hours.holidays.country else []
    extra = sorted(hours.holidays.extra)
    if extra:
        more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""
        holidays.append(", ".join(day.isoformat() for day in extra[:5]) + more)
    business = f"{days} {hours.start:%H:%M}–{format_closing_time(hours.end)} {hours.timezone}" + (
        f", closed on {' and '.join(holidays)}" if holidays else ""
    )
    rows = []
    for priority in ("P0", "P1", "P2", "P3"):
        target = getattr(config.sla, priority)
        # Business targets in working hours: "resolution 1d" read as a day, but meant 24 working hours.
        spell, calendar = (format_duration, "24x7") if target.calendar == "24x7" else (format_hours, "business hours")
        rows.append(
            f"{PRIORITY_EMOJI[priority]} *{priority}* · first response {spell(target.first_response)}"
            f" · resolution {spell(target.resolution)} · {calendar}"
        )
    warn = ", ".join(f"{fraction:.0%}" for fraction in config.sla.warn_at) or "never"
    stages = config.lifecycle
    text = "\n".join(
        [
            "*SLA policy in force*",
            *rows,
            f"Business hours: {business}.",
            f"Owners are nudged at {warn} of a target; at breach the owner, the L2 channel and the leads are told.",
            "PENDING pauses both clocks; the requester's reply resumes them; a priority change keeps the time used.",
            f"Stage timers: NEW and unassigned {format_duration(stages.new_unassigned)} → ping triage · PENDING "
            f"{format_duration(stages.pending_warn)} → warn the requester, closed "
            f"{format_duration(stages.pending_close_grace)} later · SOLVED {format_duration(stages.solved_close)} "
            "→ closed.",
        ]
    )
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text)]}
