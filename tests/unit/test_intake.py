"""Message events → decisions, including field cases F1 (subtypes) and F2 (our own posts)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.intake import (
    BotIdentity,
    Ignore,
    OpenTicket,
    SourceDeleted,
    SourceEdited,
    ThreadReply,
    classify_message,
)

ME = BotIdentity(user_id="U_FRONTLINE", bot_id="B_FRONTLINE")
INTAKE = {"C_HELP"}


def decide(event: dict[str, Any], **kwargs: Any) -> object:
    return classify_message(event, ME, intake_channels=INTAKE, **kwargs)


# The five events of field case F1, in order.
F1_EDIT = {
    "type": "message", "subtype": "message_changed", "channel": "C_HELP", "hidden": True,
    "ts": "1796655660.000200",
    "message": {"type": "message", "user": "U_REQUESTER", "text": "VPN drops every 5 minutes",
                "ts": "1796655600.000100", "edited": {"user": "U_REQUESTER", "ts": "1796655660.000000"}},
    "previous_message": {"text": "VPN drops every 10 minutes", "ts": "1796655600.000100"},
}  # fmt: skip
F1_DELETE = {
    "type": "message", "subtype": "message_deleted", "channel": "C_HELP", "hidden": True,
    "deleted_ts": "1796655600.000100", "ts": "1796655720.000300",
}  # fmt: skip
F1_JOIN = {
    "type": "message", "subtype": "channel_join", "channel": "C_HELP", "user": "U_B",
    "text": "<@U_B> has joined the channel", "ts": "1796655780.000400",
}  # fmt: skip
F1_FILE = {
    "type": "message", "subtype": "file_share", "channel": "C_HELP", "user": "U_A",
    "text": "screenshot of the error", "files": [{"id": "F_1", "name": "error.png"}], "ts": "1796655840.000500",
}  # fmt: skip
F1_REPLY = {
    "type": "message", "channel": "C_HELP", "user": "U_REQUESTER", "text": "still broken",
    "ts": "1796655900.000600", "thread_ts": "1796655600.000100",
}  # fmt: skip


def test_f1_each_event_gets_the_right_decision() -> None:
    assert decide(F1_EDIT) == SourceEdited("C_HELP", "1796655600.000100", "VPN drops every 5 minutes")
    assert decide(F1_DELETE) == SourceDeleted("C_HELP", "1796655600.000100")
    assert decide(F1_JOIN) == Ignore("housekeeping message (channel_join)")
    assert decide(F1_FILE) == OpenTicket(
        "C_HELP", "1796655840.000500", "U_A", "screenshot of the error", "intake", ({"id": "F_1", "name": "error.png"},)
    )
    assert decide(F1_REPLY) == ThreadReply(
        "C_HELP", "1796655600.000100", "1796655900.000600", "U_REQUESTER", "still broken"
    )


F2_TEXT = "Ticket T-7 opened: printer on fire, see <https://help.example.test/kb/42>"


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message", "channel": "C_HELP", "user": "U_FRONTLINE", "bot_id": "B_FRONTLINE",
         "app_id": "A_FRONTLINE", "text": F2_TEXT, "ts": "1796655960.000700"},
        {"type": "message", "subtype": "bot_message", "channel": "C_HELP", "bot_id": "B_FRONTLINE",
         "text": F2_TEXT, "ts": "1796655960.000700"},
        {"type": "message", "channel": "C_HELP", "user": "U_FRONTLINE", "text": F2_TEXT, "ts": "1796655960.000700"},
    ],
    ids=["current-shape", "legacy-bot-message", "user-id-only"],
)  # fmt: skip
def test_f2_our_own_posts_are_recognised_in_every_shape(event: dict[str, Any]) -> None:
    assert decide(event) == Ignore("our own message")


def test_other_bots_only_when_allowlisted() -> None:
    event = {"type": "message", "subtype": "bot_message", "channel": "C_HELP", "bot_id": "B_PAGER",
             "text": "disk full on db-1", "ts": "1.000001"}  # fmt: skip
    assert decide(event) == Ignore("a message from another bot (not on intake.bot_allowlist)")
    assert isinstance(decide(event, bot_allowlist={"B_PAGER"}), OpenTicket)


def test_dm_and_non_intake_channels() -> None:
    dm = {"type": "message", "channel": "D123", "channel_type": "im", "user": "U_A", "text": "help", "ts": "1.1"}
    elsewhere = {"type": "message", "channel": "C_RANDOM", "user": "U_A", "text": "lunch?", "ts": "1.2"}
    assert decide(dm) == OpenTicket("D123", "1.1", "U_A", "help", "dm")
    assert decide(elsewhere) == Ignore("not an intake channel")


def test_entities_are_decoded_f3() -> None:
    event = {"type": "message", "channel": "C_HELP", "user": "U_A", "ts": "1.3",
             "text": "VPN &amp; SSO broken for &lt;contractor&gt; accounts"}  # fmt: skip
    decision = decide(event)
    assert isinstance(decision, OpenTicket)
    assert decision.text == "VPN & SSO broken for <contractor> accounts"


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"type": "message"},
        {"type": "message", "channel": "C_HELP"},
        {"type": "message", "channel": "C_HELP", "subtype": "message_changed"},
        {"type": "message", "channel": "C_HELP", "subtype": "message_deleted"},
        {"type": "message", "channel": "C_HELP", "user": "U_A", "ts": "1.4", "text": "   "},
        {"type": "message", "channel": "C_HELP", "user": "U_A", "ts": "1.5", "files": "not-a-list"},
    ],
)
def test_malformed_events_are_ignored_not_raised(event: dict[str, Any]) -> None:
    assert isinstance(decide(event), Ignore)


def test_a_deleted_message_with_a_thread_arrives_as_a_tombstone_edit() -> None:
    event = {"type": "message", "subtype": "message_changed", "channel": "C_HELP", "ts": "9.2",
             "message": {"subtype": "tombstone", "text": "This message was deleted.", "ts": "9.1",
                         "user": "USLACKBOT", "hidden": True}}  # fmt: skip
    assert decide(event) == SourceDeleted("C_HELP", "9.1")


def test_a_thread_reply_also_sent_to_the_channel_is_still_a_reply() -> None:
    event = {"type": "message", "subtype": "thread_broadcast", "channel": "C_HELP", "user": "U_REQUESTER",
             "text": "any news?", "ts": "9.3", "thread_ts": "9.1"}  # fmt: skip
    assert decide(event) == ThreadReply("C_HELP", "9.1", "9.3", "U_REQUESTER", "any news?")
