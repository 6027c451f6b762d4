"""Bugs from support (seed 004) end to end through the stand-in: the bug form, linking tickets, the
bug card updated in place in L3's channel, resolving, telling every requester once, the 10x rule."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from bot.sandbox import Sandbox
from store.models import AuditEvent, Bug, BugLink, OutboxMessage, Ticket

AGENT, LEAD, ENG, REQUESTER = "U_AGENT1", "U_LEAD", "U_ENG", "U_REQUESTER"

GOOD_FORM = {
    "title": "Export to CSV fails &lt;!channel&gt; &amp; more",  # as Slack sends what was typed
    "severity": "minor",
    "impact": "Every EU customer who exports",
    "area": "Reports",
    "steps": "1. Open reports\n2. Click Export",
    "expected": "A CSV downloads",
    "actual": "A 500 error",
    "environment": "Chrome 131, macOS",
}


def _command(sandbox: Sandbox, text: str, user: str = AGENT) -> Any:
    response = sandbox.simulator.slash_command("/ticket", text, user_id=user, channel_id="C_TRIAGE")
    assert response.status == 200 and response.elapsed < 3.0
    return response


def _say(sandbox: Sandbox, text: str, user: str = AGENT) -> str:
    return str(_command(sandbox, text, user).json()["text"])


def _intake(sandbox: Sandbox, text: str, n: int, requester: str = REQUESTER) -> None:
    """A ticket from a message in the intake channel (its requester is told in that message's thread)."""
    event = sandbox.standin.post_as_user("C_HELP", requester, text)
    assert sandbox.simulator.event(event, event_id=f"Ev_BUG_{n}").status == 200


def _open_form(sandbox: Sandbox, text: str = "bug T-1") -> dict[str, Any]:
    before = len(sandbox.standin.calls_to("views.open"))
    response = _command(sandbox, text)
    assert response.body == ""
    opened = sandbox.standin.wait_for_calls("views.open", before + 1)[-1]
    assert opened.response["ok"] is True  # the stand-in checked the view against Block Kit's rules
    view: dict[str, Any] = opened.response["view"]
    assert view in sandbox.standin.views()
    return view


def _submit(sandbox: Sandbox, view: dict[str, Any], values: dict[str, str], user: str = AGENT) -> Any:
    state: dict[str, Any] = {}
    for block_id, value in values.items():
        if block_id == "severity":
            state[block_id] = {"value": {"type": "static_select", "selected_option": {"value": value}}}
        else:
            state[block_id] = {"value": {"type": "plain_text_input", "value": value}}
    response = sandbox.simulator.view_submission(user_id=user, view={**view, "state": {"values": state}})
    assert response.status == 200 and response.elapsed < 3.0
    return response


def _bugs(sandbox: Sandbox) -> list[Bug]:
    with Session(sandbox.deps.engine) as session:
        return list(session.exec(select(Bug).order_by(col(Bug.number))).all())


def _links(sandbox: Sandbox) -> list[tuple[int, int]]:
    with Session(sandbox.deps.engine) as session:
        rows = session.exec(select(BugLink.bug_id, Ticket.number).join(Ticket, col(Ticket.id) == BugLink.ticket_id))
        return sorted((bug_id, number) for bug_id, number in rows.all())


def _state(sandbox: Sandbox) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    with Session(sandbox.deps.engine) as session:
        bugs = [b.model_dump() for b in session.exec(select(Bug)).all()]
        audits = len(session.exec(select(AuditEvent)).all())
        outbox = len(session.exec(select(OutboxMessage)).all())
    return bugs, _links(sandbox), audits, outbox


def _ticket_thread(sandbox: Sandbox, number: int) -> list[str]:
    card = next(c for c in sandbox.standin.messages("C_TRIAGE") if c["text"].startswith(f"T-{number} "))
    return [reply["text"] for reply in card["replies"]]


def _field(card: dict[str, Any], name: str) -> str:
    fields = next(b["fields"] for b in card["blocks"] if b["type"] == "section" and "fields" in b)
    return str(next(f["text"] for f in fields if f["text"].startswith(f"*{name}*")).split("\n", 1)[1])


def _file_bug_1(sandbox: Sandbox) -> dict[str, Any]:
    """T-1 from the intake channel, BUG-1 filed from it; returns BUG-1's card."""
    _intake(sandbox, "Export to CSV gives a 500", 1)
    sandbox.wait_until_delivered()
    view = _open_form(sandbox)
    assert _submit(sandbox, view, GOOD_FORM).body == ""
    sandbox.wait_until_delivered()
    [card] = sandbox.standin.messages("C_L3")
    return card


def test_the_form_checks_each_field_and_files_one_bug_linked_to_the_ticket(sandbox: Sandbox) -> None:
    _intake(sandbox, "Export to CSV gives a 500 <!here>", 1)
    sandbox.wait_until_delivered()
    view = _open_form(sandbox)
    assert [b["block_id"] for b in view["blocks"]] == [
        "title", "severity", "impact", "area", "steps", "expected", "actual", "environment",
    ]  # fmt: skip
    assert all(block["type"] == "input" for block in view["blocks"])
    assert view["blocks"][0]["element"]["initial_value"] == "Export to CSV gives a 500 @here"  # from T-1

    before = _state(sandbox)
    missing = _submit(sandbox, view, {"title": "  ", "severity": "minor", "impact": "All EU"})
    errors = missing.json()["errors"]
    assert missing.json()["response_action"] == "errors"
    assert set(errors) == {"title", "area", "steps", "expected", "actual"}  # environment is optional
    assert errors["steps"] == "Steps to reproduce is required."
    too_long = _submit(sandbox, view, GOOD_FORM | {"steps": "x" * 3001, "severity": "apocalyptic"})
    assert too_long.json() == {
        "response_action": "errors",
        "errors": {"steps": "At most 3,000 characters (this has 3,001).", "severity": "Choose one of "
                   "critical, major, minor, trivial."},
    }  # fmt: skip
    assert _state(sandbox) == before  # nothing filed, nothing queued

    for _ in range(2):  # a double submit of the same view files one bug
        assert _submit(sandbox, view, GOOD_FORM).body == ""
    [bug] = _bugs(sandbox)
    assert (bug.ref, bug.severity, bug.priority, bug.status, bug.reported_by) == ("BUG-1", "minor", "P2", "open", AGENT)
    assert (bug.title, bug.area, bug.steps) == ("Export to CSV fails <!channel> & more", "Reports", GOOD_FORM["steps"])
    assert _links(sandbox) == [(bug.id, 1)]
    sandbox.wait_until_delivered()
    [card] = sandbox.standin.messages("C_L3")
    assert card["ts"] == _bugs(sandbox)[0].card_ts
    assert card["blocks"][0]["text"]["text"].startswith("BUG-1 · Export to CSV fails")
    assert card["blocks"][0]["text"]["type"] == "plain_text"  # the header: shown as typed, never a ping
    assert "<!channel>" not in str(card["blocks"][1:]) and "fails &lt;!channel&gt; &amp; more" in card["text"]
    assert (_field(card, "Linked tickets"), _field(card, "Severity").split()[-1]) == ("1", "minor")
    assert [e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]] == ["bug_resolve"]
    assert _ticket_thread(sandbox, 1)[-1].startswith(f"<@{AGENT}> filed BUG-1 from it: Export to CSV fails")
    assert [e["text"] for e in sandbox.standin.ephemerals("C_TRIAGE")] == ["Filed *BUG-1* from T-1 · card in <#C_L3>"]
    with Session(sandbox.deps.engine) as session:
        on_ticket = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "ticket")).all()
    assert [(e.action, e.field, e.after) for e in on_ticket if e.action == "linked"] == [("linked", "bug", "BUG-1")]


def test_the_card_button_opens_the_form_and_non_agents_cannot_file(sandbox: Sandbox) -> None:
    _intake(sandbox, "Export to CSV gives a 500", 1)
    sandbox.wait_until_delivered()
    [ticket_card] = sandbox.standin.messages("C_TRIAGE")
    button = {"action_id": "ticket_bug", "block_id": "ticket_actions", "type": "button", "value": "1"}
    response = sandbox.simulator.block_action(
        user_id=AGENT, actions=[button], channel_id="C_TRIAGE", message=ticket_card
    )
    assert response.status == 200
    [opened] = sandbox.standin.wait_for_calls("views.open")
    assert opened.response["ok"] is True and opened.args["view"]["callback_id"] == "ticket_bug_form"
    refused = _command(sandbox, "bug T-1", user=REQUESTER).json()["text"]
    assert refused.startswith(":warning: Only agents work tickets, so you cannot file a bug from T-1.")
    assert _say(sandbox, "bug T-9") == ":warning: T-9 does not exist."
    assert len(sandbox.standin.calls_to("views.open")) == 1
    # A form opened by an agent and submitted by someone else (or a forged payload) is refused in the form.
    view = opened.response["view"]
    outsider = _submit(sandbox, view, GOOD_FORM, user=REQUESTER)
    assert outsider.json()["errors"]["title"].startswith("Only agents work tickets")
    assert _bugs(sandbox) == []


def test_linking_updates_the_same_card_and_refuses_bad_links(sandbox: Sandbox) -> None:
    card = _file_bug_1(sandbox)
    _say(sandbox, "Export is broken for us too", user="U_A")  # T-2
    _say(sandbox, "CSV export 500s", user="U_B")  # T-3
    assert _say(sandbox, "link T-2 BUG-1") == "Linked T-2 to BUG-1 (2 linked)."
    assert _say(sandbox, "link T-3 bug-1") == "Linked T-3 to BUG-1 (3 linked)."
    sandbox.wait_until_delivered()
    [updated] = sandbox.standin.messages("C_L3")
    assert updated["ts"] == card["ts"]  # the same message, edited in place
    assert _field(updated, "Linked tickets") == "3"
    context = " ".join(e["text"] for b in updated["blocks"] if b["type"] == "context" for e in b["elements"])
    assert "Linked: T-1, T-2, T-3" in context
    assert [r["text"] for r in updated["replies"]] == [
        f"<@{AGENT}> linked T-2 (2 tickets)",
        f"<@{AGENT}> linked T-3 (3 tickets)",
    ]
    assert _ticket_thread(sandbox, 2) == [f"<@{AGENT}> linked it to BUG-1"]

    before = _state(sandbox)
    assert _say(sandbox, "link T-2 BUG-1") == ":warning: T-2 is already linked to BUG-1."
    assert _say(sandbox, "link T-2 BUG-9") == ":warning: BUG-9 does not exist."
    assert _say(sandbox, "link T-99 BUG-1") == ":warning: T-99 does not exist."
    refused = _say(sandbox, "link T-2 BUG-1", user=REQUESTER)
    assert refused.startswith(":warning: Only agents work tickets, so you cannot link T-2 to BUG-1. Agents:")
    assert _state(sandbox) == before
    shown = _command(sandbox, "bug BUG-1", user=REQUESTER).json()
    assert shown["text"].startswith("BUG-1 [P2]") and "3 linked ticket(s)" in shown["text"]
    assert _say(sandbox, "bug BUG-4") == ":warning: BUG-4 does not exist."


def test_resolve_is_for_l3_and_notify_tells_each_requester_once(sandbox: Sandbox) -> None:
    _file_bug_1(sandbox)  # T-1 from C_HELP: told in its thread
    _intake(sandbox, "CSV export broken here as well", 2, requester="U_A")  # T-2: told in its thread
    _say(sandbox, "Exports fail", user=REQUESTER)  # T-3 by /ticket: told by DM
    _say(sandbox, "link T-2 BUG-1")
    _say(sandbox, "link T-3 BUG-1")
    sandbox.wait_until_delivered()
    before = _state(sandbox)
    refused = _say(sandbox, "bug BUG-1 resolve")
    assert refused == (
        ":warning: Only L3, leads or admins may resolve BUG-1. They are: <@U_ENG>, <@U_LEAD>, <@U_ADMIN>."
    )
    assert _say(sandbox, "bug BUG-1 notify", user=ENG).startswith(":warning: BUG-1 is not resolved yet")
    assert _state(sandbox) == before

    [card] = sandbox.standin.messages("C_L3")
    resolve = {"action_id": "bug_resolve", "block_id": "bug_actions", "type": "button", "value": "1"}
    sandbox.simulator.block_action(user_id=AGENT, actions=[resolve], channel_id="C_L3", message=card)
    sandbox.simulator.block_action(user_id=ENG, actions=[resolve], channel_id="C_L3", message=card)
    sandbox.wait_until_delivered()
    [bug] = _bugs(sandbox)
    assert (bug.status, bug.resolved_by) == ("resolved", ENG)
    [card] = sandbox.standin.messages("C_L3")
    [notify] = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (notify["action_id"], notify["text"]["text"]) == (
        "bug_notify",
        "Notify 2 requesters",
    )  # T-1 and T-3 are one person
    told = [e for e in sandbox.standin.ephemerals("C_L3") if e["user"] == AGENT]
    assert len(told) == 1 and "Only L3, leads or admins may resolve BUG-1" in told[0]["text"]

    for _ in range(2):  # a double click tells nobody twice
        sandbox.simulator.block_action(user_id=ENG, actions=[notify], channel_id="C_L3", message=card)
    assert _say(sandbox, "bug BUG-1 notify", user=LEAD) == (
        f":warning: BUG-1's requesters were already notified by <@{ENG}>."
    )
    sandbox.wait_until_delivered()
    threads = {m["text"]: [r["text"] for r in m["replies"]] for m in sandbox.standin.messages("C_HELP")}
    for source, ref in (("Export to CSV gives a 500", "T-1"), ("CSV export broken here as well", "T-2")):
        fixed = [text for text in threads[source] if "is fixed" in text]
        assert len(fixed) == 1 and f"about {ref}" in fixed[0] and "(BUG-1)" in fixed[0]
    dm = sandbox.standin.dm_channel(REQUESTER)
    assert dm is not None
    assert [m["text"] for m in sandbox.standin.messages(dm) if "is fixed" in m["text"]] == [
        f"Hi <@{REQUESTER}>, good news about T-3 (Exports fail): the problem behind it (BUG-1) is fixed. "
        "If you still see it, reply here and we'll look again."
    ]
    already = [e["text"] for e in sandbox.standin.ephemerals("C_L3") if e["user"] == ENG]
    assert already == [f":warning: BUG-1's requesters were already notified by <@{ENG}>."]
    [card] = sandbox.standin.messages("C_L3")
    assert not [b for b in card["blocks"] if b["type"] == "actions"]  # nothing left to click
    assert _ticket_thread(sandbox, 3)[-1] == f"<@{ENG}> told the requester by DM that BUG-1 is fixed"
    assert _bugs(sandbox)[0].notified_by == ENG


def test_the_10x_rule_raises_to_p1_with_one_alert(sandbox: Sandbox) -> None:
    _file_bug_1(sandbox)  # minor → P2
    for n in range(2, 12):
        _say(sandbox, f"Export broken again {n}", user="U_A")
    for n in range(2, 11):
        _say(sandbox, f"link T-{n} BUG-1")
    [bug] = _bugs(sandbox)
    assert (bug.priority, bug.flagged_at) == ("P2", None)  # 10 linked tickets: not yet
    _say(sandbox, "link T-11 BUG-1")
    [bug] = _bugs(sandbox)
    assert bug.priority == "P1" and bug.flagged_at is not None
    _say(sandbox, "Export broken once more", user="U_A")  # T-12
    _say(sandbox, "link T-12 BUG-1")  # still tripped: no second alert
    sandbox.wait_until_delivered()
    card, *alerts = sandbox.standin.messages("C_L3")
    assert len(alerts) == 1 and alerts[0]["text"].startswith(":rotating_light: *BUG-1* has 11 tickets linked")
    assert "raised P2 → P1" in alerts[0]["text"]
    assert _field(card, "Priority").endswith("P1") and _field(card, "Linked tickets") == "12"
    assert any("10x rule" in b.get("text", {}).get("text", "") for b in card["blocks"] if b["type"] == "section")
    with Session(sandbox.deps.engine) as session:
        on_bug = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "bug")).all()
    assert [(e.before, e.after) for e in on_bug if (e.action, e.field) == ("changed", "priority")] == [("P2", "P1")]
    assert len([e for e in on_bug if e.action == "flagged"]) == 1


def test_links_older_than_30_days_do_not_count(sandbox: Sandbox) -> None:
    _file_bug_1(sandbox)
    for n in range(2, 12):
        _say(sandbox, f"Export broken again {n}", user="U_A")
    with Session(sandbox.deps.engine) as session:  # the first link happened long ago
        first = session.exec(select(BugLink)).one()
        first.linked_at = first.linked_at - timedelta(days=31)
        session.add(first)
        session.commit()
    for n in range(2, 12):
        _say(sandbox, f"link T-{n} BUG-1")
    [bug] = _bugs(sandbox)
    assert (bug.priority, bug.flagged_at) == ("P2", None)  # 11 linked, 10 of them in the last 30 days


def test_export_bugs_jsonl_and_csv(sandbox: Sandbox, database_url: str, tmp_path: Path) -> None:
    _file_bug_1(sandbox)
    _say(sandbox, "Export is broken for us too", user=REQUESTER)  # T-2
    _say(sandbox, "link T-2 BUG-1")
    _intake(sandbox, "Typo on the pricing page", 3)  # T-3
    sandbox.wait_until_delivered()
    view = _open_form(sandbox, "bug T-3")
    _submit(sandbox, view, GOOD_FORM | {"title": "=HYPERLINK(1) typo", "severity": "trivial"})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FRONTLINE_", "DATABASE_"))} | {
        "DATABASE_URL": database_url, "FRONTLINE_CONFIG": str(tmp_path / "absent.yaml"), "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    (tmp_path / "absent.yaml").write_text("channels: {triage: C_TRIAGE}\n")

    def frontline(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bot", "export", "bugs", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)

    jsonl = frontline("--format", "jsonl")
    assert jsonl.returncode == 0, jsonl.stderr
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [(r["id"], r["linked_count"], r["linked_tickets"]) for r in records] == [
        ("BUG-1", 2, ["T-1", "T-2"]),
        ("BUG-2", 1, ["T-3"]),
    ]
    first = records[0]
    assert (first["severity"], first["priority"], first["status"], first["reported_by"]) == (
        "minor",
        "P2",
        "open",
        AGENT,
    )
    assert first["created_at"].endswith("Z") and first["resolved_at"] is None
    out = tmp_path / "bugs.csv"
    written = frontline("--format", "csv", "-o", str(out))
    assert written.returncode == 0 and "wrote 2 bugs" in written.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["id"], r["linked_tickets"], r["linked_count"]) for r in rows] == [
        ("BUG-1", "T-1 T-2", "2"),
        ("BUG-2", "T-3", "1"),
    ]
    assert rows[1]["title"] == "'=HYPERLINK(1) typo"  # a spreadsheet will not run it


def test_after_a_fix_new_links_are_told_once_per_person_and_never_raise_the_bug(sandbox: Sandbox) -> None:
    """Found by a fresh-eyes review: links to a resolved bug tripped the 10x rule, and one person
    with several tickets got one DM per ticket."""
    _file_bug_1(sandbox)
    _say(sandbox, "bug BUG-1 resolve", user=ENG)
    assert _say(sandbox, "bug BUG-1 notify", user=ENG).startswith("Telling 1 requester")
    for n in range(2, 14):  # twelve more reports, all from one person, after the fix
        _say(sandbox, f"Export broken again {n}", user=REQUESTER)
        _say(sandbox, f"link T-{n} BUG-1")
    [bug] = _bugs(sandbox)
    assert (bug.priority, bug.flagged_at) == ("P2", None)
    sandbox.wait_until_delivered()
    [card] = sandbox.standin.messages("C_L3")
    [notify] = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert notify["text"]["text"] == "Notify 1 requester"
    for _ in range(2):
        sandbox.simulator.block_action(user_id=ENG, actions=[notify], channel_id="C_L3", message=card)
    sandbox.wait_until_delivered()
    dm = sandbox.standin.dm_channel(REQUESTER)
    assert dm is not None
    assert len([m for m in sandbox.standin.messages(dm) if "is fixed" in m["text"]]) == 1
    [card] = sandbox.standin.messages("C_L3")
    assert not [b for b in card["blocks"] if b["type"] == "actions"]
