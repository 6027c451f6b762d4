"""Scale-out soak (issue 12): Frontline as SREs run it — two `frontline serve` and two `frontline
worker` processes on one PostgreSQL — under a stream of signed Slack traffic, against the Slack
stand-in answering 20 % of Web API calls with 429 (Retry-After) or 5xx. Mid-run one worker is
killed with SIGKILL and started again. At the end the outbox drains and the soak checks that every
request was answered within 3 s, every intake message made exactly one ticket, every message the
database says was posted reached Slack exactly once (one duplicate allowed: the message the killed
worker had in flight), no timer was missed and no outbox row is stuck. Exit 1 on any violation.

    python -m tests.soak.scaleout [--duration 180] [--rate 4] [--database-url URL] [--wait-lease]

The database is a fresh one on the server `--database-url` names, dropped at the end. The killed
worker's claims are handed on after the 5-minute lease (store/outbox.py): `--wait-lease` waits it
out for real; without it the soak ages those claims by the lease once the load ends, so a short run
(CI) still sees them delivered.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from bot.slack.simulator import SlackSimulator
from bot.slack.standin import SlackStandIn
from store import outbox
from tests.bench.harness import SECRET, cpu_seconds, machine, scratch_database
from tests.soak.checks import check_all
from tests.soak.fleet import Fleet, Proc
from tests.soak.load import CUSTOMERS, Load

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SWEEP_SECONDS = 1.0
DRAIN_SWEEP_SECONDS = 60.0
FAILURE_KINDS = ("429", "500", "502", "503")

# Clocks short enough that nudges, breaches and the unassigned-ticket ping all come due within a
# minute or two of a ticket (durations are whole minutes), on every priority, around the clock.
CONFIG = """\
timezone: UTC
channels:
  triage: C_TRIAGE
  intake: [C_HELP]
  escalation: {L2: C_L2, L3: C_L3, management: C_MGMT}
  incidents: C_INCIDENTS
roles:
  agents: [U_AGENT1, U_AGENT2]
  l2: [U_AGENT2]
  l3: [U_ENG]
  leads: [U_LEAD]
  admins: [U_ADMIN]
customers:
  acme: {tier: enterprise, arr: 120000}
sla:
  P0: {first_response: 1m, resolution: 3m, calendar: 24x7}
  P1: {first_response: 2m, resolution: 4m, calendar: 24x7}
  P2: {first_response: 2m, resolution: 5m, calendar: 24x7}
  P3: {first_response: 3m, resolution: 6m, calendar: 24x7}
  warn_at: [0.5, 0.75, 0.9]
lifecycle:
  new_unassigned: 1m
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=180, help="seconds of load (default 180)")
    parser.add_argument("--rate", type=float, default=4, help="requests a second (default 4)")
    parser.add_argument(
        "--database-url", default=DEFAULT_DATABASE_URL, help="a PostgreSQL server to create a database on"
    )
    parser.add_argument("--failure-rate", type=float, default=0.2, help="share of Web API calls failing (default 0.2)")
    parser.add_argument("--kill-at", type=float, default=0.4, help="when to kill a worker, as a share of the run")
    parser.add_argument("--wait-lease", action="store_true", help="wait out the killed worker's claim lease for real")
    parser.add_argument("--drain-timeout", type=float, default=50, help="seconds to wait for the outbox to drain")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    started = time.monotonic()
    with scratch_database(args.database_url, prefix="frontline_soak") as url:
        print(f"{machine()} · database {url.rsplit('/', 1)[-1]} · {args.duration:.0f} s at {args.rate}/s", flush=True)
        ok = _soak(args, url)
    print(f"soak took {time.monotonic() - started:.0f} s in all: {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


def _soak(args: argparse.Namespace, url: str) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix="frontline-soak-"))
    (workdir / "frontline.yaml").write_text(CONFIG)
    standin = SlackStandIn(retry_after=1, seed=args.seed).start()
    for user in CUSTOMERS:
        standin.add_user(user, user.lower())
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "FRONTLINE_"))}
    fleet = Fleet(
        base
        | {
            "DATABASE_URL": url,
            "FRONTLINE_CONFIG": str(workdir / "frontline.yaml"),
            "SLACK_BOT_TOKEN": standin.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": standin.api_url,
            "SLACK_CHANNEL_RATE": "0",  # the stand-in has no per-channel limit; its 429s are injected
            "LOG_LEVEL": "WARNING",
        },
        logs=workdir,
    )
    engine = create_engine(url)
    try:
        fleet.migrate()
        standin.set_failures(args.failure_rate, FAILURE_KINDS)
        serves = [fleet.serve("serve-1"), fleet.serve("serve-2")]
        workers = [
            fleet.worker("worker-1", sweep_seconds=SWEEP_SECONDS),
            fleet.worker("worker-2", sweep_seconds=SWEEP_SECONDS),
        ]
        simulators = [
            SlackSimulator(
                f"http://127.0.0.1:{s.port}/slack/events", SECRET, response_url_base=standin.response_url_base
            )
            for s in serves
        ]
        load = Load(simulators, standin, seed=args.seed)
        victim = workers[0]
        killer = _Killer(fleet, engine, victim, at=args.kill_at * args.duration, replacements=workers)
        print(f"load: {args.duration:.0f} s; worker-1 is killed at {killer.at:.0f} s; logs in {workdir}", flush=True)
        load.run(args.duration, args.rate, at=killer.maybe)
        load.finish()
        print(f"load done: {len(load.sent.answers)} answers; draining the outbox", flush=True)
        cpu = {p.name: cpu_seconds(p.pid) for p in [*serves, *workers] if p.process.poll() is None}
        aged = _hand_on_claims(engine, victim.worker_pattern, wait=args.wait_lease)
        # Timers keep coming due after the load (the SLA clocks run on), so the outbox would never be
        # empty for long: the workers are stopped (SIGTERM) and two started that sweep once, at
        # start, and then only deliver (a sweep every 60 s), until nothing is left to send.
        live = [w for w in workers if w.process.poll() is None]
        fleet.stop(live)
        left_claimed = _claimed_by(engine, [w.worker_pattern for w in live])
        drain_started = datetime.now(UTC)
        for n in (1, 2):
            fleet.worker(f"drain-{n}", sweep_seconds=DRAIN_SWEEP_SECONDS)
        timeout = args.drain_timeout + (outbox.CLAIM_LEASE.total_seconds() if args.wait_lease else 0)
        drained_in = _drain(engine, timeout)
        crashed = fleet.exited()
        forced = fleet.stop()
        findings = check_all(engine, standin, load.sent, swept_at=drain_started, killed=killer.done)
    finally:
        fleet.stop()
        standin.stop()
        engine.dispose()

    findings.fact(
        f"worker killed (SIGKILL) after {killer.at:.0f} s holding {killer.holding} outbox rows, and restarted: "
        f"{killer.done}; its claims at the end of the load: {aged}"
    )
    findings.fact(f"outbox drained {drained_in:.1f} s after the load" if drained_in >= 0 else "outbox did not drain")
    findings.fact("CPU seconds: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items()))
    if left_claimed:
        findings.fail(f"workers stopped with SIGTERM left {left_claimed} outbox rows claimed")
    if drained_in < 0:
        findings.fail(f"the outbox did not drain within {timeout:.0f} s")
    for proc in crashed:
        findings.fail(f"{proc.name} exited by itself with {proc.process.returncode}; see {proc.log}")
    for name in forced:
        findings.fail(f"{name} did not stop within 20 s of SIGTERM")
    print("\n".join(findings.figures))
    print("\n".join(findings.notes))
    for line in findings.violations:
        print(f"VIOLATION: {line}")
    return not findings.violations


class _Killer:
    """Kills the worker with SIGKILL once the run reaches `at` seconds, at a moment it holds outbox
    rows (within 10 s), and starts a new one 2 s later."""

    def __init__(self, fleet: Fleet, engine: Engine, victim: Proc, *, at: float, replacements: list[Proc]) -> None:
        self._fleet, self._engine, self._victim, self.at = fleet, engine, victim, at
        self._replacements = replacements
        self.done = False
        self.holding = 0

    def maybe(self, elapsed: float) -> None:
        if self.done or elapsed < self.at:
            return
        self.holding = _claimed_by(self._engine, [self._victim.worker_pattern])
        if not self.holding and elapsed < self.at + 10:
            return
        self._fleet.kill(self._victim)
        self.done = True
        print(f"{elapsed:.0f} s: worker-1 killed (SIGKILL) holding {self.holding} outbox rows", flush=True)

        def restart() -> None:
            self._replacements.append(self._fleet.worker("worker-1b", sweep_seconds=SWEEP_SECONDS))

        threading.Timer(2.0, restart).start()


def _hand_on_claims(engine: Engine, worker_pattern: str, *, wait: bool) -> str:
    """What the killed worker still held. Unless `wait`, its claims are aged by the lease, as if the
    5 minutes had passed: the live workers take them on at their next look."""
    with engine.begin() as db:
        rows = db.execute(
            text("SELECT count(*) FROM outbox WHERE claimed_by LIKE :w AND status = 'sending'"), {"w": worker_pattern}
        ).scalar_one()
        timers = db.execute(
            text("SELECT count(*) FROM timers WHERE claimed_by LIKE :w AND fired_at IS NULL"), {"w": worker_pattern}
        ).scalar_one()
        if not wait:
            lease = {"w": worker_pattern, "lease": outbox.CLAIM_LEASE}
            db.execute(text("UPDATE outbox SET claimed_at = claimed_at - :lease WHERE claimed_by LIKE :w"), lease)
            db.execute(text("UPDATE timers SET claimed_at = claimed_at - :lease WHERE claimed_by LIKE :w"), lease)
    how = "waited out (5 min lease)" if wait else "aged by the lease"
    return f"{rows} outbox rows and {timers} timers, {how}"


def _claimed_by(engine: Engine, worker_patterns: list[str]) -> int:
    with engine.connect() as db:
        statement = text("SELECT count(*) FROM outbox WHERE status = 'sending' AND claimed_by LIKE ANY(:patterns)")
        return int(db.execute(statement, {"patterns": worker_patterns}).scalar_one())


def _drain(engine: Engine, timeout: float) -> float:
    """Seconds until every outbox row is sent or dead; -1 on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with engine.connect() as db:
            waiting = db.execute(
                text("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")
            ).scalar_one()
        if not waiting:
            return time.monotonic() - started
        time.sleep(0.5)
    return -1.0


if __name__ == "__main__":
    sys.exit(main())
