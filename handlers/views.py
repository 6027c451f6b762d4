"""Modal submissions. Field errors go back with `response_action: errors` keyed by the input
blocks' ids, so Slack shows each under its field and keeps the modal open (field case F7)."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App

from bot.context import Deps
from bot.core.permissions import PermissionDeniedError
from bot.core.templates import open_prompts
from bot.core.text import decode_slack_text, escape_mrkdwn, has_visible_text
from bot.core.ticket_command import TITLE_MAX
from bot.services import notices, replies, tickets, working
from bot.slack.blocks import PRIORITY_NAMES
from bot.slack.modals import CATEGORIES, CREATE_TICKET, CUSTOMER_MAX, DESCRIPTION_MAX, REPLY, submitted_values

__all__ = ["register", "ticket_form_errors", "view_metadata"]


def _reply_error(prompts: list[str]) -> str:
    if not prompts:
        return "The reply is empty."
    shown = ", ".join(prompts[:4]) + (" …" if len(prompts) > 4 else "")
    return f"Write or delete the bracketed parts first: {shown}"


def ticket_form_errors(values: dict[str, str]) -> dict[str, str]:
    """Field-level problems of the new-ticket form, by input block id."""
    errors: dict[str, str] = {}
    title = values.get("title", "").strip()
    if not has_visible_text(title):
        errors["title"] = "A title is required."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"At most {TITLE_MAX} characters."
    for field, most in (("description", DESCRIPTION_MAX), ("customer", CUSTOMER_MAX)):
        if len(values.get(field) or "") > most:
            errors[field] = f"At most {most:,} characters."
    if values.get("priority") and values["priority"] not in PRIORITY_NAMES:
        errors["priority"] = "Choose P0, P1, P2 or P3."
    if values.get("category") and values["category"] not in CATEGORIES:
        errors["category"] = f"Choose one of {', '.join(CATEGORIES)}."
    return errors


def view_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The form's private_metadata as we wrote it; anything else (a forged or truncated value) is {}."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except (TypeError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


STALE_FORM = "This form is out of date: close it and run the command again."


def register(app: App, deps: Deps) -> None:
    @app.view(REPLY)
    def on_reply(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        text = submitted_values(view).get("message", "").strip()
        prompts = open_prompts(text)
        if not text or prompts:
            ack(response_action="errors", errors={"message": _reply_error(prompts)})
            return
        meta = view_metadata(view)
        number = meta.get("number")
        if not isinstance(number, int) or isinstance(number, bool):
            ack(response_action="errors", errors={"message": STALE_FORM})
            return
        try:
            replies.send_reply(
                deps.engine, deps.policy, number=number, agent=body["user"]["id"], text=text,
                template=str(meta.get("template", "")), request_key=f"view:{view.get('id')}", now=deps.clock(),
            )  # fmt: skip
        except (working.TicketNotFoundError, PermissionDeniedError) as error:
            ack(response_action="errors", errors={"message": str(error)})
            return
        ack()

    @app.view(CREATE_TICKET)
    def on_create_ticket(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = submitted_values(view)
        errors = ticket_form_errors(values)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        user = body["user"]["id"]
        channel = str(view_metadata(view).get("channel") or "")
        channel = channel if re.fullmatch(r"[CGD][A-Z0-9_]{1,30}", channel) else ""
        title = decode_slack_text(values["title"]).strip()
        request = tickets.NewTicket(
            title=title,
            description=decode_slack_text(values.get("description", "")).strip() or title,
            created_by=user,
            requester_id=user,
            source_kind="form",
            source_channel=channel or None,
            customer=values.get("customer", "").strip().lower() or None,
            priority=values.get("priority"),
            category=values.get("category"),
            request_key=f"view:{view.get('id')}",  # a double submit of one modal creates one ticket
        )
        try:
            created = tickets.create_ticket(deps.engine, deps.policy, request, now=deps.clock())
        except tickets.DuplicateRequestError:
            ack()
            return
        except tickets.TicketInputError as error:
            ack(response_action="errors", errors={"customer": str(error)})
            return
        ack()
        if channel:
            notices.tell(
                deps.engine, channel=channel, user=user, text=f"Created *{created.ticket.ref}*: {escape_mrkdwn(title)}",
                key=f"view:{view.get('id')}", now=deps.clock(),
            )  # fmt: skip
