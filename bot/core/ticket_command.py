"""`/ticket …` text → what the user asked for. Pure parsing; nothing here touches Slack or the DB."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from bot.core.refs import BadReferenceError, is_bug_ref, parse_bug_ref, parse_ticket_ref
from bot.core.root_causes import Classification, ClassificationError, parse_classification
from bot.core.templates import template_named
from bot.core.text import decode_slack_text, has_visible_text
from bot.core.tiers import Tier, parse_tier

__all__ = [
    "MAX_AFFECTED_USERS",
    "TITLE_MAX",
    "BugAction",
    "ChangeTicket",
    "CreateTicket",
    "DeescalateTicket",
    "EscalateTicket",
    "Help",
    "LinkBug",
    "ListFilter",
    "ListTickets",
    "OpenCreateModal",
    "ReplyTicket",
    "ReportBug",
    "ShowTicket",
    "TicketCommand",
    "TicketHistory",
    "UsageError",
    "parse_ticket_command",
]

TITLE_MAX = 200  # characters kept as the title; the full text is always the description
TEXT_MAX = 40_000  # Slack's own ceiling for message text; anything longer is not a real command


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


@dataclass(frozen=True)
class ChangeTicket:
    """take | assign | status | priority | customer | tag | note | cause, with its value (a user id,
    status, …); `classification` is the root cause (and resolution type) of `cause` or a `solve`."""

    number: int
    action: str
    value: str | None = None
    classification: Classification | None = None


@dataclass(frozen=True)
class ListFilter:
    """What `/ticket list` shows; every given filter must hold (AND)."""

    mine: bool = False
    open_only: bool = True
    breaching: bool = False
    priority: str | None = None
    owner: str | None = None
    customer: str | None = None


@dataclass(frozen=True)
class ListTickets:
    filters: ListFilter
    page: int = 1


@dataclass(frozen=True)
class TicketHistory:
    number: int


@dataclass(frozen=True)
class ReplyTicket:
    number: int
    template: str


@dataclass(frozen=True)
class EscalateTicket:
    """`escalate T-42 [tier] [reason]`: with a reason, straight to the tier; without, the handoff form."""

    number: int
    tier: Tier | None = None  # None: the tier above the ticket's current one
    reason: str | None = None


@dataclass(frozen=True)
class DeescalateTicket:
    number: int
    reason: str | None = None


@dataclass(frozen=True)
class ReportBug:
    """`bug T-42`: the bug form, for a bug linked to T-42."""

    number: int


@dataclass(frozen=True)
class LinkBug:
    number: int
    bug: int


@dataclass(frozen=True)
class BugAction:
    """`bug BUG-7 [show|resolve|notify]`."""

    bug: int
    action: str = "show"


TicketCommand = (
    CreateTicket
    | EscalateTicket
    | DeescalateTicket
    | ReportBug
    | LinkBug
    | BugAction
    | ShowTicket
    | ChangeTicket
    | ListTickets
    | TicketHistory
    | ReplyTicket
    | Help
    | OpenCreateModal
    | UsageError
)

_LIST_USAGE = "usage: `/ticket list [mine] [open|all] [breaching] [P0-P3] [@person] [customer:acme] [page 2]`"

STATUS_WORDS = {"open": "OPEN", "pending": "PENDING", "solved": "SOLVED", "closed": "CLOSED"}
# Verbs that change a ticket, each with its usage; the shortcuts (pending, solve, …) are status changes.
_CHANGE_USAGE = {
    "take": "/ticket take T-42",
    "assign": "/ticket assign T-42 @person",
    "status": "/ticket status T-42 open|pending|solved|closed",
    "pending": "/ticket pending T-42",
    "solve": "/ticket solve T-42 [root cause] [resolution type]",
    "close": "/ticket close T-42",
    "reopen": "/ticket reopen T-42",
    "priority": "/ticket priority T-42 P0|P1|P2|P3",
    "tag": "/ticket tag T-42 billing vip",
    "note": "/ticket note T-42 <text only agents see>",
    "customer": "/ticket customer T-42 acme",
    "cause": "/ticket cause T-42 <root cause> [resolution type]",
}
_STATUS_SHORTCUTS = {"pending": "PENDING", "solve": "SOLVED", "close": "CLOSED", "reopen": "OPEN"}

MAX_AFFECTED_USERS = 100_000_000

REASON_MAX = 2000  # as each field of the handoff form
_ESCALATE_USAGE = "usage: `/ticket escalate T-42 [L2|L3|management] [what was tried]` (no reason: the handoff form)"
_DEESCALATE_USAGE = "usage: `/ticket deescalate T-42 [why]`"
_LINK_USAGE = "usage: `/ticket link T-42 BUG-7`"
_BUG_USAGE = "usage: `/ticket bug T-42` (files a bug from T-42) or `/ticket bug BUG-7 [resolve|notify]`"
_BUG_ACTIONS = ("show", "resolve", "notify")
_REPLY_USAGE = "usage: `/ticket reply T-42 bug|feature|deescalate|billing|no` (seed 001's response templates)"

# Hints. `customer:` and `users:` are unambiguous anywhere in the text; a bare priority (`P1`) or a
# mention (`@owner`) counts only at the start or end of the text, so "page P3 of the invoice" and
# "ask <@U1> about it" stay part of the description.
_PRIORITY = r"\[?[Pp][0-3]\]?:?"
_OWNER = r"<@[UW][A-Z0-9_]+(?:\|[^>]*)?>"
_MENTION = re.compile(r"<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>")  # a user mention as Slack escapes it; group 1 = id
_KEYED = r"(?:customer|users):\S+"
_EDGE_HINT = rf"(?:{_PRIORITY}|{_OWNER}|{_KEYED})"
_LEADING = re.compile(rf"^\s*((?:{_EDGE_HINT}\s+)+)")
_TRAILING = re.compile(rf"((?:\s+{_EDGE_HINT})+)\s*$")
_KEYED_ANYWHERE = re.compile(r"(?<!\S)(customer|users):(\S+)", re.IGNORECASE)


def parse_ticket_command(text: str) -> TicketCommand:
    stripped = text.strip()
    if not stripped:
        return OpenCreateModal()
    if len(stripped) > TEXT_MAX:
        return UsageError(f"that text is {len(stripped):,} characters; /ticket takes at most {TEXT_MAX:,}")
    words = stripped.split()
    verb = words[0].lower()
    # A verb only when the text has that verb's shape; "Show more button is broken" or "help me,
    # the printer jams" are requests, not commands.
    if verb == "help" and len(words) == 1:
        return Help()
    if verb == "show" and (len(words) == 2 or (len(words) > 2 and _meant_a_ref(words[1]))):
        try:
            number = parse_ticket_ref(words[1])
        except BadReferenceError as error:
            return UsageError(f"{error}. usage: `/ticket show T-42`")
        if len(words) > 2:
            return UsageError("usage: `/ticket show T-42` (one ticket at a time)")
        return ShowTicket(number)
    if verb == "show" and len(words) == 1:
        return UsageError("usage: `/ticket show T-42`")
    if verb == "list":
        return _parse_list(words[1:])
    if verb == "history" and len(words) >= 2 and _meant_a_ref(words[1]):
        if not _is_ref(words[1]):
            return UsageError(f"'{words[1]}' is not a ticket reference (use T-42 or 42). usage: `/ticket history T-42`")
        if len(words) > 2:
            return UsageError("usage: `/ticket history T-42`")
        return TicketHistory(parse_ticket_ref(words[1]))
    if verb == "reply" and (len(words) == 1 or _meant_a_ref(words[1])):
        if len(words) > 1 and not _is_ref(words[1]):
            return UsageError(f"'{words[1]}' is not a ticket reference (use T-42 or 42). {_REPLY_USAGE}")
        if len(words) != 3 or template_named(words[2]) is None:
            return UsageError(_REPLY_USAGE)
        return ReplyTicket(parse_ticket_ref(words[1]), words[2].lower())
    if verb == "history" and len(words) == 1:
        return UsageError("usage: `/ticket history T-42`")
    if verb in _CHANGE_USAGE and (len(words) == 1 or _meant_a_ref(words[1])):
        if len(words) > 1 and not _is_ref(words[1]):
            return UsageError(
                f"'{words[1]}' is not a ticket reference (use T-42 or 42). usage: `{_CHANGE_USAGE[verb]}`"
            )
        return _parse_change(verb, words[1:], stripped)
    if verb in {"escalate", "deescalate", "de-escalate", "link"} and (len(words) == 1 or _meant_a_ref(words[1])):
        return _parse_escalation_verb(verb, words[1:], stripped)
    if verb == "bug" and (len(words) == 1 or _meant_a_ref(words[1]) or is_bug_ref(words[1])):
        return _parse_bug(words[1:])
    misspelt = _misspelt_verb(verb) if 1 < len(words) <= 3 and _meant_a_ref(words[1]) else None
    if misspelt is not None:
        return UsageError(
            f"'{words[0]}' is not a /ticket verb: did you mean `/ticket {misspelt} {words[1]}`?"
            " (`/ticket help` lists them; a new ticket needs words that do not start like a command)"
        )
    return _parse_create(stripped)


VERBS = (*_CHANGE_USAGE, "show", "list", "history", "reply", "escalate", "deescalate", "link", "bug", "help")


def _misspelt_verb(word: str) -> str | None:
    """The verb `word` is a slip of (`solv`, `tkae`), when followed by a ticket reference; a word
    that carries the verb ("closed T-4 is broken") is a sentence, not a slip."""
    close = difflib.get_close_matches(word, VERBS, n=1, cutoff=0.75)
    return close[0] if close and not word.startswith(close[0]) else None


def _parse_escalation_verb(verb: str, args: list[str], text: str) -> TicketCommand:
    usage = {"escalate": _ESCALATE_USAGE, "link": _LINK_USAGE}.get(verb, _DEESCALATE_USAGE)
    if not args:
        return UsageError(usage)
    if not _is_ref(args[0]):
        return UsageError(f"'{args[0]}' is not a ticket reference (use T-42 or 42). {usage}")
    number = parse_ticket_ref(args[0])
    rest = decode_slack_text(text.split(None, 2)[2]).strip() if len(text.split(None, 2)) == 3 else ""
    if verb == "link":
        if len(args) != 2 or not is_bug_ref(args[1]):
            return UsageError(usage)
        try:
            return LinkBug(number, parse_bug_ref(args[1]))
        except BadReferenceError as error:
            return UsageError(f"{error}. {usage}")
    if verb != "escalate":
        return _too_long(rest) or DeescalateTicket(number, rest if has_visible_text(rest) else None)
    first, _, reason = rest.partition(" ")
    tier = parse_tier(first)
    if tier is None and re.fullmatch(r"(?:[Ll][0-9]|tier-?[0-9]+)", first):
        return UsageError(f"'{first}' is not a tier: escalate to L2, L3 or management. {usage}")
    if tier is Tier.L1:
        return UsageError(f"L1 is the front line; to hand a ticket back, use `/ticket deescalate`. {usage}")
    reason = (reason if tier is not None else rest).strip()
    return _too_long(reason) or EscalateTicket(number, tier, reason if has_visible_text(reason) else None)


def _too_long(reason: str) -> UsageError | None:
    if len(reason) <= REASON_MAX:
        return None
    return UsageError(
        f"that reason is {len(reason):,} characters; keep it to {REASON_MAX:,} (the form has room for more)"
    )


def _parse_bug(args: list[str]) -> TicketCommand:
    if not args:
        return UsageError(_BUG_USAGE)
    if is_bug_ref(args[0]):
        try:
            bug = parse_bug_ref(args[0])
        except BadReferenceError as error:
            return UsageError(f"{error}. {_BUG_USAGE}")
        action = args[1].lower() if len(args) == 2 else "show" if len(args) == 1 else ""
        return BugAction(bug, action) if action in _BUG_ACTIONS else UsageError(_BUG_USAGE)
    if len(args) != 1 or not _is_ref(args[0]):
        return UsageError(_BUG_USAGE)
    return ReportBug(parse_ticket_ref(args[0]))


def _parse_change(verb: str, args: list[str], text: str) -> TicketCommand:
    usage = f"usage: `{_CHANGE_USAGE[verb]}`"
    if not args:
        return UsageError(usage)
    number = parse_ticket_ref(args[0])
    rest = args[1:]
    if verb == "cause" or (verb == "solve" and rest):
        try:
            classification = parse_classification(rest)
        except ClassificationError as error:
            return UsageError(f"{error} {usage}")
        if verb == "cause":
            return ChangeTicket(number, "cause", classification=classification)
        return ChangeTicket(number, "status", "SOLVED", classification=classification)
    if verb in _STATUS_SHORTCUTS or verb == "take":
        if rest:
            return UsageError(usage)
        return (
            ChangeTicket(number, "take") if verb == "take" else ChangeTicket(number, "status", _STATUS_SHORTCUTS[verb])
        )
    if verb == "status":
        if len(rest) != 1 or rest[0].lower() not in STATUS_WORDS:
            return UsageError(usage)
        return ChangeTicket(number, "status", STATUS_WORDS[rest[0].lower()])
    if verb == "assign":
        owner = _MENTION.fullmatch(rest[0]) if len(rest) == 1 else None
        return ChangeTicket(number, "assign", owner.group(1)) if owner else UsageError(usage)
    if verb == "customer":
        name = " ".join(rest).strip()
        return ChangeTicket(number, "customer", name) if name and len(name) <= 128 else UsageError(usage)
    if verb == "priority":
        if len(rest) != 1 or not re.fullmatch(r"[Pp][0-3]", rest[0]):
            return UsageError(usage)
        return ChangeTicket(number, "priority", rest[0].upper())
    if verb == "tag":
        tags = [tag.lower().lstrip("#") for tag in rest]
        bad = [tag for tag in tags if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", tag)]
        if not tags or bad:
            named = ", ".join(tag if len(tag) <= 40 else tag[:39] + "…" for tag in bad[:3])
            shown = f" ({named} is not a tag: letters, digits, - and _, up to 32)" if bad else ""
            return UsageError(usage + shown)
        return ChangeTicket(number, "tag", " ".join(dict.fromkeys(tags)))
    # note: everything after the reference, as typed (line breaks kept)
    note = decode_slack_text(text.split(None, 2)[2]).strip() if len(text.split(None, 2)) == 3 else ""
    return ChangeTicket(number, "note", note) if has_visible_text(note) else UsageError(usage)


def _parse_list(words: list[str]) -> TicketCommand:
    """`list` words: mine, open, all, breaching, P0-P3, @person, customer:x, page N (any order)."""
    options: dict[str, object] = {}
    page, page_given = 1, False
    rest = iter(words)
    for word in rest:
        lowered = word.lower()
        owner = _MENTION.fullmatch(word)
        if lowered in {"mine", "breaching"}:
            options[lowered] = True
        elif lowered in {"open", "all"}:
            options["open_only"] = lowered == "open"
        elif re.fullmatch(r"p[0-3]", lowered):
            if options.get("priority") not in (None, lowered.upper()):
                return UsageError(
                    f"one priority at a time (got {options['priority']} and {lowered.upper()}). {_LIST_USAGE}"
                )
            options["priority"] = lowered.upper()
        elif owner:
            options["owner"] = owner.group(1)
        elif lowered.startswith("customer:") and len(lowered) > len("customer:"):
            options["customer"] = lowered.removeprefix("customer:")
        elif lowered == "page":
            if page_given:
                return UsageError(f"`page` once only. {_LIST_USAGE}")
            page_given = True
            number = next(rest, "")
            if not (number.isascii() and number.isdigit() and 1 <= int(number) <= 10_000):
                return UsageError(f"page needs a number from 1 to 10000, e.g. `/ticket list page 2`. {_LIST_USAGE}")
            page = int(number)
        else:
            return UsageError(
                f"'{word}' is not a list filter (a ticket that starts with “list” needs other words). {_LIST_USAGE}"
            )
    return ListTickets(ListFilter(**options), page)  # type: ignore[arg-type]


def _meant_a_ref(word: str) -> bool:
    """After `escalate`/`link`: a reference, or something that tried to be one (`T-`, `T-x`,
    `BUG-1` where a ticket belongs), so the person gets the usage instead of a ticket named so."""
    return _looks_like_ref(word) or re.fullmatch(r"(?:[Tt]-\S*|(?i:bug)-?[0-9]\S*)", word) is not None


def _looks_like_ref(word: str) -> bool:
    """T-42, T42 or 42, valid or not: after a verb it means the person meant the command."""
    return re.fullmatch(r"(?:[Tt]-?)?[0-9]+", word) is not None


def _is_ref(word: str) -> bool:
    try:
        parse_ticket_ref(word)
    except BadReferenceError:
        return False
    return True


@dataclass
class _Hints:
    customer: str | None = None
    users: str | None = None
    priority: str | None = None
    owner: str | None = None
    conflicts: list[str] = field(default_factory=list)  # "two priorities (P1 and P2)"

    def take(self, token: str) -> None:
        keyed = _KEYED_ANYWHERE.fullmatch(token)
        if keyed:
            self.keyed(keyed.group(1), keyed.group(2))
        elif re.fullmatch(_PRIORITY, token):
            self._set("priority", token.strip("[]:").upper(), "priorities")
        elif owner := _MENTION.fullmatch(token):
            self._set("owner", owner.group(1), "owners")

    def keyed(self, key: str, value: str) -> None:
        value = value.rstrip(",.;")
        if key.lower() == "customer":
            self._set("customer", value, "customers")
        else:
            self._set("users", value, "affected-user counts")

    def _set(self, name: str, value: str, plural: str) -> None:
        """Keep the first value of a hint; a different second value is a conflict, not a silent drop."""
        current = getattr(self, name)
        if current is None:
            setattr(self, name, value)
        elif current.casefold() != value.casefold():
            shown = (f"<@{current}>", f"<@{value}>") if name == "owner" else (current, value)
            self.conflicts.append(f"two {plural} given ({shown[0]} and {shown[1]}): give one")


def _split_hints(text: str) -> tuple[str, _Hints]:
    hints = _Hints()
    for pattern in (_LEADING, _TRAILING):
        match = pattern.search(text)
        if match:
            for token in match.group(1).split():
                hints.take(token)
            text = text[: match.start(1)] + text[match.end(1) :] if match.group(1).split() else text
    for match in _KEYED_ANYWHERE.finditer(text):
        hints.keyed(match.group(1), match.group(2))
    return _KEYED_ANYWHERE.sub("", text), hints


def _parse_create(text: str) -> TicketCommand:
    if re.fullmatch(rf"\s*(?:{_EDGE_HINT}\s*)+", text):
        return UsageError("the ticket needs a description, e.g. `/ticket Checkout fails for acme customer:acme P1`")
    remaining, hints = _split_hints(text)
    if hints.conflicts:
        return UsageError(hints.conflicts[0])
    affected_users: int | None = None
    if hints.users is not None:
        if not re.fullmatch(r"[0-9]{1,9}", hints.users) or int(hints.users) > MAX_AFFECTED_USERS:
            most = f"{MAX_AFFECTED_USERS:,}"
            return UsageError(f"users:{hints.users} is not a number of affected users (e.g. users:250, at most {most})")
        affected_users = int(hints.users)
    description = _tidy(decode_slack_text(remaining))
    if not has_visible_text(description):
        return UsageError("the ticket needs a description, e.g. `/ticket Checkout fails for acme customer:acme P1`")
    return CreateTicket(
        title=_title(description),
        description=description,
        customer=hints.customer.lower() if hints.customer else None,
        priority=hints.priority,
        affected_users=affected_users,
        owner_id=hints.owner,
    )


def _tidy(text: str) -> str:
    """Drop the gaps that removing hints leaves on a line; pasted indentation elsewhere is kept."""
    return re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", text).strip()


def _title(description: str) -> str:
    first_line = next((line.strip() for line in description.splitlines() if line.strip()), "")
    return first_line if len(first_line) <= TITLE_MAX else first_line[: TITLE_MAX - 1].rstrip() + "…"
