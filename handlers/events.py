"""Event listeners: Slack messages become tickets, comments and annotations."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.context import Deps
from bot.core.intake import BotIdentity, classify_message
from bot.services import home, intake

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

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        event_id = str(body.get("event_id") or event.get("event_ts") or "")
        user = event["user"]
        home.refresh_home(deps.engine, user=user, team=deps.policy.is_agent(user), event_id=event_id, now=deps.clock())

    @app.event("subteam_members_changed")
    def on_group_changed(event: dict[str, Any]) -> None:
        group = event.get("subteam_id")
        if group in deps.policy.group_ids:  # a retried delivery changes nothing: the change is a set delta
            deps.policy.groups.change(
                group, added=event.get("added_users") or (), removed=event.get("removed_users") or ()
            )

    @app.event("reaction_added")
    def on_reaction(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        item = event.get("item") or {}
        if event.get("reaction") != deps.config.intake.ticket_emoji or item.get("type") != "message":
            return
        if event.get("item_user") and event.get("item_user") == context.bot_user_id:
            return  # Frontline's own message (a card, an acknowledgement) is not a request
        if not item.get("channel") or not item.get("ts") or not event.get("user"):
            return
        intake.ticket_from_reaction(
            deps.engine, channel=item["channel"], ts=item["ts"], reacted_by=event["user"],
            event_id=body.get("event_id"), now=deps.clock(),
        )  # fmt: skip
