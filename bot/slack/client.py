"""The one place a Slack WebClient is built: base URL from settings, slack_sdk's retry handlers,
an observer that counts every HTTP attempt for `/metrics`, and retry waits a shutdown cuts short."""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

__all__ = [
    "MAX_INLINE_RETRY_AFTER",
    "ApiCallObserver",
    "ShortRateLimitRetryHandler",
    "make_web_client",
    "retry_after_seconds",
]

# Longer waits are not slept in the sending thread: the call fails as `ratelimited`, the outbox
# row goes back to pending until Retry-After has passed, and its claim is released. Sleeping past
# the claim lease would let another worker send the same message.
MAX_INLINE_RETRY_AFTER = 10

# (method, outcome): outcome is "ok", Slack's error code, "ratelimited", "http_<status>" or "connection_error".
ObserveCall = Callable[[str, str], None]


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


class ApiCallObserver(RetryHandler):
    """Sees every HTTP attempt and retries none. slack_sdk asks each retry handler in turn after
    every attempt (successful or not) until one retries, so a handler placed first is the one hook
    every Web API call, and every retry of one, goes through."""

    def __init__(self, observe: ObserveCall) -> None:
        super().__init__(max_retry_count=0)
        self._observe = observe

    def __deepcopy__(self, memo: dict[int, object]) -> ApiCallObserver:
        return self  # see _InterruptibleWait.__deepcopy__

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        self._observe(_method_of(request.url), _outcome(response, error))
        return False


_ERROR_CODE = re.compile(r"^[a-z0-9_.]{1,64}$")  # Slack's codes; anything else must not become a label value


def _method_of(url: str) -> str:
    return url.split("?", 1)[0].rsplit("/", 1)[-1][:64]


def _outcome(response: HttpResponse | None, error: Exception | None) -> str:
    if response is None:
        return "connection_error"
    if response.status_code == 429:
        return "ratelimited"
    if response.status_code != 200:
        return f"http_{response.status_code}"
    body = response.body
    if body is None and response.data:
        try:
            body = json.loads(response.data)
        except ValueError:
            body = {}
    if not isinstance(body, dict) or body.get("ok", True):
        return "ok"
    code = str(body.get("error") or "unknown")
    return code if _ERROR_CODE.match(code) else "unknown"


class _InterruptibleWait(RetryHandler):
    """A retry handler whose wait ends early when `stopping` is set (SIGTERM): the attempt's failure
    then goes back to the caller, and the outbox sender releases the row for another worker,
    instead of the process sleeping out Retry-After past its shutdown deadline. Put first among the
    bases, before the slack_sdk handler whose rules it keeps."""

    def __init__(self, *, max_retry_count: int, stopping: threading.Event | None = None) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._stopping = stopping or threading.Event()

    def __deepcopy__(self, memo: dict[int, object]) -> _InterruptibleWait:
        # Bolt deep-copies a request, its client included, for lazy listeners: the copy must stop
        # with the process and count into its registry, so the handlers are shared, not copied.
        return self

    def _wait_then_retry(self, state: RetryState, seconds: float) -> None:
        if self._stopping.wait(seconds):
            return  # shutting down: no next attempt is requested, so the failure is returned
        state.next_attempt_requested = True
        state.increment_current_attempt()

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        # slack_sdk's own backoff, with a wait that a shutdown cuts short.
        self._wait_then_retry(state, self.interval_calculator.calculate_sleep_duration(state.current_attempt))


class ShortRateLimitRetryHandler(_InterruptibleWait, RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (waits Retry-After, then retries), for short waits only."""

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

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        # As slack_sdk's: Retry-After plus up to a second of jitter (1 s and jitter without the header).
        wait = retry_after_seconds(response)
        self._wait_then_retry(state, (1 if wait is None else wait) + random.random())


class _ServerErrorRetryHandler(_InterruptibleWait, ServerErrorRetryHandler):
    """slack_sdk's 5xx handler retries only 500 and 503; a 502 or 504 from Slack's edge is just as
    transient. Left to the outbox, it waited 10 s (then 20 s, 40 s) and held back every later
    message of its ticket (the scale-out soak found cards and nudges late by tens of seconds)."""

    RETRIED = frozenset({500, 502, 503, 504})

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in self.RETRIED


class _ConnectionErrorRetryHandler(_InterruptibleWait, ConnectionErrorRetryHandler):
    """slack_sdk's handler for a connection that failed or was reset."""


def make_web_client(
    token: str | None,
    base_url: str,
    *,
    max_retries: int = 3,
    timeout: int = 10,
    observe: ObserveCall | None = None,
    stopping: threading.Event | None = None,
) -> WebClient:
    """A WebClient that waits out short 429s (honouring Retry-After) and retries 5xx and dropped
    connections; `observe` is told of every attempt; setting `stopping` ends any retry wait at once."""
    stop = stopping or threading.Event()
    observer: list[RetryHandler] = [ApiCallObserver(observe)] if observe is not None else []
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            *observer,
            _ConnectionErrorRetryHandler(max_retry_count=max_retries, stopping=stop),
            ShortRateLimitRetryHandler(max_retry_count=max_retries, stopping=stop),
            _ServerErrorRetryHandler(max_retry_count=max_retries, stopping=stop),
        ],
    )
