"""Slash commands. The ack function answers within Slack's 3 s; the lazy function then talks to Slack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.context import Deps
from bot.core.ticket_command import (
    CreateTicket,
    Help,
    OpenCreateModal,
    ShowTicket,
    TicketCommand,
    UsageError,
    parse_ticket_command,
)
from bot.services import tickets
from bot.slack import blocks

__all__ = ["register"]

_OUTBOX_IDS = "frontline_outbox_ids"  # context key: rows the ack function enqueued for the lazy one


def register(app: App, deps: Deps) -> None:
    def ticket_ack(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        parsed = parse_ticket_command(command.get("text") or "")
        message, outbox_ids = _answer(deps, parsed, command)
        context[_OUTBOX_IDS] = outbox_ids
        ack(response_type="ephemeral", **message)

    def deliver_after_ack(context: BoltContext) -> None:
        outbox_ids = context.get(_OUTBOX_IDS) or []
        if outbox_ids:
            deps.sender.deliver(outbox_ids)

    app.command("/ticket")(ack=ticket_ack, lazy=[deliver_after_ack])


def _answer(deps: Deps, parsed: TicketCommand, command: dict[str, Any]) -> tuple[blocks.Message, list[int]]:
    match parsed:
        case CreateTicket():
            return _create(deps, parsed, command)
        case ShowTicket(number=number):
            ticket = tickets.get_ticket(deps.engine, number)
            if ticket is None:
                return blocks.error_message(f"T-{number} does not exist."), []
            return blocks.ticket_detail(ticket), []
        case Help():
            return blocks.help_message(), []
        case OpenCreateModal():
            return blocks.error_message("Describe the request after the command: `/ticket <text>`."), []
        case UsageError(message=text):
            return blocks.error_message(text), []


def _create(deps: Deps, parsed: CreateTicket, command: dict[str, Any]) -> tuple[blocks.Message, list[int]]:
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
    )
    try:
        created = tickets.create_ticket(
            deps.engine, deps.policy, request, now=deps.clock(), delivered_by=deps.sender.worker_id
        )
    except tickets.TicketInputError as error:
        return blocks.error_message(str(error)), []
    return blocks.created_confirmation(created.ticket, deps.policy.triage_channel), created.outbox_ids
