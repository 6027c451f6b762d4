"""Time-based work and outbox delivery: the worker process (SPEC §1, `frontline worker`).

One function, `run_due_work(deps, now)`, does everything that is due as of `now`; the worker runs
it on an APScheduler interval and `frontline tick --now …` runs it once. Outbox delivery also runs
on a thread of its own (`DeliveryLoop`), so that a card appears within a fraction of a second of the
request that decided it and a backlog drains back to back. Every piece of work is claimed through
the database, so several workers (or `serve --with-worker` processes) never do it twice.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.context import Deps
from bot.services import digests, surges
from bot.services.retention import purge_closed_tickets
from bot.services.sweep import fire_due_timers
from bot.slack.usergroups import schedule_refresh
from store import outbox
from store.db import read_scope

__all__ = [
    "DELIVERY_SECONDS",
    "SWEEP_SECONDS",
    "DeliveryLoop",
    "DueWorkReport",
    "Worker",
    "build_scheduler",
    "deliver_outbox",
    "run_due_work",
    "run_worker",
    "start_background_worker",
]

log = structlog.get_logger(__name__)

SWEEP_SECONDS = 30
DELIVERY_SECONDS = 0.2


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
            + (f", {self.purged} closed tickets purged (retention)" if self.purged else "")
        )


def run_due_work(deps: Deps, now: datetime) -> DueWorkReport:
    """Run every piece of time-based work that is due at `now`: fire the due timers (SLA nudges and
    breaches, stage timers, escalation and playbook reminders), decide the day's digest when it is
    due, put new tickets through the surge check, purge closed tickets past their retention, then
    deliver what they and everything else queued."""
    report = DueWorkReport(now=now)
    report.digest = digests.post_due(deps.engine, deps.policy, now=now)
    try:
        checked = surges.check_new(deps.engine, deps.policy, deps.embedder, now=now)
        report.surge_checked, report.surges = checked.checked, checked.surges
    except Exception:  # the model or a ticket failed: the rest of the sweep goes on; retried next sweep
        log.exception("surge_check_failed")
        report.notes.append("the surge check failed (see the log); it is tried again next sweep")
    try:
        report.purged = purge_closed_tickets(deps.engine, deps.policy, now=now)
    except Exception:  # the database hiccupped: the timers still fire; the purge resumes next sweep
        log.exception("retention_purge_failed")
        report.notes.append("the retention purge failed (see the log); it is tried again next sweep")
    sweep = fire_due_timers(
        deps.engine, deps.policy, worker=deps.sender.worker_id, now=now, should_stop=deps.sender.stop_requested
    )
    report.timers_fired, report.timers_failed = sweep.fired, sweep.failed
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


class DeliveryLoop:
    """Outbox delivery on its own thread: batches back to back while rows are due, then a look every
    `poll_seconds`. (As a 0.2 s scheduler job it overran whenever a backlog took longer than that,
    and APScheduler logged a warning for every skipped run.)"""

    def __init__(self, deps: Deps, *, poll_seconds: float = DELIVERY_SECONDS) -> None:
        self._deps, self._poll = deps, poll_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="frontline-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, *, wait: bool = True) -> None:
        """Stop after the batch in progress (its claimed rows are recorded before the thread ends)."""
        self._stopping.set()
        self._deps.sender.request_stop()
        if wait and self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                handled = deliver_outbox(self._deps)
            except Exception:  # the database went away for a moment: log, wait, look again
                log.exception("delivery_failed")
                handled = 0
            if not handled:
                self._stopping.wait(self._poll)


def build_scheduler(deps: Deps, scheduler: BaseScheduler, *, sweep_seconds: float = SWEEP_SECONDS) -> BaseScheduler:
    def sweep() -> None:
        report = run_due_work(deps, deps.clock())
        log.info(
            "sweep",
            timers_fired=report.timers_fired,
            delivered=report.delivered,
            retrying=report.retrying,
            dead=report.dead,
        )

    # One run of each job at a time in this process (max_instances=1); missed runs collapse into one.
    common = {"max_instances": 1, "coalesce": True, "next_run_time": deps.clock()}
    scheduler.add_job(sweep, "interval", seconds=sweep_seconds, id="sweep", **common)
    schedule_refresh(scheduler, deps.client, deps.policy)
    return scheduler


@dataclass
class Worker:
    """The worker's two halves running in the background: the scheduler and the delivery loop."""

    scheduler: BaseScheduler
    delivery: DeliveryLoop

    def shutdown(self, *, wait: bool = True) -> None:
        self.delivery.stop(wait=wait)
        self.scheduler.shutdown(wait=wait)


def run_worker(deps: Deps, *, sweep_seconds: float = SWEEP_SECONDS) -> None:
    """Block, running the worker's jobs until SIGTERM or Ctrl-C."""
    scheduler = build_scheduler(deps, BlockingScheduler(timezone="UTC"), sweep_seconds=sweep_seconds)
    delivery = DeliveryLoop(deps)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        delivery.stop(wait=False)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    delivery.start()
    try:
        scheduler.start()
    except KeyboardInterrupt:
        scheduler.shutdown(wait=False)
    finally:
        delivery.stop()


def start_background_worker(deps: Deps, *, sweep_seconds: float = SWEEP_SECONDS) -> Worker:
    """The worker's jobs on background threads (`serve --with-worker`, the demo, the tests)."""
    scheduler = build_scheduler(deps, BackgroundScheduler(timezone="UTC"), sweep_seconds=sweep_seconds)
    scheduler.start()
    delivery = DeliveryLoop(deps)
    delivery.start()
    return Worker(scheduler, delivery)
