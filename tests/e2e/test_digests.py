"""The daily standup digest end to end: due at `digest.time` on weekdays, decided once however many
workers sweep (field case F11), late when no worker ran at that time, counts in the channel and
details in its thread, `/support digest`, and a standup channel the bot cannot post to."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.config import parse_config
from bot.sandbox import Sandbox
from bot.services import digests
from bot.services.policy import Policy
from bot.slack.standin import render_message
from bot.worker import run_due_work
from store.db import create_db_engine
from store.models import Digest
from tests.e2e.clocks import Clock

NY = ZoneInfo("America/New_York")
AGENT, LEAD, REQUESTER = "U_AGENT1", "U_LEAD", "U_REQUESTER"
CONFIG: dict[str, Any] = {
    "timezone": "America/New_York",
    "channels": {"triage": "C_TRIAGE", "intake": ["C_HELP"], "standup": "C_STANDUP", "incidents": "C_INCIDENTS"},
    "roles": {"agents": [AGENT, "U_AGENT2"], "leads": [LEAD]},
    "customers": {"acme": {"tier": "enterprise", "arr": 120000}},
    "digest": {"time": "09:00", "weekly_day": "fri"},  # the weekly review has a test of its own
}


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 7, 8, 0, tzinfo=NY))  # Monday, before the digest


@pytest.fixture
def dg(database_url: str, clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(database_url=database_url, config=parse_config(CONFIG), clock=clock, with_worker=False) as sandbox:
        yield sandbox


def _tick(sandbox: Sandbox, clock: Clock, at: datetime, *, dead: int = 0) -> bool:
    clock.now = at
    report = run_due_work(sandbox.deps, at)
    assert (report.timers_failed, report.dead) == (0, dead), report
    return report.digest


def _command(sandbox: Sandbox, command: str, text: str, user: str) -> str:
    response = sandbox.simulator.slash_command(command, text, user_id=user, channel_id="C_TRIAGE")
    assert response.status == 200 and response.elapsed < 3.0
    return str(response.json()["text"])


def _digests(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [m for m in sandbox.standin.messages("C_STANDUP") if m["text"].startswith("Standup digest")]


def test_the_digest_comes_at_nine_once_with_counts_first_and_details_in_its_thread(dg: Sandbox, clock: Clock) -> None:
    _command(dg, "/ticket", "Checkout is down for everyone customer:acme", REQUESTER)
    _command(dg, "/ticket", "How do I export invoices to CSV?", REQUESTER)
    _command(dg, "/ticket", "take T-2", AGENT)
    _command(dg, "/incident", "start Checkout errors T-1", LEAD)
    assert not _tick(dg, clock, datetime(2026, 12, 7, 8, 59, tzinfo=NY))
    assert _digests(dg) == []
    assert _tick(dg, clock, datetime(2026, 12, 7, 9, 0, 30, tzinfo=NY))
    assert not _tick(dg, clock, datetime(2026, 12, 7, 9, 1, tzinfo=NY))  # the next sweep: already decided
    [digest] = _digests(dg)
    assert digest["text"].startswith("Standup digest 2026-12-07: 2 new, 2 open")
    shown = render_message(digest)
    assert "Open 2 (P0 1 · P1 0 · P2 1 · P3 0)" in shown or "Open 2 (P0 1" in shown
    assert "Late" not in shown and "Incidents open 1" in shown
    [details] = digest["replies"]
    text = render_message(details)
    assert "T-1" in text and "T-2" in text and "INC-1" in text and "unassigned" in text
    # Saturday and Sunday: nothing; Monday's counts start where Friday's stopped.
    assert not _tick(dg, clock, datetime(2026, 12, 12, 9, 30, tzinfo=NY))
    assert _tick(dg, clock, datetime(2026, 12, 8, 9, 0, tzinfo=NY) + timedelta(days=6))
    assert len(_digests(dg)) == 2


def test_two_workers_at_nine_decide_one_digest(database_url: str, dg: Sandbox, clock: Clock) -> None:
    """Field case F11: two processes sweep at 09:00 on Tue 2026-12-08; one digest."""
    policy = Policy.from_config(parse_config(CONFIG))
    engines = [create_db_engine(database_url) for _ in range(2)]
    nine = datetime(2026, 12, 8, 9, 0, tzinfo=NY)
    decided: list[bool] = []
    barrier = threading.Barrier(2)

    def sweep(index: int) -> None:
        barrier.wait()
        decided.append(digests.post_due(engines[index], policy, now=nine))

    threads = [threading.Thread(target=sweep, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(decided) == [False, True]
    _tick(dg, clock, nine + timedelta(seconds=30))
    assert len(_digests(dg)) == 1
    for engine in engines:
        engine.dispose()


def test_a_digest_missed_while_no_worker_ran_is_posted_late_once(dg: Sandbox, clock: Clock) -> None:
    assert _tick(dg, clock, datetime(2026, 12, 7, 11, 32, tzinfo=NY))
    [digest] = _digests(dg)
    assert digest["text"].startswith("Standup digest 2026-12-07 (late)")
    assert "no worker was running then" in render_message(digest)
    with Session(dg.deps.engine) as session:
        [row] = session.exec(select(Digest)).all()
    assert row.late and row.kind == "daily"


def test_support_digest_posts_one_now_and_refuses_those_who_may_not(dg: Sandbox, clock: Clock) -> None:
    assert "is on its way to <#C_STANDUP>" in _command(dg, "/support", "digest", AGENT)
    _tick(dg, clock, clock.now)
    [digest] = _digests(dg)
    assert "Asked for by <@U_AGENT1>" in str(digest["blocks"])
    assert "Only agents" in _command(dg, "/support", "digest", REQUESTER)
    assert "'digests' is not a /support verb" in _command(dg, "/support", "digests", AGENT)
    # The 09:00 digest still comes.
    assert _tick(dg, clock, datetime(2026, 12, 7, 9, 0, tzinfo=NY))


def test_a_standup_channel_the_bot_cannot_post_to_is_reported_once(database_url: str, clock: Clock) -> None:
    config = parse_config(CONFIG | {"channels": {**CONFIG["channels"], "standup": "C_PRIVATE"}})
    with Sandbox(database_url=database_url, config=config, clock=clock, with_worker=False) as sandbox:
        sandbox.standin.add_channel("C_PRIVATE", "leads-only", is_private=True, bot_member=False)
        _tick(sandbox, clock, datetime(2026, 12, 7, 9, 0, tzinfo=NY), dead=1)
        _tick(sandbox, clock, datetime(2026, 12, 8, 9, 0, tzinfo=NY), dead=1)
        _tick(sandbox, clock, datetime(2026, 12, 8, 10, 0, tzinfo=NY))
        reports = [m["text"] for m in sandbox.standin.messages("C_TRIAGE") if "I could not post to" in m["text"]]
        assert len(reports) == 1 and "<#C_PRIVATE>" in reports[0]
        posts = [c for c in sandbox.standin.calls_to("chat.postMessage") if c.args.get("channel") == "C_PRIVATE"]
        assert len(posts) == 2  # one attempt a day, no retry loop
        # Asking for one now says the channel is the trouble, instead of only "on its way".
        clock.now = datetime(2026, 12, 8, 11, 0, tzinfo=NY)
        asked = _command(sandbox, "/support", "digest", AGENT)
        assert asked == (
            "A digest is on its way to <#C_PRIVATE>. The last one could not be posted there (Slack said"
            " `channel_not_found`): invite me, or fix `channels.standup`."
        )


def test_the_weekly_review_comes_on_its_day_with_traffic_lights_and_a_chart(database_url: str, clock: Clock) -> None:
    config = parse_config(CONFIG | {"digest": {"time": "09:00", "weekly_day": "mon"}})
    with Sandbox(database_url=database_url, config=config, clock=clock, with_worker=False) as sandbox:
        _command(sandbox, "/ticket", "Checkout is down for everyone customer:acme", REQUESTER)
        _command(sandbox, "/ticket", "How do I export my invoices?", REQUESTER)
        _command(sandbox, "/ticket", "Where is the API key page?", REQUESTER)
        assert "recorded the root cause: Documentation gap (resolution: agent resolved)" in _command(
            sandbox, "/ticket", "solve T-2 Documentation-Gap agent_resolved", AGENT
        )
        _command(sandbox, "/ticket", "solve T-3", AGENT)
        _tick(sandbox, clock, datetime(2026, 12, 7, 9, 0, tzinfo=NY))
        _tick(sandbox, clock, datetime(2026, 12, 7, 9, 1, tzinfo=NY))
        weekly = [m for m in sandbox.standin.messages("C_STANDUP") if m["text"].startswith("Weekly support review")]
        assert len(weekly) == 1 and len(_digests(sandbox)) == 1  # and the daily one beside it
        shown = render_message(weekly[0])
        assert "Health triage" in shown and "First response time" in shown and "Escalation rate" in shown
        chart_reply, voice = weekly[0]["replies"]
        [chart] = chart_reply["files"]
        said = render_message(voice)
        assert "Voice of the customer" in said and "Questions that need a KB article" in said
        assert "In their words" in said and "\\n" not in said  # real line breaks, not a typed backslash-n
        assert "Documentation gap: 1 (50%) → create or update KB articles" in said
        assert "not recorded: 1" in said
        content = sandbox.standin.file_content(chart["id"]) or b""
        assert chart["name"] == "volume-and-sla.png" and content.startswith(b"\x89PNG")
        # Tuesday: no second weekly review.
        _tick(sandbox, clock, datetime(2026, 12, 8, 9, 0, tzinfo=NY))
        assert len([m for m in sandbox.standin.messages("C_STANDUP") if m["text"].startswith("Weekly")]) == 1


def test_support_health_names_what_drags_it_down(dg: Sandbox, clock: Clock) -> None:
    empty = _command(dg, "/support", "health", AGENT)
    assert "not enough data yet" in empty
    _command(dg, "/ticket", "Checkout is down for everyone customer:acme", REQUESTER)
    _command(dg, "/ticket", "escalate T-1 L2 restarted the pods", AGENT)
    _tick(dg, clock, datetime(2026, 12, 9, 9, 0, tzinfo=NY))  # two days on: its clocks breached
    response = dg.simulator.slash_command("/support", "health", user_id=AGENT, channel_id="C_TRIAGE")
    shown = render_message(response.json())
    assert "Support health · last month: 0/100" in shown
    assert "Speed (SLA compliance) (20 points lost)" in shown and "Escalation rate 100%" in shown
    assert "Not measured:" in shown and "Customer satisfaction (CSAT)" in shown
    assert "Only agents" in _command(dg, "/support", "health", REQUESTER)


def test_the_weekly_voice_of_the_customer_flags_a_question_asked_more_than_twenty_times(
    database_url: str, clock: Clock
) -> None:
    """The 10x rule with the real embedding model: 21 wordings of one question in a month need a KB
    article; a question asked three times does not."""
    config = parse_config(CONFIG | {"digest": {"time": "09:00", "weekly_day": "mon"}})
    wordings = ["How do I export my invoices to CSV?", "how can I download invoices as a csv file?",
                "Where is the CSV export for invoices?"]  # fmt: skip
    with Sandbox(database_url=database_url, config=config, clock=clock, with_worker=False) as sandbox:
        clock.now = datetime(2026, 12, 1, 10, 0, tzinfo=NY)
        for n in range(21):
            event = sandbox.standin.post_as_user("C_HELP", REQUESTER, wordings[n % 3] + " " * (n // 3))
            assert sandbox.simulator.event(event, event_id=f"EvQ{n}").status == 200
        for n, text in enumerate(["How do I turn on SSO?", "How do I set up SSO?", "Can I use SSO?"]):
            event = sandbox.standin.post_as_user("C_HELP", AGENT, text)
            assert sandbox.simulator.event(event, event_id=f"EvS{n}").status == 200
        _tick(sandbox, clock, datetime(2026, 12, 1, 10, 5, tzinfo=NY))
        _tick(sandbox, clock, datetime(2026, 12, 7, 9, 0, tzinfo=NY))
        [weekly] = [m for m in sandbox.standin.messages("C_STANDUP") if m["text"].startswith("Weekly support review")]
        said = render_message(weekly["replies"][1])
        assert "21× like" in said and "SSO" not in said.split("In their words")[0]


def test_the_first_monday_digest_counts_from_friday_nine(database_url: str) -> None:
    clock = Clock(datetime(2026, 12, 4, 10, 0, tzinfo=NY))  # Friday, after Friday's 09:00 slot
    with Sandbox(database_url=database_url, config=parse_config(CONFIG), clock=clock, with_worker=False) as dg:
        _command(dg, "/ticket", "Invoices PDF is blank", REQUESTER)  # Friday 10:00
        clock.now = datetime(2026, 12, 6, 15, 0, tzinfo=NY)
        _command(dg, "/ticket", "Login loops on the admin console", REQUESTER)  # Sunday
        assert _tick(dg, clock, datetime(2026, 12, 7, 9, 0, 30, tzinfo=NY))  # no digest before: the first
        [digest] = [d for d in _digests(dg) if "2026-12-07" in d["text"]]
        assert digest["text"].startswith("Standup digest 2026-12-07: 2 new"), digest["text"]
