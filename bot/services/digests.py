"""The daily standup digest (issue 11 §1): decided once per day by whichever sweep gets there
first, posted to `channels.standup` with counts in the channel and details in its thread.

Deciding records the digest (unique per kind and slot) with its numbers and queues its post in one
transaction, so several workers post it once; a worker that was down at the digest's time posts
it when it comes back, marked late. `/support digest` posts one at once (it does not replace the
day's scheduled one).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.charts import volume_and_sla_png
from bot.core.digest import EVERY_DAY, WEEKDAYS, is_late, is_stale, latest_slot, snapshot_from_json
from bot.core.health import health_score, triage
from bot.core.metrics import PERIODS
from bot.core.permissions import PermissionDeniedError
from bot.core.voc import is_question, repeated_questions
from bot.services.policy import Policy
from bot.slack import digest_blocks, stats_blocks
from bot.slack.delivery import FILES_UPLOAD_V2, PLACE_ERRORS, AfterSent, GiveUpError, Prepare
from store import digests, metrics, outbox, voc
from store.db import read_scope, session_scope
from store.models import Digest, OutboxMessage

__all__ = ["AFTER_SENT", "PREPARE", "DigestError", "health", "post_due", "post_now", "prepare_hooks", "stats"]

HEADLINE, DETAILS, WEEKLY, WEEKLY_CHART = "digest", "digest_details", "digest_weekly", "digest_weekly_chart"
WEEKLY_VOC = "digest_weekly_voc"


class DigestError(ValueError):
    pass


def post_due(engine: Engine, policy: Policy, *, now: datetime) -> bool:
    """The sweep's part: decide the latest scheduled daily (and, on its day, weekly) digest if nobody
    has; True if this call decided one."""
    channel = policy.config.channels.standup
    if not channel:
        return False
    settings = policy.config.digest
    daily_days = WEEKDAYS if settings.weekdays_only else EVERY_DAY
    weekly_days = frozenset({_WEEKDAY_NUMBERS[settings.weekly_day]})
    decided = False
    for kind, days in (("daily", daily_days), ("weekly", weekly_days)):
        slot = latest_slot(now, tz=policy.config.tzinfo, at=settings.time, days=days)
        if is_stale(slot, now) or _already(engine, kind, slot.date().isoformat()):
            continue
        with session_scope(engine) as session:
            decider = _decide if kind == "daily" else _decide_weekly
            found = decider(session, policy, slot=slot.date().isoformat(), due=slot, channel=channel, now=now)
            decided = decided or found is not None
    return decided


_WEEKDAY_NUMBERS = {name: number for number, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}


def _already(engine: Engine, kind: str, slot: str) -> bool:
    """Most sweeps: decided already, found without taking SQLite's write lock."""
    with read_scope(engine) as session:
        return session.exec(select(Digest.id).where(Digest.kind == kind, Digest.slot == slot)).first() is not None


def post_now(engine: Engine, policy: Policy, *, actor: str, request_key: str, now: datetime) -> str:
    """`/support digest`: one now, for agents and above."""
    if not policy.is_agent(actor):
        raise PermissionDeniedError("Only agents, leads and admins ask for a digest.")
    channel = policy.config.channels.standup
    if not channel:
        raise DigestError("No standup channel is set: add `channels.standup` to frontline.yaml.")
    with session_scope(engine) as session:
        last = outbox.latest_of(session, HEADLINE)
        decided = _decide(session, policy, slot=request_key[:64], due=now, channel=channel, now=now, by=actor)
    answer = f"A digest is on its way to <#{channel}>." if decided else "That digest is already on its way."
    if last is not None and last.status == outbox.DEAD and last.last_error in PLACE_ERRORS:
        # Say so now: the post will fail the same way until someone fixes the channel.
        answer += (
            f" The last one could not be posted there (Slack said `{last.last_error}`):"
            " invite me, or fix `channels.standup`."
        )
    return answer


def _decide(
    session: Session,
    policy: Policy,
    *,
    slot: str,
    due: datetime,
    channel: str,
    now: datetime,
    by: str | None = None,
) -> int | None:
    """The daily digest (or, with `by`, one asked for now): counted now, recorded, its post queued."""
    kind = "adhoc" if by else "daily"
    # The first digest counts from the schedule's previous slot: Monday's covers Friday 09:00 on.
    settings = policy.config.digest
    days = WEEKDAYS if settings.weekdays_only else EVERY_DAY
    scheduled_before = latest_slot(due - timedelta(seconds=1), tz=policy.config.tzinfo, at=settings.time, days=days)
    since = digests.previous_due(session, due) or scheduled_before
    day = due.astimezone(policy.config.tzinfo).date()
    snapshot = digests.snapshot(session, day=day, since=since, now=now)
    digest_id = digests.claim(
        session,
        {
            "kind": kind, "slot": slot, "due_at": due, "created_at": now, "late": kind == "daily" and is_late(due, now),
            "requested_by": by, "channel": channel, "snapshot": snapshot.to_json(),
        },
    )  # fmt: skip
    if digest_id is None:
        return None
    outbox.enqueue(
        session, key=f"digest:{kind}:{slot}"[:255], method="chat.postMessage",
        args={"digest_id": digest_id, "channel": channel}, purpose=HEADLINE, now=now,
    )  # fmt: skip
    return digest_id


def _decide_weekly(
    session: Session, policy: Policy, *, slot: str, due: datetime, channel: str, now: datetime
) -> int | None:
    """The weekly review: the last seven days' dashboard, traffic lights and chart, shown as they are
    when it is posted (the window is fixed: the seven days before it was due)."""
    window = {"start": (due - PERIODS["week"]).isoformat(), "end": due.isoformat()}
    digest_id = digests.claim(
        session,
        {
            "kind": "weekly", "slot": slot, "due_at": due, "created_at": now, "late": is_late(due, now),
            "requested_by": None, "channel": channel, "snapshot": window,
        },
    )  # fmt: skip
    if digest_id is not None:
        outbox.enqueue(
            session, key=f"digest:weekly:{slot}", method="chat.postMessage",
            args={"digest_id": digest_id, "channel": channel}, purpose=WEEKLY, now=now,
        )  # fmt: skip
    return digest_id


def _digest(session: Session, message: OutboxMessage) -> Digest:
    digest = session.get(Digest, int(message.args["digest_id"]))
    if digest is None:
        raise GiveUpError(f"digest {message.args.get('digest_id')} no longer exists")
    return digest


def _prepare_headline(session: Session, message: OutboxMessage) -> dict[str, Any]:
    digest = _digest(session, message)
    shown = digest_blocks.headline(
        snapshot_from_json(digest.snapshot), due=digest.due_at, late=digest.late,
        requested_by=digest.requested_by, posted=digest.created_at,
    )  # fmt: skip
    return {"channel": digest.channel, "unfurl_links": False, **shown}


def _prepare_details(session: Session, message: OutboxMessage) -> dict[str, Any]:
    digest = _digest(session, message)
    shown = digest_blocks.details(snapshot_from_json(digest.snapshot))
    return {"channel": message.args["channel"], "thread_ts": message.args["thread_ts"], "unfurl_links": False, **shown}


def _headline_posted(session: Session, message: OutboxMessage, response: dict[str, Any], now: datetime) -> None:
    outbox.enqueue(
        session, key=f"{message.key}:details"[:255], method="chat.postMessage",
        args={"digest_id": message.args["digest_id"], "channel": response["channel"], "thread_ts": response["ts"]},
        purpose=DETAILS, now=now,
    )  # fmt: skip


def _window(digest: Digest) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(digest.snapshot["start"]), datetime.fromisoformat(digest.snapshot["end"])


def _prepare_weekly(session: Session, message: OutboxMessage) -> dict[str, Any]:
    digest = _digest(session, message)
    start, end = _window(digest)
    figures = metrics.measure(session, start=start, end=end)
    shown = stats_blocks.weekly_message(figures, triage(figures), health_score(figures), late=digest.late)
    return {"channel": digest.channel, "unfurl_links": False, **shown}


def _weekly_posted(session: Session, message: OutboxMessage, response: dict[str, Any], now: datetime) -> None:
    outbox.enqueue(
        session, key=f"{message.key}:chart"[:255], method=FILES_UPLOAD_V2,
        args={
            "digest_id": message.args["digest_id"], "channel": response["channel"], "thread_ts": response["ts"],
            "filename": "volume-and-sla.png", "title": "Volume and SLA compliance, last 14 days",
        },
        purpose=WEEKLY_CHART, now=now,
    )  # fmt: skip
    outbox.enqueue(
        session, key=f"{message.key}:voc"[:255], method="chat.postMessage",
        args={"digest_id": message.args["digest_id"], "channel": response["channel"], "thread_ts": response["ts"]},
        purpose=WEEKLY_VOC, now=now,
    )  # fmt: skip


def _prepare_chart(session: Session, message: OutboxMessage) -> dict[str, Any]:
    digest = _digest(session, message)
    _, end = _window(digest)
    last_day = (end - timedelta(days=1)).astimezone(UTC).date()
    rows = metrics.daily(session, start=end - timedelta(days=14), end=end)
    png = volume_and_sla_png(rows, last_day=last_day)
    return {**{k: v for k, v in message.args.items() if k != "digest_id"}, "content": png}


def _prepare_voc(policy: Policy) -> Prepare:
    def prepare(session: Session, message: OutboxMessage) -> dict[str, Any]:
        digest = _digest(session, message)
        start, end = _window(digest)
        month = voc.texts_with_vectors(session, start=end - PERIODS["month"], end=end)
        asked = [(f"T-{n}", title, vector) for n, title, vector in month if is_question(title)]
        rows = [np.frombuffer(v, dtype=np.float32) for _, _, v in asked]
        vectors = np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)
        questions = repeated_questions(
            [ref for ref, _, _ in asked], [title for _, title, _ in asked], vectors,
            similarity=policy.config.surge.similarity,
        )  # fmt: skip
        shown = stats_blocks.voice_of_customer(
            voc.categories(session, start=start, end=end),
            voc.root_causes(session, start=start, end=end),
            questions,
            voc.frustrated(session, start=start, end=end),
        )
        return {"channel": message.args["channel"], "thread_ts": message.args["thread_ts"], **shown}

    return prepare


def prepare_hooks(policy: Policy) -> dict[str, Prepare]:
    return {**PREPARE, WEEKLY_VOC: _prepare_voc(policy)}


PREPARE: dict[str, Prepare] = {
    HEADLINE: _prepare_headline,
    DETAILS: _prepare_details,
    WEEKLY: _prepare_weekly,
    WEEKLY_CHART: _prepare_chart,
}
AFTER_SENT: dict[str, AfterSent] = {HEADLINE: _headline_posted, WEEKLY: _weekly_posted}


def stats(engine: Engine, policy: Policy, *, actor: str, period: str, now: datetime) -> dict[str, Any]:
    """`/support stats [week|month]`: the dashboard, for agents and above."""
    if not policy.is_agent(actor):
        raise PermissionDeniedError("Only agents, leads and admins see the support stats.")
    if period not in PERIODS:
        raise DigestError(f"'{period[:20]}' is no period: use `/support stats week` or `/support stats month`.")
    with read_scope(engine) as session:
        figures = metrics.measure(session, start=now - PERIODS[period], end=now)
    return stats_blocks.stats_message(figures, period=period)


def health(engine: Engine, policy: Policy, *, actor: str, now: datetime) -> dict[str, Any]:
    """`/support health`: seed 001's health score over the last 30 days and what drags it down."""
    if not policy.is_agent(actor):
        raise PermissionDeniedError("Only agents, leads and admins see the support health.")
    with read_scope(engine) as session:
        figures = metrics.measure(session, start=now - PERIODS["month"], end=now)
    return stats_blocks.health_message(health_score(figures), triage(figures), period="month")
