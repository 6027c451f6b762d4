"""Bugs filed from support (seed 004's support-to-bug pipeline): what a bug report must say, the
priority a severity starts at, who may resolve one, and seed 001's 10x rule. Pure: no Slack, no
database; time is passed in.

Severity → priority (the bug's starting priority; the 10x rule may raise it later):

    critical → P0   (an outage or data loss: everyone, now)
    major    → P1   (a core flow broken, no workaround)
    minor    → P2   (broken with a workaround, or a small audience)
    trivial  → P3   (cosmetic)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.permissions import PermissionDeniedError, Role

__all__ = [
    "FIELD_MAX",
    "REQUIRED_FIELDS",
    "SEVERITIES",
    "SEVERITY_PRIORITY",
    "TEN_X_THRESHOLD",
    "TEN_X_WINDOW",
    "BugReport",
    "TenXVerdict",
    "bug_form_errors",
    "check_may_resolve",
    "links_in_window",
    "priority_for_severity",
    "raised_priority",
    "ten_x",
]

SEVERITY_PRIORITY: dict[str, str] = {"critical": "P0", "major": "P1", "minor": "P2", "trivial": "P3"}
SEVERITIES = tuple(SEVERITY_PRIORITY)

# The longest each field of the bug form may be (characters). Slack's plain_text_input allows 3000;
# `area` is also a database column of 128.
FIELD_MAX: dict[str, int] = {
    "title": 200,
    "severity": 16,
    "impact": 1000,
    "area": 100,
    "steps": 3000,
    "expected": 1500,
    "actual": 1500,
    "environment": 500,
}
REQUIRED_FIELDS = ("title", "severity", "impact", "area", "steps", "expected", "actual")
_LABELS = {
    "title": "A title",
    "severity": "A severity",
    "impact": "The impact (who is affected, how badly)",
    "area": "The product area",
    "steps": "Steps to reproduce",
    "expected": "What was expected",
    "actual": "What happened instead",
}

# Seed 001: "Every bug that generates >10 tickets/month should be escalated to engineering as a P1 fix."
TEN_X_THRESHOLD = 10  # more than this many linked tickets …
TEN_X_WINDOW = timedelta(days=30)  # … within this window trips the rule
TEN_X_PRIORITY = "P1"

_PRIORITY_ORDER = ("P0", "P1", "P2", "P3")  # most urgent first


@dataclass(frozen=True)
class BugReport:
    """A bug as the form describes it, already checked by `bug_form_errors`."""

    title: str
    severity: str
    impact: str
    area: str
    steps: str
    expected: str
    actual: str
    environment: str = ""

    @property
    def priority(self) -> str:
        return priority_for_severity(self.severity)


def priority_for_severity(severity: str) -> str:
    try:
        return SEVERITY_PRIORITY[severity]
    except KeyError:
        raise ValueError(f"unknown severity {severity!r} (one of {', '.join(SEVERITIES)})") from None


def bug_form_errors(values: dict[str, str]) -> dict[str, str]:
    """Problems with a bug form's values, by field name ({} when it may be filed). Values are the text
    as typed; a field missing from `values` counts as empty."""
    errors: dict[str, str] = {}
    for name, limit in FIELD_MAX.items():
        value = (values.get(name) or "").strip()
        if not value and name in REQUIRED_FIELDS:
            errors[name] = f"{_LABELS[name]} is required."
        elif len(value) > limit:
            errors[name] = f"At most {limit:,} characters (this has {len(value):,})."
    severity = (values.get("severity") or "").strip()
    if severity and "severity" not in errors and severity not in SEVERITY_PRIORITY:
        errors["severity"] = f"Choose one of {', '.join(SEVERITIES)}."
    return errors


def check_may_resolve(roles: Collection[Role], *, what: str, who_may: Collection[str]) -> None:
    """Resolving a bug (and telling its requesters) is engineering's call: L3, leads and admins."""
    if {Role.L3, Role.LEAD, Role.ADMIN} & set(roles):
        return
    names = ", ".join(f"<@{user}>" for user in who_may) or "nobody is configured (roles in frontline.yaml)"
    raise PermissionDeniedError(f"Only L3, leads or admins may {what}. They are: {names}.")


def links_in_window(linked_at: Iterable[datetime], *, now: datetime, window: timedelta = TEN_X_WINDOW) -> int:
    """How many links were made in the `window` up to `now` (a link exactly `window` old still counts)."""
    since = now - window
    return sum(1 for at in linked_at if since <= at <= now)


def raised_priority(current: str, floor: str = TEN_X_PRIORITY) -> str:
    """`current`, or `floor` when that is more urgent (P0 stays P0)."""
    if current not in _PRIORITY_ORDER:
        return floor
    return current if _PRIORITY_ORDER.index(current) <= _PRIORITY_ORDER.index(floor) else floor


@dataclass(frozen=True)
class TenXVerdict:
    tripped: bool
    recent_links: int
    priority: str  # the priority the bug should have (unchanged when not tripped)


def ten_x(
    linked_at: Iterable[datetime],
    *,
    priority: str,
    now: datetime,
    threshold: int = TEN_X_THRESHOLD,
    window: timedelta = TEN_X_WINDOW,
) -> TenXVerdict:
    """Seed 001's 10x rule: more than `threshold` tickets linked within `window` → at least P1."""
    recent = links_in_window(linked_at, now=now, window=window)
    tripped = recent > threshold
    return TenXVerdict(tripped, recent, raised_priority(priority) if tripped else priority)
