"""Stage timers (seed 001 "Stage Definitions"; SPEC §3): how long a ticket may sit in a stage before
the bot acts. Pure: the ticket's state and the limits in, what is due when out. Stage limits are
wall-clock time (a ticket waiting on its customer waits at weekends too), unlike SLA targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.lifecycle import Status

__all__ = [
    "NEW_UNASSIGNED",
    "PENDING_CLOSE",
    "PENDING_WARN",
    "SOLVED_CLOSE",
    "STUCK",
    "StageLimits",
    "stage_timers",
]

NEW_UNASSIGNED = "stage:new_unassigned"  # ping triage: nobody has picked it up
PENDING_WARN = "stage:pending_warn"  # tell the requester it closes soon without a reply
PENDING_CLOSE = "stage:pending_close"  # close it
SOLVED_CLOSE = "stage:solved_close"  # close it
STUCK = "stage:stuck"  # escalation matrix: owner stuck on an escalated-priority ticket -> suggest a peer


@dataclass(frozen=True)
class StageLimits:
    new_unassigned: timedelta
    pending_warn: timedelta
    pending_close_grace: timedelta
    solved_close: timedelta
    stuck_after: timedelta | None = None  # None: the matrix's `stuck` row is off
    stuck_priorities: tuple[str, ...] = ()


def stage_timers(
    *, status: str, owner_id: str | None, status_since: datetime, limits: StageLimits, priority: str = ""
) -> dict[str, datetime]:
    """The stage timers a ticket in `status` since `status_since` needs, and when each is due."""
    match status:
        case Status.OPEN if owner_id and limits.stuck_after and priority in limits.stuck_priorities:
            return {STUCK: status_since + limits.stuck_after}
        case Status.NEW if owner_id is None:
            return {NEW_UNASSIGNED: status_since + limits.new_unassigned}
        case Status.PENDING:
            warn_at = status_since + limits.pending_warn
            return {PENDING_WARN: warn_at, PENDING_CLOSE: warn_at + limits.pending_close_grace}
        case Status.SOLVED:
            return {SOLVED_CLOSE: status_since + limits.solved_close}
    return {}
