from __future__ import annotations

import pytest

from bot.config import demo_config
from bot.core.priority import PriorityRules, decide_priority, find_keywords
from bot.services.policy import Policy

RULES = Policy.from_config(demo_config()).priority_rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Checkout is down for everyone", "P0: keyword 'down'"),
        ("Total OUTAGE in EU", "P0: keyword 'outage'"),
        ("We had data loss overnight", "P0: keyword 'data loss'"),
        ("Users can’t login all morning", "P0: keyword 'can't login all'"),
        ("Export button is broken", "P1: keyword 'broken'"),
        ("SSO not   working for contractors", "P1: keyword 'not working'"),
        ("Feature request: dark mode", "P3: keyword 'feature request'"),
        ("How do I rename a project?", "P2: default (no rule matched)"),
    ],
)
def test_keywords_decide_priority_with_reason(text: str, expected: str) -> None:
    assert decide_priority(text, RULES).reason == expected


@pytest.mark.parametrize("text", ["The download page is slow", "downtime report for Q3", "breaches? no: breachless"])
def test_keywords_match_whole_words_only(text: str) -> None:
    assert decide_priority(text, RULES).priority == "P2"


def test_most_urgent_group_wins_and_lists_every_trigger_in_it() -> None:
    decision = decide_priority("outage: checkout down and broken", RULES, tier="enterprise")
    assert decision.priority == "P0"
    assert decision.reason == "P0: keyword 'outage'; keyword 'down'; tier enterprise"


def test_tier_affected_users_revenue_and_category_triggers() -> None:
    assert decide_priority("question", RULES, tier="business").reason == "P1: tier business"
    assert decide_priority("question", RULES, affected_users=250).reason == "P0: 250 users affected (> 100)"
    assert decide_priority("question", RULES, affected_users=100).priority == "P2"
    assert decide_priority("question", RULES, revenue_impact=True).reason == "P1: revenue impact"
    assert decide_priority("question", RULES, category="enhancement").reason == "P3: category enhancement"


def test_p1_beats_p3_when_both_fire() -> None:
    assert decide_priority("feature request: the export is broken", RULES).priority == "P1"


def test_custom_rules_and_default() -> None:
    rules = PriorityRules(keywords={"P1": ("refund",)}, default="P3")
    assert decide_priority("want a refund", rules).reason == "P1: keyword 'refund'"
    assert decide_priority("hello", rules).reason == "P3: default (no rule matched)"


def test_find_keywords_order_and_regex_safety() -> None:
    # Regex metacharacters in configured phrases are literal text, never patterns.
    assert find_keywords("is the [beta] down?", ("[beta]", "b.ta", "down")) == ["[beta]", "down"]
    assert find_keywords("error: down", ("down", "error")) == ["down", "error"]
