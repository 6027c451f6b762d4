"""The worker's scheduled sweep decides; its delivery loop sends. A backlog to a slow Slack must not
hold up the next look at the timers, nor one slow call every other message (both found by the
scale-out soak, tests/soak)."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from bot.config import FrontlineConfig
from bot.sandbox import Sandbox
from bot.worker import DELIVERY_THREADS_POSTGRES, DeliveryLoop, build_scheduler, delivery_threads, run_due_work
from store import outbox
from store.db import read_scope, session_scope


def test_a_sweep_does_not_wait_for_the_outbox_backlog(database_url: str, config: FrontlineConfig) -> None:
    with Sandbox(database_url=database_url, config=config, with_worker=False) as sandbox:
        deps = sandbox.deps
        now = deps.clock()
        with session_scope(deps.engine) as session:
            for n in range(10):
                outbox.enqueue(
                    session,
                    key=f"backlog {n}",
                    method="chat.postMessage",
                    args={"channel": "C_TRIAGE", "text": f"backlog {n}"},
                    purpose="test",
                    now=now,
                )
        sandbox.standin.set_delay("chat.postMessage", 0.5)  # a 5-second backlog
        _, sweep = build_scheduler(deps, BackgroundScheduler(timezone="UTC"))
        started = time.monotonic()
        sweep()
        assert time.monotonic() - started < 2
        with read_scope(deps.engine) as session:
            assert len(outbox.undelivered(session)) == 10  # left to the delivery loop


def test_several_senders_deliver_past_a_slow_slack_call(database_url: str, config: FrontlineConfig) -> None:
    # One sender sleeping through a retry used to hold up every other message of its process.
    with Sandbox(database_url=database_url, config=config, with_worker=False) as sandbox:
        deps = sandbox.deps
        now = deps.clock()
        with session_scope(deps.engine) as session:
            for n in range(40):  # four batches of ten
                outbox.enqueue(
                    session,
                    key=f"slow {n}",
                    method="chat.postMessage",
                    args={"channel": "C_TRIAGE", "text": f"slow {n}"},
                    purpose="test",
                    now=now,
                )
        sandbox.standin.set_delay("chat.postMessage", 0.2)  # 8 s for one sender
        loop = DeliveryLoop(deps, threads=4)
        started = time.monotonic()
        loop.start()
        try:
            while len(sandbox.standin.messages("C_TRIAGE")) < 40 and time.monotonic() - started < 15:
                time.sleep(0.05)
            took = time.monotonic() - started
        finally:
            loop.stop()
        texts = sorted(m["text"] for m in sandbox.standin.messages("C_TRIAGE"))
        assert texts == sorted(f"slow {n}" for n in range(40))  # each once
        assert took < 5


def test_postgres_processes_run_several_senders(engine: Engine) -> None:
    class _Deps:  # only the engine is looked at
        def __init__(self, engine: Engine) -> None:
            self.engine = engine

    expected = DELIVERY_THREADS_POSTGRES if engine.dialect.name == "postgresql" else 1
    assert delivery_threads(_Deps(engine)) == expected  # type: ignore[arg-type]


def test_tick_in_the_future_tries_each_failing_message_once_and_leases_on_the_real_clock(
    database_url: str, config: FrontlineConfig
) -> None:
    """`tick --now <future>` with Slack failing: one attempt per message, the retry due after the
    pass's `now` (it was due again at once on the real clock: 12 attempts in a minute, then dead),
    and the claim's lease on the real clock (a killed tick's rows came back only at the fake date)."""
    with Sandbox(database_url=database_url, config=config, with_worker=False) as sandbox:
        deps = sandbox.deps
        real = deps.clock()
        future = real + timedelta(days=7)
        with session_scope(deps.engine) as session:
            outbox.enqueue(
                session, key="future-1", method="chat.postMessage", args={"channel": "C_TRIAGE", "text": "hi"},
                purpose="test", now=real,
            )  # fmt: skip
        sandbox.standin.set_failures(1.0, ("500",))
        report = run_due_work(deps, future)
        assert (report.delivered, report.retrying, report.dead) == (0, 1, 0)
        with read_scope(deps.engine) as session:
            [row] = outbox.undelivered(session)
        assert row.attempts == 1 and row.status == "pending" and row.next_attempt_at > future

        sandbox.standin.set_failures(0.0)
        with session_scope(deps.engine) as session:  # a tick at that `now` claims it, then is killed
            [claimed] = outbox.claim_due(session, worker="killed", now=row.next_attempt_at, lease_now=deps.clock())
        assert claimed.claimed_at is not None and claimed.claimed_at < real + timedelta(minutes=1)
        after_lease = deps.clock() + outbox.CLAIM_LEASE + timedelta(seconds=1)
        with session_scope(deps.engine) as session:  # a worker on the real clock takes it after the lease
            assert outbox.claim_due(session, worker="w", now=after_lease, lease_now=deps.clock()) == []
            assert [r.key for r in outbox.claim_due(session, worker="w", now=after_lease)] == ["future-1"]


def test_two_workers_on_one_host_keep_their_own_heartbeats(database_url: str, config: FrontlineConfig) -> None:
    """Containers on the host's network share its hostname and are each pid 1: their workers must
    still name themselves apart, or the first to stop removes the other's heartbeat."""
    from sqlmodel import select

    from store.models import WorkerHeartbeat

    def beating(engine: Engine) -> set[str]:
        with read_scope(engine) as session:
            return set(session.exec(select(WorkerHeartbeat.worker_id)).all())

    with Sandbox(database_url=database_url, config=config) as first:
        with Sandbox(database_url=database_url, config=config) as second:
            ids = {first.deps.sender.worker_id, second.deps.sender.worker_id}
            assert len(ids) == 2
            deadline = time.monotonic() + 10
            while beating(first.deps.engine) != ids and time.monotonic() < deadline:
                time.sleep(0.05)
            assert beating(first.deps.engine) == ids
        assert beating(first.deps.engine) == {first.deps.sender.worker_id}


def test_a_database_outage_fails_each_sweep_but_is_logged_once(
    database_url: str, config: FrontlineConfig, json_logs: io.StringIO
) -> None:
    """A review counted three ERROR lines with tracebacks per sweep per worker while PostgreSQL was
    down (the surge check's, the purge's, APScheduler's): 33 KB a sweep. One line says it now, and
    one more when the database is back."""
    from dataclasses import replace

    from sqlalchemy import event

    from bot.worker import Sweeper
    from store.db import create_db_engine

    with Sandbox(database_url=database_url, config=config, with_worker=False) as sandbox:
        engine = create_db_engine(database_url)
        down = threading.Event()
        refused = engine.dialect.loaded_dbapi.OperationalError

        def refuse(*_args: object) -> None:
            if down.is_set():
                raise refused("connection refused (the test's outage)")

        event.listen(engine, "connect", refuse)  # a new connection is refused while it is down
        sweeper = Sweeper(replace(sandbox.deps, engine=engine), sweep_seconds=30)
        sweeper()
        down.set()
        engine.dispose()  # no pooled connection outlives the outage
        for _ in range(3):
            sweeper()
        down.clear()
        sweeper()
        engine.dispose()
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.startswith("{")]
    sweeps = [line for line in lines if line["event"].startswith("sweep")]
    assert [line["event"] for line in sweeps] == ["sweep", "sweep_failed", "sweep_recovered", "sweep"]
    failed = sweeps[1]
    assert failed["database"] == "unreachable" and "connection refused" in failed["reason"]
    assert "exception" not in failed and sweeps[2]["failed_sweeps"] == 3
    assert not [line for line in lines if line["event"] in ("surge_check_failed", "retention_purge_failed")]
