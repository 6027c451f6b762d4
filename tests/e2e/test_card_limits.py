"""Field case F12: long pasted text never breaks the card; the full text is kept and attached."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.core.text import utf16_len
from bot.sandbox import Sandbox
from bot.services.tickets import NewTicket, create_ticket
from store.models import Ticket

FIRST_LINE = "Checkout 500s after deploy"


def _paste(total: int, insert_at: int, piece: str) -> str:
    """`total` characters as typed: the first line, a log, and `piece` starting at `insert_at`."""
    head = FIRST_LINE + "\n"
    body = head + "".join(f"line {n}: GET /checkout 500\n" for n in range(total))
    body = body[:insert_at] + piece + body[insert_at:]
    return body[:total]


def _wire(typed: str) -> str:
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _check_card(sandbox: Sandbox, typed: str) -> None:
    sandbox.wait_until_delivered()
    with Session(sandbox.deps.engine) as session:
        ticket = session.exec(select(Ticket)).one()
    assert ticket.description == typed
    assert ticket.title == FIRST_LINE
    [post] = [c for c in sandbox.standin.calls_to("chat.postMessage") if c.args.get("channel") == "C_TRIAGE"]
    assert post.response["ok"] is True and "warning" not in post.response
    blocks = post.args["blocks"]
    assert len(blocks) <= 50 and utf16_len(post.args["text"]) <= 4000
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section" and "text" in block:
            assert utf16_len(block["text"]["text"]) <= 3000
    section = next(b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b)
    assert section.endswith("…")
    assert "\ud83d" not in section and not section[:-1].endswith(("&", "&a", "&am", "&amp"))
    notes = " ".join(e["text"] for b in blocks if b["type"] == "context" for e in b["elements"])
    assert f"the full text ({len(typed):,} characters) is attached in the thread" in notes
    [upload] = sandbox.standin.calls_to("files.completeUploadExternal")
    assert upload.response["ok"] is True
    [card] = sandbox.standin.messages("C_TRIAGE")
    [reply] = card["replies"]
    file_id = reply["files"][0]["id"]
    assert sandbox.standin.file_content(file_id) == typed.encode()


@pytest.mark.parametrize(
    ("where", "piece"),
    [(2999, "🔥"), (2998, "&"), (2997, "&")],
    ids=["emoji-at-2999", "entity-spanning-3000", "entity-at-cut"],
)
def test_3500_character_paste_through_ticket_command(sandbox: Sandbox, where: int, piece: str) -> None:
    typed = _paste(3500, where, piece)
    assert len(typed) == 3500
    response = sandbox.simulator.slash_command("/ticket", _wire(typed), user_id="U_REQUESTER", channel_id="C_HELP")
    assert response.status == 200 and "Created *T-1*" in response.json()["text"]
    _check_card(sandbox, typed)


def test_45000_character_paste_is_stored_whole_and_carded(sandbox: Sandbox) -> None:
    typed = _paste(45_000, 2999, "🔥")
    request = NewTicket(FIRST_LINE, typed, "U_REQUESTER", "message", requester_id="U_REQUESTER")
    create_ticket(sandbox.deps.engine, sandbox.deps.policy, request, now=datetime.now(UTC))
    _check_card(sandbox, typed)


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value (not its repr or dump, which would escape control characters)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_layout_controls_are_stored_verbatim_and_never_shown(sandbox: Sandbox) -> None:
    """An RTL override would make "invoice\u202egnp.exe" read "invoiceexe.png" in the triage channel;
    a terminal escape or a bell has no business in a card either. The ticket keeps what was sent."""
    typed = "Refund for invoice\u202egnp.exe\x07 please\n\x1b[31mcharged twice\x1b[0m \u2067مرحبا\u2069"
    response = sandbox.simulator.slash_command("/ticket", _wire(typed), user_id="U_REQUESTER", channel_id="C_HELP")
    assert response.status == 200
    confirmation = response.json()["text"]
    assert "Created *T-1*" in confirmation and "\u202e" not in confirmation
    sandbox.wait_until_delivered()
    with Session(sandbox.deps.engine) as session:
        ticket = session.exec(select(Ticket)).one()
    assert ticket.description == typed  # verbatim
    [card] = sandbox.standin.messages("C_TRIAGE")
    shown = "\n".join(_strings(card))
    assert "Refund for invoicegnp.exe please" in shown and "مرحبا" in shown
    for control in ("\u202e", "\u2067", "\u2069", "\x07", "\x1b"):
        assert control not in shown
    detail = sandbox.simulator.slash_command("/ticket", "show T-1", user_id="U_AGENT1", channel_id="C_HELP")
    answer = "\n".join(_strings(detail.json()))
    assert "invoicegnp.exe" in answer and "\u202e" not in answer and "\x1b" not in answer
