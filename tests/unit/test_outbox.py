"""The outbox on the run's backend: dedupe by key, claims that never overlap, leases, failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert
from sqlmodel import select

from bot.slack.client import make_web_client
from bot.slack.delivery import OutboxSender
from bot.slack.pacing import ChannelPacer
from bot.slack.standin import SlackStandIn
from store import outbox
from store.db import read_scope, session_scope
from store.models import OutboxMessage, Ticket

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def _enqueue(engine: Engine, key: str, channel: str = "C_TRIAGE") -> int | None:
    with session_scope(engine) as session:
        return outbox.enqueue(
            session,
            key=key,
            method="chat.postMessage",
            args={"channel": channel, "text": key},
            purpose="test",
            now=NOW,
        )


def _rows(engine: Engine) -> list[OutboxMessage]:
    with read_scope(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]


def test_same_key_is_enqueued_once(engine: Engine) -> None:
    first = _enqueue(engine, "nudge:T-1:first_response:0.5")
    again = _enqueue(engine, "nudge:T-1:first_response:0.5")
    assert first is not None and again is None
    assert [row.key for row in _rows(engine)] == ["nudge:T-1:first_response:0.5"]


def test_a_row_is_claimed_by_one_worker_only(engine: Engine) -> None:
    message_id = _enqueue(engine, "k")
    assert message_id is not None
    with session_scope(engine) as session:
        won = outbox.claim(session, message_id, worker="a", now=NOW)
    with session_scope(engine) as session:
        lost = outbox.claim(session, message_id, worker="b", now=NOW)
    assert won is not None and won.claimed_by == "a" and won.attempts == 1
    assert lost is None


def test_a_claim_left_by_a_dead_process_is_reclaimed_after_the_lease(engine: Engine) -> None:
    message_id = _enqueue(engine, "k")
    assert message_id is not None
    with session_scope(engine) as session:
        assert outbox.claim(session, message_id, worker="dead-process", now=NOW) is not None
    with session_scope(engine) as session:
        assert outbox.claim(session, message_id, worker="b", now=NOW + outbox.CLAIM_LEASE / 2) is None
    with session_scope(engine) as session:
        late = outbox.claim(session, message_id, worker="b", now=NOW + outbox.CLAIM_LEASE + timedelta(seconds=1))
    assert late is not None and late.claimed_by == "b" and late.attempts == 2


def test_concurrent_batch_claims_never_overlap(engine: Engine) -> None:
    for n in range(60):
        _enqueue(engine, f"k{n}")
    claimed: dict[str, list[int]] = {"a": [], "b": [], "c": []}
    barrier = threading.Barrier(3)

    def worker(name: str) -> None:
        barrier.wait()
        while True:
            with session_scope(engine) as session:
                batch = outbox.claim_due(session, worker=name, now=NOW, limit=7)
            if not batch:
                return
            claimed[name].extend(message.id or 0 for message in batch)

    threads = [threading.Thread(target=worker, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [message_id for ids in claimed.values() for message_id in ids]
    assert sorted(everything) == sorted({*everything}) and len(everything) == 60


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(retry_after=0) as running:
        yield running


def _sender(engine: Engine, standin: SlackStandIn, worker: str = "w1") -> OutboxSender:
    client = make_web_client(standin.bot_token, standin.api_url)
    return OutboxSender(engine, client, worker_id=worker, clock=lambda: NOW)


def test_two_senders_deliver_each_message_exactly_once(engine: Engine, standin: SlackStandIn) -> None:
    for n in range(40):
        _enqueue(engine, f"message {n}")
    senders = [_sender(engine, standin, "w1"), _sender(engine, standin, "w2")]
    threads = [threading.Thread(target=sender.deliver_due, args=(NOW,)) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    texts = sorted(message["text"] for message in standin.messages("C_TRIAGE"))
    assert texts == sorted(f"message {n}" for n in range(40))
    assert {row.status for row in _rows(engine)} == {"sent"}


def test_rate_limits_and_server_errors_are_retried_by_the_client(engine: Engine, standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", "ratelimited", status=429)
    _enqueue(engine, "after a 429")
    report = _sender(engine, standin).deliver_due(NOW)
    assert len(report.sent) == 1
    assert [call.status for call in standin.calls_to("chat.postMessage")] == [429, 200]


def test_gateway_errors_are_retried_by_the_client_like_other_server_errors(
    engine: Engine, standin: SlackStandIn
) -> None:
    # slack_sdk's own handler retries 500 and 503 only; a 502 or 504 went back to the outbox for
    # 10 s and held up the ticket's later messages (found by tests/soak).
    standin.fail_next("chat.postMessage", "bad_gateway", status=502)
    standin.fail_next("chat.postMessage", "request_timeout", status=504)
    _enqueue(engine, "after a 502 and a 504")
    report = _sender(engine, standin).deliver_due(NOW)
    assert len(report.sent) == 1
    assert [call.status for call in standin.calls_to("chat.postMessage")] == [502, 504, 200]


def test_transient_failure_waits_and_permanent_failure_is_dead(engine: Engine, standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", "internal_error")
    transient = _enqueue(engine, "will retry")
    permanent = _enqueue(engine, "never", channel="C_DOES_NOT_EXIST")
    report = _sender(engine, standin).deliver_due(NOW)
    assert (report.retrying, report.dead) == ([transient], [permanent])
    rows = {row.id: row for row in _rows(engine)}
    assert rows[transient].status == "pending" and rows[transient].next_attempt_at > NOW
    assert rows[transient].last_error == "internal_error"
    assert rows[permanent].status == "dead" and rows[permanent].last_error == "channel_not_found"
    # Nothing is retried before its time, and a dead row never again.
    assert _sender(engine, standin).deliver_due(NOW).sent == []
    later = _sender(engine, standin).deliver_due(NOW + timedelta(minutes=1))
    assert later.sent == [transient] and later.dead == []
    assert len(standin.calls_to("chat.postMessage")) == 3
    with read_scope(engine) as session:
        assert [row.id for row in outbox.undelivered(session)] == [permanent]


def test_a_long_retry_after_is_not_slept_through_and_the_claim_is_released(engine: Engine) -> None:
    # Sleeping 310 s in the sender would outlive the 5-minute claim lease and let a second worker
    # send the same message; instead the row waits in the outbox until Retry-After has passed.
    with SlackStandIn(retry_after=310) as standin:
        standin.fail_next("chat.postMessage", "ratelimited", status=429)
        message_id = _enqueue(engine, "rate limited for long")
        report = _sender(engine, standin).deliver_due(NOW)
        assert report.retrying == [message_id]
        [row] = _rows(engine)
        assert (row.status, row.claimed_by, row.last_error) == ("pending", None, "ratelimited")
        assert row.next_attempt_at >= NOW + timedelta(seconds=310)
        assert len(standin.calls_to("chat.postMessage")) == 1
        assert _sender(engine, standin).deliver_due(NOW + timedelta(seconds=300)).sent == []
        assert _sender(engine, standin).deliver_due(NOW + timedelta(seconds=311)).sent == [message_id]


def test_a_bad_token_keeps_messages_for_when_it_is_fixed(engine: Engine, standin: SlackStandIn) -> None:
    message_id = _enqueue(engine, "waits for a good token")
    client = make_web_client("xoxb-wrong", standin.api_url)
    bad = OutboxSender(engine, client, worker_id="w", clock=lambda: NOW).deliver_due(NOW)
    assert bad.retrying == [message_id] and bad.dead == []
    later = _sender(engine, standin).deliver_due(NOW + timedelta(minutes=1))
    assert later.sent == [message_id]


def test_a_place_slack_refuses_is_reported_to_triage_once(engine: Engine, standin: SlackStandIn) -> None:
    client = make_web_client(standin.bot_token, standin.api_url)
    sender = OutboxSender(engine, client, worker_id="w1", clock=lambda: NOW, report_channel="C_TRIAGE")
    for n in range(3):
        _enqueue(engine, f"never {n}", channel="C_DOES_NOT_EXIST")
    report = sender.deliver_due(NOW)
    assert len(report.dead) == 3 and len(report.sent) == 1  # the one report
    [told] = standin.messages("C_TRIAGE")
    assert told["text"].startswith(":warning: I could not post to <#C_DOES_NOT_EXIST>: Slack said `channel_not_found`.")
    _enqueue(engine, "never again", channel="C_DOES_NOT_EXIST")
    assert len(sender.deliver_due(NOW).sent) == 0 and len(standin.messages("C_TRIAGE")) == 1


def test_posts_are_paced_per_channel_without_spending_attempts(engine: Engine, standin: SlackStandIn) -> None:
    client = make_web_client(standin.bot_token, standin.api_url)
    clock = {"now": NOW}
    sender = OutboxSender(
        engine, client, worker_id="w1", clock=lambda: clock["now"], pacer=ChannelPacer(burst=4, per_second=1.0)
    )
    for n in range(8):
        _enqueue(engine, f"triage {n}")
    _enqueue(engine, "elsewhere", channel="C_HELP")
    first = sender.deliver_due(NOW)
    assert (len(first.sent), len(first.paced)) == (5, 4)  # a burst of 4 to triage, and the other channel
    rows = [row for row in _rows(engine) if row.status == "pending"]
    assert len(rows) == 4 and {row.attempts for row in rows} == {0}
    for second in range(1, 6):
        clock["now"] = NOW + timedelta(seconds=second)
        sender.deliver_due(clock["now"])
    texts = [message["text"] for message in standin.messages("C_TRIAGE")]
    assert texts == [f"triage {n}" for n in range(8)]  # all delivered, in order


def test_pacing_with_a_future_now_returns_instead_of_spinning(engine: Engine, standin: SlackStandIn) -> None:
    client = make_web_client(standin.bot_token, standin.api_url)
    sender = OutboxSender(engine, client, worker_id="w1", clock=lambda: NOW, pacer=ChannelPacer(burst=2))
    for n in range(6):
        _enqueue(engine, f"triage {n}")
    report = sender.deliver_due(NOW + timedelta(hours=2))  # what `tick --now` two hours ahead does
    assert len(report.sent) == 2 and len(set(report.paced)) == 4


@pytest.mark.postgres_only
def test_a_claim_stays_fast_with_a_backlog_of_ten_thousand_rows(engine: Engine) -> None:
    # Each candidate asks whether an earlier row of its ticket is undelivered. Without an index for
    # that question PostgreSQL intersected the ticket index with every undelivered row's entry for
    # each candidate: 2 s a claim at 10,000 rows here, 28 s in the scale-out soak (tests/soak).
    with session_scope(engine) as session:
        tickets = [
            Ticket(
                number=n, title="t", description="", created_by="U_R", source_kind="command",
                requester_id="U_R", created_at=NOW, updated_at=NOW,
            )
            for n in range(1, 501)
        ]  # fmt: skip
        session.add_all(tickets)
        session.flush()
        ids = [ticket.id for ticket in tickets]
        rows = [
            {
                "key": f"backlog {n}", "method": "chat.postMessage", "args": {}, "purpose": "test",
                "ticket_id": ids[n % len(ids)], "status": "pending", "attempts": 0, "next_attempt_at": NOW,
                "created_at": NOW,
            }
            for n in range(10_000)
        ]  # fmt: skip
        session.execute(insert(OutboxMessage), rows)
    started = time.perf_counter()
    with session_scope(engine) as session:
        claimed = outbox.claim_due(session, worker="w1", now=NOW)
    assert len(claimed) == 10
    assert time.perf_counter() - started < 0.5
