"""Field case F12: long pasted text never breaks the card; the full text is kept and attached."""

from __future__ import annotations

from datetime import UTC, datetime

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
