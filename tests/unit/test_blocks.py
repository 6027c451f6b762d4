"""Block Kit renderers: pure functions, checked against the stand-in's own Block Kit validator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.slack import blocks, kit
from bot.slack.standin import validate_blocks
from store.models import Ticket

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def _ticket(**fields: object) -> Ticket:
    base: dict[str, object] = {
        "number": 12, "title": "Checkout fails", "description": "Checkout fails", "created_by": "U_A",
        "source_kind": "command", "created_at": NOW, "updated_at": NOW, "priority": "P1",
        "priority_reason": "P1: keyword 'broken'", "requester_id": "U_A",
    }  # fmt: skip
    return Ticket(**(base | fields))


def test_a_manual_override_names_the_person_as_a_mention() -> None:
    ticket = _ticket(priority_reason="P1: set by <@U_A> (auto: P2: default (no rule matched))")
    card = blocks.ticket_card(ticket)
    context = " ".join(e["text"] for b in card["blocks"] if b["type"] == "context" for e in b["elements"])
    assert "set by <@U_A> (auto: P2: default (no rule matched))" in context
    assert "&lt;@" not in context


def test_user_text_can_never_ping() -> None:
    # Stored text is what the person typed; in mrkdwn it is escaped once, and the header is plain_text.
    ticket = _ticket(title="<!channel> help", description="<!here> <@U999> @everyone & <b>")
    card = blocks.ticket_card(ticket)
    assert card["blocks"][0]["text"]["type"] == "plain_text"
    assert "<!" not in card["text"] and "<@U999>" not in card["text"]
    description = card["blocks"][2]["text"]["text"]
    assert description == "&lt;!here&gt; &lt;@U999&gt; @everyone &amp; &lt;b&gt;"


def test_card_without_triage_says_where_the_card_is_not() -> None:
    message = blocks.created_confirmation(_ticket(), None)
    assert "no card posted: `channels.triage` is not set in frontline.yaml" in message["text"]


def test_every_renderer_passes_block_kit_validation() -> None:
    long = _ticket(title="x" * 400, description="🔥" * 5000, customer="acme", customer_tier="enterprise")
    for message in (
        blocks.ticket_card(long),
        blocks.ticket_detail(long),
        blocks.created_confirmation(long, "C_TRIAGE"),
        blocks.help_message(),
        blocks.error_message("e" * 5000),
    ):
        assert validate_blocks(message["blocks"]) == [], message["blocks"][0]
        assert len(message["text"]) <= blocks.TEXT_MAX


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_text_objects_are_never_empty(text: str) -> None:
    """Slack refuses an empty text object (invalid_blocks): whatever a renderer passes, kit fills it."""
    assert kit.mrkdwn(text)["text"] == kit.EMPTY
    assert kit.section(text)["text"]["text"] == kit.EMPTY
    assert kit.header(text)["text"]["text"] == kit.EMPTY
    assert kit.header("\u202e")["text"]["text"] == kit.EMPTY  # nothing left once made displayable
    assert kit.context(text)["elements"][0]["text"] == kit.EMPTY
