"""`/support`: the support team's view of the policy (`sla`), and later its digests and stats."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.context import Deps
from bot.slack import blocks

__all__ = ["register"]

USAGE = "usage: `/support sla` (the SLA policy in force) · `/support help`"


def register(app: App, deps: Deps) -> None:
    @app.command("/support")
    def support_command(ack: Ack, command: dict[str, Any]) -> None:
        verb = (command.get("text") or "").strip().lower()
        if verb == "sla":
            ack(response_type="ephemeral", **blocks.sla_policy(deps.config))
        elif verb in {"", "help"}:
            ack(response_type="ephemeral", **blocks.info_message(USAGE))
        else:
            shown = verb.split()[0][:40]
            ack(response_type="ephemeral", **blocks.error_message(f"'{shown}' is not a /support verb; {USAGE}"))
