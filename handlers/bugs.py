"""Bugs from Slack: the bug form (opened by `/ticket bug T-42` or a ticket card's "Report bug"
button) and its submission, `/ticket link T-42 BUG-7`, `/ticket bug BUG-7 [show|resolve|notify]`,
and the bug card's Resolve and Notify buttons. Listeners parse, call `bot.services.bugs`, answer."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import Deps
from bot.core.bugs import FIELD_MAX, BugReport, bug_form_errors
from bot.core.permissions import PermissionDeniedError
from bot.core.refs import parse_id
from bot.core.text import decode_slack_text
from bot.core.ticket_command import BugAction, LinkBug
from bot.services import bugs, notices, working
from bot.slack import blocks, bug_blocks
from bot.slack.bug_blocks import BUG_NOTIFY, BUG_RESOLVE
from bot.slack.kit import channel as channel_mention
from bot.slack.modals import BUG_FORM, bug_modal, submitted_values
from handlers.clicks import tell_clicker
from handlers.views import view_metadata

__all__ = ["REPORT_BUG", "answer_bug_action", "answer_link", "bug_form", "register"]

REPORT_BUG = "ticket_bug"  # the ticket card's "Report bug" button; its value is the ticket number
STALE_FORM = "This form is out of date: close it and run the command again."
_CHANNEL = re.compile(r"[CGD][A-Z0-9_]{1,30}")

_Refusal = (bugs.BugNotFoundError, working.TicketNotFoundError, PermissionDeniedError)


def bug_form(deps: Deps, *, number: int, user: str, channel: str | None) -> dict[str, Any]:
    """The bug form for ticket `number` (a view), or an error for the person (a message)."""
    try:
        ticket = bugs.ticket_for_bug_form(deps.engine, deps.policy, number=number, actor=user)
    except (working.TicketNotFoundError, PermissionDeniedError) as error:
        return blocks.error_message(str(error))
    view = bug_modal(ticket_ref=ticket.ref, number=number, title=ticket.title)
    if channel and _CHANNEL.fullmatch(channel):  # where to confirm once it is filed
        view["private_metadata"] = json.dumps({"number": number, "channel": channel})
    return view


def answer_link(deps: Deps, parsed: LinkBug, user: str) -> blocks.Message:
    try:
        outcome = bugs.link_bug(
            deps.engine, deps.policy, number=parsed.number, bug_number=parsed.bug, actor=user, now=deps.clock()
        )
    except _Refusal as error:
        return blocks.error_message(str(error))
    return blocks.info_message(outcome.message) if outcome.changed else blocks.error_message(outcome.message)


def answer_bug_action(deps: Deps, parsed: BugAction, user: str) -> blocks.Message:
    if parsed.action == "show":
        found = bugs.get_bug(deps.engine, parsed.bug)
        if found is None:
            return blocks.error_message(f"BUG-{parsed.bug} does not exist.")
        return bug_blocks.bug_detail(*found)
    message, _ = _act(deps, parsed.action, parsed.bug, user)
    return message


def _act(deps: Deps, action: str, bug_number: int, user: str) -> tuple[blocks.Message, bool]:
    use_case = bugs.resolve_bug if action == "resolve" else bugs.notify_requesters
    try:
        outcome = use_case(deps.engine, deps.policy, bug_number=bug_number, actor=user, now=deps.clock())
    except _Refusal as error:
        return blocks.error_message(str(error)), False
    answer = blocks.info_message(outcome.message) if outcome.changed else blocks.error_message(outcome.message)
    return answer, outcome.changed


def _report(values: dict[str, str]) -> tuple[BugReport | None, dict[str, str]]:
    """The form's values as typed (Slack's entities decoded) → a report, or errors by input block id."""
    typed = {name: decode_slack_text(values.get(name, "")).strip() for name in FIELD_MAX}
    errors = bug_form_errors(typed)
    if errors:
        return None, errors
    return BugReport(**typed), {}


def register(app: App, deps: Deps) -> None:
    @app.view(BUG_FORM)
    def on_bug_form(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        report, errors = _report(submitted_values(view))
        if report is None:
            ack(response_action="errors", errors=errors)
            return
        meta = view_metadata(view)
        number = meta.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            ack(response_action="errors", errors={"title": STALE_FORM})
            return
        user = body["user"]["id"]
        try:
            bug = bugs.file_bug(
                deps.engine, deps.policy, number=number, actor=user, report=report,
                request_key=f"view:{view.get('id')}", now=deps.clock(),
            )  # fmt: skip
        except (working.TicketNotFoundError, PermissionDeniedError) as error:
            ack(response_action="errors", errors={"title": str(error)})
            return
        ack()
        channel = str(meta.get("channel") or "")
        if bug is not None and _CHANNEL.fullmatch(channel):
            where = bugs.bug_channel(deps.policy)
            card = f" · card in {channel_mention(where)}" if where else ""
            notices.tell(
                deps.engine, channel=channel, user=user, text=f"Filed *{bug.ref}* from T-{number}{card}",
                key=f"view:{view.get('id')}", now=deps.clock(),
            )  # fmt: skip

    @app.action(REPORT_BUG)
    def on_report_bug(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user = str((body.get("user") or {}).get("id") or "")
        number = parse_id(str(action.get("value", "")))
        if not user or number is None:
            return
        channel = (body.get("channel") or {}).get("id")
        view = bug_form(deps, number=number, user=user, channel=channel)
        if view.get("type") != "modal":
            tell_clicker(deps, body, action, str(view["text"]))
            return
        try:  # the trigger_id lives 3 seconds: open the form right away
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as error:
            code = error.response.get("error", "unknown")
            text = f"Could not open the bug form (Slack said `{code}`); try `/ticket bug T-{number}`."
            tell_clicker(deps, body, action, text)

    @app.action(re.compile(f"^({BUG_RESOLVE}|{BUG_NOTIFY})$"))
    def on_bug_card_action(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = str((body.get("user") or {}).get("id") or "")
        number = parse_id(str(action.get("value", "")))
        if not user or number is None:
            return
        what = "resolve" if action.get("action_id") == BUG_RESOLVE else "notify"
        answer, changed = _act(deps, what, number, user)
        if not changed:  # success shows on the card and in its thread; a refusal or no-op goes to the clicker
            tell_clicker(deps, body, action, str(answer["text"]))
