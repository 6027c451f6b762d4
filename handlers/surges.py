"""The surge alert's "Start incident" button: parse, call `bot.services.surges`, answer the clicker
when nothing was started (a refusal, or an incident already started from that surge)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot.context import Deps
from bot.core.permissions import PermissionDeniedError
from bot.services import surges
from bot.slack.surge_blocks import START_INCIDENT
from handlers.clicks import clicker, tell_clicker

__all__ = ["register"]


def register(app: App, deps: Deps) -> None:
    @app.action(START_INCIDENT)
    def on_start_incident(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user, value = clicker(body), str(action.get("value", ""))
        if not user or not re.fullmatch(r"[0-9]{1,9}", value):
            return
        try:
            outcome = surges.start_incident(deps.engine, deps.policy, surge_id=int(value), actor=user, now=deps.clock())
        except PermissionDeniedError as error:
            tell_clicker(deps, body, action, str(error))
            return
        if not outcome.changed:  # success shows on the alert and in its thread
            tell_clicker(deps, body, action, outcome.message)
