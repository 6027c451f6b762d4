"""Retention (`retention.closed_ticket_days`): closed tickets older than that lose their words on the
sweep — title, description, attachments, requester, replies, CSAT comments, audit text, handoffs,
delivered messages, sentence vectors — and keep their row, times, status and priority, so counts and
metrics stay; standup digests decided longer ago than that lose the titles they listed (their counts,
refs and times stay). Batched (each batch its own short transaction) and idempotent (a purged
ticket or digest is not read again); a complete pass is recorded per hour, so the other sweeps of
that hour cost one read."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.digest import snapshot_without_titles
from bot.services.policy import Policy
from store import counters
from store import erasure as store
from store.db import read_scope, session_scope

__all__ = ["PURGED", "purge_closed_tickets"]

PURGED = "[purged]"
_PASS = "retention:pass_hour"  # the counters row: hours since the epoch of the last complete pass
_DIGESTS = "retention:digest_id"  # the counters row: the highest digest id whose titles went


def purge_closed_tickets(
    engine: Engine, policy: Policy, *, now: datetime, batch: int = 500, max_batches: int = 20
) -> int:
    """Purge what is due as of `now` (at most `max_batches` batches; the next sweep goes on);
    returns how many tickets were purged."""
    days = policy.config.retention.closed_ticket_days
    if days is None:
        return 0
    hour = int(now.timestamp() // 3600)
    with read_scope(engine) as session:
        if counters.value_of(session, _PASS) == hour:
            return 0
    cutoff = now - timedelta(days=days)
    purged = 0
    for _ in range(max_batches):
        with session_scope(engine) as session:
            ids = store.closed_before(session, cutoff, marker=PURGED, limit=batch)
            store.erase_ticket_content(session, ids, marker=PURGED)
            purged += len(ids)
            if len(ids) < batch and _purge_digests(session, cutoff, limit=batch):
                counters.put(session, _PASS, hour)
                break
    return purged


def _purge_digests(session: Session, cutoff: datetime, *, limit: int) -> bool:
    """Take the titles out of up to `limit` digests decided before `cutoff`; True when none is left."""
    digests = store.digests_before(session, cutoff, after_id=counters.value_of(session, _DIGESTS) or 0, limit=limit)
    for digest in digests:
        digest.snapshot = snapshot_without_titles(digest.snapshot, PURGED)
        session.add(digest)
    if digests:
        assert digests[-1].id is not None
        counters.put(session, _DIGESTS, digests[-1].id)
    return len(digests) < limit
