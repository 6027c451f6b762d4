"""The daily standup digest (issue 11 §1): decided once per day by whichever sweep gets there
first, posted to `channels.standup` with counts in the channel and details in its thread.

Deciding records the digest (unique per kind and slot) with its numbers and queues its post in one
transaction, so several workers post it once; a worker that was down at the digest's time posts
it when it comes back, marked late. `/support digest` posts one at once (it does not replace the
day's scheduled one).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.core.digest import is_late, is_stale, latest_slot, snapshot_from_json
from bot.core.metrics import PERIODS
from bot.core.permissions import PermissionDeniedError
from bot.services.policy import Policy
from bot.slack import digest_blocks, stats_blocks
from bot.slack.delivery import AfterSent, GiveUpError, Prepare
from store import digests, metrics, outbox
from store.db import read_scope, session_scope
from store.models import Digest, OutboxMessage

__all__ = ["AFTER_SENT", "PREPARE", "DigestError", "post_due", "post_now", "stats"]

HEADLINE, DETAILS = "digest", "digest_details"


class DigestError(ValueError):
    pass


def post_due(engine: Engine, policy: Policy, *, now: datetime) -> bool:
    """The sweep's part: decide the latest scheduled digest if nobody has; True if this call did."""
    channel = policy.config.channels.standup
    if not channel:
        return False
    settings = policy.config.digest
    slot = latest_slot(now, tz=policy.config.tzinfo, at=settings.time, weekdays_only=settings.weekdays_only)
    if is_stale(slot, now):
        return False
    name = slot.date().isoformat()
    with read_scope(engine) as session:  # most sweeps: already decided, and no write lock taken
        if session.exec(select(Digest.id).where(Digest.kind == "daily", Digest.slot == name)).first():
            return False
    with session_scope(engine) as session:
        return _decide(session, policy, kind="daily", slot=name, due=slot, channel=channel, now=now) is not None


def post_now(engine: Engine, policy: Policy, *, actor: str, request_key: str, now: datetime) -> str:
    """`/support digest`: one now, for agents and above."""
    if not policy.is_agent(actor):
        raise PermissionDeniedError("Only agents, leads and admins ask for a digest.")
    channel = policy.config.channels.standup
    if not channel:
        raise DigestError("No standup channel is set: add `channels.standup` to frontline.yaml.")
    with session_scope(engine) as session:
        decided = _decide(
            session, policy, kind="adhoc", slot=request_key[:64], due=now, channel=channel, now=now, by=actor
        )
    return f"A digest is on its way to <#{channel}>." if decided else "That digest is already on its way."


def _decide(
    session: Session,
    policy: Policy,
    *,
    kind: str,
    slot: str,
    due: datetime,
    channel: str,
    now: datetime,
    by: str | None = None,
) -> int | None:
    since = digests.previous_due(session, due) or due - timedelta(days=1)
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


PREPARE: dict[str, Prepare] = {HEADLINE: _prepare_headline, DETAILS: _prepare_details}
AFTER_SENT: dict[str, AfterSent] = {HEADLINE: _headline_posted}


def stats(engine: Engine, policy: Policy, *, actor: str, period: str, now: datetime) -> dict[str, Any]:
    """`/support stats [week|month]`: the dashboard, for agents and above."""
    if not policy.is_agent(actor):
        raise PermissionDeniedError("Only agents, leads and admins see the support stats.")
    if period not in PERIODS:
        raise DigestError(f"'{period[:20]}' is no period: use `/support stats week` or `/support stats month`.")
    with read_scope(engine) as session:
        figures = metrics.measure(session, start=now - PERIODS[period], end=now)
    return stats_blocks.stats_message(figures, period=period)
