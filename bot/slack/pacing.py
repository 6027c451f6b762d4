"""Per-channel pacing of posts: Slack accepts about one message per second per channel (short bursts
pass) and answers faster senders with 429s, which stall the sender. A token bucket per channel
lets a burst through and then spaces messages out; a message that would exceed it waits in the
outbox (not counted as a delivery attempt) until its channel has room.

Per process: several workers each pace their own sends, and Slack's 429 with Retry-After (which the
outbox honours) covers the rest.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["PACED_METHODS", "ChannelPacer"]

PACED_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral"})


@dataclass
class _Bucket:
    tokens: float
    at: datetime


@dataclass
class ChannelPacer:
    """`burst` messages at once, then `per_second` a second, per channel."""

    burst: int = 4
    per_second: float = 1.0
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, channel: str, now: datetime) -> timedelta:
        """Take a slot in `channel` now (zero), or say how long until one is free (nothing taken)."""
        with self._lock:
            bucket = self._buckets.get(channel)
            if bucket is None:
                bucket = self._buckets[channel] = _Bucket(float(self.burst), now)
            elapsed = max((now - bucket.at).total_seconds(), 0.0)
            bucket.tokens, bucket.at = min(float(self.burst), bucket.tokens + elapsed * self.per_second), now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return timedelta(0)
            return timedelta(seconds=(1.0 - bucket.tokens) / self.per_second)
