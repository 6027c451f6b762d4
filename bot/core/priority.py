"""Auto-priority (seed 001 "Auto-Priority Rules"): the highest priority any rule triggers wins,
and every decision carries the reasons a person reads on the card ("P0: keyword 'outage'; tier enterprise").

How a decision is made:

1. Every trigger in `_TRIGGERS` says which priority it asks for and why: keywords, customer tier,
   affected users (> threshold → P0), revenue impact, category.
2. The most urgent priority asked for wins and lists every reason that asked for it; with none,
   the default (P2) with "default (no rule matched)".
3. Sentiment boost (SPEC §3, `PriorityRules.sentiment_boost`): negative or urgent wording raises
   a P2 to P1 and says so ("P1: default (no rule matched); boost: urgent 'asap'"). It never
   creates a P0, which is kept for objective impact (outage, data loss, breach, enterprise tier,
   > 100 users), so an angry message does not page on-call; and it never lifts a P3, because an
   enhancement request stays one however emphatically it is asked for. P1 and P0 need no boost.

Keywords are matched by `bot.core.taxonomy.find_cues` (the rules are in that module's docstring):
whole words with -s/-ed/-ing endings ("errors", "breached"; never "download" or "downtime"),
curly or missing apostrophes, spelling variants ("cannot log in", "isn't working"); a keyword does
not trigger when negated in the few words before it ("isn't broken", "no longer down", "never had
an outage") or resolved later in its sentence ("was down yesterday but fine now", "the error
doesn't show anymore"). A negation word inside a keyword is no negation of it: "not working" and
"not working anymore" are failures. `NOT_A_REPORT` lists phrases that contain a keyword without
reporting it ("scroll down", "SLA breach", "user error"); the longer phrase wins.

Category: the rule looks the ticket's category up by every name it has (`category_names`:
"product/feature_request", "feature_request", "enhancement", "product"), so the seed's
"category: enhancement" catches a feature request or a product suggestion. With no category
given, it is detected from the text; with one given, only its sub-category is. A category whose
deciding cue is already a keyword of the same priority adds no second reason, and a category known
only from a denied cue ("not a feature request") triggers nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from bot.core.taxonomy import CATEGORY_CUES, category_names, detect_sentiment, live_phrases, match_category

__all__ = [
    "BOOSTING_SENTIMENTS",
    "NOT_A_REPORT",
    "PRIORITIES",
    "PriorityDecision",
    "PriorityRules",
    "decide_priority",
    "find_keywords",
]

PRIORITIES = ("P0", "P1", "P2", "P3")

# Phrases that contain a default keyword without reporting it; the longer phrase wins the match.
NOT_A_REPORT: tuple[str, ...] = (
    "scroll down", "scrolling down", "scrolled down", "drop down", "slow down", "slowing down", "slows down",
    "slowed down", "narrow down", "write down", "break down", "breaking down", "count down", "let down",
    "calm down", "track down", "turned down", "upside down", "top down", "down arrow",
    "down payment", "down the road", "down the line", "scale down", "scaling down", "scaled down",
    "cut down", "step down", "stepping down", "down-time", "down time",
    "trial and error", "human error", "user error", "error free", "margin of error",
    "broken link", "broken image",
    "sla breach", "breach the sla", "breaching the sla", "breached the sla", "breach our sla",
    "breach of contract",
)  # fmt: skip

BOOSTING_SENTIMENTS = frozenset({"negative", "urgent"})
_BOOST_STEPS: Mapping[str, str] = {"P2": "P1"}  # see the module docstring for why only this step


@dataclass(frozen=True)
class PriorityRules:
    """Triggers per priority; anything that triggers nothing gets `default`."""

    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tiers: Mapping[str, str] = field(default_factory=dict)  # customer tier → priority
    affected_users_threshold: int | None = 100  # more than this many affected users → P0
    revenue_impact: str | None = "P1"
    categories: Mapping[str, str] = field(default_factory=dict)  # category name → priority
    default: str = "P2"
    sentiment_boost: bool = True  # negative/urgent wording raises P2 to P1
    not_reports: tuple[str, ...] = NOT_A_REPORT


@dataclass(frozen=True)
class PriorityDecision:
    priority: str
    reasons: tuple[str, ...]
    # How auto-priority read the text (seed 001 taxonomy); None when it did not read it.
    sentiment: str | None = None
    category: str | None = None
    subcategory: str | None = None

    @property
    def reason(self) -> str:
        return f"{self.priority}: {'; '.join(self.reasons)}"


def find_keywords(text: str, phrases: Sequence[str], *, shadows: Sequence[str] = NOT_A_REPORT) -> list[str]:
    """The phrases that occur live in `text` (whole words, not negated, not resolved), in the order given."""
    live = set(live_phrases(text, phrases, shadows=shadows))
    return [phrase for phrase in phrases if phrase in live]


@dataclass(frozen=True)
class _Topic:
    category: str
    subcategory: str | None
    cue: str | None  # the phrase that decided the detected part; None when given without one

    @property
    def label(self) -> str:
        return f"{self.category}/{self.subcategory}" if self.subcategory else self.category


@dataclass(frozen=True)
class _Facts:
    text: str
    tier: str | None
    affected_users: int | None
    revenue_impact: bool
    topic: _Topic | None


Trigger = Callable[[_Facts, PriorityRules], Iterator[tuple[str, str]]]  # → (priority, reason)


def _keyword_triggers(facts: _Facts, rules: PriorityRules) -> Iterator[tuple[str, str]]:
    phrases = [phrase for group in rules.keywords.values() for phrase in group]
    live = set(live_phrases(facts.text, phrases, shadows=rules.not_reports))
    for priority, group in rules.keywords.items():
        for phrase in group:
            if phrase in live:
                yield priority, f"keyword '{phrase}'"


def _tier_trigger(facts: _Facts, rules: PriorityRules) -> Iterator[tuple[str, str]]:
    if facts.tier and facts.tier in rules.tiers:
        yield rules.tiers[facts.tier], f"tier {facts.tier}"


def _affected_users_trigger(facts: _Facts, rules: PriorityRules) -> Iterator[tuple[str, str]]:
    threshold, users = rules.affected_users_threshold, facts.affected_users
    if threshold is not None and users is not None and users > threshold:
        yield "P0", f"{users} users affected (> {threshold})"


def _revenue_trigger(facts: _Facts, rules: PriorityRules) -> Iterator[tuple[str, str]]:
    if facts.revenue_impact and rules.revenue_impact:
        yield rules.revenue_impact, "revenue impact"


def _category_trigger(facts: _Facts, rules: PriorityRules) -> Iterator[tuple[str, str]]:
    topic = facts.topic
    if topic is None:
        return
    name = next((name for name in category_names(topic.category, topic.subcategory) if name in rules.categories), None)
    if name is None:
        return
    priority = rules.categories[name]
    if topic.cue is not None and topic.cue in rules.keywords.get(priority, ()):
        return  # the same words already fired as that priority's keyword: one piece of evidence, one reason
    shown = topic.label if name in (topic.label, topic.subcategory) else f"{topic.label} ({name})"
    yield priority, f"category {shown}"


_TRIGGERS: tuple[Trigger, ...] = (
    _keyword_triggers,
    _tier_trigger,
    _affected_users_trigger,
    _revenue_trigger,
    _category_trigger,
)


def _topic(text: str, category: str | None) -> tuple[_Topic | None, bool]:
    """The given category (with the sub-category the text shows, if any), or one detected from the
    text; and whether it rests only on a denied cue ("not a feature request"), which triggers nothing."""
    table = CATEGORY_CUES if category is None else [row for row in CATEGORY_CUES if row.category == category]
    match = match_category(text, table) if table else None
    if match is None:
        return (_Topic(category, None, None) if category else None), False
    return _Topic(category or match.category, match.subcategory, match.cue), match.denied


def _most_urgent(fired: Mapping[str, list[str]], default: str) -> PriorityDecision:
    for priority in PRIORITIES:
        if priority in fired:
            return PriorityDecision(priority, tuple(fired[priority]))
    return PriorityDecision(default, ("default (no rule matched)",))


def _boost(decision: PriorityDecision, sentiment: str, cue: str | None) -> PriorityDecision:
    raised = _BOOST_STEPS.get(decision.priority)
    if raised is None or sentiment not in BOOSTING_SENTIMENTS:
        return decision
    return PriorityDecision(raised, (*decision.reasons, f"boost: {sentiment} '{cue}'"))


def decide_priority(
    text: str,
    rules: PriorityRules,
    *,
    tier: str | None = None,
    affected_users: int | None = None,
    revenue_impact: bool = False,
    category: str | None = None,
) -> PriorityDecision:
    """Every trigger that fires, grouped by priority; the most urgent group wins; then the sentiment boost."""
    topic, denied = _topic(text, category)
    facts = _Facts(text, tier, affected_users, revenue_impact, None if denied else topic)
    fired: dict[str, list[str]] = {}
    for trigger in _TRIGGERS:
        for priority, reason in trigger(facts, rules):
            fired.setdefault(priority, []).append(reason)
    decision = _most_urgent(fired, rules.default)
    sentiment, cue = detect_sentiment(text)
    if rules.sentiment_boost:
        decision = _boost(decision, sentiment, cue)
    return PriorityDecision(
        decision.priority,
        decision.reasons,
        sentiment=sentiment,
        category=topic.category if topic else None,
        subcategory=topic.subcategory if topic else None,
    )
