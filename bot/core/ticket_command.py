"""`/ticket …` text → what the user asked for. Pure parsing; nothing here touches Slack or the DB."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.refs import BadReferenceError, parse_ticket_ref
from bot.core.text import decode_slack_text

__all__ = [
    "TITLE_MAX",
    "CreateTicket",
    "Help",
    "OpenCreateModal",
    "ShowTicket",
    "TicketCommand",
    "UsageError",
    "parse_ticket_command",
]

TITLE_MAX = 200  # characters kept as the title; the full text is always the description
TEXT_MAX = 40_000  # Slack's own ceiling for message text; anything longer is not a real command

# Every verb the spec names. Verbs without a parser here yet are answered as unavailable, so that
# "/ticket list" never files a ticket titled "list".
VERBS = [
    "show",
    "list",
    "take",
    "assign",
    "status",
    "pending",
    "solve",
    "close",
    "reopen",
    "priority",
    "tag",
    "note",
    "link",
    "escalate",
    "reply",
    "history",
    "bug",
    "help",
]
_AVAILABLE = {"show", "help"}


@dataclass(frozen=True)
class CreateTicket:
    title: str
    description: str
    customer: str | None = None
    priority: str | None = None
    affected_users: int | None = None
    owner_id: str | None = None


@dataclass(frozen=True)
class ShowTicket:
    number: int


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class OpenCreateModal:
    pass


@dataclass(frozen=True)
class UsageError:
    message: str


TicketCommand = CreateTicket | ShowTicket | Help | OpenCreateModal | UsageError

_HINT_CUSTOMER = re.compile(r"(?<!\S)customer:(\S+)", re.IGNORECASE)
_HINT_USERS = re.compile(r"(?<!\S)users:(\S+)", re.IGNORECASE)
_HINT_PRIORITY = re.compile(r"(?<!\S)\[?(P[0-3])\]?[:,]?(?=\s|$)", re.IGNORECASE)
_HINT_OWNER = re.compile(r"(?<!\S)<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>")


def parse_ticket_command(text: str) -> TicketCommand:
    stripped = text.strip()
    if not stripped:
        return OpenCreateModal()
    if len(stripped) > TEXT_MAX:
        return UsageError(f"that text is {len(stripped):,} characters; /ticket takes at most {TEXT_MAX:,}")
    verb, _, rest = stripped.partition(" ")
    verb = verb.lower()
    if verb in VERBS:
        return _parse_verb(verb, rest.strip())
    return _parse_create(stripped)


def _parse_verb(verb: str, rest: str) -> TicketCommand:
    if verb not in _AVAILABLE:
        return UsageError(f"`/ticket {verb}` is not available in this version. Try `/ticket help`.")
    if verb == "help":
        return Help()
    # show
    if not rest or len(rest.split()) != 1:
        return UsageError("usage: `/ticket show T-42`")
    try:
        return ShowTicket(parse_ticket_ref(rest))
    except BadReferenceError as error:
        return UsageError(f"{error}. usage: `/ticket show T-42`")


def _parse_create(text: str) -> TicketCommand:
    customer = _take(_HINT_CUSTOMER, text)
    users_text = _take(_HINT_USERS, text)
    priority = _take(_HINT_PRIORITY, text)
    owner = _take(_HINT_OWNER, text)
    affected_users: int | None = None
    if users_text is not None:
        if not users_text.isdigit():
            return UsageError(f"users:{users_text} is not a number of affected users (e.g. users:250)")
        affected_users = int(users_text)
    remaining = text
    for pattern in (_HINT_CUSTOMER, _HINT_USERS, _HINT_PRIORITY, _HINT_OWNER):
        remaining = _remove_first(pattern, remaining)
    description = decode_slack_text(remaining).strip()
    if not description:
        return UsageError("the ticket needs a description, e.g. `/ticket Checkout fails for acme customer:acme P1`")
    return CreateTicket(
        title=_title(description),
        description=description,
        customer=customer.lower() if customer else None,
        priority=priority.upper() if priority else None,
        affected_users=affected_users,
        owner_id=owner,
    )


def _take(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1) if match else None


def _remove_first(pattern: re.Pattern[str], text: str) -> str:
    """Drop the first hint and one space after it; every other character (pasted logs, their
    indentation) is kept exactly as typed."""
    match = pattern.search(text)
    if not match:
        return text
    end = match.end() + 1 if text[match.end() : match.end() + 1] in {" ", "\t"} else match.end()
    return text[: match.start()] + text[end:]


def _title(description: str) -> str:
    first_line = next((line.strip() for line in description.splitlines() if line.strip()), "")
    return first_line if len(first_line) <= TITLE_MAX else first_line[: TITLE_MAX - 1].rstrip() + "…"
