"""HTTP mode: a WSGI app (Slack events, health, readiness, metrics) served by waitress, a production WSGI server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import make_wsgi_app as prometheus_wsgi_app
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from waitress import wasyncore
from waitress.server import create_server
from waitress.task import ThreadedTaskDispatcher

from bot.context import Deps
from bot.health import Readiness, ReadinessReport
from bot.logs import new_request_id
from bot.metrics import LISTENER_FAILED, Metrics, request_kind, request_outcome
from bot.slack.client import make_web_client
from store.db import PROBE_TIMEOUT_SECONDS

log = structlog.get_logger(__name__)

__all__ = [
    "EVENTS_PATH",
    "LIVENESS_PATH",
    "PROBE_PATHS",
    "HttpServer",
    "Ops",
    "make_server",
    "make_wsgi_app",
    "ops_for",
]

EVENTS_PATH = "/slack/events"
# Answered by threads of their own, never queued behind Slack's requests (see _ProbesApart):
# liveness by one thread that nothing else uses (it touches nothing, so it is never slow), readiness
# and metrics, which ask the database with 2 s timeouts, by two more.
LIVENESS_PATH = "/healthz"
PROBE_PATHS = frozenset({"/readyz", "/metrics"})
PROBE_THREADS = 2
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi_app(app: App, ops: Ops | None = None) -> WsgiApp:
    """Slack's requests on EVENTS_PATH, `/healthz`, and with `ops` `/readyz` and `/metrics`."""
    metrics = ops.metrics if ops is not None else None
    slack = _MeteredRequestHandler(app, path=EVENTS_PATH, metrics=metrics)
    exposition = prometheus_wsgi_app(metrics.registry) if metrics is not None else None

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method in {"GET", "HEAD"}:
            return _plain(start_response, "200 OK", "ok")
        if ops is not None and path == "/readyz" and method in {"GET", "HEAD"}:
            return _readyz(start_response, ops.readiness.report())
        if exposition is not None and path == "/metrics":
            return exposition(environ, start_response)  # type: ignore[no-any-return]
        if path == EVENTS_PATH and not _timestamp_is_valid(environ):
            # Bolt would answer 401 only after parsing the body; a timestamp that is not even a
            # number is refused here, before any of the body is read.
            if metrics is not None:
                metrics.slack_request("other", "rejected", 0.0)
            return _plain(start_response, "401 Unauthorized", "invalid request timestamp")
        try:
            return slack(environ, start_response)
        except Exception as error:  # a body Bolt cannot parse: the client's fault, logged in one line
            log.warning("bad_request", path=path, error=f"{type(error).__name__}: {error}")
            if metrics is not None and path == EVENTS_PATH:
                metrics.slack_request("other", "malformed", 0.0)
            return _plain(start_response, "400 Bad Request", "malformed request")

    return _with_request_id(wsgi)


def _with_request_id(wsgi: WsgiApp) -> WsgiApp:
    """Every log line of one HTTP request carries its `request_id` (Bolt's middleware adds Slack's
    ids); the context is emptied afterwards, since waitress reuses its threads."""

    def logged(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=new_request_id())
        try:
            return wsgi(environ, start_response)
        finally:
            structlog.contextvars.clear_contextvars()

    return logged


@dataclass(frozen=True)
class Ops:
    """What `/readyz` and `/metrics` answer from."""

    metrics: Metrics
    readiness: Readiness


def ops_for(deps: Deps) -> Ops:
    """Readiness and metrics of the process `deps` belongs to. auth.test goes through a client of
    its own with a short timeout and no retries, so `/readyz` answers within seconds."""
    probe_client = make_web_client(
        deps.settings.slack_bot_token.get_secret_value(),
        deps.settings.slack_api_url,
        max_retries=0,
        timeout=PROBE_TIMEOUT_SECONDS,
        observe=deps.metrics.slack_api_call,
    )
    return Ops(deps.metrics, Readiness(deps.probe, auth_test=probe_client.auth_test, clock=deps.clock))


def _readyz(start_response: Callable[..., Any], report: ReadinessReport) -> list[bytes]:
    status = "200 OK" if report.ready else "503 Service Unavailable"
    start_response(status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")])
    return [json.dumps(report.as_json(), indent=1).encode() + b"\n"]


class _MeteredRequestHandler(SlackRequestHandler):
    """Bolt's WSGI handler, counting each request by kind and outcome and timing its answer (the ack:
    with `process_before_response` the answer leaves when the listener has acked)."""

    def __init__(self, app: App, *, path: str, metrics: Metrics | None) -> None:
        super().__init__(app, path=path)
        self._metrics = metrics

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        started = time.perf_counter()
        bolt_request = BoltRequest(body=request.get_body(), query=request.query_string, headers=request.get_headers())
        response = self.app.dispatch(bolt_request)
        if self._metrics is not None:
            elapsed = time.perf_counter() - started
            failed = bool(bolt_request.context.get(LISTENER_FAILED))
            outcome = request_outcome(response.status, failed=failed)
            self._metrics.slack_request(request_kind(bolt_request.body), outcome, elapsed)
        return response


def _timestamp_is_valid(environ: dict[str, Any]) -> bool:
    value = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _plain(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode() + b"\n"]


class _ProbesApart(ThreadedTaskDispatcher):
    """waitress's thread pool, with health probes and metrics sent to a small pool of their own: when
    every request thread waits on a frozen database, `/healthz` still says the process lives and
    `/readyz` says why it is not ready, instead of timing out in the queue behind Slack's requests.

    waitress hands its dispatcher the connection ("channel") whose first queued request is next;
    each request of a keep-alive connection is routed again by its own path."""

    def __init__(self, threads: int) -> None:
        super().__init__()
        self.set_thread_count(threads)
        self._live, self._probes = ThreadedTaskDispatcher(), ThreadedTaskDispatcher()
        self._live.set_thread_count(1)
        self._probes.set_thread_count(PROBE_THREADS)

    def add_task(self, task: Any) -> None:
        requests = getattr(task, "requests", None)
        path = getattr(requests[0], "path", None) if requests else None
        if path == LIVENESS_PATH:
            self._live.add_task(task)
        elif path in PROBE_PATHS:
            self._probes.add_task(task)
        else:
            super().add_task(task)

    def shutdown(self, cancel_pending: bool = True, timeout: int = 5) -> bool:
        live_done = self._live.shutdown(cancel_pending, timeout)
        probes_done = self._probes.shutdown(cancel_pending, timeout)
        return bool(super().shutdown(cancel_pending, timeout) and probes_done and live_done)


class HttpServer:
    """A waitress server: `run()` serves until `stop()` is called from another thread or a signal."""

    def __init__(self, wsgi: WsgiApp, *, host: str, port: int, threads: int) -> None:
        # `_dispatcher` is waitress's way in for its own tests; it lets the probes have threads apart.
        dispatcher = _ProbesApart(threads)
        self._server: Any = create_server(
            wsgi, host=host, port=port, threads=threads, ident="frontline", _dispatcher=dispatcher
        )
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    def run(self) -> None:
        # waitress's own run() loops until its socket map is empty, and its close() leaves keep-alive
        # connections in the map; so run the same loop one poll at a time and stop on request.
        server = self._server
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=0.2, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)
        except (SystemExit, KeyboardInterrupt):
            pass
        finally:
            server.task_dispatcher.shutdown()
            wasyncore.close_all(server._map)

    def stop(self) -> None:
        """Ask `run()` to return; it does within one poll interval (0.2 s)."""
        self._stopping.set()


def make_server(app: App, *, host: str, port: int, threads: int = 8, ops: Ops | None = None) -> HttpServer:
    return HttpServer(make_wsgi_app(app, ops), host=host, port=port, threads=threads)
