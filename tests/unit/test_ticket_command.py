from __future__ import annotations

import pytest

from bot.core.root_causes import Classification
from bot.core.ticket_command import (
    TITLE_MAX,
    BugAction,
    ChangeTicket,
    CreateTicket,
    DeescalateTicket,
    EscalateTicket,
    Help,
    LinkBug,
    ListFilter,
    ListTickets,
    OpenCreateModal,
    ReportBug,
    ShowTicket,
    TicketHistory,
    UsageError,
    parse_ticket_command,
)
from bot.core.tiers import Tier

LIST_USAGE = "usage: `/ticket list [mine] [open|all] [breaching] [P0-P3] [@person] [customer:acme] [page 2]`"


def test_free_text_with_every_hint() -> None:
    parsed = parse_ticket_command("Checkout 500s customer:Acme users:250 since deploy P1 <@U0AGENT1|bob>")
    assert parsed == CreateTicket(
        title="Checkout 500s since deploy",
        description="Checkout 500s since deploy",
        customer="acme",
        priority="P1",
        affected_users=250,
        owner_id="U0AGENT1",
    )


def test_priority_hint_with_colon_and_lowercase() -> None:
    parsed = parse_ticket_command("p0: login broken")
    assert isinstance(parsed, CreateTicket)
    assert (parsed.priority, parsed.title) == ("P0", "login broken")


@pytest.mark.parametrize(
    "text",
    [
        "P10 cluster and MP3 uploads fail",
        "Error on page P3 of the invoice PDF",
        "invoice p0 line is wrong",
        "ask <@U123|bob> about the export",
    ],
)
def test_words_that_look_like_hints_stay_in_the_text(text: str) -> None:
    parsed = parse_ticket_command(text)
    assert isinstance(parsed, CreateTicket)
    assert parsed.priority is None and parsed.owner_id is None
    assert "P3" in parsed.title or "p0" in parsed.title or "P10" in parsed.title or "@bob" in parsed.title


@pytest.mark.parametrize(
    "text",
    ["Status page is down for all customers", "Close button on checkout is broken", "help me please, printer jams",
     "Show more button does nothing", "History page is empty"],
)  # fmt: skip
def test_requests_that_start_with_a_verb_are_tickets(text: str) -> None:
    parsed = parse_ticket_command(text)
    assert isinstance(parsed, CreateTicket) and parsed.title == text


def test_title_is_first_line_description_is_everything() -> None:
    parsed = parse_ticket_command("Checkout 500s after deploy\nTraceback:\n  File x")
    assert isinstance(parsed, CreateTicket)
    assert parsed.title == "Checkout 500s after deploy"
    assert parsed.description == "Checkout 500s after deploy\nTraceback:\n  File x"


def test_long_first_line_is_cut_for_the_title_only() -> None:
    parsed = parse_ticket_command("x" * 500)
    assert isinstance(parsed, CreateTicket)
    assert len(parsed.title) == TITLE_MAX and parsed.description == "x" * 500


def test_entities_are_decoded() -> None:
    parsed = parse_ticket_command("VPN &amp; SSO broken for &lt;contractor&gt; accounts")
    assert isinstance(parsed, CreateTicket)
    assert parsed.title == "VPN & SSO broken for <contractor> accounts"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("show T-7", ShowTicket(7)),
        ("SHOW 7", ShowTicket(7)),
        ("help", Help()),
        ("", OpenCreateModal()),
        ("   ", OpenCreateModal()),
    ],
)
def test_verbs(text: str, expected: object) -> None:
    assert parse_ticket_command(text) == expected


CHANGE_USAGES = {
    "take": "/ticket take T-42", "assign": "/ticket assign T-42 @person",
    "status": "/ticket status T-42 open|pending|solved|closed", "pending": "/ticket pending T-42",
    "solve": "/ticket solve T-42 [root cause] [resolution type]", "close": "/ticket close T-42",
    "reopen": "/ticket reopen T-42", "priority": "/ticket priority T-42 P0|P1|P2|P3",
    "tag": "/ticket tag T-42 billing vip", "note": "/ticket note T-42 <text only agents see>",
    "customer": "/ticket customer T-42 acme", "cause": "/ticket cause T-42 <root cause> [resolution type]",
}  # fmt: skip
REPLY_USAGE = "usage: `/ticket reply T-42 bug|feature|deescalate|billing|no` (seed 001's response templates)"
VERB_HINT = " (`/ticket help` lists them; a new ticket needs words that do not start like a command)"
ESCALATE_USAGE = "usage: `/ticket escalate T-42 [L2|L3|management] [what was tried]` (no reason: the handoff form)"
BUG_USAGE = "usage: `/ticket bug T-42` (files a bug from T-42) or `/ticket bug BUG-7 [resolve|notify]`"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("show", "usage: `/ticket show T-42`"),
        ("show banana", "'banana' is not a ticket reference (use T-42 or 42). usage: `/ticket show T-42`"),
        ("show T-0", "'T-0' is not a ticket reference (use T-42 or 42). usage: `/ticket show T-42`"),
        (
            "users:many printer jam",
            "users:many is not a number of affected users (e.g. users:250, at most 100,000,000)",
        ),
        ("users:² printer jam", "users:² is not a number of affected users (e.g. users:250, at most 100,000,000)"),
        ("escalate T-4 L4 now", "'L4' is not a tier: escalate to L2, L3 or management. " + ESCALATE_USAGE),
        ("escalate T-0", "'T-0' is not a ticket reference (use T-42 or 42). " + ESCALATE_USAGE),
        ("escalate", ESCALATE_USAGE),
        ("link T-4", "usage: `/ticket link T-42 BUG-7`"),
        ("link T-4 BUG-0", "'BUG-0' is not a bug reference (use BUG-7). usage: `/ticket link T-42 BUG-7`"),
        ("link T-4 T-5", "usage: `/ticket link T-42 BUG-7`"),
        ("bug", BUG_USAGE),
        ("bug BUG-3 frob", BUG_USAGE),
        ("bug T-4 T-5", BUG_USAGE),
        ("show T-1 T-2", "usage: `/ticket show T-42` (one ticket at a time)"),
        ("history T-1 extra", "usage: `/ticket history T-42`"),
        ("take T-0", "'T-0' is not a ticket reference (use T-42 or 42). usage: `/ticket take T-42`"),
        ("take T-1234567890", "'T-1234567890' is not a ticket reference (use T-42 or 42). usage: `/ticket take T-42`"),
        ("history", "usage: `/ticket history T-42`"),
        ("take T-4 now", "usage: `/ticket take T-42`"),
        ("assign T-4 bob", "usage: `/ticket assign T-42 @person`"),
        ("status T-4 done", "usage: `/ticket status T-42 open|pending|solved|closed`"),
        ("priority T-4 P9", "usage: `/ticket priority T-42 P0|P1|P2|P3`"),
        ("note T-4", "usage: `/ticket note T-42 <text only agents see>`"),
        ("tag T-4 b@d", "usage: `/ticket tag T-42 billing vip` (b@d is not a tag: letters, digits, - and _, up to 32)"),
        ("P1 customer:acme", "the ticket needs a description, e.g. `/ticket Checkout fails for acme customer:acme P1`"),
        ("list page 0", "page needs a number from 1 to 10000, e.g. `/ticket list page 2`. " + LIST_USAGE),
        # Every verb refuses a reference that is not one (each used to open a ticket named so).
        *(
            (f"{verb} T-abc", f"'T-abc' is not a ticket reference (use T-42 or 42). usage: `{usage}`")
            for verb, usage in CHANGE_USAGES.items()
        ),
        (
            "priority T-abc P1",
            "'T-abc' is not a ticket reference (use T-42 or 42). usage: `/ticket priority T-42 P0|P1|P2|P3`",
        ),
        ("close T-1,", "'T-1,' is not a ticket reference (use T-42 or 42). usage: `/ticket close T-42`"),
        ("reply T-0 bug", "'T-0' is not a ticket reference (use T-42 or 42). " + REPLY_USAGE),
        ("reply T-abc bug", "'T-abc' is not a ticket reference (use T-42 or 42). " + REPLY_USAGE),
        ("history T-x", "'T-x' is not a ticket reference (use T-42 or 42). usage: `/ticket history T-42`"),
        ("show T-abc extra", "'T-abc' is not a ticket reference (use T-42 or 42). usage: `/ticket show T-42`"),
        # A slip of a verb before a reference is asked about, not made a ticket.
        ("solv T-1", "'solv' is not a /ticket verb: did you mean `/ticket solve T-1`?" + VERB_HINT),
        ("tkae T-2", "'tkae' is not a /ticket verb: did you mean `/ticket take T-2`?" + VERB_HINT),
        ("list P1 P2", "one priority at a time (got P1 and P2). " + LIST_USAGE),
        ("list page 2 page 3", "`page` once only. " + LIST_USAGE),
        (
            "tag T-4 " + "a" * 500,
            "usage: `/ticket tag T-42 billing vip` ("
            + "a" * 39
            + "… is not a tag: letters, digits, - and _, up to 32)",
        ),
        ("shwo 42", "'shwo' is not a /ticket verb: did you mean `/ticket show 42`?" + VERB_HINT),
    ],
)
def test_bad_input_gets_one_specific_message(text: str, message: str) -> None:
    assert parse_ticket_command(text) == UsageError(message)


def test_escalation_and_bug_verbs() -> None:
    assert parse_ticket_command("escalate T-4") == EscalateTicket(4)
    assert parse_ticket_command("escalate 4 l3") == EscalateTicket(4, Tier.L3)
    assert parse_ticket_command("escalate T-4 mgmt tried a restart") == EscalateTicket(
        4, Tier.MANAGEMENT, "tried a restart"
    )
    assert parse_ticket_command("escalate T-4 customer <!here> blocked") == EscalateTicket(
        4, None, "customer @here blocked"
    )
    assert parse_ticket_command("deescalate T-4 wrong tier") == DeescalateTicket(4, "wrong tier")
    assert parse_ticket_command("de-escalate T-4") == DeescalateTicket(4)
    assert parse_ticket_command("link t4 bug-7") == LinkBug(4, 7)
    assert parse_ticket_command("bug T-4") == ReportBug(4)
    assert parse_ticket_command("bug BUG-7 resolve") == BugAction(7, "resolve")
    assert parse_ticket_command("bug BUG7") == BugAction(7, "show")
    # Requests that merely start with the word (or an inflection of a verb) are tickets.
    for text in ("closed T-4 is still broken", "take the server offline", "fix T-1 crashes again", "T-5 is broken"):
        assert isinstance(parse_ticket_command(text), CreateTicket), text
    assert isinstance(parse_ticket_command("Escalate this please"), CreateTicket)
    assert isinstance(parse_ticket_command("bug report: export is broken"), CreateTicket)


def test_huge_text_is_refused() -> None:
    parsed = parse_ticket_command("a" * 40_001)
    assert isinstance(parsed, UsageError) and "40,001 characters" in parsed.message


@pytest.mark.parametrize("text", ["\u200b", "\u200b\u200d \u2060", "P1 \u200b"])
def test_invisible_text_is_not_a_description(text: str) -> None:
    parsed = parse_ticket_command(text)
    assert isinstance(parsed, UsageError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("take T-4", ChangeTicket(4, "take")),
        ("assign 4 <@U0B|bo>", ChangeTicket(4, "assign", "U0B")),
        ("status T-4 Solved", ChangeTicket(4, "status", "SOLVED")),
        ("pending T-4", ChangeTicket(4, "status", "PENDING")),
        ("solve t-4", ChangeTicket(4, "status", "SOLVED")),
        ("close T-4", ChangeTicket(4, "status", "CLOSED")),
        ("reopen T-4", ChangeTicket(4, "status", "OPEN")),
        ("priority T-4 p0", ChangeTicket(4, "priority", "P0")),
        ("tag T-4 Billing #vip vip", ChangeTicket(4, "tag", "billing vip")),
        ("note T-4 Called &amp; left\n  a message", ChangeTicket(4, "note", "Called & left\n  a message")),
        ("solve T-4 product-bug", ChangeTicket(4, "status", "SOLVED", classification=Classification("product_bug"))),
        (
            "solve T-4 Documentation_Gap self-service-redirect",
            ChangeTicket(
                4, "status", "SOLVED", classification=Classification("documentation_gap", "self_service_redirect")
            ),
        ),
        (
            "cause T-4 billing_system refund_credit",
            ChangeTicket(4, "cause", classification=Classification("billing_system", "refund_credit")),
        ),
    ],
)  # fmt: skip
def test_change_verbs(text: str, expected: ChangeTicket) -> None:
    assert parse_ticket_command(text) == expected


def test_list_and_history_parse() -> None:
    assert parse_ticket_command("list") == ListTickets(ListFilter(), 1)
    assert parse_ticket_command("list mine P1 page 3") == ListTickets(ListFilter(mine=True, priority="P1"), 3)
    assert parse_ticket_command("list all customer:Acme") == ListTickets(
        ListFilter(open_only=False, customer="acme"), 1
    )
    assert parse_ticket_command("list <@U1|a> breaching") == ListTickets(ListFilter(owner="U1", breaching=True), 1)
    assert parse_ticket_command("history T-4") == TicketHistory(4)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("printer jams P1 P2", "two priorities given (P1 and P2): give one"),
        ("P1 printer jams P0", "two priorities given (P1 and P0): give one"),
        ("customer:acme customer:globex printer jams", "two customers given (acme and globex): give one"),
        ("<@U1> printer jams <@U2>", "two owners given (<@U1> and <@U2>): give one"),
        ("users:5 printer jams users:6", "two affected-user counts given (5 and 6): give one"),
    ],
)
def test_conflicting_hints_are_refused_not_silently_dropped(text: str, error: str) -> None:
    assert parse_ticket_command(text) == UsageError(error)


def test_a_hint_repeated_with_the_same_value_is_fine() -> None:
    parsed = parse_ticket_command("P1 customer:acme printer jams P1 customer:ACME")
    assert isinstance(parsed, CreateTicket) and (parsed.priority, parsed.customer) == ("P1", "acme")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cause T-4", "give a root cause"),
        ("cause T-4 gremlins", "'gremlins' is not a root cause. Root causes: user_error, documentation_gap"),
        ("solve T-4 user_error shrug", "'shrug' is not a resolution type. Root causes:"),
        (
            "solve T-4 user_error agent_resolved and more",
            "a root cause and a resolution type are all it takes; 'and more' is more",
        ),
    ],
)
def test_a_root_cause_must_be_one_of_the_taxonomy(text: str, message: str) -> None:
    parsed = parse_ticket_command(text)
    assert isinstance(parsed, UsageError) and message in parsed.message
    assert "usage: `/ticket" in parsed.message
