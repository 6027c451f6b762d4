"""Privacy work at scale: `erase-user` on a large database, the retention purge of a large backlog
(and what a sweep costs once it is done), and the log masker's cost per line.

    python tests/bench/bench_privacy.py [--tickets 100000]

The database is filled as `bench_sweep.py` fills it (10 % open, one delivered card per ticket), with
`closed_at` set on the closed ones, and one person's 10 tickets with a thread reply each.
SQLite, or a scratch database when DATABASE_URL points at PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench_sweep import _fill
from harness import scratch_database
from sqlalchemy import insert, text

from bot.config import parse_config
from bot.logs import mask_event
from bot.services.erasure import erase_user
from bot.services.policy import Policy
from bot.services.retention import purge_closed_tickets
from store.db import create_db_engine, is_postgres
from store.migrate import upgrade
from store.models import Comment

PERSON = "U0PERSON1"


def _person(engine: object, now: datetime) -> None:
    with engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(
            text(
                "UPDATE tickets SET requester_id = :person, title = 'Quokkablimp exporter crash number ' || number"
                " WHERE number IN (3, 33, 333, 3333, 33333, 5, 55, 555, 5555, 55555)"
            ),
            {"person": PERSON},
        )
        connection.execute(text("UPDATE tickets SET closed_at = created_at WHERE status = 'CLOSED'"))
        connection.execute(
            insert(Comment),
            [
                {"ticket_id": n, "author": PERSON, "role": "requester", "text": f"still broken {n}, Quokkablimp",
                 "slack_ts": f"1796655600.{n:06d}", "created_at": now}
                for n in (3, 33, 333, 3333, 33333)
            ],
        )  # fmt: skip


def _mask_us() -> float:
    event = {
        "event": "outbox_retry",
        "key": "ticket:4242:card",
        "method": "chat.update",
        "slack_error": "ratelimited",
        "attempts": 3,
        "ticket_id": 4242,
        "request_id": "3f2a9c0d1e2b4a5f",
        "timestamp": "2026-11-30T15:45:21.123456Z",
    }
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(10_000):
            mask_event(None, "warning", event)
        timings.append((time.perf_counter() - started) / 10_000 * 1e6)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "")
    backend = "postgresql" if admin_url and is_postgres(admin_url) else "sqlite"
    policy = Policy.from_config(parse_config({"retention": {"closed_ticket_days": 30}}))
    print(f"log masking: {_mask_us():.1f} µs per 8-field event")
    with scratch_database(admin_url) as url:
        engine = create_db_engine(url)
        try:
            upgrade(engine)
            now = datetime.now(UTC)
            _fill(engine, args.tickets, now)
            _person(engine, now)
            started = time.perf_counter()
            report = erase_user(engine, PERSON, now=now)
            erased = time.perf_counter() - started
            started = time.perf_counter()
            again = erase_user(engine, PERSON, now=now)
            second = time.perf_counter() - started
            print(
                f"{backend}, {args.tickets:,} tickets: erase-user {erased:.2f} s ({report.tickets} tickets,"
                f" {report.rows} rows changed); a second run {second:.2f} s (erasure id {again.erasure_id})"
            )
            batches, purged, later = [], 0, now + timedelta(days=400)
            while True:
                started = time.perf_counter()
                done = purge_closed_tickets(engine, policy, now=later, max_batches=1)
                batches.append(time.perf_counter() - started)
                purged += done
                if done < 500:
                    break
            started = time.perf_counter()
            assert purge_closed_tickets(engine, policy, now=later) == 0
            guarded = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            assert purge_closed_tickets(engine, policy, now=later + timedelta(hours=1)) == 0
            full_pass = (time.perf_counter() - started) * 1000
            print(
                f"retention: {purged:,} closed tickets purged in {sum(batches):.1f} s, {len(batches)} batches of 500"
                f" (p50 {statistics.median(batches) * 1000:.0f} ms, max {max(batches) * 1000:.0f} ms each);"
                f" the same hour's sweep {guarded:.1f} ms, the next hour's pass with nothing left {full_pass:.0f} ms"
            )
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
