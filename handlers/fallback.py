"""Requests no listener takes, acknowledged with 200. Registered last, so they see only what nothing
else took.

- Events: Slack sends every event type the app subscribes to, and some it adds; any other answer
  makes Slack deliver the same event again, three times, and eventually disable the subscription.
- Buttons, modals and shortcuts from messages an older version posted (an action id since renamed):
  without an answer Slack shows the user a warning icon and nothing else; here the user is told.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from slack_bolt import Ack, App, Respond

__all__ = ["register"]

log = structlog.get_logger(__name__)


def register(app: App) -> None:
    @app.event(re.compile(".*"))
    def ignore_event(event: dict[str, Any]) -> None:
        log.debug("event_ignored", event_type=str(event.get("type"))[:64], subtype=str(event.get("subtype"))[:64])

    @app.action(re.compile(".*"))
    def stale_action(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        action = (body.get("actions") or [{}])[0]
        log.info("action_ignored", action_id=str(action.get("action_id"))[:64])
        if body.get("response_url"):
            respond(STALE_CONTROL, response_type="ephemeral", replace_original=False)

    @app.view(re.compile(".*"))
    def stale_view(ack: Ack, view: dict[str, Any]) -> None:
        ack()  # closes the form; there is nothing to save it to
        log.info("view_ignored", callback_id=str(view.get("callback_id"))[:64])

    @app.shortcut(re.compile(".*"))
    def stale_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        log.info("shortcut_ignored", callback_id=str(body.get("callback_id"))[:64])


STALE_CONTROL = (
    "That button is from an older version of this message and does nothing now. The ticket's card "
    "has the buttons that work (`/ticket show T-n` says where it is)."
)
