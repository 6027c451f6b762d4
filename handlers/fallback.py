"""Events no listener takes (Slack sends every event type the app subscribes to, and some it adds):
acknowledged with 200, since any other answer makes Slack deliver the same event again, three
times, and eventually disable the subscription. Registered last, so it only sees what nothing else
took."""

from __future__ import annotations

import re
from typing import Any

import structlog
from slack_bolt import App

__all__ = ["register"]

log = structlog.get_logger(__name__)


def register(app: App) -> None:
    @app.event(re.compile(".*"))
    def ignore_event(event: dict[str, Any]) -> None:
        log.debug("event_ignored", event_type=str(event.get("type"))[:64], subtype=str(event.get("subtype"))[:64])
