"""The daily digest and `/support stats month` at scale: how long deciding them takes as the
tickets table grows (issue 11: under 1 s with 1,000,000 tickets, aggregates in SQL).

    python tests/bench/bench_digest.py [--sizes 100000,1000000]

Each size gets a fresh database (SQLite, or a scratch database when DATABASE_URL points at
PostgreSQL) filled as bench_sweep.py fills it: 10 % of the tickets open with their clocks running,
the rest closed, created over the last year. Then: the digest's snapshot (every count and list it
shows) and the month's metrics, each the median of 5 runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from functools import partial

from bench_sweep import _fill
from harness import scratch_database
from sqlalchemy import Engine

from store import digests, metrics
from store.db import create_db_engine, is_postgres, read_scope
from store.migrate import upgrade


def _median_ms(run: object, repeat: int = 5) -> float:
    assert callable(run)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


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
                filled = _fill(engine, size, now)

                digest_ms = _median_ms(partial(_snapshot, engine, now))
                stats_ms = _median_ms(partial(_month, engine, now))
            finally:
                engine.dispose()
        print(
            f"{size:>9,} tickets (filled in {filled:.0f} s): digest snapshot {digest_ms:7.1f} ms;"
            f" stats month {stats_ms:7.1f} ms"
        )


if __name__ == "__main__":
    main()
