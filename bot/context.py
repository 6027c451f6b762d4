"""What every listener and job needs, built once per process and passed down explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.config import FrontlineConfig
from bot.core.surge import Embedder
from bot.embedding import default_embedder
from bot.metrics import Metrics
from bot.services.policy import Policy
from bot.settings import Settings
from bot.slack.delivery import OutboxSender

__all__ = ["Deps", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    settings: Settings
    config: FrontlineConfig
    policy: Policy
    engine: Engine
    client: WebClient
    sender: OutboxSender
    metrics: Metrics  # this process's Prometheus registry
    probe: Engine  # short timeouts, no pool: for /readyz and scrape-time gauges
    clock: Callable[[], datetime] = utc_now
    embedder: Embedder = field(default_factory=default_embedder)  # surge detection's model, loaded on first use
