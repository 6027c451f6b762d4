"""Short answers for one person that cannot ride on an HTTP response (a button click's "already
taken"): posted as ephemeral messages through the outbox, once per click."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from bot.core.text import truncate
from store import outbox
from store.db import session_scope

__all__ = ["tell"]


def tell(engine: Engine, *, channel: str, user: str, text: str, key: str, now: datetime) -> None:
    """Queue `text` (mrkdwn we wrote) for `user` only, in `channel`; `key` makes a retry a no-op."""
    with session_scope(engine) as session:
        outbox.enqueue(
            session,
            key=f"notice:{key}"[:255],
            method="chat.postEphemeral",
            args={"channel": channel, "user": user, "text": truncate(text, 3000)},
            purpose="notice",
            now=now,
        )
