"""One line for the start-up failures an operator meets (bot.cli._explain); a bug stays a traceback."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.cli import _explain


def _slack_error(status: int, code: str) -> SlackApiError:
    response = SlackResponse(
        client=None, http_verb="POST", api_url="https://slack.com/api/auth.test", req_args={},
        data={"ok": False, "error": code}, headers={}, status_code=status,
    )  # fmt: skip
    return SlackApiError(code, response)


def test_a_slow_slack_at_start_is_one_line() -> None:
    assert _explain(TimeoutError("timed out")) == (
        "cannot reach Slack: timed out (check SLACK_API_URL; Slack may be slow or down)"
    )


def test_slack_down_is_not_blamed_on_the_token() -> None:
    assert _explain(_slack_error(503, "service_unavailable")) == (
        "Slack is not answering properly ('service_unavailable'); try again shortly (see https://slack-status.com)"
    )
    assert _explain(_slack_error(200, "invalid_auth")) == (
        "Slack answered 'invalid_auth': check SLACK_BOT_TOKEN and SLACK_API_URL"
    )


def test_a_bug_is_left_to_the_traceback() -> None:
    assert _explain(KeyError("oops")) is None
