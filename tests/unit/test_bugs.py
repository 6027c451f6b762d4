"""Bug rules (bot/core/bugs.py) and bug renderers (bot/slack/bug_blocks.py, the bug form)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.bugs import (
    FIELD_MAX,
    REQUIRED_FIELDS,
    bug_form_errors,
    check_may_resolve,
    priority_for_severity,
    raised_priority,
    ten_x,
)
from bot.core.permissions import PermissionDeniedError, Role
from bot.slack import bug_blocks
from bot.slack.bug_blocks import LinkedTickets
from bot.slack.kit import HEADER_MAX, SECTION_MAX, TEXT_MAX
from bot.slack.modals import bug_modal
from bot.slack.standin import validate_blocks
from store.models import Bug, Ticket

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)

GOOD = {
    "title": "Export fails",
    "severity": "major",
    "impact": "All EU customers",
    "area": "Reports",
    "steps": "Click Export",
    "expected": "A CSV",
    "actual": "A 500",
}


def test_a_complete_form_has_no_errors_and_environment_is_optional() -> None:
    assert bug_form_errors(GOOD) == {}
    assert bug_form_errors(GOOD | {"environment": "Chrome"}) == {}


def test_every_required_field_missing_or_blank_is_named() -> None:
    errors = bug_form_errors({"title": "   ", "impact": "\n"})
    assert set(errors) == set(REQUIRED_FIELDS)
    assert errors["title"] == "A title is required."
    assert errors["severity"] == "A severity is required."


@pytest.mark.parametrize("field", sorted(FIELD_MAX))
def test_each_field_has_a_limit(field: str) -> None:
    limit = FIELD_MAX[field]
    at_limit = GOOD | {field: "x" * limit}
    over = GOOD | {field: "x" * (limit + 1)}
    assert field not in bug_form_errors(at_limit) or field == "severity"  # "x…" is no severity
    assert bug_form_errors(over)[field].startswith(f"At most {limit:,} characters")


def test_severity_must_be_known_and_sets_the_priority() -> None:
    assert bug_form_errors(GOOD | {"severity": "apocalyptic"}) == {
        "severity": "Choose one of critical, major, minor, trivial."
    }
    assert [priority_for_severity(s) for s in ("critical", "major", "minor", "trivial")] == ["P0", "P1", "P2", "P3"]
    with pytest.raises(ValueError):
        priority_for_severity("apocalyptic")


def _links(count: int, *, age: timedelta = timedelta(days=1)) -> list[datetime]:
    return [NOW - age] * count


def test_ten_x_boundary_ten_links_is_not_tripped_eleven_is() -> None:
    ten = ten_x(_links(10), priority="P2", now=NOW)
    assert (ten.tripped, ten.recent_links, ten.priority) == (False, 10, "P2")
    eleven = ten_x(_links(11), priority="P2", now=NOW)
    assert (eleven.tripped, eleven.recent_links, eleven.priority) == (True, 11, "P1")


def test_ten_x_counts_only_the_last_30_days() -> None:
    old = _links(5, age=timedelta(days=30, seconds=1))
    assert ten_x(old + _links(10), priority="P3", now=NOW).tripped is False
    assert ten_x(_links(1, age=timedelta(days=30)) + _links(10), priority="P3", now=NOW).tripped is True
    assert ten_x(_links(3), priority="P3", now=NOW, threshold=2, window=timedelta(days=7)).tripped is True


def test_ten_x_never_lowers_a_priority() -> None:
    assert ten_x(_links(11), priority="P0", now=NOW).priority == "P0"
    assert ten_x(_links(11), priority="P1", now=NOW).priority == "P1"
    assert (raised_priority("P3"), raised_priority("P2"), raised_priority("P0")) == ("P1", "P1", "P0")


def test_only_l3_leads_and_admins_resolve_and_the_refusal_names_them() -> None:
    for role in (Role.L3, Role.LEAD, Role.ADMIN):
        check_may_resolve({role}, what="resolve BUG-1", who_may=["U_ENG"])
    with pytest.raises(PermissionDeniedError) as refused:
        check_may_resolve({Role.AGENT, Role.L2}, what="resolve BUG-1", who_may=["U_ENG", "U_LEAD"])
    assert str(refused.value) == "Only L3, leads or admins may resolve BUG-1. They are: <@U_ENG>, <@U_LEAD>."


def _bug(**fields: object) -> Bug:
    base: dict[str, object] = {
        "id": 1, "number": 3, "title": "Export fails", "severity": "minor", "priority": "P2", "impact": "EU",
        "area": "Reports", "steps": "Click", "expected": "CSV", "actual": "500", "reported_by": "U_AGENT1",
        "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip
    return Bug(**(base | fields))


def _mrkdwn_texts(message: dict[str, object]) -> list[str]:
    texts: list[str] = []
    for block in message["blocks"]:  # type: ignore[attr-defined]
        for item in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(item, dict) and item.get("type") == "mrkdwn":
                texts.append(item["text"])
    return texts


def test_the_card_fits_block_kit_with_huge_text_and_never_pings() -> None:
    huge = "step <!channel> & " * 2500  # 45,000 characters
    bug = _bug(title="<!channel> " + "t" * 500, steps=huge[:40_000], impact=huge, area="<@U999>" * 30)
    linked = LinkedTickets([f"T-{n}" for n in range(1, 300)], notifiable=299)
    for message in (bug_blocks.bug_card(bug, linked), bug_blocks.bug_detail(bug, linked)):
        assert validate_blocks(message["blocks"]) == []
        assert len(message["text"]) <= TEXT_MAX and len(message["blocks"]) <= 50
        assert message["blocks"][0]["text"]["type"] == "plain_text"
        assert len(message["blocks"][0]["text"]["text"]) <= HEADER_MAX
        texts = [message["text"], *_mrkdwn_texts(message)]
        assert all(len(text) <= SECTION_MAX for text in texts[1:])
        assert not any("<!channel>" in text or "<@U999>" in text for text in texts)
        assert any(text.endswith("…") and "step &lt;!channel&gt; &amp;" in text for text in texts)
    context = " ".join(_mrkdwn_texts({"blocks": [b for b in bug_blocks.bug_card(bug, linked)["blocks"]
                                                 if b["type"] == "context"]}))  # fmt: skip
    assert "T-40 and 259 more" in context


def test_the_card_offers_resolve_then_notify_then_nothing() -> None:
    linked = LinkedTickets(["T-1", "T-2"], notifiable=2)

    def buttons(bug: Bug) -> list[tuple[str, str]]:
        card = bug_blocks.bug_card(bug, linked)
        return [(e["action_id"], e["text"]["text"]) for b in card["blocks"] if b["type"] == "actions"
                for e in b["elements"]]  # fmt: skip

    assert buttons(_bug()) == [("bug_resolve", "Resolve")]
    resolved = _bug(status="resolved", resolved_by="U_ENG", resolved_at=NOW)
    assert buttons(resolved) == [("bug_notify", "Notify 2 requesters")]
    # `notifiable` counts the people not told yet: once everyone is, nothing is left to click.
    everyone_told = bug_blocks.bug_card(
        _bug(status="resolved", resolved_at=NOW, notified_by="U_ENG", notified_at=NOW), LinkedTickets(["T-1"], 0)
    )
    assert not [b for b in everyone_told["blocks"] if b["type"] == "actions"]
    flagged = bug_blocks.bug_card(_bug(priority="P1", flagged_at=NOW), linked)
    assert any("10x rule" in text for text in _mrkdwn_texts(flagged))


def test_the_requester_notice_escapes_the_ticket_title() -> None:
    ticket = Ticket(
        number=4, title="<!here> export & import", description="", created_by="U_R", source_kind="message",
        requester_id="U_R", created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    notice = bug_blocks.requester_notice(_bug(), ticket)
    assert notice["text"].startswith("Hi <@U_R>, good news about T-4 (&lt;!here&gt; export &amp; import)")
    assert "BUG-3" in notice["text"]


def test_the_bug_form_is_input_blocks_with_the_title_from_the_ticket() -> None:
    view = bug_modal(ticket_ref="T-7", number=7, title="x" * 500)
    assert validate_blocks(view["blocks"]) == []
    assert all(block["type"] == "input" for block in view["blocks"])
    assert view["private_metadata"] == '{"number": 7}'
    title = view["blocks"][0]["element"]
    assert len(title["initial_value"]) <= title["max_length"] == FIELD_MAX["title"]
    for block in view["blocks"]:
        element = block["element"]
        assert block["optional"] == (block["block_id"] not in REQUIRED_FIELDS)
        if element["type"] == "plain_text_input":
            assert element["max_length"] == FIELD_MAX[block["block_id"]]
