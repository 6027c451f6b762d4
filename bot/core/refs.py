"""Human references for records: `T-42` for tickets (later `BUG-7`, `INC-3`)."""

from __future__ import annotations

import re

__all__ = ["BadReferenceError", "format_ticket_ref", "parse_ticket_ref"]

_TICKET_REF = re.compile(r"^(?:T-?)?(\d{1,9})$", re.IGNORECASE)


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
