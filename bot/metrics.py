"""Prometheus metrics (prometheus-client): one registry per process, served by its `/metrics`.

Counters and histograms are updated where things happen (Slack requests in `bot.web`, Web API
calls in `bot.slack.client`, sweeps in `bot.worker`); the database gauges (outbox, tickets,
workers) are computed at scrape time by `DatabaseCollector` through a probe engine with short
timeouts, so a scrape answers quickly, with `frontline_database_up 0`, when the database is down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from operator import attrgetter
from typing import Any

import structlog
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from slack_bolt.request import payload_utils
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.health import fresh_workers
from store import gauges
from store.db import read_scope
from store.digests import Backlog

__all__ = [
    "LISTENER_FAILED",
    "PRIORITIES",
    "SLACK_REQUEST_KINDS",
    "DatabaseCollector",
    "Metrics",
    "request_kind",
    "request_outcome",
]

log = structlog.get_logger(__name__)

SLACK_REQUEST_KINDS = ("event", "command", "action", "view", "shortcut", "options", "other")
PRIORITIES = ("P0", "P1", "P2", "P3")
# Slack wants its answer within 3 s; the buckets are finest where a request normally lands.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


class Metrics:
    """This process's series. Tests build one per sandbox, so counts start at zero in each."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        for standard in (ProcessCollector, PlatformCollector, GCCollector):
            standard(registry=self.registry)
        self.slack_requests = Counter(
            "frontline_slack_requests",
            "Requests from Slack by kind and outcome (ok, rejected: bad signature or timestamp, "
            "unhandled: no listener, malformed, error).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "frontline_slack_ack_seconds",
            "Time from a Slack request arriving to its answer (the ack) leaving this process.",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.slack_api_calls = Counter(
            "frontline_slack_api_calls",
            "Slack Web API HTTP attempts by method and outcome: ok, Slack's error code, "
            "ratelimited (429, also when retried), http_<status>, connection_error.",
            ["method", "code"],
            registry=self.registry,
        )
        self.sweep_last_success = Gauge(
            "frontline_sweep_last_success_timestamp_seconds",
            "When this process's scheduler last finished a sweep of due work without an error (Unix time).",
            registry=self.registry,
        )
        self.sweep_seconds = Histogram(
            "frontline_sweep_duration_seconds",
            "How long one sweep of due work took in this process.",
            buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
            registry=self.registry,
        )

    def slack_api_call(self, method: str, code: str) -> None:
        self.slack_api_calls.labels(method=method, code=code).inc()

    def slack_request(self, kind: str, outcome: str, seconds: float) -> None:
        self.slack_requests.labels(kind=kind, outcome=outcome).inc()
        self.ack_seconds.labels(kind=kind).observe(seconds)

    def swept(self, at: datetime, seconds: float) -> None:
        self.sweep_last_success.set(at.timestamp())
        self.sweep_seconds.observe(seconds)

    def watch_database(self, probe: Engine, clock: Callable[[], datetime]) -> None:
        self.registry.register(DatabaseCollector(probe, clock))


def request_kind(body: dict[str, Any]) -> str:
    """Which of Slack's request kinds a parsed body is, by Bolt's own tests."""
    for kind, test in (
        ("event", payload_utils.is_event),
        ("command", payload_utils.is_slash_command),
        ("action", payload_utils.is_action),
        ("view", payload_utils.is_view),
        ("shortcut", payload_utils.is_shortcut),
        ("options", payload_utils.is_options),
    ):
        if test(body):
            return kind
    return "other"


# Set on a request's context when a listener raised (handlers.errors), whatever was answered.
LISTENER_FAILED = "frontline_listener_failed"


def request_outcome(status: int, *, failed: bool = False) -> str:
    """The `outcome` label of Bolt's answer status (`failed`: a listener raised, whatever was answered)."""
    if failed:
        return "error"
    if status < 400:
        return "ok"
    if status == 401:
        return "rejected"
    if status == 404:
        return "unhandled"
    return "malformed" if status < 500 else "error"


class DatabaseCollector(Collector):
    """Gauges read from the database at each scrape (cheap aggregate queries in `store.gauges`)."""

    def __init__(self, probe: Engine, clock: Callable[[], datetime]) -> None:
        self._probe, self._clock = probe, clock

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("frontline_database_up", "Whether this process could read the database at this scrape.")
        now = self._clock()
        try:
            with read_scope(self._probe) as session:
                read = gauges.read(session, now=now)
        except SQLAlchemyError as error:
            log.warning("metrics_database_unreachable", error=str(error).splitlines()[0][:200])
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _outbox(read, now)
        yield from _tickets(read)
        yield from _workers(read, now)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _outbox(read: gauges.Gauges, now: datetime) -> Iterable[Metric]:
    oldest = read.outbox_oldest_undelivered_at
    yield _gauge(
        "frontline_outbox_depth",
        "Slack messages decided and not yet delivered (pending or being sent).",
        read.outbox_depth,
    )
    yield _gauge(
        "frontline_outbox_oldest_undelivered_age_seconds",
        "Age of the oldest undelivered outbox message (0 when none).",
        max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
    )
    yield _gauge(
        "frontline_outbox_dead_messages", "Outbox messages given up on (see `frontline outbox`).", read.outbox_dead
    )


def _tickets(read: gauges.Gauges) -> Iterable[Metric]:
    empty = Backlog(open=0, breached=0, at_risk=0)
    for name, documentation, count in (
        ("frontline_tickets_open", "Open tickets (NEW, OPEN, PENDING, ESCALATED) by priority.", attrgetter("open")),
        (
            "frontline_tickets_at_risk",
            "Open tickets not breached with a running SLA clock due within the hour, by priority.",
            attrgetter("at_risk"),
        ),
        ("frontline_tickets_breached", "Open tickets with a breached SLA clock, by priority.", attrgetter("breached")),
    ):
        family = GaugeMetricFamily(name, documentation, labels=["priority"])
        for priority in PRIORITIES:  # every priority always present: a series that vanishes breaks rate() and alerts
            family.add_metric([priority], count(read.backlog.get(priority, empty)))
        yield family


def _workers(read: gauges.Gauges, now: datetime) -> Iterable[Metric]:
    beats = [row.beat_at.timestamp() for row in read.workers]
    sweeps = [row.last_sweep_at.timestamp() for row in read.workers if row.last_sweep_at is not None]
    yield _gauge(
        "frontline_workers_fresh",
        "Workers whose heartbeat is within 3 of their sweep intervals.",
        len(fresh_workers(read.workers, now)),
    )
    yield _gauge(
        "frontline_workers_last_heartbeat_timestamp_seconds",
        "The newest heartbeat of any worker (Unix time; 0 when none in the last day).",
        max(beats, default=0.0),
    )
    yield _gauge(
        "frontline_workers_last_sweep_timestamp_seconds",
        "The newest successful sweep of any worker, from the heartbeat table (Unix time; 0 when none).",
        max(sweeps, default=0.0),
    )
