"""Working a ticket from Slack: verbs and card buttons change it once, update its card in place and
tell the story in the card's thread; roles and the lifecycle refuse what is not allowed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from bot.config import FrontlineConfig
from bot.sandbox import Sandbox
from bot.worker import run_due_work
from store.models import AuditEvent, OutboxMessage, Ticket
from tests.e2e.clocks import Clock

AGENT, OTHER_AGENT, LEAD, REQUESTER = "U_AGENT1", "U_AGENT2", "U_LEAD", "U_REQUESTER"


def _command(sandbox: Sandbox, text: str, user: str = AGENT) -> str:
    response = sandbox.simulator.slash_command("/ticket", text, user_id=user, channel_id="C_TRIAGE")
    assert response.status == 200
    return str(response.json()["text"])


def _ticket(sandbox: Sandbox, number: int = 1) -> Ticket:
    with Session(sandbox.deps.engine) as session:
        return session.exec(select(Ticket).where(Ticket.number == number)).one()


def _open(sandbox: Sandbox, text: str = "Export button is broken") -> dict[str, Any]:
    assert "Created *T-1*" in _command(sandbox, text, user=REQUESTER)
    sandbox.wait_until_delivered()
    [card] = sandbox.standin.messages("C_TRIAGE")
    return card


def _thread(sandbox: Sandbox) -> list[str]:
    [card] = sandbox.standin.messages("C_TRIAGE")
    return [reply["text"] for reply in card.get("replies", [])]


def test_take_updates_the_card_in_place_and_adds_a_thread_line(sandbox: Sandbox) -> None:
    card = _open(sandbox)
    assert _command(sandbox, "take T-1") == f"T-1: <@{AGENT}> took it"
    sandbox.wait_until_delivered()
    ticket = _ticket(sandbox)
    assert (ticket.owner_id, ticket.status) == (AGENT, "OPEN")
    [updated] = sandbox.standin.messages("C_TRIAGE")
    assert updated["ts"] == card["ts"]  # the same message, edited
    owner_field = next(f["text"] for f in updated["blocks"][1]["fields"] if f["text"].startswith("*Owner*"))
    assert owner_field == f"*Owner*\n<@{AGENT}>"
    assert _thread(sandbox) == [f"<@{AGENT}> took it"]
    with Session(sandbox.deps.engine) as session:
        changes = session.exec(
            select(AuditEvent).where(AuditEvent.action == "changed").order_by(col(AuditEvent.id))
        ).all()
    assert [(c.field, c.before, c.after, c.actor) for c in changes] == [
        ("owner_id", None, AGENT, AGENT),
        ("status", "NEW", "OPEN", AGENT),
    ]


def test_status_flow_and_illegal_transitions(sandbox: Sandbox) -> None:
    _open(sandbox)
    assert _command(sandbox, "pending T-1").startswith("T-1: ")
    assert _command(sandbox, "solve T-1").startswith("T-1: ")
    refused = _command(sandbox, "pending T-1")
    assert refused == ":warning: cannot go from SOLVED to PENDING; from SOLVED it can go to OPEN, CLOSED"
    assert _ticket(sandbox).status == "SOLVED" and _ticket(sandbox).solved_at is not None
    assert _command(sandbox, "close T-1").startswith("T-1: ")
    assert _command(sandbox, "reopen T-1") == f"T-1: <@{AGENT}> reopened it: CLOSED → OPEN"
    reopened = _ticket(sandbox)
    assert (reopened.status, reopened.solved_at, reopened.closed_at) == ("OPEN", None, None)
    assert _command(sandbox, "status T-1 open") == "T-1 is already OPEN."


def test_roles_refuse_with_who_may(sandbox: Sandbox) -> None:
    _open(sandbox)
    refused = _command(sandbox, "take T-1", user=REQUESTER)
    assert refused.startswith(":warning: Only agents work tickets, so you cannot change T-1. Agents: <@U_AGENT1>")
    assert _command(sandbox, "take T-1", user=AGENT).startswith("T-1: ")
    taken_over = _command(sandbox, "take T-1", user=OTHER_AGENT)
    assert taken_over == (
        f":warning: <@{AGENT}> owns this ticket; only leads or admins may reassign it. "
        "Leads and admins: <@U_LEAD>, <@U_ADMIN>."
    )
    assert _command(sandbox, "priority T-1 P0", user=OTHER_AGENT).startswith(":warning: <@U_AGENT1> owns this ticket")
    assert _command(sandbox, f"assign T-1 <@{REQUESTER}>", user=LEAD).startswith(
        f":warning: <@{REQUESTER}> is not an agent"
    )
    assert _command(sandbox, f"assign T-1 <@{OTHER_AGENT}|priya>", user=LEAD).startswith("T-1: ")
    assert _ticket(sandbox).owner_id == OTHER_AGENT
    assert _command(sandbox, "take T-99") == ":warning: T-99 does not exist."


def test_priority_change_retargets_and_shows_who(sandbox: Sandbox) -> None:
    _open(sandbox)  # P1 on business hours
    before = _ticket(sandbox)
    assert _command(sandbox, "priority T-1 P0") == f"T-1: <@{AGENT}> changed the priority: P1 → P0"
    after = _ticket(sandbox)
    assert after.priority == "P0"
    assert after.priority_reason == f"P0: set by <@{AGENT}> (was P1: keyword 'broken')"
    assert after.first_response_due is not None and before.first_response_due is not None
    # P0: 15 min on 24x7, less the time already used on P1's business calendar before the change.
    assert after.first_response_running_since is not None
    used = timedelta(seconds=after.first_response_used_s)
    assert after.first_response_due == after.first_response_running_since + timedelta(minutes=15) - used
    sandbox.wait_until_delivered()
    [card] = sandbox.standin.messages("C_TRIAGE")
    context = " ".join(e["text"] for b in card["blocks"] if b["type"] == "context" for e in b["elements"])
    assert f"set by <@{AGENT}>" in context


def test_tags_and_notes(sandbox: Sandbox) -> None:
    _open(sandbox)
    assert _command(sandbox, "tag T-1 billing vip") == f"T-1: <@{AGENT}> tagged it: billing vip"
    assert _command(sandbox, "tag T-1 vip") == "T-1 already has those tags."
    assert _ticket(sandbox).tags == ["billing", "vip"]
    assert _command(sandbox, "note T-1 Called them <!channel> &amp; left a message").startswith("T-1: ")
    sandbox.wait_until_delivered()
    assert _thread(sandbox)[-1] == f":memo: <@{AGENT}>: Called them @channel &amp; left a message"


def _click(sandbox: Sandbox, card: dict[str, Any], user: str, action_id: str, **extra: Any) -> None:
    action = {"action_id": action_id, "block_id": "ticket_actions", "value": "1", **extra}
    response = sandbox.simulator.block_action(user_id=user, actions=[action], channel_id="C_TRIAGE", message=card)
    assert response.status == 200 and response.elapsed < 3.0


def test_double_clicked_take_changes_once_and_tells_the_others(sandbox: Sandbox) -> None:
    card = _open(sandbox)
    _click(sandbox, card, AGENT, "ticket_take")
    _click(sandbox, card, AGENT, "ticket_take")
    _click(sandbox, card, OTHER_AGENT, "ticket_take")
    sandbox.wait_until_delivered()
    assert _ticket(sandbox).owner_id == AGENT
    assert _thread(sandbox) == [f"<@{AGENT}> took it"]
    told = {(e["user"], e["text"]) for e in sandbox.standin.ephemerals("C_TRIAGE")}
    assert (AGENT, f"T-1 is already <@{AGENT}>'s.") in told
    assert any(user == OTHER_AGENT and "only leads or admins may reassign" in text for user, text in told)
    assert len(told) == 2


def test_priority_select_and_solve_button(sandbox: Sandbox) -> None:
    card = _open(sandbox)
    _click(sandbox, card, AGENT, "ticket_take")
    option = {"text": {"type": "plain_text", "text": "P0 · critical"}, "value": "1:P0"}
    select = {
        "action_id": "ticket_priority",
        "block_id": "ticket_actions",
        "type": "static_select",
        "selected_option": option,
    }
    response = sandbox.simulator.block_action(user_id=AGENT, actions=[select], channel_id="C_TRIAGE", message=card)
    assert response.status == 200
    _click(sandbox, card, AGENT, "ticket_solve")
    ticket = _ticket(sandbox)
    assert (ticket.priority, ticket.status) == ("P0", "SOLVED")
    sandbox.wait_until_delivered()
    [updated] = sandbox.standin.messages("C_TRIAGE")
    actions = next(b for b in updated["blocks"] if b["type"] == "actions")
    assert [e.get("action_id") for e in actions["elements"]] == ["ticket_reopen", "ticket_priority"]


def test_changes_decided_before_the_card_exists_wait_for_it(database_url: str, config: Any) -> None:
    with Sandbox(database_url=database_url, config=config, with_worker=False) as sandbox:
        _command(sandbox, "Export button is broken", user=REQUESTER)
        _command(sandbox, "take T-1")
        _command(sandbox, "tag T-1 billing")
        report = run_due_work(sandbox.deps, sandbox.deps.clock())
        assert (report.retrying, report.dead) == (0, 0)
        posts = [c for c in sandbox.standin.calls_to("chat.postMessage") if c.args.get("channel") == "C_TRIAGE"]
        assert len(posts) == 3  # the card, then two lines in its thread
        assert len(sandbox.standin.calls_to("chat.update")) == 2
        [card] = sandbox.standin.messages("C_TRIAGE")
        assert [r["text"] for r in card["replies"]] == [f"<@{AGENT}> took it", f"<@{AGENT}> tagged it: billing"]
        with Session(sandbox.deps.engine) as session:
            numbers = session.exec(select(col(Ticket.number))).all()
        assert numbers == [1]


def _refs(text: str) -> list[str]:
    return [word.strip("*") for word in text.split() if word.startswith("*T-")]


@pytest.fixture
def weekend(database_url: str, config: FrontlineConfig) -> Iterator[Sandbox]:
    """On a Saturday: the business-hours clocks are closed, so only the P0 (24x7) is due within
    the hour, whatever time of day the tests run."""
    clock = Clock(datetime(2026, 12, 5, 12, 0, tzinfo=ZoneInfo("America/New_York")))
    with Sandbox(database_url=database_url, config=config, clock=clock) as sandbox:
        yield sandbox


def test_list_filters_orders_and_pages(weekend: Sandbox) -> None:
    sandbox = weekend
    _command(sandbox, "Checkout is down customer:acme", user=REQUESTER)  # T-1 P0 (24x7: due in 15 min)
    _command(sandbox, "Export is broken", user=REQUESTER)  # T-2 P1
    _command(sandbox, "How do I rename a project?", user=REQUESTER)  # T-3 P2
    _command(sandbox, "Feature request: dark mode", user=REQUESTER)  # T-4 P3
    _command(sandbox, "take T-2")
    _command(sandbox, "solve T-3")
    listed = _command(sandbox, "list")
    assert listed.startswith("3 tickets · 1–3")
    assert _refs(listed) == ["T-1", "T-2", "T-4"]  # open only, most urgent first
    assert _refs(_command(sandbox, "list all")) == ["T-1", "T-2", "T-3", "T-4"]
    assert _refs(_command(sandbox, "list mine")) == ["T-2"]
    assert _refs(_command(sandbox, f"list <@{AGENT}|alex>")) == ["T-2"]
    assert _refs(_command(sandbox, "list P3")) == ["T-4"]
    assert _refs(_command(sandbox, "list customer:ACME")) == ["T-1"]
    assert _refs(_command(sandbox, "list breaching")) == ["T-1"]  # only T-1 is due within the hour
    assert _command(sandbox, "list P0 mine") == "No tickets match."
    assert _command(sandbox, "list page 2") == "No tickets on page 2 (there are 3)."
    assert _command(sandbox, "list soon").startswith(":warning: 'soon' is not a list filter")


def test_list_pages_through_many(sandbox: Sandbox) -> None:
    for n in range(12):
        _command(sandbox, f"printer {n} jams", user=REQUESTER)
    first, second = _command(sandbox, "list"), _command(sandbox, "list page 2")
    assert first.startswith("12 tickets · 1–10") and len(_refs(first)) == 10
    assert second.startswith("12 tickets · 11–12") and len(_refs(second)) == 2
    assert set(_refs(first)).isdisjoint(_refs(second))


def test_history_lists_every_change_in_order(sandbox: Sandbox) -> None:
    _open(sandbox)
    _command(sandbox, "take T-1")
    _command(sandbox, "priority T-1 P2")
    history = _command(sandbox, "history T-1")
    assert history.startswith("History of T-1 · 7 changes")
    with Session(sandbox.deps.engine) as session:
        fields = [e.field for e in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()]
    assert fields == [
        "priority", "owner_id", "status", "priority", "priority_reason", "first_response_due", "resolution_due",
    ]  # fmt: skip
    assert _command(sandbox, "history T-9") == ":warning: T-9 does not exist."


def test_app_home_shows_my_queue_and_the_teams_risks(weekend: Sandbox) -> None:
    sandbox = weekend
    _command(sandbox, "Checkout is down customer:acme", user=REQUESTER)  # T-1 P0, due within the hour
    _command(sandbox, "Export is broken", user=REQUESTER)  # T-2 P1
    _command(sandbox, "take T-2")
    for n in (1, 2):  # Slack retries the same event: one publish per event
        event = {"type": "app_home_opened", "user": AGENT, "channel": "D_AGENT1", "tab": "home", "event_ts": "1.0"}
        assert sandbox.simulator.event(event, event_id="Ev_HOME", retry_num=n - 1 or None).status == 200
    sandbox.wait_until_delivered()
    [published] = sandbox.standin.calls_to("views.publish")
    assert published.response["ok"] is True and published.args["user_id"] == AGENT
    sections = [b["text"]["text"] for b in published.args["view"]["blocks"] if b["type"] == "section"]
    mine, at_risk, unassigned = sections
    assert _refs(mine) == ["T-2"]
    assert _refs(at_risk) == ["T-1"]
    assert _refs(unassigned) == ["T-1"]


def _reply_form(sandbox: Sandbox, text: str, user: str = AGENT) -> dict[str, Any]:
    before = len(sandbox.standin.calls_to("views.open"))
    response = sandbox.simulator.slash_command("/ticket", text, user_id=user, channel_id="C_TRIAGE")
    assert response.status == 200 and response.body == ""
    opened = sandbox.standin.wait_for_calls("views.open", before + 1)[-1]
    assert opened.response["ok"] is True
    view: dict[str, Any] = opened.response["view"]
    return view


def _send_reply(sandbox: Sandbox, view: dict[str, Any], text: str) -> Any:
    state = {"message": {"value": {"type": "plain_text_input", "value": text}}}
    return sandbox.simulator.view_submission(user_id=AGENT, view={**view, "state": {"values": state}})


def test_reply_with_a_template_answers_in_the_request_thread(sandbox: Sandbox) -> None:
    event = sandbox.standin.post_as_user("C_HELP", REQUESTER, "The export button is broken")
    assert sandbox.simulator.event(event, event_id="Ev_REPLY").status == 200
    sandbox.wait_until_delivered()
    view = _reply_form(sandbox, "reply T-1 bug")
    draft = view["blocks"][0]["element"]["initial_value"]
    assert draft.startswith(f"Hi <@{REQUESTER}>,") and "priority P1" in draft and draft.endswith(f"<@{AGENT}>")
    unfinished = _send_reply(sandbox, view, draft)
    assert unfinished.json()["response_action"] == "errors"
    assert unfinished.json()["errors"]["message"].startswith("Write or delete the bracketed parts first: [specific")
    finished = re.sub(r"\[[^\]]+\]", "the export", draft)
    for _ in range(2):  # a double submit sends once
        assert _send_reply(sandbox, view, finished).body == ""
    sandbox.wait_until_delivered()
    [source] = sandbox.standin.messages("C_HELP")
    replies = [r["text"] for r in source["replies"]]
    assert replies[0].startswith("Ticket T-1 opened") and replies[1:] == [finished]
    ticket = _ticket(sandbox)
    assert ticket.first_responded_at is not None
    assert _thread(sandbox)[-1] == f"<@{AGENT}> replied to the requester in the request's thread (bug)"


def test_reply_is_for_agents_and_needs_a_known_template(sandbox: Sandbox) -> None:
    _open(sandbox)
    assert _command(sandbox, "reply T-1 poem").startswith(":warning: usage: `/ticket reply T-42 bug|feature")
    refused = sandbox.simulator.slash_command("/ticket", "reply T-1 bug", user_id=REQUESTER, channel_id="C_TRIAGE")
    assert refused.json()["text"].startswith(":warning: Only agents work tickets")
    assert sandbox.standin.calls_to("views.open") == []


def test_a_failing_card_holds_back_its_updates_and_the_thread_stays_in_order(database_url: str, config: Any) -> None:
    from datetime import timedelta

    with Sandbox(database_url=database_url, config=config, with_worker=False) as sandbox:
        _command(sandbox, "Export button is broken", user=REQUESTER)  # T-1: its card fails first
        _command(sandbox, "Login is broken", user=REQUESTER)  # T-2: not held back by T-1
        _command(sandbox, "take T-1")
        _command(sandbox, "note T-1 first note")
        _command(sandbox, "pending T-1")
        _command(sandbox, "note T-1 second note")
        sandbox.standin.fail_next("chat.postMessage", "internal_error")
        now = sandbox.deps.clock()
        first = run_due_work(sandbox.deps, now)
        assert first.retrying == 1  # T-1's card; everything of T-1 waits behind it
        cards = sandbox.standin.messages("C_TRIAGE")
        assert [c["text"].split()[0] for c in cards] == ["T-2"]
        assert sandbox.standin.calls_to("chat.update") == []
        later = run_due_work(sandbox.deps, now + timedelta(minutes=1))
        assert (later.retrying, later.dead) == (0, 0)
        t1 = next(c for c in sandbox.standin.messages("C_TRIAGE") if c["text"].startswith("T-1 "))
        assert [r["text"] for r in t1["replies"]] == [
            f"<@{AGENT}> took it",
            f":memo: <@{AGENT}>: first note",
            f"<@{AGENT}> set it: OPEN → PENDING",
            f":memo: <@{AGENT}>: second note",
        ]


def test_notes_are_for_agents_only_in_history(sandbox: Sandbox) -> None:
    _open(sandbox)
    _command(sandbox, "note T-1 customer is on the churn list SECRETNOTE")
    assert "SECRETNOTE" in _history_blocks(sandbox, AGENT)
    requester_view = _history_blocks(sandbox, REQUESTER)
    assert "SECRETNOTE" not in requester_view and "added an internal note" in requester_view


def _history_blocks(sandbox: Sandbox, user: str) -> str:
    response = sandbox.simulator.slash_command("/ticket", "history T-1", user_id=user, channel_id="C_TRIAGE")
    return str(response.json()["blocks"])


def test_an_owner_hint_must_name_an_agent(sandbox: Sandbox) -> None:
    refused = _command(sandbox, f"Login fails <@{REQUESTER}>", user=REQUESTER)
    assert refused == f":warning: <@{REQUESTER}> is not an agent, so cannot own tickets (roles in frontline.yaml)"
    assert _command(sandbox, f"Login fails <@{AGENT}>", user=REQUESTER).startswith("Created *T-1*")
    assert _ticket(sandbox).owner_id == AGENT


def test_crafted_button_values_are_ignored_not_500(sandbox: Sandbox) -> None:
    card = _open(sandbox)
    bad = [
        {"action_id": "ticket_priority", "selected_option": {"value": "1:P9"}},
        {"action_id": "ticket_priority", "selected_option": {"value": "1:"}},
        {"action_id": "ticket_take", "value": "²"},
        {"action_id": "ticket_take", "value": "9" * 30},
    ]
    for action in bad:
        response = sandbox.simulator.block_action(user_id=AGENT, actions=[action], channel_id="C_TRIAGE", message=card)
        assert response.status == 200
    assert _ticket(sandbox).owner_id is None and _ticket(sandbox).priority == "P1"


def test_when_the_card_cannot_be_posted_its_updates_give_up_at_once(database_url: str) -> None:
    from bot.config import parse_config

    config = parse_config({"channels": {"triage": "C_GONE"}, "roles": {"agents": [AGENT]}})
    with Sandbox(database_url=database_url, config=config, with_worker=False) as sandbox:
        _command(sandbox, "Export button is broken", user=REQUESTER)
        _command(sandbox, "take T-1")
        report = run_due_work(sandbox.deps, sandbox.deps.clock())
        assert (report.dead, report.retrying) == (3, 0)  # the card, then its update and thread line
        with Session(sandbox.deps.engine) as session:
            errors = sorted(str(m.last_error) for m in session.exec(select(OutboxMessage)))
        assert (
            errors == ["channel_not_found"] + ["given up: the card of T-1 could not be posted (channel_not_found)"] * 2
        )


def test_a_root_cause_is_recorded_once_audited_and_refused_when_unknown(sandbox: Sandbox) -> None:
    _open(sandbox, "How do I rotate my API key?")
    assert _command(sandbox, "solve T-1 documentation_gap") == (
        f"T-1: <@{AGENT}> set it: NEW → SOLVED; <@{AGENT}> recorded the root cause: Documentation gap"
    )
    assert _command(sandbox, "cause T-1 documentation_gap") == "T-1 already has that root cause recorded."
    assert "'typo' is not a root cause" in _command(sandbox, "cause T-1 typo")
    assert "is not a ticket reference" not in _command(sandbox, "cause T-1 user_error self_service_redirect")
    assert "Only agents" in _command(sandbox, "cause T-1 product_bug", user=REQUESTER)
    ticket = _ticket(sandbox)
    assert (ticket.status, ticket.root_cause, ticket.resolution_type) == (
        "SOLVED",
        "user_error",
        "self_service_redirect",
    )
    with Session(sandbox.deps.engine) as session:
        changes = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.field).in_(("root_cause", "resolution_type")))
            .order_by(col(AuditEvent.id))
        ).all()
    assert [(c.field, c.before, c.after) for c in changes] == [
        ("root_cause", None, "documentation_gap"),
        ("root_cause", "documentation_gap", "user_error"),
        ("resolution_type", None, "self_service_redirect"),
    ]
    sandbox.wait_until_delivered()
    assert _thread(sandbox)[-1] == (
        f"<@{AGENT}> recorded the root cause: User error (resolution: self service redirect)"
    )


def test_outside_the_team_people_see_only_their_own_requests(weekend: Sandbox) -> None:
    sandbox, stranger = weekend, "U_RANDOM"
    _command(sandbox, "Checkout is down customer:acme", user=REQUESTER)  # T-1
    _command(sandbox, "VPN drops every hour", user=stranger)  # T-2, the stranger's own
    refused = "T-1 is someone else's request: you can see the tickets you asked for; the support team sees them all."
    for verb in ("show", "history"):
        assert _command(sandbox, f"{verb} T-1", user=stranger).startswith(f":warning: {refused}")
        assert "T-1" in _command(sandbox, f"{verb} T-1", user=REQUESTER)
        assert not _command(sandbox, f"{verb} T-2", user=stranger).startswith(":warning:")
    assert _refs(_command(sandbox, "list all", user=stranger)) == ["T-2"]
    assert _refs(_command(sandbox, "list customer:acme", user=stranger)) == []
    assert sorted(_refs(_command(sandbox, "list all", user=AGENT))) == ["T-1", "T-2"]

    event = {"type": "app_home_opened", "user": stranger, "channel": "D_RANDOM", "tab": "home", "event_ts": "2.0"}
    assert sandbox.simulator.event(event, event_id="Ev_HOME_STRANGER").status == 200
    sandbox.wait_until_delivered()
    [published] = sandbox.standin.calls_to("views.publish")
    assert published.response["ok"] is True and published.args["user_id"] == stranger
    sections = [b["text"]["text"] for b in published.args["view"]["blocks"] if b["type"] == "section"]
    assert [_refs(section) for section in sections] == [["T-2"]]
