"""The pure parts of the playbook surface: incident channel names, the `/playbook` and `/incident`
parsers, and the Block Kit of a run (limits held however long a run gets)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core.incidents import channel_name, slug
from bot.core.playbook_command import (
    AssignRole,
    Help,
    LinkTickets,
    ListPlaybooks,
    OpenStartForm,
    PlaybookStatus,
    ResolveIncident,
    RunPlaybook,
    SetSeverity,
    StartIncident,
    UpdateIncident,
    UsageError,
    parse_incident_command,
    parse_playbook_command,
)
from bot.core.playbooks import complete, remind, start, update
from bot.slack import playbook_blocks
from bot.slack.playbook_blocks import RunView
from playbooks import load_playbooks

DAY = date(2026, 12, 7)
T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
SHIPPED = load_playbooks()


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Checkout errors", "checkout-errors"),
        ("  Checkout -- ERRORS!!  ", "checkout-errors"),
        ("Zahlungsausfall für Überweisungen", "zahlungsausfall-fur-uberweisungen"),
        ("🔥🔥", "incident"),
        ("<!channel> payments", "channel-payments"),
    ],
)
def test_a_title_becomes_a_slack_safe_slug(title: str, expected: str) -> None:
    assert slug(title) == expected


def test_names_fit_slacks_80_characters_with_their_suffix() -> None:
    long_title = "payments provider returns intermittent gateway timeouts for european card holders " * 3
    for attempt in (1, 2, 17):
        for template in ("inc-{n}-{slug}", "inc-{YYYY}-{MM}-{DD}-{slug}"):
            name = channel_name(template, number=12345, title=long_title, day=DAY, attempt=attempt)
            assert len(name) <= 80 and not name.endswith("-") and "--" not in name
            assert name.endswith(f"-{attempt}") == (attempt > 1)
    assert channel_name("inc-{YYYY}-{MM}-{DD}-{slug}", number=1, title="Checkout errors", day=DAY) == (
        "inc-2026-12-07-checkout-errors"
    )
    assert (
        channel_name("inc-{n}-{slug}", number=3, title="Checkout errors", day=DAY, attempt=2)
        == "inc-3-checkout-errors-2"
    )


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("", Help()),
        ("help", Help()),
        ("list", ListPlaybooks()),
        ("status", PlaybookStatus()),
        ("run refund", RunPlaybook("refund")),
        ("run Angry-Customer T-42", RunPlaybook("angry-customer", ticket=42)),
        ("run social-crisis Viral thread <!here>", RunPlaybook("social-crisis", title="Viral thread @here")),
        ("run social-crisis 42", RunPlaybook("social-crisis", title="42")),  # a title, not a ticket
    ],
)
def test_playbook_command(text: str, parsed: object) -> None:
    assert parse_playbook_command(text) == parsed


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("start", OpenStartForm()),
        ("start Checkout errors", StartIncident("Checkout errors")),
        ("start Checkout errors P1 T-12 t-14 T-12", StartIncident("Checkout errors", "P1", (12, 14))),
        ("update INC-3 Failing over", UpdateIncident(3, "Failing over")),
        ("update Failing over &amp; watching", UpdateIncident(None, "Failing over & watching")),
        ("role comms <@U123|dana>", AssignRole(None, "comms", "U123")),
        ("role INC-4 scribe <@W9>", AssignRole(4, "scribe", "W9")),
        ("resolve inc-2", ResolveIncident(2)),
        ("link T-1 2 T-1", LinkTickets(None, (1, 2))),
        ("severity sev:p2", SetSeverity(None, "P2")),
    ],
)
def test_incident_command(text: str, parsed: object) -> None:
    assert parse_incident_command(text) == parsed


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("start P1", "the title says what is broken"),
        ("start " + "x" * 151, "at most 150"),
        ("start INC-3 again", "takes no INC-&lt;n&gt;"),
        ("update", "usage: `/incident update"),
        ("update " + "y" * 2801, "at most 2,800"),
        ("role pilot <@U1>", "'pilot' is not an incident role"),
        ("role comms dana", "is not a person"),
        ("role comms", "usage: `/incident role"),
        ("status now", "usage: `/incident status"),
        ("link", "usage: `/incident link"),
        ("link BUG-3", "usage: `/incident link"),
        ("severity P9", "usage: `/incident severity"),
        ("update INC-x text", "'INC-x' is not an incident reference"),
        ("escalate", "is not a verb here"),
    ],
)
def test_bad_incident_commands_say_the_usage(text: str, says: str) -> None:
    parsed = parse_incident_command(text)
    assert isinstance(parsed, UsageError) and says in parsed.message


def test_a_long_run_keeps_to_block_kits_limits() -> None:
    incident = SHIPPED["incident"]
    run = start(incident, by="U1", now=T0)
    for n in range(400):  # three days of updates and reminders
        at = T0 + timedelta(minutes=10 * n)
        run = update(incident, run, f"Update {n}: " + "still failing over <!channel> " * 20, by="U2", now=at)
        run, _ = remind(incident, run, "step:status-updates:repeat", now=at + timedelta(minutes=31))
    run = complete(incident, run, "activate", by="U1", now=T0 + timedelta(days=3))
    view = RunView(id=1, title="Checkout errors " * 20, playbook=incident, run=run, tickets=(("T-1", "x" * 500),) * 40)
    for message in (
        playbook_blocks.summary(view),
        playbook_blocks.run_card(view),
        playbook_blocks.step_message(view, "status-page"),
    ):
        assert len(message["blocks"]) <= 50 and len(message["text"]) <= 4000
        for block in message["blocks"]:
            if block["type"] == "section" and "text" in block:
                assert len(block["text"]["text"]) <= 3000
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
        assert "<!channel>" not in json.dumps(message)
    summary = playbook_blocks.summary(view)
    assert "more lines in the export" in json.dumps(summary)
    assert "{date_short} {time}" in json.dumps(summary)  # a multi-day run shows dates
