"""The due-work sweep at scale: how long a sweep with nothing due takes as the tables grow, and how
long deciding and queueing 10,000 due nudges takes.

    python tests/bench/bench_sweep.py [--sizes 10000,100000,1000000] [--due 10000]

Each size gets a fresh database (SQLite, or a scratch database when DATABASE_URL points at
PostgreSQL) with that many tickets, 10 % of them open with their clocks running and timers
planned (first-response and resolution warnings and breaches, due later), the rest closed with
their timers fired, and one delivered outbox row (the card) per ticket. "Nothing due" is
`run_due_work` (fire timers + deliver the outbox) with nothing due, median of 20. Then `--due`
open tickets get a nudge due now and one sweep decides and queues them all (delivery excluded).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from harness import scratch_database
from sqlalchemy import Engine, insert, text, update
from sqlmodel import Session

from bot.config import parse_config
from bot.services.policy import Policy
from bot.services.sweep import fire_due_timers
from store.db import create_db_engine, is_postgres
from store.migrate import upgrade
from store.models import Counter, OutboxMessage, Ticket, Timer
from store.outbox import has_due

CONFIG = {
    "sla": {"P2": {"first_response": "4h", "resolution": "24h", "calendar": "24x7"}, "warn_at": [0.5, 0.75, 0.9]},
    "roles": {"agents": ["U_AGENT1"]},
}
CHUNK = 10_000
Details = Callable[[int, datetime, bool], dict[str, Any]]


def _fill(engine: Engine, count: int, now: datetime, details: Details | None = None) -> float:
    """`count` tickets, 10 % open; `details(number, created, is_open)` adds or overrides columns
    (bench_digest.py gives them responses, solutions and categories). Returns seconds taken."""
    started = time.perf_counter()
    rng = random.Random(7)
    with engine.begin() as connection:
        for first in range(1, count + 1, CHUNK):
            tickets, timers, cards = [], [], []
            for number in range(first, min(first + CHUNK, count + 1)):
                is_open = number % 10 == 0
                created = now - timedelta(minutes=rng.randint(1, 60) if is_open else rng.randint(60, 60 * 24 * 365))
                tickets.append({
                    "id": number, "number": number, "title": f"Printer {number} jams", "description": "",
                    "status": "OPEN" if is_open else "CLOSED", "priority": "P2", "priority_reason": "P2: default",
                    "tags": [], "attachments": [], "owner_id": "U_AGENT1", "created_by": "U_CUST",
                    "source_kind": "command", "created_at": created, "updated_at": created, "status_since": created,
                    "first_response_running_since": created if is_open else None,
                    "resolution_running_since": created if is_open else None,
                    "resolution_stopped_at": None if is_open else created + timedelta(hours=3),
                    "first_response_used_s": 0, "resolution_used_s": 0,
                    "first_response_breached": False, "resolution_breached": False, "breached": False,
                    **(details(number, created, is_open) if details else {}),
                })  # fmt: skip
                for clock, hours in (("first_response", 4), ("resolution", 24)):
                    for alert, fraction in (("warn:0.5", 0.5), ("warn:0.75", 0.75), ("warn:0.9", 0.9), ("breach", 1)):
                        timers.append({
                            "key": f"ticket:{number}:sla:{clock}:{alert}", "kind": "ticket", "subject_id": number,
                            "name": f"sla:{clock}:{alert}", "due_at": created + timedelta(hours=hours * fraction * 3),
                            "fired_at": None if is_open else created + timedelta(hours=1),
                            "outcome": None if is_open else "sent",
                        })  # fmt: skip
                cards.append({
                    "key": f"ticket:{number}:card", "method": "chat.postMessage", "args": {"channel": "C_TRIAGE"},
                    "purpose": "ticket_card", "ticket_id": number, "status": "sent", "attempts": 1,
                    "next_attempt_at": created, "created_at": created, "sent_at": created,
                })  # fmt: skip
            connection.execute(insert(Ticket), tickets)
            connection.execute(insert(Timer), timers)
            connection.execute(insert(OutboxMessage), cards)
        connection.execute(insert(Counter).values(name="ticket", value=count))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))  # a settled database, as autovacuum leaves it
    return time.perf_counter() - started


def _idle_sweep_ms(engine: Engine, policy: Policy, now: datetime) -> float:
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        report = fire_due_timers(engine, policy, worker="bench", now=now)
        with Session(engine) as session:
            assert not has_due(session, now)
        assert report.fired == 0
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _due_sweep_seconds(
    engine: Engine, policy: Policy, now: datetime, due: int, *, profile: bool = False
) -> tuple[float, int]:
    """Make the 50 % first-response warning of `due` open tickets due now; time one sweep."""
    with engine.begin() as connection:
        open_numbers = list(range(10, 10 * due + 1, 10))
        for first in range(0, len(open_numbers), CHUNK):
            chunk = open_numbers[first : first + CHUNK]
            keys = [f"ticket:{n}:sla:first_response:warn:0.5" for n in chunk]
            connection.execute(update(Timer).where(Timer.key.in_(keys)).values(due_at=now - timedelta(seconds=1)))
            # Clocks that make that warning due now: 2 h of the 4 h target used.
            connection.execute(
                update(Ticket)
                .where(Ticket.number.in_(chunk))
                .values(first_response_running_since=now - timedelta(hours=2, seconds=1))
            )
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = fire_due_timers(engine, policy, worker="bench", now=now)
    seconds = time.perf_counter() - started
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(40)
    return seconds, report.fired


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="print where the due sweep spent its time")
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "")
    policy = Policy.from_config(parse_config(CONFIG))
    backend = "postgresql" if admin_url and is_postgres(admin_url) else "sqlite"
    print(f"{backend}: sweep with nothing due (median of 20), then {args.due:,} due nudges in one sweep")
    for size in (int(part) for part in args.sizes.split(",")):
        with scratch_database(admin_url) as url:
            engine = create_db_engine(url)
            try:
                upgrade(engine)
                now = datetime.now(UTC)
                filled = _fill(engine, size, now)
                idle = _idle_sweep_ms(engine, policy, now)
                due = min(args.due, size // 10)
                seconds, fired = _due_sweep_seconds(engine, policy, now, due, profile=args.profile)
            finally:
                engine.dispose()
        each = seconds / max(fired, 1) * 1000
        print(
            f"{size:>9,} tickets ({size // 10:,} open; filled in {filled:.0f} s): nothing due {idle:6.1f} ms;"
            f" {fired:,} due nudges decided and queued in {seconds:.2f} s ({each:.2f} ms each)"
        )


if __name__ == "__main__":
    main()
