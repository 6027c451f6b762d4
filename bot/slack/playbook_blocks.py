"""Block Kit for playbook runs and incidents: the run's card, one message per step (Done · Skip or
the decision's buttons), reminders, the finishing summary, and the incident's announcement.
Pure functions of a `RunView`.

The playbook's own words (titles, instructions, templates) come from files the team reviewed and
are shown as mrkdwn; everything a person typed (a run's title, an update) is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.durations import format_duration
from bot.core.playbooks import Event, Playbook, Run, Step, responsible
from bot.core.text import escape_mrkdwn, truncate
from bot.slack import kit
from bot.slack.kit import SECTION_MAX, TEXT_MAX, Block, Message, slack_date

__all__ = [
    "CHOOSE",
    "DONE",
    "INCIDENT_NOTIFY",
    "INCIDENT_RESOLVE",
    "INCIDENT_SEVERITY",
    "REPLY",
    "SKIP",
    "SLACK_TIMELINE",
    "IncidentView",
    "RunView",
    "TimelineStyle",
    "incident_card",
    "playbook_list",
    "reminder",
    "run_card",
    "run_status",
    "step_message",
    "summary",
    "timeline_lines",
]

DONE, SKIP, CHOOSE, REPLY = "playbook_done", "playbook_skip", "playbook_choose", "playbook_reply"
INCIDENT_RESOLVE, INCIDENT_NOTIFY, INCIDENT_SEVERITY = "incident_resolve", "incident_notify", "incident_severity"
MAX_BLOCKS = 50
_MARK = {
    "done": ":white_check_mark:",
    "skipped": ":fast_forward:",
    "current": ":arrow_forward:",
    "waiting": ":white_large_square:",
}


@dataclass(frozen=True)
class IncidentView:
    ref: str  # INC-&lt;n&gt;
    severity: str
    status: str  # open | resolved
    channel: str | None  # its own channel, once created
    channel_name: str
    last_update: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    notified_by: str | None = None
    notified_at: datetime | None = None


@dataclass(frozen=True)
class RunView:
    """A run as the renderers need it."""

    id: int
    title: str  # typed by a person: escaped when shown
    playbook: Playbook
    run: Run
    tickets: tuple[tuple[str, str], ...] = ()  # (T-&lt;n&gt;, title) of each linked ticket
    incident: IncidentView | None = None
    reminders_off: str | None = None
    leads: tuple[str, ...] = ()  # who answers for a `lead` step nobody holds

    @property
    def name(self) -> str:
        """What people call the run: the incident's id, or the playbook and the run's number."""
        return self.incident.ref if self.incident else f"{self.playbook.title} (run {self.id})"

    def step_number(self, step: Step) -> str:
        return f"{self.playbook.steps.index(step) + 1}/{len(self.playbook.steps)}"


def _title(view: RunView) -> str:
    return escape_mrkdwn(truncate(view.title, 200))


# --------------------------------------------------------------------------------------------
# A step
# --------------------------------------------------------------------------------------------


def step_message(view: RunView, step_id: str) -> Message:
    """The step as it stands: with its buttons while it is current, with who did it once it is not."""
    step = view.playbook.step(step_id)
    state = view.run.state(step_id)
    owner = responsible(view.playbook, view.run, step.owner, leads=view.leads)
    due = f" · due {slack_date(state.due_at)}" if state.due_at and step.due else ""
    blocks: list[Block] = [
        kit.header(f"Step {view.step_number(step)} · {step.title}"),
        kit.context(f"{escape_mrkdwn(view.name)} · *{step.owner}*: <@{owner}>{due}"),
        kit.section(step.instructions),
    ]
    if step.message:
        quoted = "\n".join(f">{line}" for line in step.message.splitlines() or [""])
        blocks.append(kit.section(f"*Message to post:*\n{quoted}"))
    if step.never:
        blocks.append(kit.context(":no_entry: *Never:* " + " · ".join(step.never)))
    current = view.run.running and view.run.current == step_id
    if current:
        blocks.append(_step_actions(view, step, state.visits))
    elif state.status in {"done", "skipped"} and state.by:
        chose = _choice_of(view.run, step_id)
        what = f"chose *{escape_mrkdwn(chose)}*" if chose else state.status
        what = what if chose else what.capitalize()
        blocks.append(kit.context(f"{_MARK[state.status]} {what} by <@{state.by}> · {slack_date(state.ended_at)}"))
    elif not view.run.running:
        blocks.append(kit.context(":checkered_flag: The run finished before this step."))
    text = f"{view.name} · step {view.step_number(step)}: {step.title}"
    return {"text": truncate(text, TEXT_MAX), "blocks": blocks}


def _step_actions(view: RunView, step: Step, visit: int) -> Block:
    value = f"{view.id}:{step.id}:{visit}"
    if step.decision:
        elements = [
            kit.button(f"{CHOOSE}:{index}", choice.label, f"{value}:{index}")
            for index, choice in enumerate(step.decision)
        ]
    else:
        elements = [kit.button(DONE, "Done", value, style="primary"), kit.button(SKIP, "Skip", value)]
    if step.message and len(view.tickets) == 1:
        # The template goes to the run's ticket through the reply form: the bracketed parts are
        # written before it can be sent.
        ref = view.tickets[0][0]
        elements.append(kit.button(REPLY, f"Reply on {ref}", f"{ref}:{view.id}:{step.id}"))
    return {"type": "actions", "block_id": f"playbook_step:{step.id}", "elements": elements}


def _choice_of(run: Run, step_id: str) -> str | None:
    chosen = [event.detail for event in run.timeline if event.what == "chose" and event.step == step_id]
    return chosen[-1] if chosen else None


# --------------------------------------------------------------------------------------------
# The run's card, reminders, status
# --------------------------------------------------------------------------------------------


def run_card(view: RunView) -> Message:
    run = view.run
    state = "finished" if not run.running else "running"
    facts = [
        ("Playbook", escape_mrkdwn(view.playbook.title)),
        ("Status", state + (f" · {slack_date(run.finished_at)}" if run.finished_at else "")),
        ("Started", f"{slack_date(run.started_at)} by <@{run.timeline[0].by}>"),
        ("Roles", _roles(view) or "—"),
    ]
    if view.tickets:
        facts.append(("Linked tickets", _ticket_refs(view.tickets)))
    blocks: list[Block] = [
        kit.header(f"{view.name} · {view.title}"),
        kit.fields(facts),
        kit.section(_progress(view)),
    ]
    if view.reminders_off:
        blocks.append(kit.context(f":mute: Reminders stopped: {escape_mrkdwn(view.reminders_off)}"))
    return {"text": truncate(f"{view.name} · {_title(view)} ({state})", TEXT_MAX), "blocks": blocks}


def _roles(view: RunView) -> str:
    return " · ".join(f"{role}: <@{user}>" for role, user in view.run.roles)


def _ticket_refs(tickets: Sequence[tuple[str, str]]) -> str:
    shown = ", ".join(f"*{ref}* {escape_mrkdwn(truncate(title, 60))}" for ref, title in tickets[:15])
    return shown + (f" … and {len(tickets) - 15} more" if len(tickets) > 15 else "")


def _progress(view: RunView) -> str:
    lines = []
    for step in view.playbook.steps:
        state = view.run.state(step.id)
        who = f" · <@{state.by}>" if state.by and state.status in {"done", "skipped"} else ""
        lines.append(f"{_MARK[state.status]} {step.title}{who}")
    return truncate("\n".join(lines), SECTION_MAX)


def reminder(view: RunView, step: Step, *, kind: str, last: datetime | None, now: datetime) -> Message:
    """A step came due (`kind` "due") or its recurring work is due again ("repeat"; `last`: when it
    was last done or reminded)."""
    state = view.run.state(step.id)
    owner = responsible(view.playbook, view.run, step.owner, leads=view.leads)
    if kind == "repeat":
        text = f":repeat: <@{owner}> {escape_mrkdwn(view.name)}: *{step.title}* is due again"
        text += f" (the last one was {_ago(last, now)})." if last else "."
        if step.reset_by_update and view.incident:
            text += " `/incident update &lt;text&gt;` posts one and resets this reminder."
    else:
        text = f":alarm_clock: <@{owner}> {escape_mrkdwn(view.name)}: *{step.title}* is due {slack_date(state.due_at)}."
        if state.status == "current":
            text += " Mark it Done or Skip on the step's message."
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text)]}


def _ago(then: datetime, now: datetime) -> str:
    gap = max(now - then, timedelta(0))
    return "just now" if gap < timedelta(minutes=1) else f"{format_duration(gap)} ago"


def run_status(views: Sequence[RunView]) -> Message:
    """`/playbook status`: every run asked about, with its current step."""
    if not views:
        return {"text": "No playbook is running. `/playbook list` shows them; `/playbook run &lt;name&gt;` starts one."}
    lines = []
    for view in views[:20]:
        current = view.playbook.step(view.run.current) if view.run.current else None
        where = f"step {view.step_number(current)}: *{current.title}*" if current else "finished"
        if current:
            owner = responsible(view.playbook, view.run, current.owner, leads=view.leads)
            where += f" ({current.owner}: <@{owner}>, due {slack_date(view.run.state(current.id).due_at)})"
        lines.append(f"• *{escape_mrkdwn(view.name)}* · {_title(view)} · {where}")
    text = "\n".join(lines)
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text)]}


def playbook_list(playbooks: Mapping[str, Playbook]) -> Message:
    lines = [
        f"• `{name}` · *{playbook.title}* ({len(playbook.steps)} steps): {truncate(playbook.description, 200)}"
        for name, playbook in sorted(playbooks.items())
    ]
    text = "Playbooks (`/playbook run &lt;name&gt; [T-42|&lt;title&gt;]`):\n" + "\n".join(lines)
    return {"text": truncate(text, TEXT_MAX), "blocks": [kit.section(text)]}


# --------------------------------------------------------------------------------------------
# The summary: timeline, durations, who did what, linked tickets
# --------------------------------------------------------------------------------------------


def _mention(user: str) -> str:
    return f"<@{user}>"


def _slack_text(text: str) -> str:
    return escape_mrkdwn(truncate(text, 300))


@dataclass(frozen=True)
class TimelineStyle:
    """How a timeline line writes a person, a person's words and each kind of event's mark. The
    defaults are Slack's (mentions, mrkdwn escaping, emoji codes); the Markdown export brings its own,
    so both walk the timeline the same way."""

    who: Callable[[str], str] = _mention
    text: Callable[[str], str] = _slack_text  # typed by a person (an update, a role's name): made safe
    marks: Mapping[str, str] = field(
        default_factory=lambda: {
            "done": _MARK["done"],
            "skipped": _MARK["skipped"],
            "chose": ":twisted_rightwards_arrows:",
            "update": ":loudspeaker:",
            "role": ":bust_in_silhouette:",
            "moved": ":calendar:",
            "finished": ":checkered_flag:",
        }
    )


SLACK_TIMELINE = TimelineStyle()


def timeline_lines(view: RunView, *, at: Callable[[datetime], str], style: TimelineStyle = SLACK_TIMELINE) -> list[str]:
    """One line per event worth reading (reminders are counted, not listed), each starting with its
    time as `at` writes it; a step's line says how long it took from the moment it became current."""
    lines: list[str] = []
    became_current = view.run.started_at
    for event in view.run.timeline:
        line = _event_line(view, event, since=became_current, style=style)
        if event.what in {"done", "skipped", "chose"}:
            became_current = event.at
        if line:
            lines.append(f"{at(event.at)} {line}")
    return lines


def _event_line(view: RunView, event: Event, *, since: datetime, style: TimelineStyle) -> str | None:
    who, text, mark = style.who(event.by), style.text, style.marks
    step = view.playbook.step(event.step) if event.step else None
    took = f" ({format_duration(event.at - since)})" if event.at > since else ""
    match event.what:
        case "started":
            return f"Started by {who}"
        case "done" if step:
            return f"{mark['done']} {step.title}: {who}{took}"
        case "skipped" if step:
            why = f" ({text(event.detail)})" if event.detail else ""
            return f"{mark['skipped']} {step.title}: skipped by {who}{why}{took}"
        case "chose" if step:
            return f"{mark['chose']} {step.title}: {who} chose *{text(event.detail)}*{took}"
        case "update":
            return f"{mark['update']} Update by {who}: {text(event.detail)}"
        case "role":
            role, _, user = event.detail.partition("=")
            return f"{mark['role']} {style.who(user.split(' ')[0])} is {text(role)} (set by {who})"
        case "moved" if step:
            return f"{mark['moved']} {step.title}: due time moved by {who}"
        case "finished":
            return f"{mark['finished']} Finished by {who} · {format_duration(event.at - view.run.started_at)} in all"
        case "resolved":
            after = format_duration(event.at - view.run.started_at)
            return f"{mark['finished']} Resolved by {who} · {after} after the start"
        case "reminded":
            return None
        case _:
            return f"{text(event.what.capitalize())} by {who}: {text(event.detail)}"


def summary(view: RunView) -> Message:
    """Posted when the run finishes."""
    run = view.run
    end = run.finished_at or run.timeline[-1].at
    multi_day = (end - run.started_at) >= timedelta(hours=20) or end.date() != run.started_at.date()
    fmt = "{date_short} {time}" if multi_day else "{time}"

    def at(moment: datetime) -> str:
        fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC" if multi_day else "%H:%M UTC")
        return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"  # not in code: Slack would not render it

    reminders = sum(1 for event in run.timeline if event.what == "reminded")
    done = [s for s in run.steps if s.status == "done"]
    skipped = [s for s in run.steps if s.status == "skipped"]
    facts = [
        ("Duration", format_duration(end - run.started_at)),
        (
            "Steps",
            f"{len(done)} done · {len(skipped)} skipped · {len(run.steps) - len(done) - len(skipped)} not reached",
        ),
        ("Roles", _roles(view) or "—"),
        ("Reminders sent", str(reminders)),
    ]
    if view.tickets:
        facts.append(("Linked tickets", _ticket_refs(view.tickets)))
    blocks: list[Block] = [kit.header(f"Summary · {view.name} · {view.title}"), kit.fields(facts)]
    blocks += _chunked(timeline_lines(view, at=at), room=MAX_BLOCKS - len(blocks))
    text = f"{view.name} finished after {format_duration(end - run.started_at)}: summary and timeline."
    return {"text": truncate(text, TEXT_MAX), "blocks": blocks}


def _chunked(lines: list[str], *, room: int) -> list[Block]:
    """Lines as sections of at most Block Kit's section length; past `room` blocks, a last one says
    how many lines were left out."""
    blocks: list[Block] = []
    chunk: list[str] = []
    for index, whole in enumerate(lines):
        line = truncate(whole, 1000)
        if sum(len(x) + 1 for x in chunk) + len(line) > SECTION_MAX - 100:
            if len(blocks) == room - 1:
                blocks.append(kit.context(f"… {len(lines) - index} more lines in the export."))
                return blocks
            blocks.append(kit.section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(kit.section("\n".join(chunk)))
    return blocks


# --------------------------------------------------------------------------------------------
# The incident's announcement in channels.incidents
# --------------------------------------------------------------------------------------------


def incident_card(view: RunView) -> Message:
    incident = view.incident
    assert incident is not None
    where = f"<#{incident.channel}>" if incident.channel else f"#{incident.channel_name} (being created)"
    resolved = incident.status == "resolved"
    facts = [
        (
            "Status",
            f":white_check_mark: resolved by <@{incident.resolved_by}> {slack_date(incident.resolved_at)}"
            if resolved
            else ":red_circle: open",
        ),
        ("Severity", incident.severity),
        ("Channel", where),
        ("Roles", _roles(view) or "—"),
        ("Started", f"{slack_date(view.run.started_at)} by <@{view.run.timeline[0].by}>"),
        ("Linked tickets", _ticket_refs(view.tickets) if view.tickets else "none yet (`/incident link T-42`)"),
    ]
    blocks: list[Block] = [kit.header(f"{incident.ref} · {view.title}"), kit.fields(facts)]
    if incident.last_update:
        blocks.append(kit.section(f"*Latest update:* {escape_mrkdwn(truncate(incident.last_update, 2500))}"))
    if not resolved:
        blocks.append(
            {
                "type": "actions",
                "block_id": "incident_actions",
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": INCIDENT_SEVERITY,
                        "placeholder": {"type": "plain_text", "text": "Severity"},
                        "initial_option": _severity_option(incident.severity),
                        "options": [_severity_option(s) for s in ("P0", "P1", "P2", "P3")],
                    },
                    kit.button(INCIDENT_RESOLVE, "Resolve", incident.ref, style="danger"),
                ],
            }
        )
    elif view.tickets and incident.notified_at is None:
        blocks.append(
            {
                "type": "actions",
                "block_id": "incident_actions",
                "elements": [kit.button(INCIDENT_NOTIFY, "Notify linked requesters", incident.ref, style="primary")],
            }
        )
    elif incident.notified_at is not None:
        told = f"<@{incident.notified_by}> {slack_date(incident.notified_at)}"
        blocks.append(kit.context(f":mailbox_with_mail: Linked requesters notified by {told}"))
    text = f"{incident.ref} · {_title(view)} · {incident.severity} · {'resolved' if resolved else 'open'}"
    return {"text": truncate(text, TEXT_MAX), "blocks": blocks}


def _severity_option(severity: str) -> Block:
    return {"text": {"type": "plain_text", "text": severity}, "value": severity}
