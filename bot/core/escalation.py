"""Escalation rules (seed 001 Phase 5), pure: the handoff form's contents and checks, and the
escalation decision matrix as data.

The matrix answers "which triggers does this ticket meet?" from plain facts; the service decides
what each match does (escalate, suggest, notify) and records it once per ticket and trigger.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from bot.config import EscalationMatrix, MatrixRule
from bot.core.priority import find_keywords
from bot.core.tiers import ESCALATION_TIERS, Tier, parse_tier

__all__ = [
    "ATTEMPT_ROWS",
    "FIELD_MAX",
    "Attempt",
    "Handoff",
    "MatrixMatch",
    "TicketFacts",
    "handoff_errors",
    "match_matrix",
    "read_handoff",
    "same_issue",
    "stuck_match",
]

ATTEMPT_ROWS = 3  # "what was tried + result" pairs on the form
FIELD_MAX = 2000  # characters per free-text field of the handoff


@dataclass(frozen=True)
class Attempt:
    action: str
    result: str = ""


@dataclass(frozen=True)
class Handoff:
    """Seed 001 "Escalation Handoff Template": what the next tier must not have to ask for."""

    what_tried: tuple[Attempt, ...] = ()
    what_needed: str = ""
    customer_expectation: str = ""
    urgency_reason: str = ""
    needed_by: date | None = None
    summary: str = ""
    sentiment: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "what_tried": [{"action": a.action, "result": a.result} for a in self.what_tried],
            "what_needed": self.what_needed,
            "customer_expectation": self.customer_expectation,
            "urgency_reason": self.urgency_reason,
            "needed_by": self.needed_by.isoformat() if self.needed_by else None,
            "summary": self.summary,
            "sentiment": self.sentiment,
        }


def handoff_errors(values: dict[str, str], *, today: date) -> dict[str, str]:
    """The handoff form's problems, keyed by the input block each belongs under (field case F7)."""
    errors: dict[str, str] = {}
    tier = parse_tier(values.get("tier", ""))
    if tier not in ESCALATION_TIERS:
        errors["tier"] = "Choose the tier to escalate to: L2, L3 or management."
    if not any(values.get(f"tried_{row}", "").strip() for row in range(1, ATTEMPT_ROWS + 1)):
        errors["tried_1"] = "Say what was tried, so the next tier does not have to ask."
    for row in range(1, ATTEMPT_ROWS + 1):
        if values.get(f"result_{row}", "").strip() and not values.get(f"tried_{row}", "").strip():
            errors[f"tried_{row}"] = "A result needs the attempt it belongs to."
    if not values.get("needed", "").strip():
        errors["needed"] = "Say what is needed from the next tier."
    for block_id, value in values.items():
        if len(value) > FIELD_MAX and block_id not in errors:
            errors[block_id] = f"At most {FIELD_MAX:,} characters (this has {len(value):,})."
    needed_by = values.get("needed_by", "")
    if needed_by:
        try:
            when = date.fromisoformat(needed_by)
        except ValueError:
            errors["needed_by"] = "Pick a date from the calendar."
        else:
            if when < today:
                errors["needed_by"] = f"That date is in the past (today is {today.isoformat()})."
    return errors


def read_handoff(values: dict[str, str]) -> Handoff:
    """The form's values as a handoff; call `handoff_errors` first."""
    attempts = tuple(
        Attempt(values[f"tried_{row}"].strip(), values.get(f"result_{row}", "").strip())
        for row in range(1, ATTEMPT_ROWS + 1)
        if values.get(f"tried_{row}", "").strip()
    )
    needed_by = values.get("needed_by")
    return Handoff(
        what_tried=attempts,
        what_needed=values.get("needed", "").strip(),
        customer_expectation=values.get("expectation", "").strip(),
        urgency_reason=values.get("urgency", "").strip(),
        needed_by=date.fromisoformat(needed_by) if needed_by else None,
        summary=values.get("summary", "").strip(),
        sentiment=values.get("sentiment", "").strip(),
    )


# --------------------------------------------------------------------------------------------
# The decision matrix
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFacts:
    """What the matrix looks at. `text` is what just arrived (the request, or a customer reply)."""

    text: str
    priority: str
    arr: float = 0.0
    customer: str | None = None
    from_social_channel: bool = False
    same_issue_count: int = 1  # tickets from this requester about this issue in the repeat window, this one included


@dataclass(frozen=True)
class MatrixMatch:
    trigger: str  # p0 | churn | legal | repeat | stuck | manager | social
    action: str  # escalate | suggest | notify
    tier: Tier
    notify: tuple[str, ...]
    within: timedelta
    reason: str
    suggest_bug: bool = False


@dataclass(frozen=True)
class _Found:
    trigger: str
    reason: str
    extra: dict[str, bool] = field(default_factory=dict)


def match_matrix(matrix: EscalationMatrix, facts: TicketFacts, *, skip: Iterable[str] = ()) -> list[MatrixMatch]:
    """Every trigger `facts` meet, in the matrix's order, except those in `skip` (already recorded)
    and those switched off. `stuck` is time-based: the sweep asks for it with `stuck_match`."""
    done = set(skip)
    found = [f for f in _found(matrix, facts) if f.trigger not in done]
    matches = []
    for item in found:
        rule: MatrixRule = getattr(matrix, item.trigger)
        if rule.action == "off":
            continue
        matches.append(
            MatrixMatch(
                trigger=item.trigger,
                action=rule.action,
                tier=Tier(rule.tier),
                notify=tuple(rule.notify),
                within=rule.within,
                reason=item.reason,
                suggest_bug=item.extra.get("suggest_bug", False),
            )
        )
    return matches


def stuck_match(matrix: EscalationMatrix, *, owner: str, waited: str) -> MatrixMatch | None:
    rule = matrix.stuck
    if rule.action == "off":
        return None
    reason = f"stuck: <@{owner}> has had it OPEN for {waited}; a peer at {rule.tier} could help"
    return MatrixMatch("stuck", rule.action, Tier(rule.tier), tuple(rule.notify), rule.within, reason)


def _found(matrix: EscalationMatrix, facts: TicketFacts) -> Iterable[_Found]:
    if facts.priority == "P0":
        yield _Found("p0", "P0 ticket")
    churn = matrix.churn
    if facts.arr > churn.arr_over:  # only then is a churn phrase worth reading for
        churn_words = find_keywords(facts.text, churn.keywords, shadows=_denials(churn.keywords))
        if churn_words:
            yield _Found("churn", f"churn threat ('{churn_words[0]}') from {facts.customer} with ARR ${facts.arr:,.0f}")
    # One reading of the text for the three phrase rows (a reading costs more than a lookup).
    rows = (matrix.legal.keywords, matrix.manager.keywords, matrix.social.keywords)
    live = set(find_keywords(facts.text, tuple(phrase for row in rows for phrase in row), shadows=()))
    legal, manager, social = ([phrase for phrase in row if phrase in live] for row in rows)
    if legal:
        yield _Found("legal", f"legal or compliance ('{legal[0]}')")
    if facts.same_issue_count >= matrix.repeat.times:
        bug = "; three reports of one issue are one bug: file it" if matrix.repeat.suggest_bug else ""
        yield _Found(
            "repeat",
            f"same requester, same issue {facts.same_issue_count} times{bug}",
            {"suggest_bug": matrix.repeat.suggest_bug},
        )
    if manager:
        yield _Found("manager", f"the requester asked for a manager ('{manager[0]}'): a lead takes it")
    if social or facts.from_social_channel:
        cue = f"'{social[0]}'" if social else "posted in the social channel"
        yield _Found("social", f"public social-media post ({cue})")


# Ways of saying one will *not* do a churn phrase's thing ("we won't cancel our subscription"). The
# taxonomy's negation deliberately skips "won't" (a failure report: "it won't load"); a churn
# phrase is an intention, where "won't" does deny it.
_DENIALS = ("won't", "will not", "wouldn't", "would not", "not going to", "don't want to", "do not want to",
            "no plans to", "not planning to", "never")  # fmt: skip


@lru_cache(maxsize=16)
def _denials(phrases: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{denial} {phrase}" for phrase in phrases for denial in _DENIALS)


# --------------------------------------------------------------------------------------------
# "Same issue": the repeat trigger's test
# --------------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    (
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "have",
        "has",
        "had",
        "was",
        "were",
        "are",
        "our",
        "your",
        "you",
        "they",
        "them",
        "their",
        "its",
        "it's",
        "not",
        "but",
        "can",
        "cannot",
        "can't",
        "could",
        "would",
        "should",
        "will",
        "just",
        "again",
        "still",
        "also",
        "any",
        "all",
        "some",
        "when",
        "what",
        "why",
        "how",
        "there",
        "here",
        "then",
        "than",
        "into",
        "onto",
        "out",
        "off",
        "over",
        "under",
        "about",
        "after",
        "before",
        "since",
        "today",
        "yesterday",
        "now",
        "please",
        "thanks",
        "thank",
        "hello",
        "team",
        "issue",
        "problem",
        "help",
        "need",
        "needs",
        "doesn't",
        "does",
        "did",
        "don't",
        "isn't",
        "get",
        "got",
        "getting",
        "same",
        "another",
        "one",
        "two",
        "three",
        "time",
        "times",
    )
)
SAME_ISSUE_SIMILARITY = 0.3


def _content_words(text: str) -> frozenset[str]:
    words = (_stem(word) for word in _WORD.findall(text.lower()) if len(word) > 2 and word not in _STOP)
    return frozenset(words)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


SAME_ISSUE_MIN_SHARED = 2  # "Invoice is wrong" and "Invoice is late" share a word, not an issue


def same_issue(text: str, others: Sequence[str], *, threshold: float = SAME_ISSUE_SIMILARITY) -> int:
    """How many of `others` are about the same issue as `text`: at least two content words shared,
    and their content words overlapping by at least `threshold` (Jaccard). Word overlap, not
    meaning; enough for one requester writing about one problem again, in their own words."""
    mine = _content_words(text)
    if not mine:
        return 0
    count = 0
    for other in others:
        theirs = _content_words(other)
        shared = len(mine & theirs)
        if shared >= SAME_ISSUE_MIN_SHARED and shared / len(mine | theirs) >= threshold:
            count += 1
    return count
