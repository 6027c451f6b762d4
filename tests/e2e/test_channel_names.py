"""Channels written as names in frontline.yaml are resolved to IDs at start-up."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config
from bot.sandbox import Sandbox
from bot.slack.channels import resolve_channel_names
from bot.slack.client import make_web_client
from bot.slack.standin import SlackStandIn


def test_names_become_ids_and_intake_by_name_works(database_url: str) -> None:
    config = parse_config(
        {"channels": {"triage": "#support-triage", "intake": ["#help"], "escalation": {"L2": "C_L2"}}}
    )
    with Sandbox(database_url=database_url, config=config) as sandbox:
        channels = sandbox.deps.config.channels
        assert (channels.triage, channels.intake, channels.escalation.L2) == ("C_TRIAGE", ("C_HELP",), "C_L2")
        event = sandbox.standin.post_as_user("C_HELP", "U_REQUESTER", "Login page is broken")
        assert sandbox.simulator.event(event).status == 200
        sandbox.wait_until_delivered()
        [card] = sandbox.standin.messages("C_TRIAGE")
        assert card["text"].startswith("T-1 [P1] Login page is broken")


def test_a_name_the_bot_cannot_see_is_one_line_per_channel() -> None:
    config = parse_config({"channels": {"triage": "#nope", "intake": ["#help", "#gone"]}})
    with SlackStandIn() as standin:
        client = make_web_client(standin.bot_token, standin.api_url)
        with pytest.raises(ConfigError) as caught:
            resolve_channel_names(config, client)
        assert caught.value.problems == [
            "channels.triage: no channel named #nope is visible to the bot (invite it, or use the channel's ID)",
            "channels.intake[1]: no channel named #gone is visible to the bot (invite it, or use the channel's ID)",
        ]
        calls_before = len(standin.calls)
        ids_only = parse_config({"channels": {"triage": "C_TRIAGE"}})
        assert resolve_channel_names(ids_only, client) is ids_only
        assert len(standin.calls) == calls_before  # no Slack call when every channel is an ID
