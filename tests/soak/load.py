"""The soak's load: signed intake messages (some retried by "Slack", a few while the first delivery is
still being processed), `/ticket` commands, agents' replies in request threads and Take clicks on
ticket cards (some double-clicked), spread round-robin over the `serve` processes."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot.slack.simulator import SlackResponse, SlackSimulator
from bot.slack.standin import SlackStandIn

__all__ = ["AGENTS", "CUSTOMERS", "INTAKE_CHANNEL", "TRIAGE_CHANNEL", "Load", "Sent"]

INTAKE_CHANNEL, TRIAGE_CHANNEL = "C_HELP", "C_TRIAGE"
AGENTS = ("U_AGENT1", "U_AGENT2", "U_LEAD")
CUSTOMERS = tuple(f"U_CUST{n:02d}" for n in range(24))
# Worded for every priority: "outage"/"down" make P0, "error"/"broken" P1, plain text P2, a
# "feature request" P3; `customer:acme` (enterprise) makes P0 too.
TEXTS = (
    "Checkout is down for everyone since the deploy",
    "We see an outage of the EU API, customer:acme",
    "Export to CSV gives an error on large reports",
    "The sync to Salesforce is broken again",
    "How do I change the billing contact on our account?",
    "Feature request: dark mode for the dashboard",
    "Password reset mails take ten minutes to arrive",
    "Our SSO login with Okta fails with an invalid SAML response",
)
# (what, weight): the mix of requests.
MIX = (("intake", 4), ("command", 3), ("click", 2), ("reply", 1))


@dataclass(frozen=True)
class Answer:
    kind: str
    status: int
    elapsed: float
    server: int


@dataclass
class Sent:
    """Everything the load sent, for the checks: answers, intake messages by ts, commands."""

    answers: list[Answer] = field(default_factory=list)
    intake_ts: dict[str, str] = field(default_factory=dict)  # ts -> event_id
    counts: Counter[str] = field(default_factory=Counter)  # commands, clicks, retries, …
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, server: int, response: SlackResponse) -> None:
        with self.lock:
            self.answers.append(Answer(kind, response.status, response.elapsed, server))


class Load:
    def __init__(self, simulators: list[SlackSimulator], standin: SlackStandIn, *, seed: int) -> None:
        self._simulators, self._standin = simulators, standin
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._turn = itertools.count()
        self._numbers = itertools.count(1)
        self.sent = Sent()
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="soak-load")
        self._futures: list[Future[None]] = []

    # the driver

    def run(self, seconds: float, rate: float, *, at: Callable[[float], None] = lambda _elapsed: None) -> None:
        """Send `rate` requests a second for `seconds`; `at(elapsed)` is called between sends."""
        kinds = [kind for kind, weight in MIX for _ in range(weight)]
        started = time.monotonic()
        for n in itertools.count():
            elapsed = time.monotonic() - started
            if elapsed >= seconds:
                break
            at(elapsed)
            kind = self._choice(kinds)
            self._futures.append(self._pool.submit(self._guarded, kind))
            time.sleep(max(0.0, started + (n + 1) / rate - time.monotonic()))

    def finish(self) -> None:
        """Wait for every request in flight (delayed retries included)."""
        self._pool.shutdown(wait=True)

    def _guarded(self, kind: str) -> None:
        try:
            getattr(self, f"_{kind}")()
        except Exception as error:  # a refused connection or a timeout: a violation, not a crash
            with self.sent.lock:
                self.sent.errors.append(f"{kind}: {type(error).__name__}: {error}")

    # helpers

    def _choice(self, items: Any) -> Any:
        with self._rng_lock:
            return self._rng.choice(items)

    def _chance(self, probability: float) -> bool:
        with self._rng_lock:
            return self._rng.random() < probability

    def _count(self, what: str) -> None:
        with self.sent.lock:
            self.sent.counts[what] += 1

    def _server(self) -> int:
        return next(self._turn) % len(self._simulators)

    def _send(self, kind: str, server: int, call: Callable[[SlackSimulator], SlackResponse]) -> SlackResponse:
        response = call(self._simulators[server])
        self.sent.record(kind, server, response)
        return response

    # what Slack sends

    def _intake(self) -> None:
        n = next(self._numbers)
        user = self._choice(CUSTOMERS)
        # The person posts in the stand-in first, so the ticket's thread acknowledgement has a parent.
        event = self._standin.post_as_user(INTAKE_CHANNEL, user, f"{self._choice(TEXTS)} (#{n})")
        event_id = f"EvSOAK{n:08d}"
        with self.sent.lock:
            self.sent.intake_ts[event["ts"]] = event_id
        first = self._server()
        other = (first + 1) % len(self._simulators)

        def deliver(server: int, retry_num: int | None = None) -> None:
            kind = "intake" if retry_num is None else "intake retry"
            self._send(kind, server, lambda s: s.event(event, event_id=event_id, retry_num=retry_num))

        if self._chance(0.15):
            # Slack gave up waiting and sends it again while the first delivery is still being
            # processed, to the other process.
            retry = self._pool.submit(deliver, other, 1)
            deliver(first)
            retry.result()
            self._count("concurrent retries")
        elif self._chance(0.15):
            deliver(first)
            time.sleep(self._choice((0.5, 1.0, 2.0)))
            deliver(other, 1)
            if self._chance(0.5):
                deliver(first, 2)
            self._count("later retries")
        else:
            deliver(first)

    def _command(self) -> None:
        user = self._choice((*CUSTOMERS, *AGENTS))
        text = f"{self._choice(TEXTS)} (/ticket #{next(self._numbers)})"
        response = self._send(
            "command", self._server(), lambda s: s.slash_command("/ticket", text, user_id=user, channel_id="C_HELP")
        )
        if response.status == 200:
            self._count("commands")

    def _click(self) -> None:
        cards = [m for m in self._standin.messages(TRIAGE_CHANNEL) if _take_button(m)]
        if not cards:
            return
        card = self._choice(cards[-40:])  # recent cards: most are still unowned
        button = _take_button(card)
        assert button is not None
        action = {"action_id": "ticket_take", "value": button["value"], "block_id": "ticket_actions"}
        user = self._choice(AGENTS)

        def click(server: int) -> None:
            self._send(
                "click",
                server,
                lambda s: s.block_action(user_id=user, actions=[action], channel_id=TRIAGE_CHANNEL, message=card),
            )

        if self._chance(0.25):  # a double click: both clicks at once, one to each process
            second = self._pool.submit(click, 1)
            click(0)
            second.result()
            self._count("double clicks")
        else:
            click(self._server())
        self._count("clicks")

    def _reply(self) -> None:
        """An agent answers a request in its thread: the ticket's first response."""
        with self.sent.lock:
            asked = list(self.sent.intake_ts)[-40:]
        if not asked:
            return
        parent = self._choice(asked)
        agent = self._choice(AGENTS)
        event = self._standin.post_as_user(INTAKE_CHANNEL, agent, "Thanks, we are looking into it.", thread_ts=parent)
        self._send("reply", self._server(), lambda s: s.event(event))
        self._count("replies")


def _take_button(message: dict[str, Any]) -> dict[str, Any] | None:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") == "ticket_take":
                return element
    return None
