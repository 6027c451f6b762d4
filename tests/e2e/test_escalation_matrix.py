"""The escalation decision matrix (seed 001) end to end: every trigger escalates, suggests or
notifies as configured, with its reason on the card, once per ticket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.config import parse_config
from bot.sandbox import Sandbox
from store.models import Escalation, EscalationTrigger, Ticket
from tests.e2e.clocks import Clock
from tests.e2e.test_escalations import CONFIG, LEAD, NY, REQUESTER, _deliver, _said


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 7, 10, 0, tzinfo=NY))


def _sandbox(database_url: str, clock: Clock, **overrides: Any) -> Sandbox:
    config = {**CONFIG, "escalation": {"matrix": overrides}} if overrides else CONFIG
    return Sandbox(database_url=database_url, config=parse_config(config), clock=clock, with_worker=False)


@pytest.fixture
def esc(database_url: str, clock: Clock) -> Iterator[Sandbox]:
    with _sandbox(database_url, clock) as sandbox:
        yield sandbox


def _post(sandbox: Sandbox, text: str, user: str = REQUESTER, thread_ts: str | None = None) -> str:
    event = sandbox.standin.post_as_user("C_HELP", user, text, thread_ts=thread_ts)
    assert sandbox.simulator.event(event).status == 200
    return str(event["ts"])


def _triggers(sandbox: Sandbox) -> list[tuple[int, str, str]]:
    with Session(sandbox.deps.engine) as session:
        rows = session.exec(select(EscalationTrigger).order_by(col(EscalationTrigger.id))).all()
        numbers = {t.id: t.number for t in session.exec(select(Ticket)).all()}
        return [(numbers[r.ticket_id], r.trigger, r.action) for r in rows]


def _escalations(sandbox: Sandbox) -> list[tuple[int, str, int, str | None]]:
    with Session(sandbox.deps.engine) as session:
        rows = session.exec(select(Escalation).order_by(col(Escalation.id))).all()
        numbers = {t.id: t.number for t in session.exec(select(Ticket)).all()}
        return [(numbers[r.ticket_id], r.tier, r.ack_within_s, r.trigger) for r in rows]


def _texts(sandbox: Sandbox, channel: str) -> list[str]:
    return [m["text"] for m in sandbox.standin.messages(channel)]


def _dms(sandbox: Sandbox, user: str) -> list[str]:
    channel = sandbox.standin.dm_channel(user)
    return _texts(sandbox, channel) if channel else []


def test_p0_goes_to_l2_with_engineering_and_management_told(esc: Sandbox, clock: Clock) -> None:
    _post(esc, "Checkout is down for all our users customer:acme")
    _deliver(esc, clock)
    assert _escalations(esc) == [(1, "L2", 15 * 60, "p0")]
    [handoff] = esc.standin.messages("C_L2")
    assert "Escalation matrix: P0 ticket" in str(handoff["blocks"])
    assert [t.startswith(":vertical_traffic_light: T-1: P0 ticket — escalated to L2") for t in _texts(esc, "C_L3")] == [
        True
    ]
    assert len(_texts(esc, "C_MGMT")) == 1
    # The matrix's timeline is the acknowledgement deadline: 15 minutes, then the tier is nudged.
    _deliver(esc, clock, clock.now + timedelta(minutes=15))
    assert sum("without acknowledgement" in t for t in _texts(esc, "C_L2")) == 1


def test_churn_threat_needs_the_arr_and_tells_the_leads(esc: Sandbox, clock: Clock) -> None:
    _said(esc, "If this isn't fixed we are not renewing customer:globex", user=REQUESTER)  # ARR 40,000
    _said(esc, "If this isn't fixed we are not renewing customer:smallco", user=REQUESTER)  # ARR 0
    _deliver(esc, clock)
    assert _triggers(esc) == [(1, "churn", "escalate")]
    assert [(n, tier) for n, tier, _, _ in _escalations(esc)] == [(1, "L2")]
    [told] = _dms(esc, LEAD)
    assert "churn threat ('not renewing') from globex with ARR $40,000" in told


def test_legal_words_reach_l2_the_leads_and_management(esc: Sandbox, clock: Clock) -> None:
    _post(esc, "Exporting this data is a GDPR violation and you will hear from our lawyers")
    _deliver(esc, clock)
    assert _triggers(esc) == [(1, "legal", "escalate")]
    assert len(_dms(esc, LEAD)) == 1 and len(_texts(esc, "C_MGMT")) == 1 and len(_texts(esc, "C_L2")) == 1


def test_the_same_issue_three_times_goes_to_l2_and_suggests_a_bug(esc: Sandbox, clock: Clock) -> None:
    for text in (
        "CSV export times out on large reports",
        "The billing page looks odd",  # another issue: does not count
        "Export to CSV still times out for big reports",
        "csv exports timing out again on the large report",
    ):
        _post(esc, text)
        clock.now += timedelta(hours=1)
    _deliver(esc, clock)
    assert _triggers(esc) == [(4, "repeat", "escalate")]
    [card] = [m for m in esc.standin.messages("C_TRIAGE") if m["text"].startswith("T-4 ")]
    lines = [r["text"] for r in card["replies"]]
    assert any("same requester, same issue 3 times; three reports of one issue are one bug" in line for line in lines)
    # Another requester with the same words is not "the same requester"; nor is an agent filing
    # tickets for several customers.
    for _ in range(3):
        _said(esc, "CSV export times out on large reports")
    assert len(_triggers(esc)) == 1


def test_a_customer_asking_for_a_manager_reaches_the_leads_once(esc: Sandbox, clock: Clock) -> None:
    ts = _post(esc, "The invoice PDF has the wrong address")
    _post(esc, "This is the third time. I want to speak to a manager.", thread_ts=ts)
    _post(esc, "Still waiting for your manager!", thread_ts=ts)  # the trigger acts once
    _deliver(esc, clock)
    assert _triggers(esc) == [(1, "manager", "notify")]
    [told] = _dms(esc, LEAD)
    assert "asked for a manager ('speak to a manager')" in told
    assert _escalations(esc) == []  # notified, not escalated: a lead takes it


def test_public_social_posts_go_to_the_social_channel(esc: Sandbox, clock: Clock) -> None:
    _post(esc, "A customer tweeted about the broken checkout with screenshots")
    _deliver(esc, clock)
    assert _triggers(esc) == [(1, "social", "notify")]
    [notice] = _texts(esc, "C_SOCIAL")
    assert "public social-media post ('tweeted about')" in notice


def test_rows_can_suggest_instead_or_be_switched_off(database_url: str, clock: Clock) -> None:
    with _sandbox(database_url, clock, churn={"action": "suggest"}, legal={"action": "off"}) as sandbox:
        _said(sandbox, "We will not renew, and our lawyer is reading this customer:globex", user=REQUESTER)
        _deliver(sandbox, clock)
        assert _triggers(sandbox) == [(1, "churn", "suggest")]
        assert _escalations(sandbox) == []
        [card] = sandbox.standin.messages("C_TRIAGE")
        buttons = [e.get("value") for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert "1:L2:churn" in buttons
        assert _said(sandbox, "escalate T-1 L2 Tried a discount offer") == (
            "T-1 escalated to L2; the handoff is posted in <#C_L2>."
        )
        _deliver(sandbox, clock)
        [card] = sandbox.standin.messages("C_TRIAGE")
        assert "1:L2:churn" not in str(card["blocks"])  # escalated: the suggestion has done its job


def test_naming_the_customer_later_lets_the_churn_row_read_the_request(esc: Sandbox, clock: Clock) -> None:
    """A message in an intake channel has no customer; `/ticket customer` names it, and the churn
    row then reads the request with the customer's ARR."""
    _post(esc, "If this isn't fixed by Friday we are not renewing")
    assert _triggers(esc) == []
    assert _said(esc, "customer T-1 acmee").startswith(":warning: unknown customer 'acmee' (known: acme, globex")
    assert _said(esc, "customer T-1 Globex") == "T-1: <@U_AGENT1> set the customer: globex (business)"
    assert _triggers(esc) == [(1, "churn", "escalate")]
    assert _said(esc, "customer T-1 globex") == "T-1 is already globex's."
    assert _said(esc, "customer T-1", user=REQUESTER).startswith(":warning: usage: `/ticket customer T-42 acme`")
