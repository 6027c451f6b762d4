"""Buttons and selects on ticket cards: the same changes as the /ticket verbs."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot.context import Deps
from bot.core.priority import PRIORITIES
from bot.core.refs import parse_id
from bot.services import notices, working
from handlers.commands import change

__all__ = ["register"]

_BUTTON_STATUS = {"ticket_pending": "PENDING", "ticket_solve": "SOLVED", "ticket_reopen": "OPEN"}


def _request(action: dict[str, Any], user: str) -> working.ChangeRequest | None:
    """The change a button or select asks for; None for a value Slack would never send."""
    action_id = action.get("action_id", "")
    if action_id == "ticket_priority":
        number, _, priority = str((action.get("selected_option") or {}).get("value", "")).partition(":")
        ticket = parse_id(number)
        valid = ticket is not None and priority in PRIORITIES
        return working.ChangeRequest(ticket, user, "priority", priority) if valid and ticket else None
    ticket = parse_id(str(action.get("value", "")))
    if ticket is None:
        return None
    if action_id == "ticket_take":
        return working.ChangeRequest(ticket, user, "take")
    return working.ChangeRequest(ticket, user, "status", _BUTTON_STATUS[action_id])


def register(app: App, deps: Deps) -> None:
    @app.action(re.compile(r"^ticket_(take|pending|solve|reopen|priority)$"))
    def on_card_action(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = str((body.get("user") or {}).get("id") or "")
        request = _request(action, user) if user else None
        if request is None:
            return
        answer, changed = change(deps, request)
        channel = (body.get("channel") or {}).get("id")
        # Success shows on the card and in its thread; a refusal or a no-op is told to the clicker.
        if not changed and channel:
            notices.tell(
                deps.engine, channel=channel, user=user, text=answer["text"],
                key=f"{action.get('action_ts', '')}:{user}:{action.get('action_id')}", now=deps.clock(),
            )  # fmt: skip
