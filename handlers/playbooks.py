"""`/playbook` and `/incident`, the step messages' Done · Skip · decision buttons, the incident
announcement's severity select, Resolve and Notify buttons, and the incident start form.

Commands answer in the ack (the services only touch the database; Slack hears the rest through the
outbox). A button's refusal or answer goes to the clicker alone."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.context import Deps
from bot.core.incidents import SEVERITIES
from bot.core.permissions import PermissionDeniedError
from bot.core.playbook_command import (
    INCIDENT_HELP,
    PLAYBOOK_HELP,
    AssignRole,
    Help,
    IncidentCommand,
    LinkTickets,
    ListPlaybooks,
    OpenStartForm,
    PlaybookCommand,
    PlaybookStatus,
    ResolveIncident,
    RunPlaybook,
    SetSeverity,
    ShowIncident,
    StartIncident,
    UpdateIncident,
    UsageError,
    parse_incident_command,
    parse_playbook_command,
)
from bot.core.playbooks import Playbook, PlaybookError
from bot.core.refs import parse_id
from bot.core.text import decode_slack_text
from bot.services import incidents, playbook_runs
from bot.services.incidents import Ref
from bot.services.ticket_changes import TicketNotFoundError
from bot.slack import blocks, playbook_blocks
from bot.slack.modals import INCIDENT_START, incident_start_modal, reply_modal, submitted_values
from handlers.clicks import clicker, open_command_form, show_form, tell_clicker
from store import playbooks as store
from store.db import read_scope

__all__ = ["REFUSALS", "register"]

REFUSALS = (
    PlaybookError,
    PermissionDeniedError,
    TicketNotFoundError,
    playbook_runs.UnknownPlaybookError,
    playbook_runs.RunNotFoundError,
    incidents.IncidentNotFoundError,
)


def register(app: App, deps: Deps) -> None:
    _register_commands(app, deps)
    _register_step_buttons(app, deps)
    _register_reply_button(app, deps)
    _register_incident_buttons(app, deps)
    _register_start_form(app, deps)


def _register_commands(app: App, deps: Deps) -> None:
    @app.command("/playbook")
    def playbook_command(ack: Ack, command: dict[str, Any]) -> None:
        parsed = parse_playbook_command(command.get("text") or "")
        try:
            answer = _playbook(deps, parsed, command)
        except REFUSALS as error:
            answer = blocks.error_message(str(error))
        ack(response_type="ephemeral", **answer)

    def incident_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        parsed = parse_incident_command(command.get("text") or "")
        if isinstance(parsed, AssignRole) and parsed.user == context.bot_user_id:
            ack(response_type="ephemeral", **blocks.error_message("I can't hold an incident role: name a person."))
            return
        if isinstance(parsed, OpenStartForm):
            try:
                playbook_runs.check_may_run(deps.policy, str(command.get("user_id") or ""), "start incidents")
            except PermissionDeniedError as error:
                ack(response_type="ephemeral", **blocks.error_message(str(error)))
                return
            ack()  # the form opens in `open_start_form`, once this answer has gone out
            return
        try:
            answer = _incident(deps, parsed, command)
        except REFUSALS as error:
            answer = blocks.error_message(str(error))
        ack(response_type="ephemeral", **answer)

    def open_start_form(command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        # A lazy listener, after the ack (see `/ticket`'s form).
        if not isinstance(parse_incident_command(command.get("text") or ""), OpenStartForm):
            return
        if not deps.policy.is_supervisor(str(command.get("user_id") or "")):  # refused in the ack
            return
        view = incident_start_modal(default_severity=deps.policy.config.incidents.default_severity)
        open_command_form(client, command, view, respond, otherwise="Try again, or `/incident start <what is broken>`.")

    app.command("/incident")(ack=incident_command, lazy=[open_start_form])


def _register_step_buttons(app: App, deps: Deps) -> None:
    @app.action(re.compile(rf"^({playbook_blocks.DONE}|{playbook_blocks.SKIP}|{playbook_blocks.CHOOSE}:[0-9])$"))
    def on_step_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        # Values we wrote: run id, step id, visit[, choice]. Anything else (forged, or digits Python
        # reads but the database cannot hold) is ignored.
        value = re.fullmatch(
            r"([1-9][0-9]{0,8}):([a-z][a-z0-9_-]{0,39}):([0-9]{1,6})(?::([0-4]))?", str(action.get("value", ""))
        )
        user = clicker(body)
        if value is None or not user:
            return
        parts = [value.group(1), value.group(2), value.group(3)]
        kind = str(action.get("action_id", ""))
        choice = int(value.group(4)) if value.group(4) is not None else None
        action_name = "done" if kind == playbook_blocks.DONE else "skip" if kind == playbook_blocks.SKIP else "choose"
        try:
            answer = playbook_runs.act(
                deps.engine, deps.policy, run_id=int(parts[0]), step_id=parts[1][:40], visit=int(parts[2]),
                action=action_name, choice=choice, actor=user, now=deps.clock(),
            )  # fmt: skip
        except REFUSALS as error:
            answer = f":warning: {error}"
        tell_clicker(deps, body, action, answer)


def _register_reply_button(app: App, deps: Deps) -> None:
    def ack_now(ack: Ack) -> None:
        ack()

    def open_reply(body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """After the ack (a lazy listener): the step's template in the reply form for the run's ticket."""
        ref, _, rest = str(action.get("value", "")).partition(":")
        run_id, _, step_id = rest.partition(":")
        number = int(ref[2:]) if re.fullmatch(r"T-[1-9][0-9]{0,8}", ref) else None
        playbook = _playbook_of_run(deps, run_id)
        if number is None or playbook is None or step_id not in {s.id for s in playbook.steps}:
            return
        step = playbook.step(step_id)
        view = reply_modal(
            ticket_ref=ref, number=number, template=f"{playbook.name}:{step.id}", text=step.message or ""
        )
        show_form(deps, client, body, action, view)

    app.action(playbook_blocks.REPLY)(ack=ack_now, lazy=[open_reply])


def _playbook_of_run(deps: Deps, run_id: str) -> Playbook | None:
    number = parse_id(run_id)
    if number is None:
        return None
    with read_scope(deps.engine) as session:
        row = store.run_by_id(session, number)
    return deps.policy.playbooks.get(row.playbook) if row is not None else None


def _register_incident_buttons(app: App, deps: Deps) -> None:
    @app.action(re.compile(rf"^({playbook_blocks.INCIDENT_RESOLVE}|{playbook_blocks.INCIDENT_NOTIFY})$"))
    def on_incident_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        number, user = _incident_number(str(action.get("value", ""))), clicker(body)
        if number is None or not user:
            return
        ref, now = Ref(number=number), deps.clock()
        try:
            if action.get("action_id") == playbook_blocks.INCIDENT_RESOLVE:
                answer = incidents.resolve(deps.engine, deps.policy, ref=ref, actor=user, now=now)
            else:
                answer = incidents.notify_linked(deps.engine, deps.policy, ref=ref, actor=user, now=now)
        except REFUSALS as error:
            answer = f":warning: {error}"
        tell_clicker(deps, body, action, answer)

    @app.action(playbook_blocks.INCIDENT_SEVERITY)
    def on_severity(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        severity = str((action.get("selected_option") or {}).get("value", ""))
        number = _incident_number(_incident_of_message(body))
        user = clicker(body)
        if number is None or severity not in SEVERITIES or not user:
            return
        try:
            answer = incidents.set_severity(
                deps.engine, deps.policy, ref=Ref(number=number), severity=severity, actor=user, now=deps.clock()
            )
        except REFUSALS as error:
            answer = f":warning: {error}"
        tell_clicker(deps, body, action, answer)


def _register_start_form(app: App, deps: Deps) -> None:
    @app.view(INCIDENT_START)
    def on_start_form(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = {block: decode_slack_text(value) for block, value in submitted_values(view).items()}
        errors, numbers = _start_form_errors(values)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        try:
            incidents.start(
                deps.engine, deps.policy, title=values["title"].strip(), severity=values.get("severity"),
                ticket_numbers=numbers, actor=clicker(body), request_key=f"view:{view.get('id')}", now=deps.clock(),
            )  # fmt: skip
        except playbook_runs.DuplicateRequestError:
            pass  # a double submit: the first one started it and closed the form
        except REFUSALS as error:
            block = "tickets" if isinstance(error, TicketNotFoundError) else "title"
            ack(response_action="errors", errors={block: str(error)[:150]})
            return
        ack()


# --------------------------------------------------------------------------------------------


def _playbook(deps: Deps, parsed: PlaybookCommand, command: dict[str, Any]) -> dict[str, Any]:
    match parsed:
        case Help():
            return {"text": PLAYBOOK_HELP}
        case UsageError(message):
            return blocks.error_message(message)
        case ListPlaybooks():
            return playbook_blocks.playbook_list(deps.policy.playbooks)
        case PlaybookStatus():
            return _run_status(deps, str(command.get("channel_id") or ""))
        case RunPlaybook(name, ticket, title):
            started = playbook_runs.run_playbook(
                deps.engine, deps.policy, name=name, target=title, ticket_number=ticket,
                actor=str(command.get("user_id") or ""), channel=str(command.get("channel_id") or ""),
                request_key=f"command:{command.get('trigger_id', '')}", now=deps.clock(),
            )  # fmt: skip
            where = f" in <#{started.channel}>" if started.channel else ""
            return {"text": f"Started {started.name}{where}: its first step is posted there."}
    raise AssertionError(parsed)


def _run_status(deps: Deps, channel: str) -> dict[str, Any]:
    with read_scope(deps.engine) as session:
        rows = store.runs_in(session, channel) or store.running_runs(session)
        views = [
            playbook_runs.view_of(session, deps.policy, row) for row in rows if row.playbook in deps.policy.playbooks
        ]
    return playbook_blocks.run_status(views)


def _incident(deps: Deps, parsed: IncidentCommand, command: dict[str, Any]) -> dict[str, Any]:
    actor, channel, now = str(command.get("user_id") or ""), str(command.get("channel_id") or ""), deps.clock()

    def ref(number: int | None) -> Ref:
        return Ref(number=number, channel=channel)

    match parsed:
        case Help():
            return {"text": INCIDENT_HELP}
        case UsageError(message):
            return blocks.error_message(message)
        case StartIncident(title, severity, tickets):
            incident = incidents.start(
                deps.engine, deps.policy, title=title, severity=severity, ticket_numbers=tickets, actor=actor,
                request_key=f"command:{command.get('trigger_id', '')}", now=now,
            )  # fmt: skip
            announced = deps.policy.config.channels.incidents
            where = f"; announced in <#{announced}>" if announced else ""
            started = f"{incident.ref} started ({incident.severity}): creating #{incident.channel_name}{where}."
            return {"text": f"{started} You are its commander."}
        case UpdateIncident(number, text):
            return {
                "text": incidents.update(deps.engine, deps.policy, ref=ref(number), text=text, actor=actor, now=now)
            }
        case AssignRole(number, role, user):
            answer = incidents.assign_role(
                deps.engine, deps.policy, ref=ref(number), role=role, user=user, actor=actor, now=now
            )
            return {"text": answer}
        case ShowIncident(number):
            return incidents.status(deps.engine, deps.policy, ref=ref(number))
        case ResolveIncident(number):
            return {"text": incidents.resolve(deps.engine, deps.policy, ref=ref(number), actor=actor, now=now)}
        case LinkTickets(number, tickets):
            return {
                "text": incidents.link(deps.engine, deps.policy, ref=ref(number), numbers=tickets, actor=actor, now=now)
            }
        case SetSeverity(number, severity):
            answer = incidents.set_severity(
                deps.engine, deps.policy, ref=ref(number), severity=severity, actor=actor, now=now
            )
            return {"text": answer}
    raise AssertionError(parsed)


def _start_form_errors(values: dict[str, str]) -> tuple[dict[str, str], tuple[int, ...]]:
    parsed = parse_incident_command(f"start {values.get('title', '')} {values.get('tickets', '')}")
    errors: dict[str, str] = {}
    if not values.get("title", "").strip():
        errors["title"] = "Say what is broken."
    elif isinstance(parsed, UsageError):
        errors["title"] = parsed.message[:150]
    words = values.get("tickets", "").replace(",", " ").split()
    bad = [w for w in words if not re.fullmatch(r"(?:T-?)?[1-9][0-9]{0,8}", w, re.IGNORECASE)]
    if bad:
        errors["tickets"] = f"'{bad[0][:20]}' is not a ticket (use T-12 T-14)."
    if values.get("severity") not in SEVERITIES:
        errors["severity"] = "Choose P0, P1, P2 or P3."
    numbers = tuple(dict.fromkeys(int(re.sub(r"\D", "", w)) for w in words)) if not bad else ()
    return errors, numbers


def _incident_number(value: str) -> int | None:
    match = re.fullmatch(r"INC-([1-9][0-9]{0,8})", value)
    return int(match.group(1)) if match else None


def _incident_of_message(body: dict[str, Any]) -> str:
    """The incident a select on its announcement is for: the Resolve button beside it names it."""
    for block in (body.get("message") or {}).get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == playbook_blocks.INCIDENT_RESOLVE:
                return str(element.get("value", ""))
    return ""
