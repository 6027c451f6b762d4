"""Server-side latency of `/ticket list mine` and `/ticket show` with 100,000 tickets in the database.

    python tests/bench/bench_ticket_queries.py [--tickets 100000] [--calls 500]

Uses a fresh SQLite file, or DATABASE_URL when it points at PostgreSQL (a scratch database is
created there and dropped afterwards). Prints p50/p99 per query, service call plus rendering.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from harness import scratch_database
from sqlalchemy import Engine, insert

from bot.core.ticket_command import ListFilter
from bot.services import tickets as ticket_service
from bot.slack import blocks
from store.db import create_db_engine, is_postgres
from store.migrate import upgrade
from store.models import Counter, Ticket

OWNERS = [f"U_AGENT{n}" for n in range(20)]
STATUSES = ["NEW", "OPEN", "PENDING", "SOLVED", "CLOSED"]


def _rows(count: int, now: datetime) -> list[dict[str, object]]:
    rng = random.Random(7)
    rows = []
    for number in range(1, count + 1):
        created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 180))
        rows.append({
            "number": number, "title": f"Printer {number} jams", "description": f"Printer {number} jams on floor 3",
            "status": rng.choice(STATUSES), "priority": rng.choice(["P0", "P1", "P2", "P3"]),
            "priority_reason": "P2: default (no rule matched)", "tags": [], "attachments": [],
            "requester_id": f"U_CUST{rng.randint(0, 5000)}", "owner_id": rng.choice([None, *OWNERS]),
            "created_by": "U_CUST", "source_kind": "command", "created_at": created, "updated_at": created,
            "first_response_due": created + timedelta(hours=4), "resolution_due": created + timedelta(hours=24),
            "breached": False,
        })  # fmt: skip
    return rows


def _fill(engine: Engine, count: int, now: datetime) -> float:
    started = time.perf_counter()
    rows = _rows(count, now)
    with engine.begin() as connection:
        for start in range(0, count, 5000):
            connection.execute(insert(Ticket), rows[start : start + 5000])
        connection.execute(insert(Counter).values(name="ticket", value=count))
    return time.perf_counter() - started


def _measure(call: Callable[[], object], calls: int) -> tuple[float, float]:
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[min(len(timings) - 1, int(0.99 * len(timings)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "")
    with scratch_database(admin_url) as url:
        engine = create_db_engine(url)
        try:
            upgrade(engine)
            now = datetime.now(UTC)
            fill_seconds = _fill(engine, args.tickets, now)
            rng = random.Random(11)

            def list_mine() -> object:
                page = ticket_service.list_tickets(
                    engine, ListFilter(mine=True), actor=rng.choice(OWNERS), page=1, now=now
                )
                return blocks.ticket_list(page.tickets, total=page.total, page=1, page_size=page.page_size)

            def show() -> object:
                ticket = ticket_service.get_ticket(engine, rng.randint(1, args.tickets))
                assert ticket is not None
                return blocks.ticket_detail(ticket)

            backend = "postgresql" if is_postgres(url) else "sqlite"
            print(f"{backend}: {args.tickets:,} tickets inserted in {fill_seconds:.1f} s; {args.calls} calls each")
            for name, call in (("list mine", list_mine), ("show", show)):
                p50, p99 = _measure(call, args.calls)
                print(f"{name:<10} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
