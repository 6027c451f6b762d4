"""What a Prometheus scrape and a readiness probe cost as the tickets table grows: the database
gauges are aggregate queries, computed at every scrape.

    python tests/bench/bench_scrape.py [--sizes 100000]

Each size gets a fresh database (SQLite, or a scratch database when DATABASE_URL points at
PostgreSQL) filled as bench_sweep.py fills it (10 % open). Times `generate_latest` of a process's
registry (every series, the database gauges included) and `/readyz`'s checks, median of 20.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from functools import partial

from bench_sweep import _fill
from harness import median_ms, scratch_database
from prometheus_client import generate_latest

from bot.health import Readiness
from bot.metrics import Metrics
from store.db import create_db_engine, create_probe_engine, is_postgres
from store.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000")
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "")
    backend = "postgresql" if admin_url and is_postgres(admin_url) else "sqlite"
    print(f"{backend}: one scrape of /metrics and one /readyz (median of 20)")
    for size in (int(part) for part in args.sizes.split(",")):
        with scratch_database(admin_url) as url:
            engine = create_db_engine(url)
            probe = create_probe_engine(url)
            try:
                upgrade(engine)
                now = datetime.now(UTC)
                _fill(engine, size, now)
                metrics = Metrics()
                metrics.watch_database(probe, lambda: datetime.now(UTC))
                scrape = median_ms(partial(generate_latest, metrics.registry), repeat=20)
                readiness = Readiness(probe, auth_test=lambda: None, clock=lambda: datetime.now(UTC))
                ready = median_ms(readiness.report, repeat=20)
            finally:
                engine.dispose()
                probe.dispose()
        print(f"{size:>9,} tickets: scrape {scrape:6.1f} ms, readyz {ready:6.1f} ms")


if __name__ == "__main__":
    main()
