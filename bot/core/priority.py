"""Auto-priority (seed 001 "Auto-Priority Rules"): the highest priority any rule triggers wins,
and every decision carries the reasons a person reads on the card ("P0: keyword 'outage'; tier enterprise").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["PRIORITIES", "PriorityDecision", "PriorityRules", "decide_priority", "find_keywords"]

PRIORITIES = ("P0", "P1", "P2", "P3")


@dataclass(frozen=True)
class PriorityRules:
    """Triggers per priority; anything that triggers nothing gets `default`."""

    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tiers: Mapping[str, str] = field(default_factory=dict)  # customer tier → priority
    affected_users_threshold: int | None = 100  # more than this many affected users → P0
    revenue_impact: str | None = "P1"
    categories: Mapping[str, str] = field(default_factory=dict)  # category → priority
    default: str = "P2"


@dataclass(frozen=True)
class PriorityDecision:
    priority: str
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return f"{self.priority}: {'; '.join(self.reasons)}"


@lru_cache(maxsize=512)
def _keyword_pattern(phrase: str) -> re.Pattern[str]:
    # Word boundaries on both sides ("download" is not "down"); any run of spaces between words;
    # a straight or curly apostrophe matches either.
    words = [re.escape(word).replace("'", "['’]") for word in phrase.lower().split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def find_keywords(text: str, phrases: tuple[str, ...]) -> list[str]:
    """The phrases that occur in `text` as whole words, in the order given."""
    lowered = text.lower()
    return [phrase for phrase in phrases if _keyword_pattern(phrase).search(lowered)]


def decide_priority(
    text: str,
    rules: PriorityRules,
    *,
    tier: str | None = None,
    affected_users: int | None = None,
    revenue_impact: bool = False,
    category: str | None = None,
) -> PriorityDecision:
    """Every trigger that fires, grouped by priority; the most urgent group wins."""
    fired: dict[str, list[str]] = {}
    for priority, phrases in rules.keywords.items():
        for phrase in find_keywords(text, phrases):
            fired.setdefault(priority, []).append(f"keyword '{phrase}'")
    if tier and tier in rules.tiers:
        fired.setdefault(rules.tiers[tier], []).append(f"tier {tier}")
    threshold = rules.affected_users_threshold
    if threshold is not None and affected_users is not None and affected_users > threshold:
        fired.setdefault("P0", []).append(f"{affected_users} users affected (> {threshold})")
    if revenue_impact and rules.revenue_impact:
        fired.setdefault(rules.revenue_impact, []).append("revenue impact")
    if category and category in rules.categories:
        fired.setdefault(rules.categories[category], []).append(f"category {category}")
    for priority in PRIORITIES:
        if priority in fired:
            return PriorityDecision(priority, tuple(fired[priority]))
    return PriorityDecision(rules.default, ("default (no rule matched)",))
