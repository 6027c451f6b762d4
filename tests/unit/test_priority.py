from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import demo_config, parse_config
from bot.core.priority import PRIORITIES, PriorityRules, decide_priority, find_keywords
from bot.core.taxonomy import SENTIMENTS
from bot.services.policy import Policy
from tests.bench.priority_accuracy import Case, accuracy, default_rules, evaluate, load_cases

RULES = Policy.from_config(demo_config()).priority_rules
NO_BOOST = replace(RULES, sentiment_boost=False)
CASES = load_cases()


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


# "breaches? no: breachless" used to be here: plural endings now match ("breaches" is a breach),
# so only the whole-word part of that case stays.
@pytest.mark.parametrize("text", ["The download page is slow", "downtime report for Q3", "breachless", "errorless"])
def test_keywords_match_whole_words_only(text: str) -> None:
    assert decide_priority(text, RULES).priority == "P2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Getting errors on every save", "P1: keyword 'error'"),
        ("Our data was breached", "P0: keyword 'breach'"),
        ("Two outages this week", "P0: keyword 'outage'"),
        ("We have billing issues since the upgrade", "P1: keyword 'billing issue'"),
    ],
)
def test_keywords_match_with_word_endings(text: str, expected: str) -> None:
    assert decide_priority(text, NO_BOOST).reason == expected


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


# --- negation, resolution and tense ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The site is not down anymore",
        "not down any more, thanks",
        "The dashboard is no longer down",
        "Export isn't broken, just slow",
        "export isnt broken",
        "Checkout was down yesterday but fine now",
        "No error anymore",
        "We never had an outage",
        "the error doesn't show up anymore",
        "Site was down but it's back up now",
        "The export was broken but it's working again",
        "We had an outage last week, can you send the RCA?",
        "What happens if there's an outage?",
        "The down\u00adload page is slow",  # soft hyphen: still one word
        "The down\u200bload page is slow",  # zero-width space too
        "When I scroll down the page freezes",
        "We're about to breach the SLA on T-42",
        "It was a user error on our side",
        "Please rename the 'Broken' status",
        "details at https://status.example.com/down",
        "Outage resolved, thanks",
        "The outage is over",
        "the outage has ended, all good",
        "down-time report needed for the board",
    ],
)
def test_negated_resolved_past_and_non_reports_do_not_trigger(text: str) -> None:
    assert decide_priority(text, NO_BOOST).reason == "P2: default (no rule matched)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SSO not working for contractors", "P1: keyword 'not working'"),  # the negation is the keyword
        ("SSO is not working anymore since this morning", "P1: keyword 'not working'"),  # it stopped working
        ("SSO isn't working", "P1: keyword 'not working'"),
        ("the export doesn't work", "P1: keyword 'not working'"),
        ("Sync not working error 500", "P1: keyword 'not working'; keyword 'error'"),  # "not" is not error's
        ("I can’t login all day", "P0: keyword 'can't login all'"),  # curly apostrophe
        ("I can‘t login all day", "P0: keyword 'can't login all'"),  # the other curly one
        ("cant login all day", "P0: keyword 'can't login all'"),  # no apostrophe at all
        ("we cannot log in all morning", "P0: keyword 'can't login all'"),
        ("no one can log in", "P0: keyword 'can't login all'"),
        ("It's still down", "P0: keyword 'down'"),
        ("Checkout was down yesterday and still is", "P0: keyword 'down'"),
        ("Checkout was down yesterday and it is down again right now", "P0: keyword 'down'"),
        ("Site is down, has it been fixed?", "P0: keyword 'down'"),  # a question resolves nothing
        ("Is the outage resolved? Checkout still fails", "P0: keyword 'outage'"),
        ("The outage is not resolved", "P0: keyword 'outage'"),  # a negated resolution resolves nothing
        ("The login error is back", "P1: keyword 'error'"),  # back: it came back, not "back up"
        ("Site is down and hasn't been fixed", "P0: keyword 'down'"),  # a negated resolution neither
        ("Export is broken, please get it fixed", "P1: keyword 'broken'"),
        ("Not sure if it's related, but checkout is down", "P0: keyword 'down'"),  # clause ends at "but"
        ("No, the site is down", "P0: keyword 'down'"),  # the comma ends the negation's clause
        ("It's not down, it's broken", "P1: keyword 'broken'"),
        ("Our data-loss alarm fired", "P0: keyword 'data loss'"),
        ("teh dashbaord is brokn again", "P1: keyword 'broken'"),
    ],
)
def test_live_keywords_still_trigger(text: str, expected: str) -> None:
    assert decide_priority(text, NO_BOOST).reason == expected


# --- sentiment boost --------------------------------------------------------------------------------


def test_urgent_or_negative_wording_lifts_p2_to_p1_and_says_so() -> None:
    urgent = decide_priority("Can you resend the invoice asap?", RULES)
    assert urgent.reason == "P1: default (no rule matched); boost: urgent 'asap'"
    assert urgent.sentiment == "urgent"
    negative = decide_priority("I'm furious, the reports arrive empty", RULES)
    assert negative.reason == "P1: default (no rule matched); boost: negative 'furious'"
    shouting = decide_priority("WHY IS THE INVOICE PAGE BLANK AGAIN", RULES)
    assert shouting.reason == "P1: default (no rule matched); boost: negative 'ALL CAPS'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("URGENT: the site is down", "P0: keyword 'down'"),  # P0 stays P0
        ("Export broken, I'm furious", "P1: keyword 'broken'"),  # the boost never makes a P0
        ("Feature request: bulk export, we need it asap", "P3: keyword 'feature request'"),  # P3 stays
        ("Love the new editor, great job!", "P2: default (no rule matched)"),  # positive: no boost
        ("Not urgent: how do I rename a project?", "P2: default (no rule matched)"),  # negated urgency
    ],
)
def test_the_boost_only_ever_lifts_p2(text: str, expected: str) -> None:
    assert decide_priority(text, RULES).reason == expected


def test_the_boost_can_be_turned_off_in_config() -> None:
    config = parse_config({"auto_priority": {"sentiment_boost": False}}, source="test")
    rules = Policy.from_config(config).priority_rules
    assert rules.sentiment_boost is False
    decision = decide_priority("Can you resend the invoice asap?", rules)
    assert (decision.reason, decision.sentiment) == ("P2: default (no rule matched)", "urgent")


# --- category rule ----------------------------------------------------------------------------------


def test_a_detected_feature_request_counts_as_enhancement() -> None:
    decision = decide_priority("Would be great if the API supported bulk updates", RULES)
    assert decision.reason == "P3: category product/feature_request (enhancement)"
    assert (decision.category, decision.subcategory) == ("product", "feature_request")


def test_a_given_category_gets_its_subcategory_from_the_text() -> None:
    decision = decide_priority("Any plans to add a Zapier trigger?", RULES, category="product")
    assert decision.reason == "P3: category product/feature_request (enhancement)"
    # Given a category the text does not support, the category stays as given, with no sub-category.
    other = decide_priority("Any plans to add a Zapier trigger?", RULES, category="account")
    assert (other.reason, other.category, other.subcategory) == ("P2: default (no rule matched)", "account", None)


def test_one_piece_of_evidence_gives_one_reason() -> None:
    # "suggestion" is both a P3 keyword and the cue of feedback/suggestion (an enhancement).
    assert decide_priority("Suggestion: a darker sidebar", RULES).reason == "P3: keyword 'suggestion'"


def test_a_denied_feature_request_triggers_nothing() -> None:
    decision = decide_priority("This is not a feature request, just a question about seats", RULES)
    assert decision.priority == "P2"


# --- the labelled set -------------------------------------------------------------------------------


def test_the_labelled_set_is_big_and_well_formed() -> None:
    assert len(CASES) >= 80
    for case in CASES:
        assert case.priority in PRIORITIES and case.sentiment in SENTIMENTS, case


@pytest.mark.parametrize("case", [case for case in CASES if case.trap], ids=lambda case: f"line{case.line}")
def test_every_trap_is_decided_exactly(case: Case) -> None:
    (outcome,) = evaluate([case], RULES)
    assert (outcome.decision.priority, outcome.decision.sentiment) == (case.priority, case.sentiment), (
        case.trap,
        outcome.decision.reason,
    )


def test_priority_accuracy_on_the_labelled_set() -> None:
    assert accuracy(evaluate(CASES, default_rules()), "priority") >= 0.9


# --- properties -------------------------------------------------------------------------------------

_KEYWORDS = [phrase for group in RULES.keywords.values() for phrase in group]
_WORDS = st.sampled_from([*_KEYWORDS, "not", "no", "never", "was", "yesterday", "fixed now", "still", "asap", "the"])
_MESSAGES = st.lists(st.one_of(_WORDS, st.text(max_size=12)), max_size=12).map(" ".join)


@given(text=st.one_of(st.text(), _MESSAGES), tier=st.sampled_from([None, "free", "business", "enterprise"]))
def test_any_text_yields_a_valid_decision(text: str, tier: str | None) -> None:
    decision = decide_priority(text, RULES, tier=tier)
    assert decision.priority in PRIORITIES
    assert decision.reason.startswith(f"{decision.priority}: ") and decision.reasons
    assert decision.sentiment in SENTIMENTS
    if tier == "enterprise":
        assert decision.priority == "P0"


@given(text=st.one_of(st.text(), _MESSAGES))
def test_the_boost_moves_p2_to_p1_or_nothing(text: str) -> None:
    boosted, plain = decide_priority(text, RULES), decide_priority(text, NO_BOOST)
    if boosted != plain:
        assert (plain.priority, boosted.priority) == ("P2", "P1")
        assert boosted.reasons[:-1] == plain.reasons and boosted.reasons[-1].startswith("boost: ")


@given(text=_MESSAGES)
def test_curly_apostrophes_and_case_change_nothing(text: str) -> None:
    ascii_text = text.encode("ascii", "ignore").decode()
    expected = find_keywords(ascii_text, _KEYWORDS)
    assert find_keywords(ascii_text.replace("'", "’"), _KEYWORDS) == expected
    assert find_keywords(ascii_text.upper(), _KEYWORDS) == expected


@given(keyword=st.sampled_from([k for k in _KEYWORDS if not {"not", "no"} & set(k.split())]))
def test_a_denied_keyword_never_fires(keyword: str) -> None:
    assert keyword not in find_keywords(f"it is not {keyword}", _KEYWORDS)
    assert keyword not in find_keywords(f"we never had {keyword}", _KEYWORDS)
    assert keyword in find_keywords(f"it is {keyword}", _KEYWORDS)
