"""The worker's scheduled sweep decides; its delivery loop sends. A backlog to a slow Slack must not
hold up the next look at the timers (found by the scale-out soak, tests/soak)."""

from __future__ import annotations

import time

from apscheduler.schedulers.background import BackgroundScheduler

from bot.config import FrontlineConfig
from bot.sandbox import Sandbox
from bot.worker import build_scheduler
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
