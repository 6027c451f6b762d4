"""What a person sees when a listener fails unexpectedly: a short apology with a reference that
matches the log line, never a bare "dispatch_failed" and never a stack trace."""

from __future__ import annotations

import json
import uuid
from typing import Any

import structlog
from slack_bolt import App, BoltRequest, BoltResponse

from bot.metrics import LISTENER_FAILED

__all__ = ["register"]

log = structlog.get_logger(__name__)


def register(app: App) -> None:
    @app.error
    def on_error(error: Exception, request: BoltRequest, response: BoltResponse | None) -> None:
        reference = uuid.uuid4().hex[:8]
        body: dict[str, Any] = request.body if isinstance(request.body, dict) else {}
        log.exception("listener_failed", reference=reference, error=type(error).__name__, command=body.get("command"))
        request.context[LISTENER_FAILED] = True  # counted as an error even when the person gets a 200 apology
        if response is None or "command" not in body:
            return  # events keep their 500 so Slack retries them; acked requests need nothing
        response.status = 200
        response.headers = {"content-type": ["application/json;charset=utf-8"]}
        response.body = json.dumps(
            {
                "response_type": "ephemeral",
                "text": (
                    ":warning: Something went wrong on our side and nothing was changed. Please try again; "
                    f"if it keeps failing, tell your Frontline admin (reference `{reference}`)."
                ),
            }
        )
