"""The "Create ticket" message shortcut: any message, by anyone, becomes a ticket (once)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.context import Deps
from bot.core.intake import OWN_MESSAGE, BotIdentity, Ignore, MessageDecision, message_to_ticket
from bot.manifest import MESSAGE_SHORTCUT_ID
from bot.services import intake, notices

__all__ = ["register"]


def register(app: App, deps: Deps) -> None:
    @app.shortcut(MESSAGE_SHORTCUT_ID)
    def create_from_message(ack: Ack, shortcut: dict[str, Any], context: BoltContext) -> None:
        ack()
        user, channel = shortcut["user"]["id"], (shortcut.get("channel") or {}).get("id", "")
        identity = BotIdentity(user_id=context.bot_user_id or "", bot_id=context.bot_id)
        message = shortcut.get("message") or {}
        decision = message_to_ticket(message, channel=channel, opened_by=user, via="shortcut", identity=identity)
        result = intake.handle_message(deps.engine, deps.policy, decision, event_id=None, now=deps.clock())
        text = {
            "created": f"Created *{result.ticket_ref}* from that message.",
            "duplicate": f"That message is already *{result.ticket_ref}*.",
        }.get(result.outcome, _why_not(decision))
        notices.tell(
            deps.engine, channel=channel, user=user, text=text,
            key=f"shortcut:{shortcut.get('action_ts', '')}:{user}", now=deps.clock(),
        )  # fmt: skip


def _why_not(decision: MessageDecision) -> str:
    if isinstance(decision, Ignore) and decision.reason == OWN_MESSAGE:
        return "That is one of Frontline's own messages: only people's messages become tickets."
    return "That message has no text or files to make a ticket from."
