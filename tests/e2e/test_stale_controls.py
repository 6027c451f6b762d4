"""Buttons, forms and shortcuts from messages an older version posted (their ids since renamed):
Slack gets its 200 (else the user sees a warning icon and Slack logs a failure) and the user who
clicked is told the button does nothing now; nothing changes."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.sandbox import Sandbox
from handlers.fallback import STALE_CONTROL
from store.models import AuditEvent, OutboxMessage

CLICKER = "U_AGENT1"


def test_an_unknown_button_is_acknowledged_and_explained(sandbox: Sandbox) -> None:
    message = {"ts": "1700000000.000100", "text": "an old card", "blocks": []}
    response = sandbox.simulator.block_action(
        user_id=CLICKER, actions=[{"action_id": "ticket_grab_v0", "value": "1"}], channel_id="C_TRIAGE", message=message
    )
    assert response.status == 200
    told = [(e["user"], e["text"]) for e in sandbox.standin.ephemerals("C_TRIAGE")]
    assert told == [(CLICKER, STALE_CONTROL)]
    with Session(sandbox.deps.engine) as session:
        assert session.exec(select(AuditEvent)).all() == []
        assert session.exec(select(OutboxMessage)).all() == []


def test_an_unknown_form_and_shortcut_are_acknowledged(sandbox: Sandbox) -> None:
    view = {"id": "V_OLD", "callback_id": "ticket_form_v0", "private_metadata": "", "state": {"values": {}}}
    assert sandbox.simulator.view_submission(user_id=CLICKER, view=view).status == 200
    assert sandbox.simulator.global_shortcut(callback_id="old_shortcut", user_id=CLICKER).status == 200
    with Session(sandbox.deps.engine) as session:
        assert session.exec(select(AuditEvent)).all() == []
