"""The daily digest and `/support stats month` at scale: how long deciding them takes as the
tickets table grows (issue 11: under 1 s with 1,000,000 tickets, aggregates in SQL).

    python tests/bench/bench_digest.py [--sizes 100000,1000000]

Each size gets a fresh database (SQLite, or a scratch database when DATABASE_URL points at
PostgreSQL) filled as bench_sweep.py fills it: 10 % of the tickets open with their clocks running
(all created in the last hour, so "new since yesterday" is 100,000 tickets at a million), the rest
closed, created over the last year. Every ticket gets what the figures read: a priority and a
category, due times on the open ones (2 % breached), and on the closed ones a first response, a
solution, clock times used and 5 % of clocks breached, and status changes in the audit trail
(solved, closed, one in twenty reopened). On PostgreSQL the fill ends with VACUUM
ANALYZE, as autovacuum leaves a settled database. Then: the digest's snapshot (every count and
list it shows) and the month's metrics, each the median of 5 runs.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bench_sweep import _fill
from harness import median_ms, scratch_database
from sqlalchemy import Engine, text

from store import digests, metrics
from store.db import create_db_engine, is_postgres, read_scope
from store.migrate import upgrade

CATEGORIES = ("account", "product", "technical", "onboarding", None)


def _details(number: int, created: datetime, is_open: bool) -> dict[str, Any]:
    """The columns the digest and the metrics read, varied by the ticket's number (every row has
    the same keys: they are inserted in batches)."""
    responded = None if is_open else created + timedelta(minutes=number % 240)
    solved = None if is_open else created + timedelta(minutes=number % 4000)
    return {
        "priority": f"P{number % 4}", "category": CATEGORIES[number % 5],
        "first_response_due": created + timedelta(minutes=30 + number % 600),
        "resolution_due": created + timedelta(minutes=120 + number % 3000),
        "first_responded_at": responded, "first_response_stopped_at": responded,
        "first_response_used_s": 0 if is_open else (number % 240) * 60,
        "first_response_breached": not is_open and number % 19 == 0,
        "solved_at": solved, "closed_at": solved + timedelta(days=2) if solved else None,
        "resolution_stopped_at": solved, "resolution_used_s": 0 if is_open else (number % 4000) * 45,
        "resolution_breached": not is_open and number % 23 == 0,
        "breached": number % 50 == 0 if is_open else (number % 19 == 0 or number % 23 == 0),
    }  # fmt: skip


def _history(engine: Engine) -> int:
    """The audit trail the reopen rate and first-contact resolution read: each closed ticket was
    solved and then closed, and one in twenty was reopened an hour after its solve. Built in SQL
    from the tickets (millions of rows). Returns how many rows."""
    rows = (
        ("solved_at", "'OPEN'", "'SOLVED'", "solved_at IS NOT NULL"),
        ("closed_at", "'SOLVED'", "'CLOSED'", "closed_at IS NOT NULL"),
        (_plus_hour(engine, "solved_at"), "'SOLVED'", "'OPEN'", "solved_at IS NOT NULL AND number % 20 = 0"),
    )
    total = 0
    with engine.begin() as connection:
        for at, before, after, where in rows:
            total += connection.execute(
                text(
                    "INSERT INTO audit_events (at, actor, entity_type, entity_id, action, field, before, after)"
                    f" SELECT {at}, 'U_AGENT1', 'ticket', id, 'changed', 'status', {before}, {after}"
                    f" FROM tickets WHERE {where}"
                )
            ).rowcount
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE audit_events"))
    return total


def _plus_hour(engine: Engine, column: str) -> str:
    if engine.dialect.name == "postgresql":
        return f"{column} + interval '1 hour'"
    return f"strftime('%Y-%m-%d %H:%M:%f', {column}, '+1 hour')"


def _snapshot(engine: Engine, now: datetime) -> None:
    with read_scope(engine) as session:
        digests.snapshot(session, day=now.date(), since=now - timedelta(days=1), now=now)


def _month(engine: Engine, now: datetime) -> None:
    with read_scope(engine) as session:
        metrics.measure(session, start=now - timedelta(days=30), end=now)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "")
    backend = "postgresql" if admin_url and is_postgres(admin_url) else "sqlite"
    print(f"{backend}: the daily digest's snapshot and /support stats month (median of 5)")
    for size in (int(part) for part in args.sizes.split(",")):
        with scratch_database(admin_url) as url:
            engine = create_db_engine(url)
            try:
                upgrade(engine)
                now = datetime.now(UTC)
                filled = _fill(engine, size, now, _details)
                audited = _history(engine)

                digest_ms = median_ms(partial(_snapshot, engine, now), repeat=5)
                stats_ms = median_ms(partial(_month, engine, now), repeat=5)
            finally:
                engine.dispose()
        print(
            f"{size:>9,} tickets, {audited:,} status changes (filled in {filled:.0f} s):"
            f" digest snapshot {digest_ms:7.1f} ms;"
            f" stats month {stats_ms:7.1f} ms"
        )


if __name__ == "__main__":
    main()
