"""Socket Mode: Bolt's built-in adapter, with each request counted and timed like an HTTP one."""

from __future__ import annotations

import time

import structlog
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import build_headers, send_response
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.metrics import LISTENER_FAILED, Metrics, request_kind, request_outcome

__all__ = ["MeteredSocketModeHandler"]


class MeteredSocketModeHandler(SocketModeHandler):
    """`frontline_slack_requests_total` and `frontline_slack_ack_seconds` for requests that arrive
    over the WebSocket: from the envelope's arrival to the acknowledgement sent back on it."""

    def __init__(self, app: App, app_token: str, *, metrics: Metrics) -> None:
        super().__init__(app, app_token)
        self._metrics = metrics

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started, wall = time.perf_counter(), time.time()
        request = BoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req))
        try:
            response = self.app.dispatch(request)
            send_response(client, req, response, wall)
        finally:
            # The envelope's log context (bound by handlers.logcontext) ends with it: the pool's
            # thread goes on to other work.
            structlog.contextvars.clear_contextvars()
        self._metrics.slack_request(
            request_kind(request.body),
            request_outcome(response.status, failed=bool(request.context.get(LISTENER_FAILED))),
            time.perf_counter() - started,
        )
