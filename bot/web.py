"""HTTP mode: a WSGI app (Slack events + health) served by waitress, a production WSGI server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.server import create_server

from bot.logs import new_request_id

log = structlog.get_logger(__name__)

__all__ = ["EVENTS_PATH", "HttpServer", "make_server", "make_wsgi_app"]

EVENTS_PATH = "/slack/events"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi_app(app: App) -> WsgiApp:
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in {"GET", "HEAD"}:
            return _plain(start_response, "200 OK", "ok")
        if environ.get("PATH_INFO") == EVENTS_PATH and not _timestamp_is_valid(environ):
            # Bolt would answer 401 only after parsing the body; a timestamp that is not even a
            # number is refused here, before any of the body is read.
            return _plain(start_response, "401 Unauthorized", "invalid request timestamp")
        try:
            return slack(environ, start_response)
        except Exception as error:  # a body Bolt cannot parse: the client's fault, logged in one line
            log.warning("bad_request", path=environ.get("PATH_INFO"), error=f"{type(error).__name__}: {error}")
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


def _timestamp_is_valid(environ: dict[str, Any]) -> bool:
    value = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _plain(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode() + b"\n"]


class HttpServer:
    """A waitress server: `run()` serves until `stop()` is called from another thread or a signal."""

    def __init__(self, wsgi: WsgiApp, *, host: str, port: int, threads: int) -> None:
        self._server: Any = create_server(wsgi, host=host, port=port, threads=threads, ident="frontline")
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


def make_server(app: App, *, host: str, port: int, threads: int = 8) -> HttpServer:
    return HttpServer(make_wsgi_app(app), host=host, port=port, threads=threads)
