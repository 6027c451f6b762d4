"""Container smoke check (issue 12): the built image, run as the Procfile's three processes.

    python -m tests.container.smoke --image frontline:latest [--engine docker|podman] [--database-url URL]

On the host's network: `migrate` brings a fresh database (on the server `--database-url` names) to
head, then `serve` and `worker --metrics-port` start against the Slack stand-in, which runs in this
process. The check asks `/healthz` and `/readyz`, sends a signed `/ticket`, waits for the worker to
post its card, reads both `/metrics`, and stops both containers with SIGTERM, timing each step.
Exit 1 if any step fails. Not part of the test run: it needs a container engine and a built image.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bot.slack.simulator import SlackSimulator
from bot.slack.standin.server import SlackStandIn
from tests.bench.harness import scratch_database

SECRET = "container-smoke-secret"
WEB_PORT, WORKER_PORT = 3199, 9199
NAMES = (f"frontline-smoke-web-{WEB_PORT}", f"frontline-smoke-worker-{WORKER_PORT}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--image", default="frontline:latest")
    parser.add_argument("--engine", default="docker", help="docker or podman")
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    failures: list[str] = []

    def check(what: str, ok: bool, detail: object = "") -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {what} {detail}".rstrip(), flush=True)
        if not ok:
            failures.append(what)

    config = Path(tempfile.mkdtemp()) / "frontline.yaml"
    config.write_text("channels: {triage: '#support-triage'}\n")
    with scratch_database(args.database_url, prefix="frontline_smoke") as url, SlackStandIn() as standin:
        run = _runner(args.engine, args.image, url, config, standin.api_url)
        try:
            started = time.monotonic()
            migrated = run([], ["migrate"])
            check("migrate", migrated.returncode == 0, f"{time.monotonic() - started:.1f} s: {migrated.stdout.strip()}")
            uid = run(["--entrypoint", "id"], ["-u"]).stdout.strip()
            check("runs as a non-root user", uid not in ("", "0"), f"uid {uid}")
            run(["-d", "--name", NAMES[0]], ["serve"])
            run(["-d", "--name", NAMES[1]], ["worker", "--metrics-port", str(WORKER_PORT)])
            web = f"http://127.0.0.1:{WEB_PORT}"
            check("/healthz", _wait(lambda: _get(f"{web}/healthz")[0] == 200, 60))
            check("/readyz ready, one fresh worker", _wait(lambda: '"fresh": 1' in _get(f"{web}/readyz")[1], 60))
            triage = standin.channel_id("support-triage") or ""
            with SlackSimulator(f"{web}/slack/events", SECRET) as slack:
                answer = slack.slash_command("/ticket", "Invoices blank for acme", user_id="U_ALICE", channel_id=triage)
            check("/ticket answered", answer.status == 200 and "Created" in answer.body, answer.status)
            check("its card posted by the worker", _wait(lambda: len(standin.messages(triage)) == 1, 30))
            worker_metrics = _get(f"http://127.0.0.1:{WORKER_PORT}/metrics")[1]
            check("worker /metrics", "frontline_sweep_last_success_timestamp_seconds" in worker_metrics)
            web_metrics = _get(f"{web}/metrics")[1]
            check("web /metrics", 'frontline_slack_requests_total{kind="command",outcome="ok"} 1.0' in web_metrics)
            for name in reversed(NAMES):
                started = time.monotonic()
                stopped = subprocess.run([args.engine, "stop", "-t", "20", name], capture_output=True, check=False)
                seconds = time.monotonic() - started
                within = stopped.returncode == 0 and seconds < 10
                check(f"{name} stops on SIGTERM within 10 s", within, f"{seconds:.1f} s")
        finally:
            subprocess.run([args.engine, "rm", "-f", *NAMES], capture_output=True, check=False)
    print("container smoke: " + ("ok" if not failures else f"{len(failures)} failed: {', '.join(failures)}"))
    return 1 if failures else 0


def _runner(
    engine: str, image: str, database_url: str, config: Path, api_url: str
) -> Callable[[list[str], list[str]], subprocess.CompletedProcess[str]]:
    """`run(options, command)`: `engine run` on the host's network with the config mounted and the
    environment set; `options` go before the image, `command` after it (the entrypoint's verb)."""
    env = {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-standin",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "SLACK_CHANNEL_RATE": "0",
        "PORT": str(WEB_PORT),
    }
    base = [engine, "run", "--network", "host", "-v", f"{config}:/etc/frontline/frontline.yaml:ro"]
    base += [part for name, value in env.items() for part in ("-e", f"{name}={value}")]

    def run(options: list[str], command: list[str]) -> subprocess.CompletedProcess[str]:
        detached = "-d" in options
        argv = [*base, *([] if detached else ["--rm"]), *options, image, *command]
        return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)

    return run


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


if __name__ == "__main__":
    sys.exit(main())
