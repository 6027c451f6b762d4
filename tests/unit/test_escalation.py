"""The escalation core: the handoff form's checks, the decision matrix as data, "same issue", tiers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.config import parse_config
from bot.core.escalation import (
    Attempt,
    TicketFacts,
    handoff_errors,
    match_matrix,
    read_handoff,
    same_issue,
    stuck_match,
)
from bot.core.taxonomy import live_phrases
from bot.core.tiers import Tier, is_above, next_tier, parse_tier

TODAY = date(2026, 12, 7)
MATRIX = parse_config({}).escalation.matrix


def test_handoff_needs_a_tier_an_attempt_and_what_is_needed() -> None:
    assert handoff_errors({}, today=TODAY) == {
        "tier": "Choose the tier to escalate to: L2, L3 or management.",
        "tried_1": "Say what was tried, so the next tier does not have to ask.",
        "needed": "Say what is needed from the next tier.",
    }
    good = {"tier": "L2", "tried_1": "Restarted", "needed": "A fix"}
    assert handoff_errors(good, today=TODAY) == {}
    assert handoff_errors({**good, "tier": "L1"}, today=TODAY) == {"tier": handoff_errors({}, today=TODAY)["tier"]}


def test_handoff_dates_and_lengths() -> None:
    good = {"tier": "L3", "tried_1": "Restarted", "needed": "A fix"}
    assert handoff_errors({**good, "needed_by": "2026-12-06"}, today=TODAY) == {
        "needed_by": "That date is in the past (today is 2026-12-07)."
    }
    assert handoff_errors({**good, "needed_by": "2026-12-07"}, today=TODAY) == {}
    assert handoff_errors({**good, "needed_by": "soon"}, today=TODAY) == {"needed_by": "Pick a date from the calendar."}
    assert handoff_errors({**good, "urgency": "x" * 2001}, today=TODAY) == {
        "urgency": "At most 2,000 characters (this has 2,001)."
    }
    assert handoff_errors({**good, "result_2": "worked"}, today=TODAY) == {
        "tried_2": "A result needs the attempt it belongs to."
    }


def test_read_handoff_keeps_attempts_in_order_and_skips_empty_rows() -> None:
    handoff = read_handoff(
        {"tier": "L2", "tried_1": " Restarted ", "result_1": "no change", "tried_3": "Reinstalled", "needed": "Fix",
         "needed_by": "2026-12-11"}
    )  # fmt: skip
    assert handoff.what_tried == (Attempt("Restarted", "no change"), Attempt("Reinstalled", ""))
    assert handoff.needed_by == date(2026, 12, 11)
    assert handoff.as_json()["what_tried"] == [
        {"action": "Restarted", "result": "no change"},
        {"action": "Reinstalled", "result": ""},
    ]


def _triggers(facts: TicketFacts, matrix: object = MATRIX) -> list[tuple[str, str, str]]:
    return [(m.trigger, m.action, m.tier) for m in match_matrix(matrix, facts)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (TicketFacts("Checkout is down", "P0"), [("p0", "escalate", "L2")]),
        (TicketFacts("We are not renewing", "P2", arr=12_000, customer="acme"), [("churn", "escalate", "L2")]),
        (TicketFacts("We are not renewing", "P2", arr=10_000, customer="acme"), []),  # "> $10K"
        (TicketFacts("We are going to sue over this", "P2"), [("legal", "escalate", "L2")]),
        (TicketFacts("I have an issue with the tissue box", "P2"), []),  # "sue" is a whole word
        (TicketFacts("Login fails", "P2", same_issue_count=3), [("repeat", "escalate", "L2")]),
        (TicketFacts("Login fails", "P2", same_issue_count=2), []),
        (TicketFacts("Let me speak to a manager", "P2"), [("manager", "notify", "L2")]),
        (TicketFacts("I am the account manager here", "P2"), []),
        (TicketFacts("Posted publicly on reddit", "P2"), [("social", "notify", "L2")]),
        (TicketFacts("Export is slow", "P2", from_social_channel=True), [("social", "notify", "L2")]),
        (TicketFacts("Export is slow", "P2"), []),
        # Words that merely occur are not the thing (found by a fresh-eyes review).
        (TicketFacts("Sue from accounting cannot see the invoices page", "P2"), []),
        (TicketFacts("The compliance report export is blank", "P2"), []),
        (TicketFacts("The Twitter integration stopped posting", "P2"), []),
        (TicketFacts("Can your supervisor dashboard show SLA data", "P2"), []),
        (TicketFacts("Our churn report shows the wrong numbers", "P2", arr=50_000, customer="acme"), []),
        (TicketFacts("We won't cancel our subscription", "P2", arr=50_000, customer="acme"), []),
        (
            TicketFacts("We will cancel our subscription", "P2", arr=50_000, customer="acme"),
            [("churn", "escalate", "L2")],
        ),
    ],
)
def test_matrix_rows(facts: TicketFacts, expected: list[tuple[str, str, str]]) -> None:
    assert _triggers(facts) == expected


def test_matrix_skips_recorded_triggers_and_rows_switched_off() -> None:
    facts = TicketFacts("Down again; expect legal action", "P0")
    assert [m.trigger for m in match_matrix(MATRIX, facts)] == ["p0", "legal"]
    assert [m.trigger for m in match_matrix(MATRIX, facts, skip=["p0"])] == ["legal"]
    custom = parse_config({"escalation": {"matrix": {"legal": {"action": "off"}, "p0": {"tier": "L3"}}}})
    [p0] = match_matrix(custom.escalation.matrix, facts)
    assert (p0.trigger, p0.tier, p0.within, p0.notify) == ("p0", Tier.L3, timedelta(minutes=15), ("L3", "management"))


def test_stuck_is_a_suggestion_by_default() -> None:
    match = stuck_match(MATRIX, owner="U1", waited="31m")
    assert match is not None and (match.action, match.tier) == ("suggest", "L2")
    assert "<@U1> has had it OPEN for 31m" in match.reason
    off = parse_config({"escalation": {"matrix": {"stuck": {"action": "off"}}}}).escalation.matrix
    assert stuck_match(off, owner="U1", waited="31m") is None


def test_same_issue_is_word_overlap_of_the_requesters_tickets() -> None:
    text = "CSV export times out on large reports"
    others = [
        "Export to CSV still times out for big reports",
        "csv exports timing out again on the large report",
        "The billing page looks odd",
        "",
    ]
    assert same_issue(text, others) == 2
    assert same_issue("", others) == 0
    # One shared word is a topic, not an issue.
    assert same_issue("Invoice is wrong", ["Invoice is late", "Invoice missing"]) == 0


def test_tiers() -> None:
    assert [parse_tier(w) for w in ("l2", "L3", "Management", "mgmt", "L4", "")] == [
        Tier.L2, Tier.L3, Tier.MANAGEMENT, Tier.MANAGEMENT, None, None,
    ]  # fmt: skip
    assert next_tier(Tier.L1) == Tier.L2 and next_tier(Tier.MANAGEMENT) is None
    assert is_above(Tier.L3, Tier.L2) and not is_above(Tier.L2, Tier.L2)


def test_tied_cues_resolve_in_the_order_given_whatever_the_hash_seed() -> None:
    # "tweet" and "tweeted" both match all of "tweeted"; the first listed wins, every run.
    assert live_phrases("she tweeted it", ("tweet", "tweeted")) == ["tweet"]
    assert live_phrases("she tweeted it", ("tweeted", "tweet")) == ["tweeted"]


# Messages two fresh-eyes reviews wrote: ordinary requests that must not meet a phrase row, and
# real ones that must (`churn` with a customer above the ARR threshold).
INNOCENT = [
    "Our legal team asked for a copy of your DPA", "Our lawyers need the invoices for 2025",
    "My attorney asked me to update the billing address", "The importer flags rows as non-compliant",
    "Please send the report you to promised yesterday", "Our data protection authority contact changed",
    "We're leaving the office early on Friday", "We are leaving for the holidays, can you pause our reports?",
    "We're looking at alternatives to CSV for the export format", "Please cancel the contract draft I sent",
    "We need a manager account for our new hire", "I want a manager role for Bob",
    "who is someone in charge of partnerships", "Marketing tweeted the signup link and the form shows an error",
    "How do I embed a widget on instagram", "How do I make a public post on the community board?",
    "Our campaign is going viral, can we raise our API rate limit", "Is there a Trustpilot review widget?",
    "Sue from accounting cannot see the invoices page", "The Twitter integration stopped posting",
]  # fmt: skip
GENUINE = [
    ("We are cancelling our contract.", "churn"), ("We've decided not to renew.", "churn"),
    ("We won't be renewing our contract", "churn"), ("I want to cancel my subscription", "churn"),
    ("We're switching to your competitor", "churn"), ("I'm going to sue.", "legal"),
    ("We are suing your company", "legal"), ("You are violating GDPR with this", "legal"),
    ("I will contact my solicitor", "legal"), ("This is a GDPR breach", "legal"),
    ("Put me through to your supervisor", "manager"), ("Escalate this to your manager please", "manager"),
    ("Can I speak with someone more senior?", "manager"), ("I posted this on LinkedIn and people agree", "social"),
    ("There's a thread on Hacker News about your outage", "social"),
]  # fmt: skip


@pytest.mark.parametrize("text", INNOCENT)
def test_ordinary_requests_meet_no_phrase_row(text: str) -> None:
    assert _triggers(TicketFacts(text, "P2", arr=40_000, customer="globex")) == []


@pytest.mark.parametrize(("text", "row"), GENUINE)
def test_real_threats_and_requests_meet_their_row(text: str, row: str) -> None:
    assert [t for t, _, _ in _triggers(TicketFacts(text, "P2", arr=40_000, customer="globex"))] == [row]
