"""Human references for records: `T-42` for tickets, `BUG-7` for bugs (later `INC-3`)."""

from __future__ import annotations

import re

__all__ = ["BadReferenceError", "format_ticket_ref", "is_bug_ref", "parse_bug_ref", "parse_id", "parse_ticket_ref"]

_TICKET_REF = re.compile(r"^(?:T-?)?(\d{1,9})$", re.IGNORECASE)
_BUG_REF = re.compile(r"^BUG-?(\d{1,9})$", re.IGNORECASE)


class BadReferenceError(ValueError):
    """Text that should name a record does not."""


def format_ticket_ref(number: int) -> str:
    return f"T-{number}"


def parse_ticket_ref(text: str) -> int:
    """`T-42`, `t-42`, `T42` or `42` → 42."""
    match = _TICKET_REF.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise BadReferenceError(f"'{text.strip()}' is not a ticket reference (use T-42 or 42)")
    return int(match.group(1))


def is_bug_ref(text: str) -> bool:
    """Shaped like a bug reference (BUG-7, bug7), valid or not."""
    return re.fullmatch(r"BUG-?[0-9]*", text.strip(), re.IGNORECASE) is not None


def parse_bug_ref(text: str) -> int:
    """`BUG-7`, `bug-7` or `BUG7` → 7."""
    match = _BUG_REF.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise BadReferenceError(f"'{text.strip()}' is not a bug reference (use BUG-7)")
    return int(match.group(1))


def parse_id(text: object) -> int | None:
    """A positive id of up to nine ASCII digits, as Frontline writes into button values and form
    metadata; None for anything else ("0", "²", "٣", "1e3", a forged 30-digit value)."""
    if not isinstance(text, str) or not re.fullmatch(r"[1-9][0-9]{0,8}", text):
        return None
    return int(text)
