"""HTTP mode: a WSGI app (Slack events + health) served by waitress, a production WSGI server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.server import create_server

__all__ = ["EVENTS_PATH", "HttpServer", "make_server", "make_wsgi_app"]

EVENTS_PATH = "/slack/events"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi_app(app: App) -> WsgiApp:
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in {"GET", "HEAD"}:
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n"]
        return slack(environ, start_response)

    return wsgi


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
