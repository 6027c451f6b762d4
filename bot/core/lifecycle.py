"""The ticket lifecycle (seed 001 Phase 3): which status may follow which.

NEW → OPEN → PENDING → SOLVED → CLOSED, with ESCALATED from OPEN/PENDING and back, and reopen
from SOLVED (CLOSED only within the configured reopen window, which the caller checks).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.durations import format_duration

__all__ = ["IllegalTransitionError", "Status", "check_reopen", "check_transition", "legal_targets"]


class Status(StrEnum):
    NEW = "NEW"
    OPEN = "OPEN"
    PENDING = "PENDING"
    ESCALATED = "ESCALATED"
    SOLVED = "SOLVED"
    CLOSED = "CLOSED"


_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ESCALATED, Status.SOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ESCALATED, Status.SOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ESCALATED, Status.SOLVED, Status.CLOSED}),
    Status.ESCALATED: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
}

_ORDER = list(Status)


class IllegalTransitionError(ValueError):
    """A status change the lifecycle does not allow; the message lists the legal ones."""


def legal_targets(current: Status) -> list[Status]:
    return sorted(_TRANSITIONS[current], key=_ORDER.index)


def check_transition(current: Status, target: Status) -> None:
    if target == current:
        raise IllegalTransitionError(f"the ticket is already {current}")
    if target not in _TRANSITIONS[current]:
        legal = ", ".join(legal_targets(current))
        raise IllegalTransitionError(f"cannot go from {current} to {target}; from {current} it can go to {legal}")


def check_reopen(closed_at: datetime | None, *, now: datetime, window: timedelta) -> None:
    """A CLOSED ticket reopens only within the configured window (0 means never)."""
    if closed_at is None:
        return
    if window <= timedelta(0):
        raise IllegalTransitionError("closed tickets cannot be reopened here (lifecycle.reopen_window is 0m)")
    if now - closed_at > window:
        raise IllegalTransitionError(
            f"it was closed more than {format_duration(window)} ago (lifecycle.reopen_window); open a new ticket"
        )
