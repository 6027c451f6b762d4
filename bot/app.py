"""The Bolt app factory: one place where the app is built and every listener registered."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.context import Deps
from bot.logs import BOLT_LOGGER
from bot.slack.client import make_web_client
from handlers import register_all

__all__ = ["BotIdentity", "build_app", "fetch_identity"]


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is in this workspace (from auth.test), learned once at start-up."""

    team_id: str
    bot_user_id: str
    bot_id: str | None


def fetch_identity(client: WebClient) -> BotIdentity:
    response = client.auth_test()
    return BotIdentity(
        team_id=str(response["team_id"]),
        bot_user_id=str(response["user_id"]),
        bot_id=response.get("bot_id"),
    )


class _IntendedClientWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and warns at start-up that the
    client we give it wins over that token; it is meant to (see `build_app`), so the warning goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.App").addFilter(_IntendedClientWarning())


class _WithLogContext(Executor):
    """Runs lazy listeners in a copy of the submitting request's context, so their log lines carry
    its request_id and event_id (bound in `bot.web` and `handlers.logcontext`)."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._inner.submit(contextvars.copy_context().run, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)


def build_app(deps: Deps, identity: BotIdentity, *, executor: Executor | None = None) -> App:
    """The Bolt app; `executor` runs lazy listeners (pass one to be able to wait for them on shutdown)."""
    token = deps.settings.slack_bot_token.get_secret_value()

    def authorize(**_: object) -> AuthorizeResult:
        # Single workspace: the identity is fixed, so no auth.test per request (and none before ack).
        return AuthorizeResult(
            enterprise_id=None,
            team_id=identity.team_id,
            bot_user_id=identity.bot_user_id,
            bot_id=identity.bot_id,
            bot_token=token,
        )

    app = App(
        signing_secret=deps.settings.slack_signing_secret.get_secret_value(),
        # Bolt gets a client without a token: each request's client carries the token from
        # `authorize` (passing one here too only makes Bolt warn that it ignores it).
        client=make_web_client(None, deps.settings.slack_api_url, observe=deps.metrics.slack_api_call),
        authorize=authorize,
        # The ack function runs in the request thread (no polling for the ack); work that talks to
        # Slack runs in lazy listeners after the response has gone out.
        process_before_response=True,
        request_verification_enabled=True,
        logger=logging.getLogger(BOLT_LOGGER),
        listener_executor=_WithLogContext(
            executor or ThreadPoolExecutor(max_workers=10, thread_name_prefix="frontline-lazy")
        ),
    )
    register_all(app, deps)
    return app
