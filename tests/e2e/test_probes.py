"""Health probes are answered while every request thread is busy: they have threads of their own."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot.web import EVENTS_PATH, HttpServer

THREADS = 2


@pytest.fixture
def stuck_server() -> Iterator[tuple[HttpServer, threading.Event, list[str]]]:
    """A server whose Slack path waits (as on a frozen database) until the event is set."""
    release, served = threading.Event(), []

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path == EVENTS_PATH or environ.get("QUERY_STRING") == "stuck":  # a probe of a frozen database
            served.append("waiting")
            release.wait(30)
        served.append(f"{path}:{threading.current_thread().name}")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [path.encode()]

    server = HttpServer(wsgi, host="127.0.0.1", port=0, threads=THREADS)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    yield server, release, served
    release.set()
    server.stop()
    runner.join(10)


def _get(server: HttpServer, path: str, timeout: float) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=timeout) as response:
        return response.status, response.read()


def test_probes_answer_while_every_request_thread_waits(
    stuck_server: tuple[HttpServer, threading.Event, list[str]],
) -> None:
    server, release, served = stuck_server
    with ThreadPoolExecutor(max_workers=THREADS * 2) as pool:
        stuck = [pool.submit(_get, server, EVENTS_PATH, 30) for _ in range(THREADS * 2)]  # more than the pool
        deadline = time.monotonic() + 5
        while served.count("waiting") < THREADS and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # every request thread waits now, and two more requests are queued behind them
        assert served == ["waiting"] * THREADS
        for path in ("/healthz", "/readyz", "/metrics", "/healthz"):
            started = time.monotonic()
            assert _get(server, path, timeout=2) == (200, path.encode())
            assert time.monotonic() - started < 1
        release.set()
        assert [future.result(timeout=10)[0] for future in stuck] == [200] * (THREADS * 2)
    assert sum(line.startswith(EVENTS_PATH + ":") for line in served) == THREADS * 2


def test_a_keep_alive_connection_is_routed_by_each_request(
    stuck_server: tuple[HttpServer, threading.Event, list[str]],
) -> None:
    server, release, served = stuck_server
    release.set()  # nothing waits: both kinds of request on one connection, one after the other
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    for path in ("/healthz", EVENTS_PATH, "/readyz", EVENTS_PATH):
        connection.request("GET", path)
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, path.encode())
    connection.close()
    answered = [line.split(":")[0] for line in served if line != "waiting"]
    assert answered == ["/healthz", EVENTS_PATH, "/readyz", EVENTS_PATH]


def test_liveness_answers_while_the_readiness_threads_wait_too(
    stuck_server: tuple[HttpServer, threading.Event, list[str]],
) -> None:
    """/readyz and /metrics each ask the database (2 s timeouts): a burst of them against a frozen
    one must not hold up /healthz, or a liveness probe restarts a process that is fine."""
    server, release, served = stuck_server
    with ThreadPoolExecutor(max_workers=6) as pool:
        stuck = [pool.submit(_get, server, f"{path}?stuck", 30) for path in ("/readyz", "/metrics") * 3]
        deadline = time.monotonic() + 5
        while served.count("waiting") < 2 and time.monotonic() < deadline:  # both probe threads busy
            time.sleep(0.01)
        time.sleep(0.2)
        started = time.monotonic()
        assert _get(server, "/healthz", timeout=2) == (200, b"/healthz")
        assert time.monotonic() - started < 1
        release.set()
        assert [future.result(timeout=10)[0] for future in stuck] == [200] * 6
