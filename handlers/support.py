"""`/support`: the support team's view of the policy (`sla`) and its standup digest (`digest`)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.context import Deps
from bot.core.permissions import PermissionDeniedError
from bot.services import digests
from bot.slack import blocks

__all__ = ["register"]

USAGE = (
    "usage: `/support sla` (the SLA policy in force) · `/support digest` (the standup digest, now) · `/support help`"
)


def register(app: App, deps: Deps) -> None:
    @app.command("/support")
    def support_command(ack: Ack, command: dict[str, Any]) -> None:
        verb = (command.get("text") or "").strip().lower()
        if verb == "sla":
            ack(response_type="ephemeral", **blocks.sla_policy(deps.config))
        elif verb == "digest":
            try:
                answer = digests.post_now(
                    deps.engine, deps.policy, actor=str(command.get("user_id") or ""),
                    request_key=f"command:{command.get('trigger_id', '')}", now=deps.clock(),
                )  # fmt: skip
            except (PermissionDeniedError, digests.DigestError) as error:
                ack(response_type="ephemeral", **blocks.error_message(str(error)))
                return
            ack(response_type="ephemeral", **blocks.info_message(answer))
        elif verb in {"", "help"}:
            ack(response_type="ephemeral", **blocks.info_message(USAGE))
        else:
            shown = verb.split()[0][:40]
            ack(response_type="ephemeral", **blocks.error_message(f"'{shown}' is not a /support verb; {USAGE}"))
