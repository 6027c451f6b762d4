"""The "Create ticket" message shortcut: any message, by anyone, becomes a ticket (once)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.context import Deps
from bot.core.intake import message_to_ticket
from bot.manifest import MESSAGE_SHORTCUT_ID
from bot.services import intake, notices

__all__ = ["register"]


def register(app: App, deps: Deps) -> None:
    @app.shortcut(MESSAGE_SHORTCUT_ID)
    def create_from_message(ack: Ack, shortcut: dict[str, Any]) -> None:
        ack()
        user, channel = shortcut["user"]["id"], (shortcut.get("channel") or {}).get("id", "")
        decision = message_to_ticket(shortcut.get("message") or {}, channel=channel, opened_by=user, via="shortcut")
        result = intake.handle_message(deps.engine, deps.policy, decision, event_id=None, now=deps.clock())
        text = {
            "created": f"Created *{result.ticket_ref}* from that message.",
            "duplicate": f"That message is already *{result.ticket_ref}*.",
        }.get(result.outcome, "That message has no text or files to make a ticket from.")
        notices.tell(
            deps.engine, channel=channel, user=user, text=text,
            key=f"shortcut:{shortcut.get('action_ts', '')}:{user}", now=deps.clock(),
        )  # fmt: skip
