"""Frontline and a stand-in Slack on loopback, in one process: what `frontline demo`, the end-to-end
tests and the benchmarks run. Requests go over real HTTP with real signatures; Web API calls go to
the stand-in through `SLACK_API_URL`, exactly as they would go to Slack."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from types import TracebackType

from pydantic import SecretStr
from sqlmodel import col, func, select

from bot.app import build_app, fetch_identity
from bot.config import FrontlineConfig
from bot.context import Deps, utc_now
from bot.runtime import build_deps
from bot.settings import Settings
from bot.slack.simulator import SlackSimulator
from bot.slack.standin import SlackStandIn
from bot.web import EVENTS_PATH, HttpServer, make_server, ops_for
from bot.worker import start_background_worker
from store.db import read_scope
from store.models import OutboxMessage

__all__ = ["Sandbox"]

SIGNING_SECRET = "sandbox-signing-secret"


class Sandbox:
    """Start with `with Sandbox(...) as sandbox:`; the database must already be migrated."""

    def __init__(
        self,
        *,
        database_url: str,
        config: FrontlineConfig,
        failure_rate: float = 0.0,
        clock: Callable[[], datetime] = utc_now,
        threads: int = 8,
        with_worker: bool = True,
    ) -> None:
        self.standin = SlackStandIn(failure_rate=failure_rate, retry_after=0)
        self._database_url, self._config, self._clock, self._threads = database_url, config, clock, threads
        self._with_worker = with_worker
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Sandbox:
        self.standin.start()
        # Every field given, so nothing in the caller's environment (a bad PORT, say) leaks in.
        self.settings = Settings(
            slack_bot_token=SecretStr(self.standin.bot_token),
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            slack_app_token=SecretStr(""),
            slack_api_url=self.standin.api_url,
            database_url=self._database_url,
            frontline_config=Path("frontline.yaml"),
            port=3000,
            log_level="INFO",
            slack_channel_rate=0,  # the stand-in has no rate limits
        )
        self.deps: Deps = build_deps(self.settings, self._config, clock=self._clock)
        self._executor = ThreadPoolExecutor(max_workers=10, thread_name_prefix="sandbox-lazy")
        app = build_app(self.deps, fetch_identity(self.deps.client), executor=self._executor)
        # The worker's jobs run here too, as with `serve --with-worker`.
        self._worker = start_background_worker(self.deps) if self._with_worker else None
        self._server = make_server(app, host="127.0.0.1", port=0, threads=self._threads, ops=ops_for(self.deps))
        self._thread = threading.Thread(target=self._server.run, name="frontline-http", daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.port}"
        self.events_url = f"{self.base_url}{EVENTS_PATH}"
        self.simulator = SlackSimulator(
            self.events_url, SIGNING_SECRET, response_url_base=self.standin.response_url("sandbox")
        )
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._executor.shutdown(wait=True)  # lazy listeners finish before Slack goes away
        if self._worker is not None:
            self._worker.shutdown(wait=True)
        self.standin.stop()
        self.deps.engine.dispose()
        self.deps.probe.dispose()

    def undelivered(self) -> int:
        with read_scope(self.deps.engine) as session:
            statement = select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.status) != "sent")
            return int(session.exec(statement).one())

    def wait_until_delivered(self, timeout: float = 10.0) -> None:
        """Wait for the worker to send everything that requests decided to send."""
        deadline = time.monotonic() + timeout
        while self.undelivered():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.undelivered()} outbox rows still undelivered after {timeout} s")
            time.sleep(0.02)
