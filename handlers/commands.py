"""Slash commands. Each answers within Slack's 3 s with the ack itself; whatever else Slack must be
told (the ticket's card) is queued in the outbox by the service and posted by the worker."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.context import Deps
from bot.core.escalation import Attempt, Handoff
from bot.core.lifecycle import IllegalTransitionError
from bot.core.permissions import PermissionDeniedError, check_may_read
from bot.core.templates import template_named
from bot.core.ticket_command import (
    BugAction,
    ChangeTicket,
    CreateTicket,
    DeescalateTicket,
    EscalateTicket,
    Help,
    LinkBug,
    ListTickets,
    OpenCreateModal,
    ReplyTicket,
    ReportBug,
    ShowTicket,
    TicketCommand,
    TicketHistory,
    UsageError,
    parse_ticket_command,
)
from bot.services import escalations, replies, tickets, working
from bot.slack import blocks
from bot.slack.modals import create_ticket_modal, reply_modal
from handlers import bugs
from handlers.clicks import open_command_form
from handlers.escalations import REFUSALS, handoff_form
from store.models import Ticket

__all__ = ["change", "register"]


def register(app: App, deps: Deps) -> None:
    def ticket_command(ack: Ack, command: dict[str, Any]) -> None:
        parsed = parse_ticket_command(command.get("text") or "")
        view = _form_for(deps, parsed, command)
        if view is not None and view.get("type") == "modal":
            ack()  # the form opens in `open_ticket_form`, once this answer has gone out
            return
        ack(response_type="ephemeral", **(view or _answer(deps, parsed, command)))

    def open_ticket_form(command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        # A lazy listener, after the ack: a slow views.open (or its retries) must not take the answer
        # past Slack's 3 seconds. The trigger_id, valid for those same 3 seconds, is used at once.
        view = _form_for(deps, parse_ticket_command(command.get("text") or ""), command)
        if view is not None and view.get("type") == "modal":
            open_command_form(client, command, view, respond, otherwise="Try again, or use `/ticket <text>`.")

    app.command("/ticket")(ack=ticket_command, lazy=[open_ticket_form])


def _form_for(deps: Deps, parsed: TicketCommand, command: dict[str, Any]) -> dict[str, Any] | blocks.Message | None:
    """The modal a command opens (a view), an error instead of one (a message), or None."""
    if isinstance(parsed, OpenCreateModal):
        return create_ticket_modal(command["channel_id"])
    if isinstance(parsed, EscalateTicket) and parsed.reason is None:
        try:
            return handoff_form(deps, number=parsed.number, actor=command["user_id"], tier=parsed.tier)
        except REFUSALS as error:
            return blocks.error_message(str(error))
    if isinstance(parsed, ReportBug):
        return bugs.bug_form(deps, number=parsed.number, user=command["user_id"], channel=command.get("channel_id"))
    if not isinstance(parsed, ReplyTicket):
        return None
    template = template_named(parsed.template)
    assert template is not None  # the parser only accepts known templates
    try:
        draft = replies.draft_reply(
            deps.engine, deps.policy, number=parsed.number, agent=command["user_id"], template=template
        )
    except (working.TicketNotFoundError, PermissionDeniedError) as error:
        return blocks.error_message(str(error))
    view = reply_modal(ticket_ref=draft.ticket.ref, number=parsed.number, template=template.name, text=draft.text)
    return view


def _unreadable(deps: Deps, ticket: Ticket, actor: str) -> blocks.Message | None:
    """The refusal when `actor` may not read `ticket` (someone else's request), else None."""
    try:
        check_may_read(
            actor, deps.policy.roles_of(actor), ref=ticket.ref, requester=ticket.requester_id,
            opened_by=ticket.created_by, workers=deps.policy.workers,
        )  # fmt: skip
    except PermissionDeniedError as error:
        return blocks.error_message(str(error))
    return None


def _answer(deps: Deps, parsed: TicketCommand, command: dict[str, Any]) -> blocks.Message:
    match parsed:
        case CreateTicket():
            return _create(deps, parsed, command)
        case ShowTicket(number=number):
            ticket = tickets.get_ticket(deps.engine, number)
            if ticket is None:
                return blocks.error_message(f"T-{number} does not exist.")
            return _unreadable(deps, ticket, command["user_id"]) or blocks.ticket_detail(ticket)
        case Help():
            return blocks.help_message()
        case OpenCreateModal():
            return blocks.error_message("Describe the request after the command: `/ticket <text>`.")  # no trigger
        case ListTickets(filters=filters, page=page):
            actor = command["user_id"]
            team = deps.policy.is_agent(actor)
            found = tickets.list_tickets(deps.engine, filters, actor=actor, page=page, now=deps.clock(), team=team)
            return blocks.ticket_list(found.tickets, total=found.total, page=found.page, page_size=found.page_size)
        case TicketHistory(number=number):
            story = tickets.history(deps.engine, number)
            if story is None:
                return blocks.error_message(f"T-{number} does not exist.")
            ticket, changes = story
            refused = _unreadable(deps, ticket, command["user_id"])
            return refused or blocks.ticket_history(
                ticket, changes, show_notes=deps.policy.is_agent(command["user_id"])
            )
        case ChangeTicket():
            request = working.ChangeRequest(
                parsed.number, command["user_id"], parsed.action, parsed.value, parsed.classification
            )
            return change(deps, request)[0]
        case UsageError(message=text):
            return blocks.error_message(text)
        case EscalateTicket():
            return _escalate(deps, parsed, command)
        case DeescalateTicket():
            try:
                answer = escalations.deescalate(
                    deps.engine, deps.policy, number=parsed.number, actor=command["user_id"],
                    reason=parsed.reason, now=deps.clock(),
                )  # fmt: skip
            except REFUSALS as error:
                return blocks.error_message(str(error))
            return blocks.info_message(answer)
        case LinkBug():
            return bugs.answer_link(deps, parsed, command["user_id"])
        case BugAction():
            return bugs.answer_bug_action(deps, parsed, command["user_id"])
        case ReportBug() | ReplyTicket():  # opened as a modal; only reached when a form could not be made
            return blocks.error_message("That opens a form, which needs Slack's trigger_id; try again from Slack.")


def change(deps: Deps, request: working.ChangeRequest) -> tuple[blocks.Message, bool]:
    """Apply a change for a command or a card button: the answer for the person who asked, and
    whether anything changed."""
    try:
        outcome = working.apply_change(deps.engine, deps.policy, request, now=deps.clock())
    except (working.TicketNotFoundError, PermissionDeniedError, IllegalTransitionError) as error:
        return blocks.error_message(str(error)), False
    return blocks.info_message(outcome.message), outcome.changed


def _escalate(deps: Deps, parsed: EscalateTicket, command: dict[str, Any]) -> blocks.Message:
    """The quick path: the reason given is "what was tried"; the handoff card goes straight out."""
    assert parsed.reason is not None
    request = escalations.EscalationRequest(
        number=parsed.number,
        actor=command["user_id"],
        handoff=Handoff(what_tried=(Attempt(parsed.reason),)),
        tier=parsed.tier,
        request_key=f"command:{command['trigger_id']}" if command.get("trigger_id") else None,
    )
    try:
        escalation = escalations.escalate(deps.engine, deps.policy, request, now=deps.clock())
    except REFUSALS as error:
        return blocks.error_message(str(error))
    where = deps.policy.escalation_channel(escalation.tier)
    shown = f" in <#{where}>" if where and where[:1] in "CG" else ""
    return blocks.info_message(f"T-{parsed.number} escalated to {escalation.tier}; the handoff is posted{shown}.")


def _create(deps: Deps, parsed: CreateTicket, command: dict[str, Any]) -> blocks.Message:
    request = tickets.NewTicket(
        title=parsed.title,
        description=parsed.description,
        created_by=command["user_id"],
        requester_id=command["user_id"],
        source_kind="command",
        source_channel=command.get("channel_id"),
        customer=parsed.customer,
        priority=parsed.priority,
        affected_users=parsed.affected_users,
        owner_id=parsed.owner_id,
        request_key=f"command:{command['trigger_id']}" if command.get("trigger_id") else None,
    )
    try:
        created = tickets.create_ticket(deps.engine, deps.policy, request, now=deps.clock())
    except tickets.TicketInputError as error:
        return blocks.error_message(str(error))
    # Slack names a private channel the app is not in "privategroup" in the command payload.
    bot_absent = command.get("channel_name") == "privategroup"
    return blocks.created_confirmation(created.ticket, deps.policy.triage_channel, bot_absent=bot_absent)
