"""Ack latency and throughput of signed `/ticket` requests: `frontline serve` on SQLite vs a bare
Bolt app whose handler only acks, measured in the same run, each in its own process.

    python tests/bench/bench_ticket_command.py [--requests 2000] [--clients 8]

Prints p50/p99 latency and requests/s for sequential and concurrent clients, and the ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from bot.slack.simulator import SlackSimulator
from bot.slack.standin import SlackStandIn

SECRET = "bench-secret"
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(port: int, process: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1).close()
            return
        except OSError as error:
            if getattr(error, "code", None) == 404:  # the bare app has no /healthz: it is up
                return
            time.sleep(0.1)
    raise SystemExit("server did not start")


@contextmanager
def _server(command: list[str], env: dict[str, str], port: int) -> Iterator[tuple[str, int]]:
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(port, process, "/healthz")
        yield f"http://127.0.0.1:{port}/slack/events", process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def _run(url: str, requests: int, clients: int) -> tuple[list[float], float]:
    simulator = SlackSimulator(url, SECRET)

    def one(n: int) -> float:
        response = simulator.slash_command(
            "/ticket", f"printer {n} jams on floor 3", user_id="U_A", channel_id="C_HELP"
        )
        if response.status != 200:
            raise SystemExit(f"request {n} answered {response.status}: {response.body[:200]}")
        return response.elapsed

    started = time.perf_counter()
    if clients == 1:
        latencies = [one(n) for n in range(requests)]
    else:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            latencies = list(pool.map(one, range(requests)))
    return latencies, requests / (time.perf_counter() - started)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="frontline-bench-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "FRONTLINE_"))}
    config = workdir / "frontline.yaml"
    config.write_text("channels: {triage: C_TRIAGE}\n")
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    cpu_ms: dict[str, float] = {}
    with SlackStandIn() as standin:
        frontline_env = base_env | {
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
            "FRONTLINE_CONFIG": str(config),
            "SLACK_BOT_TOKEN": standin.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": standin.api_url,
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run([sys.executable, "-m", "bot", "migrate"], env=frontline_env, check=True, capture_output=True)
        targets = {
            "frontline": [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"],
            "bare bolt": [sys.executable, str(ROOT / "tests/bench/bare_bolt.py")],
        }
        # Frontline runs as the Procfile deploys it: `serve` answers, a `worker` posts the cards.
        worker = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"], env=frontline_env, cwd=ROOT, stdout=subprocess.DEVNULL
        )
        worker_cpu_before = 0.0
        try:
            for name, command in targets.items():
                worker_cpu_before = _cpu_seconds(worker.pid) if name == "frontline" else worker_cpu_before
                port = _free_port()
                cmd = [*command, str(port), SECRET] if name == "bare bolt" else command
                with _server(cmd, frontline_env | {"PORT": str(port)}, port) as (url, pid):
                    _run(url, 50, 1)  # warm-up: imports, connection pools, first queries
                    cpu_before = _cpu_seconds(pid)
                    results[name] = {}
                    for label, clients in (("sequential", 1), (f"{args.clients} clients", args.clients)):
                        latencies, rate = _run(url, args.requests, clients)
                        p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
                        results[name][label] = (p50 * 1000, p99 * 1000, rate)
                    cpu_ms[name] = (_cpu_seconds(pid) - cpu_before) * 1000 / (2 * args.requests)
                if name == "frontline":
                    # Let the worker post every card before the baseline runs on the same cores.
                    created = 50 + 2 * args.requests
                    cards_started = time.monotonic()
                    while len(standin.messages("C_TRIAGE")) < created and time.monotonic() - cards_started < 300:
                        time.sleep(0.2)
                    cards = len(standin.messages("C_TRIAGE"))
                    cards_wait = time.monotonic() - cards_started
                    cpu_ms["worker"] = (_cpu_seconds(worker.pid) - worker_cpu_before) * 1000 / created
        finally:
            worker.terminate()
            worker.wait(timeout=10)

    print(
        f"machine: {platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()} · {args.requests} requests per run"
    )
    print(f"{'server':<10} {'clients':<12} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for name, runs in results.items():
        for label, (p50, p99, rate) in runs.items():
            print(f"{name:<10} {label:<12} {p50:>8.1f} {p99:>8.1f} {rate:>8.0f}")
    print(f"cards posted by the worker: {cards} of {created} tickets ({cards_wait:.1f} s after the last request)")
    print(
        "CPU per request: "
        + ", ".join(f"{name} {ms:.2f} ms" for name, ms in cpu_ms.items())
        + " (worker: per card posted)"
    )
    for label in results["frontline"]:
        f, b = results["frontline"][label], results["bare bolt"][label]
        print(
            f"ratio frontline/bare ({label}): p50 {f[0] / b[0]:.2f}x, p99 {f[1] / b[1]:.2f}x, "
            f"throughput {f[2] / b[2]:.2f}x"
        )


if __name__ == "__main__":
    main()
