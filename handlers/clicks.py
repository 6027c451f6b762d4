"""Who clicked, and answering them alone; opening forms: shared by every button and command listener."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import Deps
from bot.services import notices

__all__ = ["clicker", "open_command_form", "show_form", "tell_clicker"]

log = structlog.get_logger(__name__)


def clicker(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def tell_clicker(deps: Deps, body: dict[str, Any], action: dict[str, Any], text: str) -> None:
    """An ephemeral answer to whoever clicked, where they clicked (their DM with the bot for a view);
    once per click, however often Slack delivers it."""
    channel = (body.get("channel") or {}).get("id") or clicker(body)
    user = clicker(body)
    if channel and user:
        key = f"{action.get('action_ts', '')}:{user}:{action.get('action_id')}"
        notices.tell(deps.engine, channel=channel, user=user, text=text, key=key, now=deps.clock())


def show_form(
    deps: Deps, client: WebClient, body: dict[str, Any], action: dict[str, Any], view: dict[str, Any]
) -> None:
    """Open a form from a button (in a lazy listener, after the ack); if Slack refuses (the
    trigger expired), say so to the clicker instead of failing silently."""
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except Exception as error:  # refused, timed out, unreachable: the user waits for a form either way
        tell_clicker(deps, body, action, f":warning: Could not open the form ({_why(error)}); try again.")


def open_command_form(
    client: WebClient, command: dict[str, Any], view: dict[str, Any], respond: Respond, *, otherwise: str
) -> None:
    """Open a slash command's form, after its ack: a slow views.open (or its retries) must not take
    the answer past Slack's 3 seconds. If Slack refuses, the user is told where they typed."""
    try:
        client.views_open(trigger_id=command["trigger_id"], view=view)
    except Exception as error:  # refused, timed out, unreachable: the user waits for a form either way
        log.warning("form_not_opened", reason=_why(error))
        respond(
            text=f":warning: Could not open the form ({_why(error)}). {otherwise}",
            response_type="ephemeral",
            replace_original=False,
        )


def _why(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return f"Slack said `{error.response.get('error', 'unknown')}`"
    if isinstance(error, TimeoutError):  # socket.timeout too
        return "Slack did not answer in time"
    return "Slack could not be reached"
