"""The WebClient's hooks: every attempt observed with its outcome; shared, not copied, by Bolt."""

from __future__ import annotations

import copy
import threading

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.client import make_web_client
from bot.slack.standin import SlackStandIn


def test_every_attempt_is_observed_with_its_outcome() -> None:
    seen: list[tuple[str, str]] = []
    with SlackStandIn(retry_after=0) as standin:
        client = make_web_client(standin.bot_token, standin.api_url, observe=lambda m, c: seen.append((m, c)))
        standin.fail_next("chat.postMessage", "ratelimited", status=429)
        standin.fail_next("chat.postMessage", "internal_error", status=500)
        client.chat_postMessage(channel="C_TRIAGE", text="hello")  # 429, 500, then ok: retried inline
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="C_NOWHERE", text="hello")
        bad = make_web_client("xoxb-wrong", standin.api_url, observe=lambda m, c: seen.append((m, c)))
        with pytest.raises(SlackApiError):
            bad.auth_test()
    assert seen == [
        ("chat.postMessage", "ratelimited"),
        ("chat.postMessage", "http_500"),
        ("chat.postMessage", "ok"),
        ("chat.postMessage", "channel_not_found"),
        ("auth.test", "invalid_auth"),
    ]
    unreachable = make_web_client(
        "xoxb-x", "http://127.0.0.1:9/api/", max_retries=0, observe=lambda m, c: seen.append((m, c))
    )
    with pytest.raises(OSError):
        unreachable.auth_test()
    assert seen[-1] == ("auth.test", "connection_error")


def test_bolt_copies_of_the_client_share_its_hooks() -> None:
    stopping = threading.Event()
    client = make_web_client("xoxb-x", "http://127.0.0.1:9/api/", observe=lambda m, c: None, stopping=stopping)
    copied = copy.deepcopy(client)  # what Bolt does for every lazy listener
    assert [id(handler) for handler in copied.retry_handlers] == [id(handler) for handler in client.retry_handlers]
