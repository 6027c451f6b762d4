"""The one place a Slack WebClient is built: base URL from settings, slack_sdk's retry handlers."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

__all__ = ["make_web_client"]


def make_web_client(token: str | None, base_url: str, *, max_retries: int = 3, timeout: int = 10) -> WebClient:
    """A WebClient that waits out 429s (honouring Retry-After) and retries 5xx and dropped connections."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=max_retries),
            RateLimitErrorRetryHandler(max_retry_count=max_retries),
            ServerErrorRetryHandler(max_retry_count=max_retries),
        ],
    )
