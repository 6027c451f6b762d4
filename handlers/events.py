"""Event listeners: Slack messages become tickets, comments and annotations."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.context import Deps
from bot.core.intake import BotIdentity, classify_message
from bot.services import intake

__all__ = ["register"]


def register(app: App, deps: Deps) -> None:
    @app.event("message")
    def on_message(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        identity = BotIdentity(user_id=context.bot_user_id or "", bot_id=context.bot_id)
        decision = classify_message(
            event,
            identity,
            intake_channels=deps.policy.intake_channels,
            bot_allowlist=deps.config.intake.bot_allowlist,
        )
        intake.handle_message(deps.engine, deps.policy, decision, event_id=body.get("event_id"), now=deps.clock())
