"""Slack message events over signed HTTP → tickets (field cases F1, F2, F3 and event retries)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.sandbox import Sandbox
from store.models import AuditEvent, Comment, OutboxMessage, Ticket

SOURCE_TS = "1796655600.000100"


def _tickets(sandbox: Sandbox) -> list[Ticket]:
    with Session(sandbox.deps.engine) as session:
        return list(session.exec(select(Ticket).order_by(col(Ticket.number))).all())


def _send(sandbox: Sandbox, event: dict[str, Any], event_id: str, **retry: int | str) -> None:
    response = sandbox.simulator.event(event, event_id=event_id, **retry)  # type: ignore[arg-type]
    assert response.status == 200, response.body
    assert response.elapsed < 3.0


def _open_t1(sandbox: Sandbox) -> None:
    _send(
        sandbox,
        {"type": "message", "channel": "C_HELP", "user": "U_REQUESTER", "text": "VPN drops every 10 minutes",
         "ts": SOURCE_TS},
        "Ev_T1",
    )  # fmt: skip


def test_f1_edits_deletes_joins_files_and_replies(sandbox: Sandbox) -> None:
    _open_t1(sandbox)
    f1_events = [
        {"type": "message", "subtype": "message_changed", "channel": "C_HELP", "hidden": True,
         "ts": "1796655660.000200",
         "message": {"type": "message", "user": "U_REQUESTER", "text": "VPN drops every 5 minutes", "ts": SOURCE_TS,
                     "edited": {"user": "U_REQUESTER", "ts": "1796655660.000000"}},
         "previous_message": {"text": "VPN drops every 10 minutes", "ts": SOURCE_TS}},
        {"type": "message", "subtype": "message_deleted", "channel": "C_HELP", "hidden": True,
         "deleted_ts": SOURCE_TS, "ts": "1796655720.000300"},
        {"type": "message", "subtype": "channel_join", "channel": "C_HELP", "user": "U_B",
         "text": "<@U_B> has joined the channel", "ts": "1796655780.000400"},
        {"type": "message", "subtype": "file_share", "channel": "C_HELP", "user": "U_A",
         "text": "screenshot of the error", "files": [{"id": "F_1", "name": "error.png"}], "ts": "1796655840.000500"},
        {"type": "message", "channel": "C_HELP", "user": "U_REQUESTER", "text": "still broken",
         "ts": "1796655900.000600", "thread_ts": SOURCE_TS},
    ]  # fmt: skip
    for n, event in enumerate(f1_events):
        _send(sandbox, event, f"Ev_F1_{n}")

    t1, t2 = _tickets(sandbox)
    # The edit updates the ticket (its title came from the text, so it follows); the deletion only annotates.
    assert (t1.ref, t1.description, t1.title) == ("T-1", "VPN drops every 5 minutes", "VPN drops every 5 minutes")
    assert t1.source_deleted_at is not None
    assert (t2.ref, t2.title, t2.requester_id) == ("T-2", "screenshot of the error", "U_A")
    assert t2.attachments == [{"id": "F_1", "name": "error.png"}]
    with Session(sandbox.deps.engine) as session:
        [comment] = session.exec(select(Comment)).all()
        changes = session.exec(
            select(AuditEvent).where(AuditEvent.action == "changed").order_by(col(AuditEvent.id))
        ).all()
    assert (comment.ticket_id, comment.role, comment.text) == (t1.id, "requester", "still broken")
    assert [(c.field, c.before) for c in changes] == [
        ("description", "VPN drops every 10 minutes"),
        ("source_deleted_at", None),
    ]
    sandbox.wait_until_delivered()
    assert len(sandbox.standin.messages("C_TRIAGE")) == 2


def test_f2_our_own_acknowledgement_never_opens_a_ticket(sandbox: Sandbox) -> None:
    _send(
        sandbox,
        {"type": "message", "channel": "C_HELP", "user": "U_REQUESTER",
         "text": "printer on fire, see <https://help.example.test/kb/42>", "ts": "1796655900.000100"},
        "Ev_F2",
    )  # fmt: skip
    sandbox.wait_until_delivered()
    acks = [call for call in sandbox.standin.calls_to("chat.postMessage") if call.args.get("channel") == "C_HELP"]
    assert len(acks) == 1
    ack_text = acks[0].args["text"]
    assert ack_text.startswith("Ticket T-1 opened")
    current = {"type": "message", "channel": "C_HELP", "user": "U_FRONTLINE", "bot_id": "B_FRONTLINE",
               "app_id": "A_FRONTLINE", "text": ack_text, "ts": "1796655960.000700"}  # fmt: skip
    legacy = {"type": "message", "subtype": "bot_message", "channel": "C_HELP", "bot_id": "B_FRONTLINE",
              "text": ack_text, "ts": "1796655960.000800"}  # fmt: skip
    _send(sandbox, current, "Ev_F2_own_1")
    _send(sandbox, legacy, "Ev_F2_own_2")
    sandbox.wait_until_delivered()
    assert [t.ref for t in _tickets(sandbox)] == ["T-1"]
    assert len([c for c in sandbox.standin.calls_to("chat.postMessage") if c.args.get("channel") == "C_HELP"]) == 1


def test_f3_entities_are_stored_as_typed_and_escaped_once_on_the_way_out(sandbox: Sandbox) -> None:
    _send(
        sandbox,
        {"type": "message", "channel": "C_HELP", "user": "U_REQUESTER",
         "text": "VPN &amp; SSO broken for &lt;contractor&gt; accounts", "ts": "1796656000.000100"},
        "Ev_F3",
    )  # fmt: skip
    [ticket] = _tickets(sandbox)
    assert ticket.title == ticket.description == "VPN & SSO broken for <contractor> accounts"
    sandbox.wait_until_delivered()
    [card] = sandbox.standin.messages("C_TRIAGE")
    assert card["blocks"][0]["text"]["text"] == "T-1 · VPN & SSO broken for <contractor> accounts"  # plain_text
    description = card["blocks"][2]["text"]["text"]
    assert description == "VPN &amp; SSO broken for &lt;contractor&gt; accounts"
    assert "&amp;amp;" not in str(card) and "&amp;lt;" not in str(card)
    with Session(sandbox.deps.engine) as session:
        found = session.exec(select(Ticket).where(col(Ticket.title).contains("&"))).all()
    assert [t.ref for t in found] == ["T-1"]


def test_a_retried_event_creates_nothing_more(sandbox: Sandbox) -> None:
    event = {"type": "message", "channel": "C_HELP", "user": "U_REQUESTER", "text": "SSO is broken",
             "ts": "1796656100.000100"}  # fmt: skip
    _send(sandbox, event, "Ev_RETRY")
    _send(sandbox, event, "Ev_RETRY", retry_num=1, retry_reason="http_timeout")
    _send(sandbox, event, "Ev_RETRY", retry_num=2, retry_reason="http_error")
    # A different event id for the same message (a second delivery path) is still one ticket.
    _send(sandbox, event, "Ev_OTHER")
    assert [t.ref for t in _tickets(sandbox)] == ["T-1"]
    sandbox.wait_until_delivered()
    assert len(sandbox.standin.messages("C_TRIAGE")) == 1


def test_agent_reply_is_the_first_response_and_messages_elsewhere_are_ignored(sandbox: Sandbox) -> None:
    _open_t1(sandbox)
    reply = {"type": "message", "channel": "C_HELP", "user": "U_AGENT1", "text": "Looking now",
             "ts": "1796655700.000100", "thread_ts": SOURCE_TS}  # fmt: skip
    _send(sandbox, reply, "Ev_AGENT")
    _send(sandbox, {"type": "message", "channel": "C_RANDOM", "user": "U_A", "text": "lunch?", "ts": "1.5"}, "Ev_X")
    [ticket] = _tickets(sandbox)
    assert ticket.first_responded_at is not None
    with Session(sandbox.deps.engine) as session:
        assert [c.role for c in session.exec(select(Comment)).all()] == ["agent"]


def test_message_shortcut_makes_any_message_a_ticket_once(sandbox: Sandbox) -> None:
    sandbox.standin.add_channel("C_RANDOM", "random")
    event = sandbox.standin.post_as_user("C_RANDOM", "U_A", "SSO login loops forever &amp; nobody can get in")
    message = {key: event[key] for key in ("type", "user", "text", "ts")}
    for clicker in ("U_AGENT1", "U_AGENT1", "U_AGENT2"):
        response = sandbox.simulator.message_shortcut(
            callback_id="create_ticket_from_message", user_id=clicker, channel_id="C_RANDOM", message=message
        )
        assert response.status == 200 and response.elapsed < 3.0
    [ticket] = _tickets(sandbox)
    assert (ticket.title, ticket.requester_id, ticket.created_by, ticket.source_kind) == (
        "SSO login loops forever & nobody can get in", "U_A", "U_AGENT1", "shortcut",
    )  # fmt: skip
    sandbox.wait_until_delivered()
    told = [(e["user"], e["text"]) for e in sandbox.standin.ephemerals("C_RANDOM")]
    assert told == [
        ("U_AGENT1", "Created *T-1* from that message."),
        ("U_AGENT1", "That message is already *T-1*."),
        ("U_AGENT2", "That message is already *T-1*."),
    ]
    assert len(sandbox.standin.messages("C_TRIAGE")) == 1


def test_ticket_reaction_fetches_the_message_and_makes_it_a_ticket_once(sandbox: Sandbox) -> None:
    sandbox.standin.add_channel("C_RANDOM", "random")
    posted = sandbox.standin.post_as_user("C_RANDOM", "U_A", "Invoices PDF is empty since Monday")
    reply = sandbox.standin.post_as_user("C_RANDOM", "U_B", "same here, all blank", thread_ts=posted["ts"])
    for n, (who, ts) in enumerate([("U_AGENT1", posted["ts"]), ("U_AGENT2", posted["ts"]), ("U_AGENT1", reply["ts"])]):
        event = {"type": "reaction_added", "user": who, "reaction": "ticket", "item_user": "U_A",
                 "item": {"type": "message", "channel": "C_RANDOM", "ts": ts}, "event_ts": f"{n}.0"}  # fmt: skip
        _send(sandbox, event, f"Ev_REACT_{n}")
    other = {"type": "reaction_added", "user": "U_A", "reaction": "eyes",
             "item": {"type": "message", "channel": "C_RANDOM", "ts": posted["ts"]}}  # fmt: skip
    _send(sandbox, other, "Ev_EYES")
    sandbox.wait_until_delivered()
    first, second = _tickets(sandbox)
    assert (first.title, first.requester_id, first.created_by, first.source_kind) == (
        "Invoices PDF is empty since Monday", "U_A", "U_AGENT1", "reaction",
    )  # fmt: skip
    assert (second.title, second.requester_id, second.source_ts) == ("same here, all blank", "U_B", reply["ts"])
    assert len(sandbox.standin.calls_to("conversations.replies")) == 2  # one fetch per message
    assert len(sandbox.standin.messages("C_TRIAGE")) == 2


def test_a_file_only_message_gets_a_valid_card(sandbox: Sandbox) -> None:
    event = {"type": "message", "subtype": "file_share", "channel": "C_HELP", "user": "U_A", "text": "",
             "files": [{"id": "F_9", "name": "crash.log"}], "ts": "1796657000.000100"}  # fmt: skip
    _send(sandbox, event, "Ev_FILE_ONLY")
    sandbox.wait_until_delivered()
    [card] = sandbox.standin.messages("C_TRIAGE")
    assert card["blocks"][0]["text"]["text"] == "T-1 · File: crash.log"
    assert "_No text; attached: crash.log_" in str(card["blocks"])


def test_an_edit_moves_a_title_that_came_from_the_text(sandbox: Sandbox) -> None:
    _open_t1(sandbox)
    edited = {"type": "message", "user": "U_REQUESTER", "text": "VPN drops every 5 minutes", "ts": SOURCE_TS}
    edit = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C_HELP",
        "ts": "1796655660.2",
        "message": edited,
    }
    _send(sandbox, edit, "Ev_EDIT_TITLE")
    [ticket] = _tickets(sandbox)
    assert ticket.title == ticket.description == "VPN drops every 5 minutes"


def _dead(sandbox: Sandbox) -> list[str]:
    with Session(sandbox.deps.engine) as session:
        return list(session.exec(select(OutboxMessage.key).where(OutboxMessage.status == "dead")).all())


def test_invisible_or_malformed_messages_open_nothing(sandbox: Sandbox) -> None:
    """Text a reader cannot see (bidi overrides, control characters, zero-width spaces), a `ts` or
    `text` that is not what Slack sends: no ticket, no card that Slack would refuse."""
    events = [
        {"text": "\u202e"}, {"text": "\x07\x00"}, {"text": "\u200b \u2066"},
        {"text": "Printer jams", "ts": "abc"}, {"text": 12345}, {"text": ["a"]},
        {"text": "Printer jams", "thread_ts": "not-a-ts"},
    ]  # fmt: skip
    for n, fields in enumerate(events):
        event = {"type": "message", "channel": "C_HELP", "user": "U_A", "ts": f"179665{n:04d}.000100", **fields}
        _send(sandbox, event, f"Ev_BAD_{n}")
    assert _tickets(sandbox) == []
    sandbox.wait_until_delivered()
    assert sandbox.standin.messages("C_TRIAGE") == [] and _dead(sandbox) == []


def test_an_edit_that_empties_the_message_keeps_the_ticket(sandbox: Sandbox) -> None:
    _open_t1(sandbox)
    for n, text in enumerate(["", "\u202e", "\u200b\x07"]):
        edited = {"type": "message", "user": "U_REQUESTER", "text": text, "ts": SOURCE_TS}
        edit = {"type": "message", "subtype": "message_changed", "channel": "C_HELP", "hidden": True,
                "ts": f"17966557{n:02d}.000200", "message": edited}  # fmt: skip
        _send(sandbox, edit, f"Ev_EMPTY_EDIT_{n}")
    [ticket] = _tickets(sandbox)
    assert (ticket.title, ticket.description) == ("VPN drops every 10 minutes", "VPN drops every 10 minutes")
    sandbox.wait_until_delivered()
    assert _dead(sandbox) == []


def test_frontline_s_own_messages_are_not_made_tickets_by_shortcut_or_reaction(sandbox: Sandbox) -> None:
    _open_t1(sandbox)
    sandbox.wait_until_delivered()
    [card] = sandbox.standin.messages("C_TRIAGE")
    assert card.get("bot_id") or card.get("user")
    own = {key: card[key] for key in ("type", "text", "ts") if key in card} | {
        key: card[key] for key in ("user", "bot_id") if key in card
    }
    response = sandbox.simulator.message_shortcut(
        callback_id="create_ticket_from_message", user_id="U_AGENT1", channel_id="C_TRIAGE", message=own
    )
    assert response.status == 200
    reaction = {"type": "reaction_added", "user": "U_AGENT1", "reaction": "ticket", "item_user": card.get("user"),
                "item": {"type": "message", "channel": "C_TRIAGE", "ts": card["ts"]}, "event_ts": "9.0"}  # fmt: skip
    _send(sandbox, reaction, "Ev_REACT_OWN")
    sandbox.wait_until_delivered()
    assert [t.ref for t in _tickets(sandbox)] == ["T-1"]
    told = [e["text"] for e in sandbox.standin.ephemerals("C_TRIAGE")]
    assert told == ["That is one of Frontline's own messages: only people's messages become tickets."]


def test_an_event_no_listener_takes_is_acknowledged_so_slack_does_not_retry_it(sandbox: Sandbox) -> None:
    for n, event in enumerate([{"type": "emoji_changed", "subtype": "add"}, {"type": "no_such_event"}]):
        _send(sandbox, event, f"Ev_OTHER_{n}")  # asserts 200
    assert _tickets(sandbox) == []


def test_a_lone_surrogate_in_an_event_is_replaced_not_a_500(sandbox: Sandbox) -> None:
    """JSON may carry "\\ud800" with no partner; no encoder can write it (it failed with a 500)."""
    event = {
        "type": "message",
        "channel": "C_HELP",
        "user": "U_A",
        "text": "Printer \ud800 jams",
        "ts": "1796658000.000100",
    }
    _send(sandbox, event, "Ev_SURROGATE")
    [ticket] = _tickets(sandbox)
    assert ticket.title == "Printer \ufffd jams"
    sandbox.wait_until_delivered()
    assert _dead(sandbox) == [] and len(sandbox.standin.messages("C_TRIAGE")) == 1
