"""Readiness (`GET /readyz`): is this process able to do its job right now?

Ready means: the database answers (through a probe engine with short timeouts, so the check
answers within seconds when it is down), its schema is at this version's head, and Slack accepted
the bot token once (auth.test; the success is kept, a failure is asked again next time). The
workers' heartbeats are reported but do not make a web process unready: see README, "Operating".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.core.text import first_line_of
from store import heartbeats
from store.db import read_scope
from store.migrate import current_revision, head_revision, is_known_revision

__all__ = ["STALE_AFTER_SWEEPS", "Readiness", "ReadinessReport", "fresh_workers"]

# A worker that has not beaten for this many of its sweep intervals is stale.
STALE_AFTER_SWEEPS = 3


class Heartbeat(Protocol):
    @property
    def worker_id(self) -> str: ...
    @property
    def beat_at(self) -> datetime: ...
    @property
    def last_sweep_at(self) -> datetime | None: ...
    @property
    def sweep_seconds(self) -> float: ...


def fresh_workers(rows: Sequence[Heartbeat], now: datetime) -> list[Heartbeat]:
    return [row for row in rows if (now - row.beat_at).total_seconds() <= STALE_AFTER_SWEEPS * row.sweep_seconds]


@dataclass
class ReadinessReport:
    ready: bool
    checks: dict[str, str] = field(default_factory=dict)  # check → "ok" or why not
    workers: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # check → what an operator should know though it passed

    def as_json(self) -> dict[str, Any]:
        body = {"ready": self.ready, "checks": self.checks, "workers": self.workers}
        return body | ({"notes": self.notes} if self.notes else {})


class Readiness:
    def __init__(self, probe: Engine, *, auth_test: Callable[[], object], clock: Callable[[], datetime]) -> None:
        self._probe, self._auth_test, self._clock = probe, auth_test, clock
        self._slack_ok = False
        self._lock = threading.Lock()
        self._head = head_revision()  # read from the migration scripts once: they do not change while running

    def report(self) -> ReadinessReport:
        now = self._clock()
        checks: dict[str, str] = {}
        workers: dict[str, Any] = {}
        notes: dict[str, str] = {}
        try:
            with read_scope(self._probe) as session:
                revision = current_revision(session.connection())
                checks["database"] = "ok"
                if revision == self._head or (revision is not None and not is_known_revision(revision)):
                    checks["migrations"] = "ok"
                    if revision != self._head:
                        # A rollout migrated first: this process keeps serving until it is replaced,
                        # rather than every old one leaving the load balancer before a new one is ready.
                        notes["migrations"] = (
                            f"database at {revision}, newer than this version's {self._head}: a newer "
                            "release migrated it; this process serves until it is replaced"
                        )
                    workers = _workers(heartbeats.recent(session, now=now), now)
                else:
                    checks["migrations"] = f"at {revision or 'nothing'}, need {self._head}: run `frontline migrate`"
                    workers = {"status": "unknown (database not migrated)"}
        except SQLAlchemyError as error:
            checks["database"] = f"unreachable: {first_line_of(error)}"
            checks["migrations"] = "unknown (database unreachable)"
            workers = {"status": "unknown (database unreachable)"}
        checks["slack"] = self._slack()
        ready = all(value == "ok" for value in checks.values())
        return ReadinessReport(ready=ready, checks=checks, workers=workers, notes=notes)

    def _slack(self) -> str:
        with self._lock:  # one auth.test at a time, and none once one has passed
            if self._slack_ok:
                return "ok"
            try:
                self._auth_test()
            except Exception as error:  # any failure (refused token, Slack unreachable) is the answer
                return f"auth.test failed: {first_line_of(error)}"
            self._slack_ok = True
            return "ok"


def _workers(rows: Sequence[Heartbeat], now: datetime) -> dict[str, Any]:
    if not rows:
        return {"status": "none", "detail": "no worker heartbeat in the last day: is `frontline worker` running?"}
    fresh = fresh_workers(rows, now)
    newest = rows[0]
    return {
        "status": "ok" if fresh else "stale",
        "fresh": len(fresh),
        "stale": len(rows) - len(fresh),
        "newest_heartbeat_age_seconds": round((now - newest.beat_at).total_seconds(), 1),
        "newest_worker": newest.worker_id,
    }
