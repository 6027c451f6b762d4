"""Which Slack `message` events become tickets, comments, edits — or nothing (SPEC §2, seed 001 Phase 3).

Pure: the event and the bot's identity in, a decision out. Events with a subtype often lack `user`
or `text` (field case F1), so nothing here indexes them directly. The bot's own posts are
recognised by `bot_id` and by its user id, never by subtype alone (F2).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.text import decode_slack_text, has_visible_text

__all__ = [
    "EMPTY_MESSAGE",
    "OWN_MESSAGE",
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
        return Ignore(OWN_MESSAGE)
    if event.get("bot_id") or subtype == "bot_message":
        if event.get("bot_id") not in bot_allowlist:
            return Ignore("a message from another bot (not on intake.bot_allowlist)")
    elif subtype is not None and subtype not in _CONTENT_SUBTYPES:
        return Ignore(f"housekeeping message ({subtype})")
    return _content(event, channel, intake_channels)


# Slack's message timestamps: seconds, a dot, microseconds ("1733580000.000100").
_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")
OWN_MESSAGE = "our own message"
EMPTY_MESSAGE = "empty message"


def _ts(value: Any) -> str | None:
    """A message timestamp as Slack writes it, or None for anything else (a malformed payload)."""
    return value if isinstance(value, str) and _TS.fullmatch(value) else None


def _text(message: Mapping[str, Any]) -> str | None:
    """The message's text as typed; None when the payload's `text` is not a string."""
    raw = message.get("text")
    if raw is None:
        return ""
    return decode_slack_text(raw) if isinstance(raw, str) else None


def _edited(event: Mapping[str, Any], identity: BotIdentity, channel: str) -> MessageDecision:
    message = event.get("message") or {}
    if not isinstance(message, Mapping):
        return Ignore("malformed edit")
    if _is_own(message, identity):
        return Ignore("an edit of our own message")
    ts = _ts(message.get("ts"))
    if message.get("subtype") == "tombstone" and ts:
        # A deleted message that has a thread stays as a "This message was deleted." tombstone.
        return SourceDeleted(channel, ts)
    if not ts:
        return Ignore("edit without a message ts")
    text = _text(message)
    if text is None:
        return Ignore("malformed edit (text is not a string)")
    if not has_visible_text(text):
        # Emptied (or left with only invisible characters): the ticket keeps what it said.
        return Ignore("an edit that leaves no text")
    return SourceEdited(channel, ts, text)


def message_to_ticket(
    message: Mapping[str, Any], *, channel: str, opened_by: str, via: str, identity: BotIdentity | None = None
) -> MessageDecision:
    """Someone chose to make this message a ticket (the shortcut or the reaction), whoever wrote it,
    except Frontline itself (its acknowledgements and cards are not requests)."""
    if identity is not None and _is_own(message, identity):
        return Ignore(OWN_MESSAGE)
    ts, author = _ts(message.get("ts")), str(message.get("user") or message.get("bot_id") or "")
    text, files = _text(message), _files(message)
    if not ts or not author or text is None:
        return Ignore("malformed message (ts, author or text)")
    if not has_visible_text(text) and not files:
        return Ignore(EMPTY_MESSAGE)
    return OpenTicket(channel, ts, author, text, via, files, opened_by=opened_by)


def _files(message: Mapping[str, Any]) -> tuple[dict[str, str], ...]:
    return tuple(
        {"id": str(f.get("id")), "name": str(f.get("name") or f.get("title") or f.get("id"))}
        for f in message.get("files") or ()
        if isinstance(f, Mapping) and f.get("id")
    )


def _content(event: Mapping[str, Any], channel: str, intake_channels: Collection[str]) -> MessageDecision:
    ts, user, text = _ts(event.get("ts")), str(event.get("user") or event.get("bot_id") or ""), _text(event)
    if not ts or not user or text is None:
        return Ignore("malformed message (ts, author or text)")
    thread_ts = event.get("thread_ts")
    if thread_ts is not None and _ts(thread_ts) is None:
        return Ignore("malformed thread_ts")
    if thread_ts and thread_ts != ts:  # a reply, also when "sent to the channel" (thread_broadcast)
        return ThreadReply(channel, str(thread_ts), ts, user, text)
    files = _files(event)
    if not has_visible_text(text) and not files:
        return Ignore(EMPTY_MESSAGE)
    if event.get("channel_type") == "im" or channel.startswith("D"):
        return OpenTicket(channel, ts, user, text, "dm", files)
    if channel in intake_channels:
        return OpenTicket(channel, ts, user, text, "intake", files)
    return Ignore("not an intake channel")
