"""`/support sla`: the SLA policy in force, as configured."""

from __future__ import annotations

from bot.config import parse_config
from bot.sandbox import Sandbox


def _support(sandbox: Sandbox, text: str) -> str:
    response = sandbox.simulator.slash_command("/support", text, user_id="U_AGENT1", channel_id="C_TRIAGE")
    assert response.status == 200
    return str(response.json()["text"])


def test_sla_shows_targets_calendars_nudges_and_stage_timers(database_url: str) -> None:
    config = parse_config(
        {
            "business_hours": {"timezone": "America/New_York", "start": "08:30", "end": "17:30",
                               "holidays": {"country": "US", "extra": ["2026-12-24"]}},
            "sla": {"P1": {"first_response": "90m", "resolution": "8h"}, "warn_at": [0.5, 0.9]},
            "lifecycle": {"pending_warn": "48h"},
        }
    )  # fmt: skip
    with Sandbox(database_url=database_url, config=config, with_worker=False) as sandbox:
        text = _support(sandbox, "sla")
    assert text.splitlines() == [
        "*SLA policy in force*",
        ":red_circle: *P0* · first response 15m · resolution 4h · 24x7",
        ":large_orange_circle: *P1* · first response 1h30m · resolution 8h · business hours",
        # Business targets in working hours: "1d" would read as a calendar day.
        ":large_yellow_circle: *P2* · first response 4h · resolution 24h · business hours",
        ":white_circle: *P3* · first response 24h · resolution 72h · business hours",
        "Business hours: Mon, Tue, Wed, Thu, Fri 08:30–17:30 America/New_York, closed on US public holidays"
        " and 2026-12-24.",
        "Owners are nudged at 50%, 90% of a target; at breach the owner, the L2 channel and the leads are told.",
        "PENDING pauses both clocks; the requester's reply resumes them; a priority change keeps the time used.",
        "Stage timers: NEW and unassigned 15m → ping triage · PENDING 2d → warn the requester, closed 1d later"
        " · SOLVED 2d → closed.",
    ]


def test_help_and_unknown_verbs(sandbox: Sandbox) -> None:
    assert _support(sandbox, "").startswith("usage: `/support sla`")
    assert _support(sandbox, "help").startswith("usage: `/support sla`")
    assert _support(sandbox, "statistics please") == (
        ":warning: 'statistics' is not a /support verb; usage: `/support sla` (the SLA policy in force) · "
        "`/support digest` (the standup digest, now) · `/support stats [week|month]` · `/support health` · "
        "`/support help`"
    )
