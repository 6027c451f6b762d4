"""HTTP mode: a WSGI app (Slack events + health) served by waitress, a production WSGI server."""

from __future__ import annotations

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

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    def run(self) -> None:
        self._server.run()

    def stop(self) -> None:
        # waitress's own close() leaves keep-alive connections in its loop, so run() would not
        # return until clients hang up. Close every channel from inside the loop's own thread
        # (closing them from here races the loop's select()), then stop the worker threads.
        server = self._server
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        server.task_dispatcher.shutdown()


def make_server(app: App, *, host: str, port: int, threads: int = 8) -> HttpServer:
    return HttpServer(make_wsgi_app(app), host=host, port=port, threads=threads)
