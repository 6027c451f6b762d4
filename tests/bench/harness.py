"""What the HTTP benchmarks share: Frontline deployed as the Procfile runs it (`serve` and `worker`
processes on one SQLite file) against the stand-in Slack, a load driver, and the figures it prints."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.slack.simulator import SlackResponse
from bot.slack.standin import SlackStandIn

SECRET = "bench-secret"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    """One load run: latencies in seconds, and requests per second over the whole run."""

    latencies: list[float]
    rate: float

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 0.50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000


def median_ms(run: Callable[[], object], repeat: int) -> float:
    """The median of `repeat` timed calls of `run`, in milliseconds."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    return (
        f"machine: {platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()}"
    )


def drive(send: Callable[[int], SlackResponse], requests: int, clients: int, *, first: int = 0) -> Run:
    """Send `requests` requests from `clients` threads; every answer must be 200."""

    def one(n: int) -> float:
        response = send(n)
        if response.status != 200:
            raise SystemExit(f"request {n} answered {response.status}: {response.body[:200]!r}")
        return response.elapsed

    started = time.perf_counter()
    numbers = range(first, first + requests)
    if clients == 1:
        latencies = [one(n) for n in numbers]
    else:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            latencies = list(pool.map(one, numbers))
    return Run(latencies, requests / (time.perf_counter() - started))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            return
        except OSError as error:
            if getattr(error, "code", None) == 404:  # the bare app has no /healthz: it is up
                return
            time.sleep(0.1)
    raise SystemExit("server did not start")


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@contextmanager
def server(command: list[str], env: dict[str, str]) -> Iterator[Server]:
    """Start an HTTP server process on a free port (given as $PORT) and wait until it answers."""
    port = free_port()
    process = subprocess.Popen(
        command, env=env | {"PORT": str(port)}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_healthy(port, process)
        yield Server(f"http://127.0.0.1:{port}/slack/events", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


class Deployment:
    """A stand-in Slack, a migrated SQLite file and a `frontline worker` process; `serve()` starts
    a `frontline serve` beside them."""

    def __init__(self, config_yaml: str) -> None:
        self._config_yaml = config_yaml

    def __enter__(self) -> Deployment:
        workdir = Path(tempfile.mkdtemp(prefix="frontline-bench-"))
        config = workdir / "frontline.yaml"
        config.write_text(self._config_yaml)
        self.standin = SlackStandIn().start()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "FRONTLINE_"))}
        self.env = base | {
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
            "FRONTLINE_CONFIG": str(config),
            "SLACK_BOT_TOKEN": self.standin.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.standin.api_url,
            "LOG_LEVEL": "WARNING",
            "SLACK_CHANNEL_RATE": "0",  # the stand-in has no rate limits; Slack would pace the cards
        }
        subprocess.run([sys.executable, "-m", "bot", "migrate"], env=self.env, check=True, capture_output=True)
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    def __exit__(self, *_: object) -> None:
        self.worker.terminate()
        self.worker.wait(timeout=10)
        self.standin.stop()

    def serve(self) -> AbstractContextManager[Server]:
        return server([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"], self.env)

    def worker_cpu(self) -> float:
        return cpu_seconds(self.worker.pid)

    def wait_for_messages(self, channel: str, count: int, *, timeout: float = 300) -> tuple[int, float]:
        """Wait until the worker has posted `count` messages to `channel`: (posted, seconds waited)."""
        started = time.monotonic()
        while len(self.standin.messages(channel)) < count and time.monotonic() - started < timeout:
            time.sleep(0.2)
        return len(self.standin.messages(channel)), time.monotonic() - started


@contextmanager
def scratch_database(admin_url: str, *, prefix: str = "frontline_bench") -> Iterator[str]:
    """A fresh, empty database for one benchmark run: a new PostgreSQL database (dropped afterwards)
    when `admin_url` is PostgreSQL, else a new SQLite file."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from store.db import is_postgres

    if not (admin_url and is_postgres(admin_url)):
        yield f"sqlite:///{Path(tempfile.mkdtemp(prefix='frontline-bench-')) / 'bench.db'}"
        return
    name = f"{prefix}_{os.urandom(4).hex()}"
    with create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
