"""The one place a Slack WebClient is built: base URL from settings, slack_sdk's retry handlers."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

__all__ = ["MAX_INLINE_RETRY_AFTER", "ShortRateLimitRetryHandler", "make_web_client", "retry_after_seconds"]

# Longer waits are not slept in the sending thread: the call fails as `ratelimited`, the outbox
# row goes back to pending until Retry-After has passed, and its claim is released. Sleeping past
# the claim lease would let another worker send the same message.
MAX_INLINE_RETRY_AFTER = 10


def retry_after_seconds(response: HttpResponse | None) -> int | None:
    if response is None:
        return None
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return int(values[0])
            except ValueError:
                return None
    return None


class ShortRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (sleeps Retry-After, then retries), for short waits only."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        wait = retry_after_seconds(response)
        short = wait is None or wait <= MAX_INLINE_RETRY_AFTER
        return short and super()._can_retry(state=state, request=request, response=response, error=error)


def make_web_client(token: str | None, base_url: str, *, max_retries: int = 3, timeout: int = 10) -> WebClient:
    """A WebClient that waits out short 429s (honouring Retry-After) and retries 5xx and dropped connections."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=max_retries),
            ShortRateLimitRetryHandler(max_retry_count=max_retries),
            ServerErrorRetryHandler(max_retry_count=max_retries),
        ],
    )
