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
    "usage: `/support sla` (the SLA policy in force) · `/support digest` (the standup digest, now) · "
    "`/support stats [week|month]` · `/support health` · `/support help`"
)


def register(app: App, deps: Deps) -> None:
    @app.command("/support")
    def support_command(ack: Ack, command: dict[str, Any]) -> None:
        try:
            answer = _answer(deps, (command.get("text") or "").strip().lower(), command)
        except (PermissionDeniedError, digests.DigestError) as error:
            answer = blocks.error_message(str(error))
        ack(response_type="ephemeral", **answer)


def _answer(deps: Deps, verb: str, command: dict[str, Any]) -> dict[str, Any]:
    actor, words = str(command.get("user_id") or ""), verb.split()
    if verb == "sla":
        return blocks.sla_policy(deps.config)
    if verb == "digest":
        key = f"command:{command.get('trigger_id', '')}"
        said = digests.post_now(deps.engine, deps.policy, actor=actor, request_key=key, now=deps.clock())
        return blocks.info_message(said)
    if words[:1] == ["stats"]:
        if len(words) > 2:
            raise digests.DigestError("usage: `/support stats [week|month]`")
        period = words[1] if len(words) == 2 else "week"
        return digests.stats(deps.engine, deps.policy, actor=actor, period=period, now=deps.clock())
    if verb == "health":
        return digests.health(deps.engine, deps.policy, actor=actor, now=deps.clock())
    if verb in {"", "help"}:
        return blocks.info_message(USAGE)
    return blocks.error_message(f"'{words[0][:40]}' is not a /support verb; {USAGE}")
