"""Log lines written while a Slack request is handled carry Slack's `event_id` and the slash command
beside the request's id (bound per HTTP request in `bot.web`; here for a Socket Mode envelope)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt import App, BoltRequest, BoltResponse

from bot.logs import new_request_id

__all__ = ["register", "slack_ids"]


def slack_ids(body: dict[str, Any]) -> dict[str, str]:
    """What Slack says the request is about, where that costs nothing to read."""
    return {key: value[:64] for key in ("event_id", "command") if isinstance(value := body.get(key), str) and value}


def register(app: App) -> None:
    @app.middleware
    def bind_request_context(req: BoltRequest, body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
        # Bound, not scoped: Bolt runs the listeners after the middleware chain has returned.
        if req.mode == "socket_mode":  # no HTTP layer gave this envelope an id
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(request_id=new_request_id())
        structlog.contextvars.bind_contextvars(**slack_ids(body if isinstance(body, dict) else {}))
        return next()
