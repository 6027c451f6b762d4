"""Arbitrary text at the command parser and at /slack/events: always a clean answer, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.ticket_command import (
    ChangeTicket,
    CreateTicket,
    Help,
    ListTickets,
    OpenCreateModal,
    ShowTicket,
    TicketHistory,
    UsageError,
    parse_ticket_command,
)
from bot.sandbox import Sandbox

# Text as Slack might deliver it: any unicode, plus the pieces that trip parsers and renderers.
_TRICKY = st.sampled_from(
    ["<!channel>", "<@U0AGENT1|alex>", "&amp;", "&lt;", "\u202e", "\x00", "\u200b", "🔥", "P1", "T-0",
     "customer:", "users:", "'; DROP TABLE tickets; --", "*bold*", "`code`", "\n", "show", "take", "list"]
)  # fmt: skip
TEXT = st.lists(st.one_of(st.text(max_size=40), _TRICKY), max_size=12).map(" ".join)
ANSWERS = (CreateTicket, ShowTicket, ChangeTicket, ListTickets, TicketHistory, Help, OpenCreateModal, UsageError)


@given(TEXT)
def test_the_parser_always_answers(text: str) -> None:
    parsed = parse_ticket_command(text)
    assert isinstance(parsed, ANSWERS)
    if isinstance(parsed, CreateTicket):
        assert parsed.title.strip() and "\x00" not in parsed.description


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, user=st.sampled_from(["U_AGENT1", "U_REQUESTER", "U_LEAD"]))
def test_commands_and_messages_always_get_a_clean_answer(sandbox: Sandbox, text: str, user: str) -> None:
    command = sandbox.simulator.slash_command("/ticket", text, user_id=user, channel_id="C_HELP")
    assert command.status == 200
    if command.body:  # the form opens with an empty 200
        answer = command.json()
        assert answer["response_type"] == "ephemeral" and answer["text"]
        assert "Something went wrong" not in answer["text"], answer["text"]
    event = {
        "type": "message",
        "channel": "C_HELP",
        "user": user,
        "text": text,
        "ts": f"{abs(hash(text)) % 10**9}.000100",
    }
    assert sandbox.simulator.event(event).status == 200
