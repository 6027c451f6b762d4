"""Time-based work: one function does everything that is due as of `now`.

`frontline worker` runs it on an APScheduler interval; `frontline tick --now …` runs it once.
Every piece of due work is claimed through the database, so several workers never do it twice.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType

import structlog
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.context import Deps

__all__ = ["SWEEP_SECONDS", "DueWorkReport", "run_due_work", "run_worker"]

log = structlog.get_logger(__name__)

SWEEP_SECONDS = 30


@dataclass
class DueWorkReport:
    now: datetime
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"as of {self.now.isoformat()}: {self.delivered} delivered, "
            f"{self.retrying} to retry, {self.dead} failed permanently"
        )


def run_due_work(deps: Deps, now: datetime) -> DueWorkReport:
    """Run every piece of time-based work that is due at `now`."""
    report = DueWorkReport(now=now)
    delivery = deps.sender.deliver_due(now)
    report.delivered, report.retrying, report.dead = len(delivery.sent), len(delivery.retrying), len(delivery.dead)
    return report


def run_worker(deps: Deps, *, sweep_seconds: int = SWEEP_SECONDS, install_signals: bool = True) -> None:
    """Block, running `run_due_work` every `sweep_seconds` until SIGTERM/SIGINT.

    `install_signals` is False when the worker runs in a thread beside the web server
    (`serve --with-worker`): only the main thread may install signal handlers.
    """
    scheduler = BlockingScheduler(timezone="UTC")

    def sweep() -> None:
        report = run_due_work(deps, deps.clock())
        log.info("sweep", delivered=report.delivered, retrying=report.retrying, dead=report.dead)

    # One sweep at a time in this process (max_instances=1); missed runs collapse into one.
    scheduler.add_job(
        sweep, "interval", seconds=sweep_seconds, id="sweep", max_instances=1, coalesce=True, next_run_time=deps.clock()
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        scheduler.shutdown(wait=False)

    if install_signals:
        signal.signal(signal.SIGTERM, stop)
    try:
        scheduler.start()
    except KeyboardInterrupt:
        scheduler.shutdown(wait=False)
