"""Block Kit building blocks shared by every renderer: text objects, sections, fields, buttons,
mentions and dates. Pure functions; every length is cut to Block Kit's limits (blockkit-limits.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.core.text import displayable, escape_mrkdwn, truncate

__all__ = [
    "EMPTY",
    "FIELD_MAX",
    "HEADER_MAX",
    "SECTION_MAX",
    "TEXT_MAX",
    "Block",
    "Message",
    "button",
    "channel",
    "context",
    "fields",
    "header",
    "mrkdwn",
    "reason",
    "section",
    "slack_date",
    "user",
]

Block = dict[str, Any]
Message = dict[str, Any]  # {"text": ..., "blocks": [...]}

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
TEXT_MAX = 4000  # chat.update rejects longer top-level text (msg_too_long)


EMPTY = "—"  # shown where a text would be empty: Slack refuses empty text objects (invalid_blocks)


def mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text if text.strip() else EMPTY}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(truncate(text, SECTION_MAX))}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(truncate(text, SECTION_MAX)) for text in texts[:10]]}


def header(text: str) -> Block:
    plain = truncate(displayable(text), HEADER_MAX)
    return {"type": "header", "text": {"type": "plain_text", "text": plain if plain.strip() else EMPTY, "emoji": True}}


def fields(pairs: list[tuple[str, str]]) -> Block:
    return {"type": "section", "fields": [mrkdwn(truncate(f"*{k}*\n{v}", FIELD_MAX)) for k, v in pairs[:10]]}


def slack_date(at: datetime | None) -> str:
    """A time every reader sees in their own time zone (Slack's date token), with a UTC fallback."""
    if at is None:
        return "—"
    epoch = int(at.timestamp())
    fallback = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{fallback}>"


_OUR_MENTION = re.compile(r"&lt;@([UW][A-Z0-9_]+)&gt;")


def reason(text: str) -> str:
    """A reason Frontline wrote ("set by <@U1> (auto: …)"): escaped, except the user mentions
    we put there ourselves, which should render as names. Only IDs of our own shape are restored."""
    return _OUR_MENTION.sub(r"<@\1>", escape_mrkdwn(text))


def user(user_id: str | None, *, empty: str = "Unassigned") -> str:
    return f"<@{user_id}>" if user_id else empty


def channel(ref: str | None) -> str:
    """A channel mention for an ID; a name (or nothing) shown as text."""
    if ref and ref[:1] in "CG" and ref[1:].replace("_", "").isalnum():
        return f"<#{ref}>"
    return escape_mrkdwn(ref or "—")


def button(action_id: str, label: str, value: str, *, style: str | None = None) -> Block:
    element: Block = {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": label}}
    if style:
        element["style"] = style
    return {**element, "value": value}
