"""Support tiers (seed 001 Phase 5): L1 front line → L2 specialists → L3 engineering → management."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ESCALATION_TIERS", "Tier", "is_above", "next_tier", "parse_tier"]


class Tier(StrEnum):
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    MANAGEMENT = "management"


_ORDER = list(Tier)
ESCALATION_TIERS = (Tier.L2, Tier.L3, Tier.MANAGEMENT)  # where a ticket can be escalated to
_ALIASES = {
    "l2": Tier.L2,
    "l3": Tier.L3,
    "management": Tier.MANAGEMENT,
    "mgmt": Tier.MANAGEMENT,
}


def parse_tier(word: str) -> Tier | None:
    """`L2`, `l3`, `management` (or `mgmt`), with a trailing `:` or `,` → the tier; None for anything else."""
    return _ALIASES.get(word.strip().rstrip(":,;.").lower())


def next_tier(current: Tier) -> Tier | None:
    """The tier above `current`; None above management."""
    index = _ORDER.index(current)
    return _ORDER[index + 1] if index + 1 < len(_ORDER) else None


def is_above(tier: Tier, current: Tier) -> bool:
    return _ORDER.index(tier) > _ORDER.index(current)
