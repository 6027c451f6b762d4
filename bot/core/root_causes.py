"""Why tickets happen and how they end (seed 001's taxonomy: `root_cause` and `resolution_type`).

An agent records them when solving (`/ticket solve T-42 documentation_gap agent_resolved`) or later
(`/ticket cause T-42 product_bug`); the weekly voice of the customer counts the root causes, each
with the action seed 001's root-cause analysis pairs it with. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.text import truncate

__all__ = ["RESOLUTION_TYPES", "ROOT_CAUSES", "Classification", "ClassificationError", "parse_classification"]

# name -> (label, what to do about a pile of them), from seed 001's monthly root-cause analysis
ROOT_CAUSES: dict[str, tuple[str, str]] = {
    "user_error": ("User error", "in-app guidance, onboarding improvement"),
    "documentation_gap": ("Documentation gap", "create or update KB articles"),
    "product_bug": ("Product bug", "file engineering tickets, prioritise by volume"),
    "missing_feature": ("Missing feature", "aggregate for product roadmap input"),
    "third_party_issue": ("Third-party/integration issue", "partner communication, status page"),
    "billing_system": ("Billing/account", "process automation, self-service billing"),
}
RESOLUTION_TYPES = (
    "self_service_redirect",
    "agent_resolved",
    "engineering_fix",
    "product_change",
    "refund_credit",
    "no_action_needed",
)


class ClassificationError(ValueError):
    """Words that are not a root cause and resolution type; the message lists the valid ones."""


@dataclass(frozen=True)
class Classification:
    root_cause: str
    resolution_type: str | None = None


def _name(word: str) -> str:
    # "Documentation-Gap", "documentation_gap" and "documentation gap" typed as one word are one name
    return word.strip().lower().replace("-", "_")


def parse_classification(words: list[str]) -> Classification:
    """`<root cause> [<resolution type>]`, spelt with - or _, in any case."""
    if not words:
        raise ClassificationError(f"give a root cause and, optionally, a resolution type. {_choices()}")
    if len(words) > 2:
        extra = " ".join(words[2:])
        raise ClassificationError(
            f"a root cause and a resolution type are all it takes; '{truncate(extra, 40)}' is more"
            f" (a note goes in `/ticket note`). {_choices()}"
        )
    cause = _name(words[0])
    if cause not in ROOT_CAUSES:
        raise ClassificationError(f"'{words[0]}' is not a root cause. {_choices()}")
    if len(words) == 1:
        return Classification(cause)
    resolution = _name(words[1])
    if resolution not in RESOLUTION_TYPES:
        raise ClassificationError(f"'{words[1]}' is not a resolution type. {_choices()}")
    return Classification(cause, resolution)


def _choices() -> str:
    return f"Root causes: {', '.join(ROOT_CAUSES)}. Resolution types: {', '.join(RESOLUTION_TYPES)}."
