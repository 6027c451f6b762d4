"""Escalation handoffs end to end: the quick path and the form (field case F7), the handoff card and
its transcript (F13c), role gates, the acknowledgement timer, return to L1, and a double-clicked
Escalate (F8). Time is driven with `run_due_work(now)`, as `frontline tick --now` does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from bot.config import parse_config
from bot.sandbox import Sandbox
from bot.slack.standin import render_message
from bot.worker import run_due_work
from store.models import Escalation, Ticket
from tests.e2e.clocks import Clock

NY = ZoneInfo("America/New_York")
AGENT, L2_AGENT, ENG, LEAD, REQUESTER = "U_AGENT1", "U_AGENT2", "U_ENG", "U_LEAD", "U_REQUESTER"
CONFIG: dict[str, Any] = {
    "timezone": "America/New_York",
    "channels": {
        "triage": "C_TRIAGE", "intake": ["C_HELP"], "social": "C_SOCIAL",
        "escalation": {"L2": "C_L2", "L3": "C_L3", "management": "C_MGMT"},
    },
    "roles": {"agents": [AGENT, L2_AGENT], "l2": [L2_AGENT], "l3": [ENG], "leads": [LEAD], "admins": ["U_ADMIN"]},
    "customers": {
        "acme": {"tier": "enterprise", "arr": 120000}, "globex": {"tier": "business", "arr": 40000},
        "smallco": {"tier": "free", "arr": 0},
    },
}  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 7, 10, 0, tzinfo=NY))  # a Monday


@pytest.fixture
def esc(database_url: str, clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(database_url=database_url, config=parse_config(CONFIG), clock=clock, with_worker=False) as sandbox:
        yield sandbox


def _deliver(sandbox: Sandbox, clock: Clock, at: datetime | None = None, *, dead: int = 0) -> None:
    clock.now = at or clock.now
    report = run_due_work(sandbox.deps, clock.now)
    assert (report.timers_failed, report.dead) == (0, dead), report


def _command(sandbox: Sandbox, text: str, user: str = AGENT, channel: str = "C_TRIAGE") -> Any:
    response = sandbox.simulator.slash_command("/ticket", text, user_id=user, channel_id=channel)
    assert response.status == 200 and response.elapsed < 3.0
    return response


def _said(sandbox: Sandbox, text: str, user: str = AGENT) -> str:
    return str(_command(sandbox, text, user).json()["text"])


def _open_ticket(sandbox: Sandbox, clock: Clock, text: str = "Export to CSV fails customer:smallco") -> None:
    assert "Created *T-1*" in _said(sandbox, text, user=REQUESTER)
    _deliver(sandbox, clock)


def _escalations(sandbox: Sandbox) -> list[Escalation]:
    with Session(sandbox.deps.engine) as session:
        return list(session.exec(select(Escalation).order_by(col(Escalation.id))).all())


def _ticket(sandbox: Sandbox, number: int = 1) -> Ticket:
    with Session(sandbox.deps.engine) as session:
        return session.exec(select(Ticket).where(Ticket.number == number)).one()


def _shown(sandbox: Sandbox, channel: str) -> list[str]:
    return [render_message(message) for message in sandbox.standin.messages(channel)]


def _card(sandbox: Sandbox) -> dict[str, Any]:
    return next(m for m in sandbox.standin.messages("C_TRIAGE") if m["text"].startswith("T-1 "))


def _click(sandbox: Sandbox, user: str, message: dict[str, Any], channel: str, action_id: str) -> Any:
    actions = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    button = next(e for e in actions if e["action_id"] == action_id)
    response = sandbox.simulator.block_action(user_id=user, actions=[button], channel_id=channel, message=message)
    assert response.status == 200 and response.elapsed < 3.0
    return response


def _ephemerals(sandbox: Sandbox, user: str) -> list[str]:
    return [e["text"] for e in sandbox.standin.ephemerals() if e.get("user") == user]


def test_quick_path_posts_the_handoff_with_the_reason_as_what_was_tried(esc: Sandbox, clock: Clock) -> None:
    _open_ticket(esc, clock)
    _said(esc, "take T-1")
    answer = _said(esc, "escalate T-1 L2 Re-ran the export twice <!here>, same timeout")
    assert answer == "T-1 escalated to L2; the handoff is posted in <#C_L2>."
    _deliver(esc, clock)
    [handoff] = esc.standin.messages("C_L2")
    shown = render_message(handoff)
    assert "L2 escalation · T-1 · Export to CSV fails" in shown
    assert "• Re-ran the export twice @here, same timeout" in shown  # echoed, never a ping
    assert "<!here>" not in str(handoff["blocks"])
    assert "smallco (free)" in shown and "Previous escalations 0" in shown
    # The conversation so far goes with it, in the handoff's thread.
    [reply] = handoff["replies"]
    [attached] = reply["files"]
    assert b"Export to CSV fails" in (esc.standin.file_content(attached["id"]) or b"")
    ticket = _ticket(esc)
    assert ticket.status == "ESCALATED"
    assert "Escalated to L2 by <@U_AGENT1>" in str(_card(esc)["blocks"])
    [escalation] = _escalations(esc)
    assert (escalation.level, escalation.tier, escalation.from_tier, escalation.status) == (1, "L2", "L1", "open")


def _open_form(sandbox: Sandbox, text: str = "escalate T-1") -> dict[str, Any]:
    response = _command(sandbox, text)
    assert response.body == "", response.body  # the form opened instead of an answer
    [opened] = sandbox.standin.wait_for_calls("views.open")
    assert opened.response["ok"] is True, opened.response  # the stand-in checked it against Block Kit
    view: dict[str, Any] = opened.response["view"]
    return view


def _submit(sandbox: Sandbox, view: dict[str, Any], user: str = AGENT, **values: str) -> Any:
    state: dict[str, Any] = {}
    for block_id, value in values.items():
        if block_id in {"tier", "sentiment"}:
            state[block_id] = {"value": {"type": "static_select", "selected_option": {"value": value}}}
        elif block_id == "needed_by":
            state[block_id] = {"value": {"type": "datepicker", "selected_date": value}}
        else:
            state[block_id] = {"value": {"type": "plain_text_input", "value": value}}
    response = sandbox.simulator.view_submission(user_id=user, view={**view, "state": {"values": state}})
    assert response.status == 200 and response.elapsed < 3.0
    return response


def test_form_errors_sit_under_their_input_blocks_and_change_nothing(esc: Sandbox, clock: Clock) -> None:
    """Field case F7: no tier chosen and a date in the past, submitted on 2026-12-07."""
    _open_ticket(esc, clock)
    view = _open_form(esc)
    inputs = {b["block_id"] for b in view["blocks"] if b["type"] == "input"}
    assert {"tier", "needed_by", "tried_1", "needed"} <= inputs
    assert "initial_option" not in next(b for b in view["blocks"] if b["block_id"] == "tier")["element"]
    answer = _submit(esc, view, tried_1="Restarted the sync", needed="A fix", needed_by="2026-12-01")
    assert answer.json() == {
        "response_action": "errors",
        "errors": {
            "tier": "Choose the tier to escalate to: L2, L3 or management.",
            "needed_by": "That date is in the past (today is 2026-12-07).",
        },
    }
    too_long = _submit(esc, view, tier="L2", tried_1="x" * 2001, needed="")
    assert set(too_long.json()["errors"]) == {"tried_1", "needed"}
    assert _escalations(esc) == []
    _deliver(esc, clock)
    assert esc.standin.messages("C_L2") == []
    assert _ticket(esc).status == "NEW"


def test_form_path_posts_every_field_once_even_when_submitted_twice(esc: Sandbox, clock: Clock) -> None:
    _open_ticket(esc, clock, "Invoices page times out when filtering by year customer:globex")
    view = _open_form(esc, "escalate T-1 L3")
    tier = next(b for b in view["blocks"] if b["block_id"] == "tier")
    assert tier["element"]["initial_option"]["value"] == "L3"
    facts = view["blocks"][0]["text"]["text"]
    assert "globex (business)" in facts and "$40,000" in facts
    fields = {
        "tier": "L3", "sentiment": "frustrated", "summary": "Invoices time out for globex",
        "tried_1": "Cleared their cache", "result_1": "Still times out",
        "tried_2": "Reproduced on staging", "result_2": "Times out after 30 s with year=2025",
        "needed": "A query fix or an index", "expectation": "Working by Friday", "needed_by": "2026-12-11",
        "urgency": "Their month-end close",
    }  # fmt: skip
    for _ in range(2):
        assert _submit(esc, view, **fields).body == ""
    [escalation] = _escalations(esc)
    assert escalation.tier == "L3"
    _deliver(esc, clock)
    [handoff] = esc.standin.messages("C_L3")
    shown = render_message(handoff)
    for expected in (
        "Invoices time out for globex", "• Cleared their cache → Still times out",
        "• Reproduced on staging → Times out after 30 s with year=2025", "A query fix or an index",
        "Working by Friday", "Needed by 2026-12-11", "Their month-end close", "frustrated", "$40,000",
    ):  # fmt: skip
        assert expected in shown, expected
    assert _ticket(esc).status == "ESCALATED"


def test_acknowledge_and_take_are_gated_to_the_tier_and_leads(esc: Sandbox, clock: Clock) -> None:
    _open_ticket(esc, clock)
    _said(esc, "take T-1")
    _said(esc, "escalate T-1 Tried the usual")  # no tier: the next one up, L2
    _deliver(esc, clock)
    [handoff] = esc.standin.messages("C_L2")
    _click(esc, AGENT, handoff, "C_L2", "escalation_ack")
    _deliver(esc, clock)
    [refused] = _ephemerals(esc, AGENT)
    assert refused == (
        ":warning: Only L2 (<@U_AGENT2>) and leads or admins (<@U_LEAD>, <@U_ADMIN>) may acknowledge this escalation."
    )
    assert _escalations(esc)[0].acknowledged_by is None
    _click(esc, L2_AGENT, handoff, "C_L2", "escalation_ack")
    _click(esc, LEAD, handoff, "C_L2", "escalation_ack")
    _deliver(esc, clock)
    [escalation] = _escalations(esc)
    assert (escalation.status, escalation.acknowledged_by) == ("acknowledged", L2_AGENT)
    assert _ephemerals(esc, LEAD) == ["T-1's L2 escalation was already acknowledged by <@U_AGENT2>."]
    [updated] = esc.standin.messages("C_L2")
    assert updated["ts"] == handoff["ts"] and "*acknowledged* by <@U_AGENT2>" in str(updated["blocks"])
    assert "Acknowledge" not in [
        e["text"]["text"] for b in updated["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    _click(esc, L2_AGENT, updated, "C_L2", "escalation_take")
    _deliver(esc, clock)
    assert _ticket(esc).owner_id == L2_AGENT
    assert "acknowledged the L2 escalation" in str(_card(esc).get("replies"))


def test_unacknowledged_escalation_renudges_the_tier_and_leads_once_per_interval(esc: Sandbox, clock: Clock) -> None:
    start = clock.now
    _open_ticket(esc, clock)
    _said(esc, "escalate T-1 L2 Tried a restart")
    _deliver(esc, clock)

    def nudges() -> int:
        return sum("without acknowledgement" in text for text in _shown(esc, "C_L2"))

    _deliver(esc, clock, start + timedelta(hours=3, minutes=59))
    assert nudges() == 0
    for _ in range(3):  # three sweeps at the same moment: one nudge
        _deliver(esc, clock, start + timedelta(hours=4))
    assert nudges() == 1
    lead_dm = esc.standin.dm_channel(LEAD)
    assert lead_dm is not None
    assert sum("without acknowledgement" in m["text"] for m in esc.standin.messages(lead_dm)) == 1
    # A P2's acknowledgement runs on business hours (09:00-17:00 here): the next interval is three
    # hours on Monday and one on Tuesday, not the evening.
    _deliver(esc, clock, start + timedelta(hours=8))  # Monday 18:00
    assert nudges() == 1
    _deliver(esc, clock, start + timedelta(hours=23, minutes=59))  # Tuesday 09:59
    assert nudges() == 1
    _deliver(esc, clock, start + timedelta(hours=24))  # Tuesday 10:00
    assert nudges() == 2
    [handoff] = [m for m in esc.standin.messages("C_L2") if m["text"].startswith("L2 escalation:")]
    _click(esc, L2_AGENT, handoff, "C_L2", "escalation_ack")
    _deliver(esc, clock, start + timedelta(days=3))
    assert nudges() == 2
    assert _escalations(esc)[0].nudges == 2


def test_return_to_l1_gives_it_back_to_its_owner(esc: Sandbox, clock: Clock) -> None:
    _open_ticket(esc, clock)
    _said(esc, "take T-1")
    assert _said(esc, "deescalate T-1") == ":warning: T-1 is not escalated; nothing to return."
    _said(esc, "escalate T-1 L2 Tried a restart")
    _deliver(esc, clock)
    [handoff] = esc.standin.messages("C_L2")
    _click(esc, L2_AGENT, handoff, "C_L2", "escalation_take")
    assert _ticket(esc).owner_id == L2_AGENT
    assert (
        _said(esc, "deescalate T-1 Config issue, L1 can finish", user=L2_AGENT)
        == "T-1 is back with L1 and <@U_AGENT1>."
    )
    ticket = _ticket(esc)
    assert (ticket.status, ticket.owner_id) == ("OPEN", AGENT)
    assert _escalations(esc)[0].status == "returned"
    _deliver(esc, clock)
    [updated] = esc.standin.messages("C_L2")
    assert "*returned to L1* by <@U_AGENT2>" in str(updated["blocks"])
    assert not [b for b in updated["blocks"] if b["type"] == "actions"]


def test_bad_escalations_are_refused_and_change_nothing(esc: Sandbox, clock: Clock) -> None:
    _open_ticket(esc, clock)
    assert _said(esc, "escalate T-9 L2 x") == ":warning: T-9 does not exist."
    assert _said(esc, "escalate T-1 L4 x").startswith(":warning: 'L4' is not a tier")
    refused = _said(esc, "escalate T-1 L2 x", user=REQUESTER)
    assert refused.startswith(":warning: Only agents work tickets, so you cannot escalate T-1.")
    _said(esc, "escalate T-1 L3 Needs a code fix")
    assert _said(esc, "escalate T-1 L2 again").startswith(":warning: T-1 is already escalated to L3 by <@U_AGENT1>")
    _said(esc, "solve T-1")
    assert _said(esc, "escalate T-1 management why") == ":warning: T-1 is SOLVED: reopen it before escalating."
    assert [e.status for e in _escalations(esc)] == ["closed"]  # solving ended the escalation
    _said(esc, "close T-1")
    assert _said(esc, "escalate T-1") == ":warning: T-1 is CLOSED: reopen it before escalating."
    assert len(_escalations(esc)) == 1


def test_escalating_further_supersedes_and_counts_previous_escalations(esc: Sandbox, clock: Clock) -> None:
    _open_ticket(esc, clock)
    _said(esc, "escalate T-1 L2 Tried a restart")
    _said(esc, "escalate T-1 Needs a code change", user=L2_AGENT)  # next tier: L3
    first, second = _escalations(esc)
    assert (first.status, second.tier, second.level, second.from_tier) == ("superseded", "L3", 2, "L2")
    _deliver(esc, clock)
    [l3] = esc.standin.messages("C_L3")
    assert "Previous escalations 1" in render_message(l3)


def test_a_double_clicked_suggestion_escalates_once(esc: Sandbox, clock: Clock) -> None:
    """Field case F8: two clicks from U_A 400 ms apart and one from U_B 2 s later, while Slack is slow."""
    _open_ticket(esc, clock)
    _said(esc, "take T-1")
    _said(esc, "priority T-1 P1")
    _deliver(esc, clock, clock.now + timedelta(minutes=31))  # stuck: the matrix suggests a peer at L2
    card = _card(esc)
    assert "*Suggested:* stuck: <@U_AGENT1> has had it OPEN for 31m" in str(card["blocks"])
    esc.standin.set_delay("chat.postMessage", 3.5)
    _click(esc, AGENT, card, "C_TRIAGE", "escalate_suggested")
    _click(esc, AGENT, card, "C_TRIAGE", "escalate_suggested")
    _click(esc, L2_AGENT, card, "C_TRIAGE", "escalate_suggested")
    [escalation] = _escalations(esc)
    assert (escalation.level, escalation.escalated_by) == (1, AGENT)
    updates_before = len(esc.standin.calls_to("chat.update"))
    esc.standin.set_delay("chat.postMessage", 0)
    _deliver(esc, clock)
    assert len(esc.standin.messages("C_L2")) == 1
    assert len(esc.standin.calls_to("chat.update")) == updates_before + 1  # the card, once
    assert "Escalated to L2 by <@U_AGENT1>" in str(_card(esc)["blocks"])
    already = "T-1 is already escalated to L2 by <@U_AGENT1>"
    assert [text for text in _ephemerals(esc, AGENT) if already in text] != []
    assert [text for text in _ephemerals(esc, L2_AGENT) if already in text] != []


def test_transcript_joins_a_public_channel_first_and_reports_a_private_one(esc: Sandbox, clock: Clock) -> None:
    """Field case F13c: the handoff is posted once with chat:write.public; the file needs membership."""
    esc.standin.add_channel("C_L2", "support-l2", bot_member=False)
    _open_ticket(esc, clock)
    _said(esc, "escalate T-1 L2 Tried a restart")
    _deliver(esc, clock)
    [handoff] = esc.standin.messages("C_L2")
    assert [f["name"] for r in handoff["replies"] for f in r.get("files", [])] == ["transcript.txt"]
    assert [c.args["channel"] for c in esc.standin.calls_to("conversations.join")] == ["C_L2"]
    # An upload Slack refuses for good leaves the handoff delivered, and says so in its thread.
    esc.standin.fail_next("files.getUploadURLExternal", "restricted_action")
    _said(esc, "escalate T-1 L3 Needs a code fix")
    _deliver(esc, clock, dead=1)  # the transcript
    posts = esc.standin.calls_to("chat.postMessage")
    assert sum(1 for c in posts if c.args.get("channel") == "C_L3" and "thread_ts" not in c.args) == 1
    [l3] = esc.standin.messages("C_L3")
    assert [r["text"] for r in l3["replies"]] == [
        ":paperclip: Attachment failed: the transcript could not be uploaded (Slack said `restricted_action`). "
        "The conversation is in the ticket's source thread."
    ]
    assert "could not post to" not in " ".join(_shown(esc, "C_TRIAGE"))


def test_concurrent_escalations_of_one_ticket_record_one(esc: Sandbox, clock: Clock) -> None:
    """Eight agents escalate T-1 at the same moment (real concurrent requests): one escalation, one
    handoff, and seven answers naming who did it."""
    from concurrent.futures import ThreadPoolExecutor

    _open_ticket(esc, clock)
    users = [AGENT, L2_AGENT] * 4

    def escalate(n: int) -> str:
        response = esc.simulator.slash_command(
            "/ticket", f"escalate T-1 L2 attempt {n}", user_id=users[n], channel_id="C_TRIAGE"
        )
        assert response.status == 200 and response.elapsed < 3.0
        return str(response.json()["text"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(escalate, range(8)))
    assert sum(a.startswith("T-1 escalated to L2") for a in answers) == 1
    assert sum("is already escalated to L2 by" in a for a in answers) == 7
    assert [e.level for e in _escalations(esc)] == [1]
    _deliver(esc, clock)
    assert len(esc.standin.messages("C_L2")) == 1


# --- found by a fresh-eyes review --------------------------------------------------------------


def test_taking_over_from_a_tier_colleague_needs_a_lead(database_url: str, clock: Clock) -> None:
    config = {**CONFIG, "roles": {**CONFIG["roles"], "l2": [L2_AGENT, ENG]}}
    with Sandbox(database_url=database_url, config=parse_config(config), clock=clock, with_worker=False) as esc:
        _open_ticket(esc, clock)
        _said(esc, "take T-1")
        _said(esc, "escalate T-1 L2 Tried a restart")
        _deliver(esc, clock)
        [handoff] = esc.standin.messages("C_L2")
        _click(esc, L2_AGENT, handoff, "C_L2", "escalation_take")  # from its L1 owner: the point of it
        _click(esc, ENG, handoff, "C_L2", "escalation_take")
        _deliver(esc, clock)
        assert _ticket(esc).owner_id == L2_AGENT
        [refused] = _ephemerals(esc, ENG)
        assert refused.startswith(":warning: <@U_AGENT2> owns this ticket; only leads or admins may take over it.")
        _click(esc, LEAD, handoff, "C_L2", "escalation_take")
        assert _ticket(esc).owner_id == LEAD


def _through_l2_to_l3(esc: Sandbox, clock: Clock) -> None:
    """T-1 taken at L1, escalated to L2, taken there, and escalated on to L3 by the L2 agent."""
    _open_ticket(esc, clock)
    _said(esc, "take T-1")
    _said(esc, "escalate T-1 L2 Tried a restart")
    _deliver(esc, clock)
    [l2] = esc.standin.messages("C_L2")
    _click(esc, L2_AGENT, l2, "C_L2", "escalation_take")
    _said(esc, "escalate T-1 L3 Needs a code change", user=L2_AGENT)
    _deliver(esc, clock)


def test_return_to_l1_after_l2_and_l3_gives_it_to_the_l1_owner(esc: Sandbox, clock: Clock) -> None:
    _through_l2_to_l3(esc, clock)
    # The L2 card says it moved on, and offers nothing to click.
    [l2] = esc.standin.messages("C_L2")
    assert "escalated further" in str(l2["blocks"]) and not [b for b in l2["blocks"] if b["type"] == "actions"]
    assert _said(esc, "deescalate T-1 Config, not code", user=ENG) == "T-1 is back with L1 and <@U_AGENT1>."
    assert (_ticket(esc).status, _ticket(esc).owner_id) == ("OPEN", AGENT)


def test_pending_and_back_keeps_an_escalated_ticket_escalated(esc: Sandbox, clock: Clock) -> None:
    ts = esc.standin.post_as_user("C_HELP", REQUESTER, "The sync drops half the rows")
    assert esc.simulator.event(ts).status == 200
    _said(esc, "escalate T-1 L2 Tried a resync")
    _said(esc, "pending T-1", user=L2_AGENT)
    reply = esc.standin.post_as_user("C_HELP", REQUESTER, "Here is the log you asked for", thread_ts=ts["ts"])
    assert esc.simulator.event(reply).status == 200
    assert _ticket(esc).status == "ESCALATED"
    assert (
        _said(esc, "status T-1 open") == ":warning: T-1 is escalated to L2; `/ticket deescalate T-1` returns it to L1."
    )
    _said(esc, "pending T-1", user=L2_AGENT)
    assert _said(esc, "status T-1 open", user=L2_AGENT).startswith("T-1: ")
    assert _ticket(esc).status == "ESCALATED"


def test_a_p0_on_a_finished_ticket_waits_for_it_to_reopen(esc: Sandbox, clock: Clock) -> None:
    _open_ticket(esc, clock)
    _said(esc, "solve T-1")
    _said(esc, "priority T-1 P0", user=LEAD)
    assert _escalations(esc) == []
    _said(esc, "reopen T-1")
    [escalation] = _escalations(esc)
    assert (escalation.tier, escalation.trigger) == ("L2", "p0")


def test_quick_path_parsing_edges(esc: Sandbox, clock: Clock) -> None:
    _open_ticket(esc, clock)
    assert _said(esc, "escalate T-").startswith(":warning: 'T-' is not a ticket reference")
    assert _said(esc, "escalate BUG-1 L2 x").startswith(":warning: 'BUG-1' is not a ticket reference")
    assert _said(esc, "escalate T-1 " + "x" * 2001).startswith(":warning: that reason is 2,001 characters")
    assert _said(esc, "escalate T-1 L3: tried a restart") == "T-1 escalated to L3; the handoff is posted in <#C_L3>."
    with Session(esc.deps.engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1  # no ticket named "escalate T-"


# --- found by a second fresh-eyes review -----------------------------------------------------


def test_l3_takes_from_the_l2_agent_who_handed_it_on(esc: Sandbox, clock: Clock) -> None:
    _through_l2_to_l3(esc, clock)
    [l3] = esc.standin.messages("C_L3")
    _click(esc, ENG, l3, "C_L3", "escalation_take")
    assert _ticket(esc).owner_id == ENG


def test_return_of_a_ticket_nobody_owned_at_l1_keeps_its_owner(esc: Sandbox, clock: Clock) -> None:
    _open_ticket(esc, clock)
    _said(esc, "escalate T-1 L2 Tried a restart")
    _deliver(esc, clock)
    [l2] = esc.standin.messages("C_L2")
    _click(esc, L2_AGENT, l2, "C_L2", "escalation_ack")
    _click(esc, L2_AGENT, l2, "C_L2", "escalation_take")
    assert _said(esc, "deescalate T-1", user=L2_AGENT) == "T-1 is back with L1 and <@U_AGENT2>."
    assert _ticket(esc).owner_id == L2_AGENT
    from store.models import AuditEvent

    with Session(esc.deps.engine) as session:
        statuses = session.exec(
            select(AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.entity_type == "escalation", AuditEvent.field == "status")
            .order_by(AuditEvent.id)  # unordered, PostgreSQL may return them by the status-changes index
        ).all()
    assert list(statuses) == [("open", "acknowledged"), ("acknowledged", "returned")]


def test_no_acknowledgement_nudges_while_waiting_on_the_customer(esc: Sandbox, clock: Clock) -> None:
    start = clock.now
    _open_ticket(esc, clock)
    _said(esc, "escalate T-1 L2 Tried a restart")
    _said(esc, "pending T-1")
    for hours in (4, 8, 24, 48):
        _deliver(esc, clock, start + timedelta(hours=hours))
    assert not [t for t in _shown(esc, "C_L2") if "without acknowledgement" in t]
    _said(esc, "status T-1 open")  # back to work, still with L2: the chase resumes
    _deliver(esc, clock, start + timedelta(days=4))
    assert len([t for t in _shown(esc, "C_L2") if "without acknowledgement" in t]) == 1


def test_quick_path_takes_2000_characters_after_the_tier(esc: Sandbox, clock: Clock) -> None:
    _open_ticket(esc, clock)
    assert _said(esc, "escalate T-1 L3 " + "z" * 2000) == "T-1 escalated to L3; the handoff is posted in <#C_L3>."
    assert _said(esc, "bug T-abc").startswith(":warning: usage: `/ticket bug T-42`")
    with Session(esc.deps.engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1


def test_forged_or_stale_form_levels_are_refused(esc: Sandbox, clock: Clock) -> None:
    import json

    _open_ticket(esc, clock)
    view = _open_form(esc)
    fields = {"tier": "L2", "tried_1": "Restarted", "needed": "A fix"}
    huge = _submit(
        esc, {**view, "id": "V_HUGE", "private_metadata": json.dumps({"number": 10**30, "level": 0})}, **fields
    )
    assert huge.json()["errors"]["tier"].startswith("This form is out of date")
    stale = _submit(esc, {**view, "id": "V_STALE", "private_metadata": json.dumps({"number": 1, "level": 5})}, **fields)
    assert stale.json()["errors"]["tier"] == "T-1 had its escalations changed while the form was open; nothing changed."
    assert _escalations(esc) == []
