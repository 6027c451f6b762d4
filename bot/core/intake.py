"""Which Slack `message` events become tickets, comments, edits — or nothing (SPEC §2, seed 001 Phase 3).

Pure: the event and the bot's identity in, a decision out. Events with a subtype often lack `user`
or `text` (field case F1), so nothing here indexes them directly. The bot's own posts are
recognised by `bot_id` and by its user id, never by subtype alone (F2).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.text import decode_slack_text

__all__ = [
    "BotIdentity",
    "Ignore",
    "MessageDecision",
    "OpenTicket",
    "SourceDeleted",
    "SourceEdited",
    "ThreadReply",
    "classify_message",
    "message_to_ticket",
]

# Subtypes that carry a person's real message; every other subtype is housekeeping.
_CONTENT_SUBTYPES = frozenset({"file_share", "thread_broadcast", "me_message"})


@dataclass(frozen=True)
class BotIdentity:
    user_id: str
    bot_id: str | None


@dataclass(frozen=True)
class Ignore:
    reason: str


@dataclass(frozen=True)
class OpenTicket:
    channel: str
    ts: str
    user: str
    text: str
    via: str  # "intake" (a watched channel), "dm", "shortcut" or "reaction"
    files: tuple[dict[str, str], ...] = field(default=())
    opened_by: str | None = None  # who turned it into a ticket, when not its author


@dataclass(frozen=True)
class ThreadReply:
    channel: str
    thread_ts: str
    ts: str
    user: str
    text: str


@dataclass(frozen=True)
class SourceEdited:
    channel: str
    ts: str
    text: str


@dataclass(frozen=True)
class SourceDeleted:
    channel: str
    ts: str


MessageDecision = Ignore | OpenTicket | ThreadReply | SourceEdited | SourceDeleted


def _is_own(message: Mapping[str, Any], identity: BotIdentity) -> bool:
    return bool(
        (identity.bot_id and message.get("bot_id") == identity.bot_id) or message.get("user") == identity.user_id
    )


def classify_message(
    event: Mapping[str, Any],
    identity: BotIdentity,
    *,
    intake_channels: Collection[str],
    bot_allowlist: Collection[str] = (),
) -> MessageDecision:
    channel = str(event.get("channel") or "")
    subtype = event.get("subtype")
    if subtype == "message_changed":
        return _edited(event, identity, channel)
    if subtype == "message_deleted":
        ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
        return SourceDeleted(channel, str(ts)) if ts else Ignore("deletion without a message ts")
    if _is_own(event, identity):
        return Ignore("our own message")
    if event.get("bot_id") or subtype == "bot_message":
        if event.get("bot_id") not in bot_allowlist:
            return Ignore("a message from another bot (not on intake.bot_allowlist)")
    elif subtype is not None and subtype not in _CONTENT_SUBTYPES:
        return Ignore(f"housekeeping message ({subtype})")
    return _content(event, channel, intake_channels)


def _edited(event: Mapping[str, Any], identity: BotIdentity, channel: str) -> MessageDecision:
    message = event.get("message") or {}
    if _is_own(message, identity):
        return Ignore("an edit of our own message")
    ts = message.get("ts")
    if message.get("subtype") == "tombstone" and ts:
        # A deleted message that has a thread stays as a "This message was deleted." tombstone.
        return SourceDeleted(channel, str(ts))
    if not ts:
        return Ignore("edit without a message ts")
    return SourceEdited(channel, str(ts), decode_slack_text(str(message.get("text") or "")))


def message_to_ticket(message: Mapping[str, Any], *, channel: str, opened_by: str, via: str) -> MessageDecision:
    """Someone chose to make this message a ticket (the shortcut or the reaction), whoever wrote it."""
    ts, author = str(message.get("ts") or ""), str(message.get("user") or message.get("bot_id") or "")
    text = decode_slack_text(str(message.get("text") or ""))
    files = _files(message)
    if not ts or not author:
        return Ignore("message without ts or author")
    if not text.strip() and not files:
        return Ignore("empty message")
    return OpenTicket(channel, ts, author, text, via, files, opened_by=opened_by)


def _files(message: Mapping[str, Any]) -> tuple[dict[str, str], ...]:
    return tuple(
        {"id": str(f.get("id")), "name": str(f.get("name") or f.get("title") or f.get("id"))}
        for f in message.get("files") or ()
        if isinstance(f, Mapping) and f.get("id")
    )


def _content(event: Mapping[str, Any], channel: str, intake_channels: Collection[str]) -> MessageDecision:
    ts, user = str(event.get("ts") or ""), str(event.get("user") or event.get("bot_id") or "")
    if not ts or not user:
        return Ignore("message without ts or author")
    text = decode_slack_text(str(event.get("text") or ""))
    thread_ts = event.get("thread_ts")
    if thread_ts and thread_ts != ts:  # a reply, also when "sent to the channel" (thread_broadcast)
        return ThreadReply(channel, str(thread_ts), ts, user, text)
    files = _files(event)
    if not text.strip() and not files:
        return Ignore("empty message")
    if event.get("channel_type") == "im" or channel.startswith("D"):
        return OpenTicket(channel, ts, user, text, "dm", files)
    if channel in intake_channels:
        return OpenTicket(channel, ts, user, text, "intake", files)
    return Ignore("not an intake channel")
