"""Channel names in frontline.yaml (`#support-triage`) → the IDs Slack's events carry.

Events name channels by ID only, so an intake channel written as a name would never match; names
are resolved once at start-up, and a name the bot cannot see stops start-up with one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from slack_sdk import WebClient

from bot.config import ChannelsConfig, ConfigError, FrontlineConfig

__all__ = ["channel_names_in", "resolve_channel_names"]


def channel_names_in(channels: ChannelsConfig) -> Iterator[tuple[str, str]]:
    """(key path, value) for every channel given by name."""
    for key in ("triage", "incidents", "social", "standup"):
        value = getattr(channels, key)
        if value and value.startswith("#"):
            yield f"channels.{key}", value
    for index, value in enumerate(channels.intake):
        if value.startswith("#"):
            yield f"channels.intake[{index}]", value
    for tier in ("L2", "L3", "management"):
        value = getattr(channels.escalation, tier)
        if value and value.startswith("#"):
            yield f"channels.escalation.{tier}", value


def _directory(client: WebClient) -> dict[str, str]:
    names: dict[str, str] = {}
    for page in client.conversations_list(types="public_channel,private_channel", exclude_archived=True, limit=1000):
        for channel in page.get("channels", []):
            names[f"#{channel['name']}"] = channel["id"]
    return names


def resolve_channel_names(config: FrontlineConfig, client: WebClient) -> FrontlineConfig:
    """`config` with every channel name replaced by its ID (no Slack call when none is a name)."""
    named = list(channel_names_in(config.channels))
    if not named:
        return config
    directory = _directory(client)
    missing = [
        f"{path}: no channel named {name} is visible to the bot (invite it, or use the channel's ID)"
        for path, name in named
        if name not in directory
    ]
    if missing:
        raise ConfigError(missing)
    channels = config.channels

    def resolved(value: Any) -> Any:
        return directory.get(value, value) if isinstance(value, str) else value

    escalation = channels.escalation.model_copy(
        update={tier: resolved(getattr(channels.escalation, tier)) for tier in ("L2", "L3", "management")}
    )
    updated = channels.model_copy(
        update={
            **{key: resolved(getattr(channels, key)) for key in ("triage", "incidents", "social", "standup")},
            "intake": tuple(resolved(value) for value in channels.intake),
            "escalation": escalation,
        }
    )
    return config.model_copy(update={"channels": updated})
