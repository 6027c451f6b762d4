"""`/readyz` and `/metrics` while PostgreSQL goes away and comes back: a cluster of this test's own
(never the shared server), a sandbox on it, the cluster stopped and started under it. Runs on both
backends' test runs: it needs the PostgreSQL 15 binaries, not DATABASE_URL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from bot.config import FrontlineConfig
from bot.sandbox import Sandbox
from store.db import create_db_engine
from store.migrate import upgrade
from tests.e2e.private_postgres import PrivatePostgres
from tests.e2e.test_metrics import DATABASE_SERIES, get, scrape, value


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.start()
        engine = create_db_engine(server.url)
        upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.remove()


def test_readyz_follows_postgres_down_and_up(private_postgres: PrivatePostgres, config: FrontlineConfig) -> None:
    with Sandbox(database_url=private_postgres.url, config=config) as sandbox:
        status, body, _ = get(f"{sandbox.base_url}/readyz")
        assert status == 200, body
        assert value(scrape(sandbox.base_url), "frontline_database_up") == 1

        private_postgres.stop()
        status, body, seconds = get(f"{sandbox.base_url}/readyz")
        report = json.loads(body)
        assert status == 503 and seconds < 5, (status, seconds)
        assert report["ready"] is False
        assert report["checks"]["database"].startswith("unreachable: connection failed:"), report
        assert report["checks"]["slack"] == "ok"  # auth.test passed before and is not asked again
        started = time.monotonic()
        samples = scrape(sandbox.base_url)
        assert time.monotonic() - started < 5
        assert value(samples, "frontline_database_up") == 0
        assert not {s.name for s in samples} & DATABASE_SERIES

        private_postgres.start()
        deadline = time.monotonic() + 15
        while (status := get(f"{sandbox.base_url}/readyz")[0]) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status == 200
        assert value(scrape(sandbox.base_url), "frontline_database_up") == 1
