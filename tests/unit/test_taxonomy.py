from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.taxonomy import (
    CATEGORY_CUES,
    SENTIMENTS,
    category_names,
    detect_category,
    detect_sentiment,
    find_cues,
    live_phrases,
    match_category,
    normalize,
)

# --- cue matching -----------------------------------------------------------------------------------


def test_normalize_unifies_apostrophes_and_drops_invisibles_and_urls() -> None:
    assert normalize("Can’t down\u00adload: see https://x.io/down") == "can't download: see  "


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("it is down", "live"),
        ("it is not down", "negated"),
        ("never had it down", "negated"),
        ("if it goes down", "negated"),  # a hypothetical
        ("it was down yesterday", "past"),
        ("it was down yesterday and still is", "live"),
        ("it is down but back up now", "resolved"),
        ("it's down, hasn't been fixed", "live"),
        ("down, is it fixed now?", "live"),
        ("the 'down' label", "quoted"),
    ],
)
def test_each_occurrence_gets_a_status(text: str, status: str) -> None:
    (hit,) = find_cues(text, ["down"])
    assert hit.status == status


def test_the_longest_reading_wins_and_shadows_are_never_reported() -> None:
    assert live_phrases("the sync is not working", ["working", "not working"]) == ["not working"]
    assert find_cues("scroll down please", ["down"], shadows=["scroll down"]) == []


def test_a_negator_only_negates_within_its_clause_and_window() -> None:
    assert live_phrases("not sure why, but it is down", ["down"]) == ["down"]
    assert live_phrases("not that I know of the site being down", ["down"]) == ["down"]  # beyond 3 words
    assert live_phrases("no longer down", ["down"]) == []


def test_states_can_be_ignored_for_descriptive_cues() -> None:
    assert live_phrases("thanks so much, it works now", ["thanks so much"]) == []
    assert live_phrases("thanks so much, it works now", ["thanks so much"], states=False) == ["thanks so much"]


# --- sentiment --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Can you resend the invoice asap?", ("urgent", "asap")),
        ("Sorry to bother you, could you look at this as soon as possible?", ("urgent", "as soon as possible")),
        ("The API is down 🚨", ("urgent", "🚨")),
        ("I'm furious, nothing loads", ("negative", "furious")),
        ("Still waiting on my refund :(", ("negative", "still waiting")),
        ("I'm furious and we need it asap", ("urgent", "asap")),  # urgent beats negative
        ("EVERYTHING IS DOWN AGAIN TODAY", ("negative", "ALL CAPS")),
        ("API DOWN", ("neutral", None)),  # an acronym is not shouting
        ("Great job on the new editor 🎉", ("positive", "great job")),
        ("Thank you so much, it works now!", ("positive", "thank you so much")),
        ("It would be great if we could pin reports", ("neutral", None)),  # a wish, not praise
        ("It would be awesome if we could pin reports", ("neutral", None)),
        ("Not urgent, but the logo is blurry", ("neutral", None)),
        ("No rush. How do I rename a project? Thanks!", ("neutral", None)),
    ],
)
def test_detect_sentiment(text: str, expected: tuple[str, str | None]) -> None:
    assert detect_sentiment(text) == expected


# --- category ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Feature request: SSO with Okta", ("product", "feature_request")),  # intent before topic
        ("SSO login broken for contractors", ("technical", "sso")),  # specific before generic
        ("I can't log in to my account", ("account", "login")),
        ("Forgot my password and the reset link expired", ("account", "password")),
        ("We were double charged this month", ("account", "billing")),
        ("Please cancel our subscription", ("account", "subscription")),
        ("How do I give someone admin rights?", ("account", "permissions")),
        ("Webhook deliveries fail with 401", ("technical", "webhook")),
        ("The export to CSV drops the last column", ("technical", "data_export")),
        ("Migrating from Zendesk next month", ("onboarding", "migration")),
        ("Great job on the new editor", ("feedback", "compliment")),
        ("Dashboards are slow today", ("product", "performance")),
        ("The app crashes on start", ("product", "bug")),
        ("How do I rename a project?", ("product", "how_to")),
        ("not a bug: how do I rename a project?", ("product", "how_to")),  # live cues first
        ("Haven't received my invoice", ("account", "billing")),  # a denied topic is still the topic
        ("hello there", (None, None)),
    ],
)
def test_detect_category(text: str, expected: tuple[str | None, str | None]) -> None:
    assert detect_category(text) == expected


def test_match_category_says_which_cue_decided_and_whether_it_was_denied() -> None:
    match = match_category("Any plans to add dark mode?")
    assert match is not None and (match.label, match.cue, match.denied) == (
        "product/feature_request",
        "any plans to",
        False,
    )
    denied = match_category("this is not a bug")
    assert denied is not None and (denied.label, denied.denied) == ("product/bug", True)


def test_category_names_include_the_enhancement_alias() -> None:
    assert category_names("product", "feature_request") == (
        "product/feature_request",
        "feature_request",
        "enhancement",
        "product",
    )
    assert category_names("feedback", "suggestion")[2] == "enhancement"
    assert category_names("account", "login") == ("account/login", "login", "account")
    assert category_names("enhancement") == ("enhancement",)


def test_the_table_uses_seed_001_categories() -> None:
    assert {row.category for row in CATEGORY_CUES} == {"account", "product", "onboarding", "technical", "feedback"}


# --- properties -------------------------------------------------------------------------------------

_CATEGORIES = {(row.category, row.subcategory) for row in CATEGORY_CUES} | {(None, None)}


@given(st.text())
def test_any_text_is_read_without_error(text: str) -> None:
    label, cue = detect_sentiment(text)
    assert label in SENTIMENTS and (cue is None) == (label == "neutral")
    assert detect_category(text) in _CATEGORIES


_AWKWARD = st.text(alphabet=" -'’a\u00ad\u200b.İ(", max_size=8)


@given(st.one_of(st.text(), _AWKWARD), st.lists(st.one_of(st.text(max_size=10), _AWKWARD), max_size=5))
def test_any_phrase_is_literal_text(text: str, phrases: list[str]) -> None:
    for hit in find_cues(text, phrases):
        assert hit.phrase in phrases and 0 <= hit.start < hit.end


@pytest.mark.parametrize("phrase", ["", " ", "-", "'", "\u00ad", " - "])
def test_a_phrase_without_words_matches_nothing(phrase: str) -> None:
    assert find_cues("it's a - b \u00ad c", [phrase]) == []
