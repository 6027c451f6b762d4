"""Time-based work and outbox delivery: the worker process (SPEC §1, `frontline worker`).

One function, `run_due_work(deps, now)`, does everything that is due as of `now`; the worker runs
it on an APScheduler interval and `frontline tick --now …` runs it once. Outbox delivery also runs
on a thread of its own (`DeliveryLoop`), so that a card appears within a fraction of a second of the
request that decided it and a backlog drains back to back. Every piece of work is claimed through
the database, so several workers (or `serve --with-worker` processes) never do it twice.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from prometheus_client import make_wsgi_app
from sqlalchemy.exc import SQLAlchemyError

from bot.context import Deps
from bot.core.text import first_line_of
from bot.services import digests, surges
from bot.services.retention import purge_closed_tickets
from bot.services.sweep import fire_due_timers
from bot.slack.usergroups import schedule_refresh
from store import heartbeats, outbox
from store.db import database_unreachable, read_scope, session_scope

__all__ = [
    "DELIVERY_SECONDS",
    "HARD_EXIT_SECONDS",
    "SHUTDOWN_SECONDS",
    "SWEEP_SECONDS",
    "DeliveryLoop",
    "DueWorkReport",
    "Sweeper",
    "Worker",
    "build_scheduler",
    "deliver_outbox",
    "delivery_threads",
    "exit_by_deadline",
    "run_due_work",
    "run_worker",
    "start_background_worker",
    "start_metrics_server",
    "stop_worker",
]

log = structlog.get_logger(__name__)

SWEEP_SECONDS = 30
DELIVERY_SECONDS = 0.2
DELIVERY_THREADS_POSTGRES = 4
# After SIGTERM a process is gone within 10 s (what `docker stop` and Kubernetes give by default);
# this leaves a margin for the interpreter's exit.
SHUTDOWN_SECONDS = 8


@dataclass
class DueWorkReport:
    now: datetime
    timers_fired: int = 0
    timers_failed: int = 0
    delivered: int = 0
    paced: int = 0
    retrying: int = 0
    dead: int = 0
    digest: bool = False  # this run decided the day's standup digest
    surge_checked: int = 0  # new tickets through the surge check
    surges: int = 0  # new surge alerts
    purged: int = 0  # closed tickets past retention.closed_ticket_days emptied
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"as of {self.now.isoformat()}: {self.timers_fired} timers fired"
            + (f" ({self.timers_failed} failed)" if self.timers_failed else "")
            + f", {self.delivered} delivered"
            + (f", {self.paced} held back by channel pacing (SLACK_CHANNEL_RATE)" if self.paced else "")
            + ", "
            f"{self.retrying} to retry, {self.dead} failed permanently"
            + (", the standup digest decided" if self.digest else "")
            + (f", {self.surges} new surge alerts" if self.surges else "")
            + (
                f", {self.purged} closed ticket{'' if self.purged == 1 else 's'} purged (retention)"
                if self.purged
                else ""
            )
        )


def run_due_work(deps: Deps, now: datetime, *, deliver: bool = True) -> DueWorkReport:
    """Run every piece of time-based work that is due at `now`: fire the due timers (SLA nudges and
    breaches, stage timers, escalation and playbook reminders), decide the day's digest when it is
    due, put new tickets through the surge check, purge closed tickets past their retention, then
    deliver what they and everything else queued (unless `deliver` is false: the worker's delivery
    loop does that)."""
    report = DueWorkReport(now=now)
    report.digest = digests.post_due(deps.engine, deps.policy, now=now)
    try:
        checked = surges.check_new(deps.engine, deps.policy, deps.embedder, now=now)
        report.surge_checked, report.surges = checked.checked, checked.surges
    except Exception as error:  # the model or a ticket failed: the rest of the sweep goes on; retried next sweep
        if database_unreachable(error):
            raise  # nothing else in the sweep can run either: one failure, said once (Sweeper)
        log.exception("surge_check_failed")
        report.notes.append("the surge check failed (see the log); it is tried again next sweep")
    try:
        report.purged = purge_closed_tickets(deps.engine, deps.policy, now=now)
    except Exception as error:  # a batch failed: the timers still fire; the purge resumes next sweep
        if database_unreachable(error):
            raise
        log.exception("retention_purge_failed")
        report.notes.append("the retention purge failed (see the log); it is tried again next sweep")
    sweep = fire_due_timers(
        deps.engine, deps.policy, worker=deps.sender.worker_id, now=now, should_stop=deps.sender.stop_requested,
        lease_now=deps.clock,
    )  # fmt: skip
    report.timers_fired, report.timers_failed = sweep.fired, sweep.failed
    if not deliver:
        return report
    delivery = deps.sender.deliver_due(now)
    report.delivered, report.retrying, report.dead = len(delivery.sent), len(delivery.retrying), len(delivery.dead)
    report.paced = len(set(delivery.paced))
    return report


def deliver_outbox(deps: Deps) -> int:
    """Deliver what is due now and say how many rows were handled; a cheap read first, so an idle
    poll never takes SQLite's write lock."""
    now = deps.clock()
    with read_scope(deps.engine) as session:
        if not outbox.has_due(session, now):
            return 0
    report = deps.sender.deliver_due(now)
    if report.retrying or report.dead:
        log.warning("delivery", sent=len(report.sent), retrying=len(report.retrying), dead=len(report.dead))
    return len(report.sent) + len(report.retrying) + len(report.dead)


def delivery_threads(deps: Deps) -> int:
    """Senders per process. On PostgreSQL several: a message sleeping through an inline retry or a
    Retry-After then holds up only its own sender, not every other channel's messages (the scale-out
    soak, with Slack failing 20 % of calls, saw one sender post 2-3 messages a second). Claims are row
    locks with SKIP LOCKED, and a ticket's messages still go out one at a time and in order. On
    SQLite one: its writes are serialised anyway."""
    return DELIVERY_THREADS_POSTGRES if deps.engine.dialect.name == "postgresql" else 1


class DeliveryLoop:
    """Outbox delivery on threads of its own: batches back to back while rows are due, then a look
    every `poll_seconds`. (As a 0.2 s scheduler job it overran whenever a backlog took longer than
    that, and APScheduler logged a warning for every skipped run.)"""

    def __init__(self, deps: Deps, *, poll_seconds: float = DELIVERY_SECONDS, threads: int | None = None) -> None:
        self._deps, self._poll = deps, poll_seconds
        self._stopping = threading.Event()
        count = delivery_threads(deps) if threads is None else threads
        self._threads = [
            threading.Thread(target=self._run, name=f"frontline-delivery-{n}", daemon=True) for n in range(count)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, *, wait: bool = True, timeout: float = 10) -> None:
        """Stop after the calls in progress (the rest of their batches is given back, see
        `OutboxSender.request_stop`)."""
        self._stopping.set()
        self._deps.sender.request_stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if wait and thread.is_alive():
                thread.join(timeout=max(deadline - time.monotonic(), 0.0))

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                handled = deliver_outbox(self._deps)
            except Exception as error:  # the database went away: say so once, then look again less often
                if not failures:
                    if database_unreachable(error):  # one line, as the sweep says it
                        log.error("delivery_failed", reason=first_line_of(error), database="unreachable")
                    else:
                        log.exception("delivery_failed")
                failures += 1
                self._stopping.wait(failure_backoff(failures, first=self._poll))
                continue
            if failures:
                log.info("delivery_recovered", failed_polls=failures)
                failures = 0
            if not handled:
                self._stopping.wait(self._poll)


MAX_FAILURE_BACKOFF_SECONDS = 30.0


def failure_backoff(failures: int, *, first: float) -> float:
    """Seconds to wait after the `failures`-th failure in a row: doubling from `first`, at most
    MAX_FAILURE_BACKOFF_SECONDS (a database that is gone was polled 5 times a second, and each poll
    logged a traceback)."""
    return float(min(first * 2 ** min(failures, 16), MAX_FAILURE_BACKOFF_SECONDS))


class Sweeper:
    """The sweep job: run the due work, record this worker's heartbeat (with whether the sweep
    succeeded) and its metrics. `idle` is clear while a sweep runs, so a shutdown can wait for it."""

    def __init__(self, deps: Deps, *, sweep_seconds: float) -> None:
        self._deps, self._interval = deps, sweep_seconds
        self.idle = threading.Event()
        self.idle.set()
        self._failures = 0  # sweeps failed in a row

    def __call__(self) -> None:
        self.idle.clear()
        if self._deps.sender.stop_requested():  # started just as the process began to stop
            self.idle.set()
            return
        try:
            self._sweep()
        finally:
            self.idle.set()

    def _sweep(self) -> None:
        deps = self._deps
        started = time.perf_counter()
        try:
            # Deciding only: the delivery loop, beside it in every process that runs the sweep,
            # sends. A sweep that also drained the outbox waited for the whole backlog (every
            # inline retry and Retry-After of it) before its next look at the timers: the scale-out
            # soak saw nudges fire 25 s late with sweeps due every second.
            report = run_due_work(deps, deps.clock(), deliver=False)
            self._beat(swept=True)
        except Exception as error:
            self._failed(error)
            return
        if self._failures:
            log.info("sweep_recovered", failed_sweeps=self._failures)
            self._failures = 0
        deps.metrics.swept(deps.clock(), time.perf_counter() - started)
        log.info("sweep", timers_fired=report.timers_fired, surge_checked=report.surge_checked)

    def _failed(self, error: Exception) -> None:
        """A database that is gone fails every sweep alike: said once, with its reason, until a sweep
        succeeds again (`sweep_recovered`); any other failure is logged in full each time."""
        self._failures += 1
        if not database_unreachable(error):
            log.error("sweep_failed", exc_info=error)
        elif self._failures == 1:
            log.error("sweep_failed", reason=first_line_of(error), database="unreachable")
        with contextlib.suppress(SQLAlchemyError):  # the same outage, if it is one
            self._beat(swept=False)  # alive, but the sweep failed: its last success stays as it was

    def _beat(self, *, swept: bool) -> None:
        with session_scope(self._deps.engine) as session:
            heartbeats.beat(
                session,
                worker_id=self._deps.sender.worker_id,
                now=self._deps.clock(),
                sweep_seconds=self._interval,
                swept=swept,
            )


def build_scheduler(
    deps: Deps, scheduler: BaseScheduler, *, sweep_seconds: float = SWEEP_SECONDS
) -> tuple[BaseScheduler, Sweeper]:
    sweeper = Sweeper(deps, sweep_seconds=sweep_seconds)
    # One run of each job at a time in this process (max_instances=1); missed runs collapse into one.
    common = {"max_instances": 1, "coalesce": True, "next_run_time": deps.clock()}
    scheduler.add_job(sweeper, "interval", seconds=sweep_seconds, id="sweep", **common)
    schedule_refresh(scheduler, deps.client, deps.policy)
    return scheduler, sweeper


@dataclass
class Worker:
    """The worker's two halves running in the background: the scheduler and the delivery loop."""

    deps: Deps
    scheduler: BaseScheduler
    sweeper: Sweeper
    delivery: DeliveryLoop

    def shutdown(self, *, wait: bool = True, deadline_seconds: float = SHUTDOWN_SECONDS) -> bool:
        """Stop taking work: no more claims, a Slack retry wait ends at once, claimed rows not yet
        attempted go back to pending. Waits up to `deadline_seconds` for the call and sweep in
        progress, then removes this worker's heartbeat; says whether everything stopped in time."""
        deadline = time.monotonic() + deadline_seconds
        self.deps.sender.request_stop()
        self.scheduler.shutdown(wait=False)
        self.delivery.stop(wait=wait, timeout=max(deadline - time.monotonic(), 0.0))
        stopped = not wait or self.sweeper.idle.wait(max(deadline - time.monotonic(), 0.0))
        stopped = stopped and not self.delivery.running
        try:
            with session_scope(self.deps.engine) as session:
                heartbeats.remove(session, self.deps.sender.worker_id)
        except SQLAlchemyError:  # the database is down: the row goes stale and is forgotten after a day
            log.warning("heartbeat_not_removed", worker=self.deps.sender.worker_id)
        return stopped


# Whatever is stuck after SIGTERM (a database that stopped answering holds a thread for up to its
# 30 s answer deadline), the process is gone within 10 s: armed in the signal handler itself, with
# room for the exit.
HARD_EXIT_SECONDS = 9.0
# A stop that had to leave work behind (claims wait out their lease) says so to the supervisor.
FORCED_EXIT_CODE = 1


def exit_by_deadline(seconds: float = HARD_EXIT_SECONDS) -> None:
    """Arm the last resort of a shutdown: if the process is still here after `seconds`, it exits.
    Rows a stuck call had claimed stay claimed until their lease ends (the one message in flight)."""

    def expire() -> None:
        log.warning("shutdown_deadline_passed", seconds=seconds)
        logging.shutdown()
        os._exit(FORCED_EXIT_CODE)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


def run_worker(deps: Deps, *, sweep_seconds: float = SWEEP_SECONDS, metrics_port: int | None = None) -> None:
    """Block, running the worker's jobs until SIGTERM or Ctrl-C; then stop within SHUTDOWN_SECONDS."""
    stop = threading.Event()

    def terminate(_signum: int, _frame: object) -> None:
        exit_by_deadline()  # counted from the signal, not from when the loop below next looks
        stop.set()

    signal.signal(signal.SIGTERM, terminate)
    exposition = start_metrics_server(deps, metrics_port) if metrics_port else None
    worker = start_background_worker(deps, sweep_seconds=sweep_seconds)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if not stop.is_set():  # Ctrl-C: no signal handler armed it
            exit_by_deadline()
        stop_worker(worker)
        if exposition is not None:
            exposition.shutdown()


def stop_worker(worker: Worker, *, deadline_seconds: float = SHUTDOWN_SECONDS) -> None:
    """Shut `worker` down for a process that is about to exit; if something is still busy at the
    deadline (a sweep deep in the surge model, a Slack call that will not time out), exit anyway:
    rows it claimed stay claimed until their lease ends, the one duplicate the design allows."""
    started = time.monotonic()
    stopped = worker.shutdown(deadline_seconds=deadline_seconds)
    log.info("worker_stopped", seconds=round(time.monotonic() - started, 2), clean=stopped)
    if not stopped:
        logging.shutdown()
        os._exit(FORCED_EXIT_CODE)  # the sweep's executor thread would otherwise hold the interpreter open


def start_metrics_server(deps: Deps, port: int) -> WSGIServer:
    """`/metrics` of this process on its own port (a worker has no other HTTP server). Only that
    path: prometheus-client answers every path with the metrics, so a `/readyz` probe pointed here
    by mistake would always have read "ready"."""
    exposition = make_wsgi_app(deps.metrics.registry)

    def only_metrics(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not found: this port serves /metrics only\n"]
        return exposition(environ, start_response)  # type: ignore[no-any-return]

    server = make_server("0.0.0.0", port, only_metrics, _ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="frontline-metrics", daemon=True).start()
    return server


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a scrape in progress never holds the process open


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would fill stderr with access lines in another format."""


def start_background_worker(deps: Deps, *, sweep_seconds: float = SWEEP_SECONDS) -> Worker:
    """The worker's jobs on background threads (`serve --with-worker`, `worker`, the demo, the tests)."""
    scheduler, sweeper = build_scheduler(deps, BackgroundScheduler(timezone="UTC"), sweep_seconds=sweep_seconds)
    scheduler.start()
    delivery = DeliveryLoop(deps)
    delivery.start()
    log.info("worker_started", worker=deps.sender.worker_id, sweep_seconds=sweep_seconds)
    return Worker(deps, scheduler, sweeper, delivery)
