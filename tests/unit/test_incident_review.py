"""The post-incident review draft (`frontline export incident`), rendered from a run built with the
pure engine: facts in the configured time zone, the timeline Slack's summary shows written as
Markdown, user text escaped, and the same timeline walker still writing Slack's mrkdwn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import playbooks as engine
from bot.core.playbooks import Run
from bot.incident_review import review_markdown
from bot.slack.playbook_blocks import IncidentView, RunView, summary
from bot.slack.standin import render_message
from playbooks import load_playbooks

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # 10:00 EST
INCIDENT = load_playbooks()["incident"]
LEAD, COMMS = "U0LEAD", "U0COMMS"


def _minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def _worked_run(resolved_after: timedelta) -> Run:
    """Started, a comms lead named, the first step done, a ticket linked, two reminders, an update
    typed with Markdown's characters on two lines, then resolved."""
    run = engine.start(INCIDENT, by=LEAD, now=T0, roles={"commander": LEAD})
    run = engine.assign(INCIDENT, run, "comms", COMMS, by=LEAD, now=_minutes(2))
    run = engine.complete(INCIDENT, run, "activate", by=LEAD, now=_minutes(4))
    run = engine.note(run, "linked", "T-7", by=LEAD, now=_minutes(5))
    run, _ = engine.remind(INCIDENT, run, "step:status-page:due", now=_minutes(15))
    update = "Failing over | *not* `yet`\nNext update by 10:50"
    run = engine.update(INCIDENT, run, update, by=COMMS, now=_minutes(20))
    run, _ = engine.remind(INCIDENT, run, "step:status-updates:repeat", now=_minutes(50))
    return engine.finish(INCIDENT, run, by=LEAD, now=T0 + resolved_after)


def _view(run: Run, *, resolved: bool = True, channel: str | None = "C0INC") -> RunView:
    incident = IncidentView(
        ref="INC-7",
        severity="P1",
        status="resolved" if resolved else "open",
        channel=channel,
        channel_name="inc-7-checkout-eu-down-500",
        resolved_by=LEAD if resolved else None,
        resolved_at=run.finished_at if resolved else None,
    )
    tickets = (("T-7", "Card payments fail | EU <b>"),)
    return RunView(
        id=3, title="Checkout | EU *down* `500`", playbook=INCIDENT, run=run, tickets=tickets, incident=incident
    )


EXPECTED = """\
# INC-7 · Checkout \\| EU \\*down\\* \\`500\\`

_Post-incident review: a draft from Frontline's record of the incident. Fill in the sections below._

## Facts

- **Severity:** P1
- **Status:** resolved
- **Started:** 2026-12-07 10:00 EST by @U0LEAD
- **Resolved:** 2026-12-07 11:15 EST by @U0LEAD
- **Duration:** 1h15m
- **Time zone:** America/New_York
- **Commander:** @U0LEAD
- **Other roles:** comms: @U0COMMS
- **Channel:** `#inc-7-checkout-eu-down-500` (C0INC)
- **Linked tickets:**
  - T-7: Card payments fail \\| EU \\<b>

## Timeline

- 10:00 EST — Started by @U0LEAD
- 10:02 EST — 👤 @U0COMMS is comms (set by @U0LEAD)
- 10:04 EST — ✅ Activate incident response: @U0LEAD (4m)
- 10:05 EST — Linked by @U0LEAD: T-7
- 10:20 EST — 📣 Update by @U0COMMS: Failing over \\| \\*not\\* \\`yet\\`\\
  Next update by 10:50
- 11:15 EST — 🏁 Finished by @U0LEAD · 1h15m in all

Reminders sent: 2 (not listed).

## Summary

## Impact

## Root cause

## What went well

## What went wrong

## Action items

| Action | Owner | Due | Ticket |
|---|---|---|---|

## Customer communication
"""


def test_a_resolved_incident_gives_the_whole_draft() -> None:
    assert review_markdown(_view(_worked_run(timedelta(minutes=75))), NY) == EXPECTED


def test_an_incident_over_two_days_dates_every_line() -> None:
    text = review_markdown(_view(_worked_run(timedelta(days=1, hours=3))), NY)
    assert "- **Resolved:** 2026-12-08 13:00 EST by @U0LEAD" in text
    assert "- **Duration:** 1d3h" in text
    assert "- 2026-12-07 10:04 EST — ✅ Activate incident response: @U0LEAD (4m)" in text
    assert "- 2026-12-08 13:00 EST — 🏁 Finished by @U0LEAD · 1d3h in all" in text


def test_a_day_that_changes_only_in_utc_is_still_one_day() -> None:
    # 18:00 to 20:30 in New York is one local day, though UTC's date changes at 19:00 (local).
    run = engine.start(INCIDENT, by=LEAD, now=datetime(2026, 12, 7, 23, 0, tzinfo=UTC))
    run = engine.finish(INCIDENT, run, by=LEAD, now=datetime(2026, 12, 8, 1, 30, tzinfo=UTC))
    text = review_markdown(_view(run), NY)
    assert "- 18:00 EST — Started by @U0LEAD" in text and "- 20:30 EST — 🏁 Finished" in text
    assert "Reminders sent: 0 (not listed)." in text


def test_an_open_incident_without_a_channel_says_what_is_not_there_yet() -> None:
    run = engine.start(INCIDENT, by=LEAD, now=T0)
    text = review_markdown(_view(run, resolved=False, channel=None), NY)
    for fact in (
        "- **Status:** open",
        "- **Resolved:** not yet",
        "- **Duration:** still open",
        "- **Commander:** @U0LEAD",
        "- **Other roles:** none assigned",
        "- **Channel:** `#inc-7-checkout-eu-down-500` (not created)",
    ):
        assert fact in text


def test_the_slack_summary_still_writes_mentions_and_mrkdwn() -> None:
    view = _view(_worked_run(timedelta(minutes=75)))
    blocks = str(summary(view)["blocks"])
    assert "<@U0COMMS> is comms (set by <@U0LEAD>)" in blocks
    assert ":white_check_mark: Activate incident response: <@U0LEAD> (4m)" in blocks
    assert ":loudspeaker: Update by <@U0COMMS>: Failing over | *not* `yet`" in blocks
    assert "Reminders sent" in render_message(summary(view))


def test_personal_data_in_updates_and_titles_is_masked() -> None:
    run = engine.start(INCIDENT, by=LEAD, now=T0, roles={"commander": LEAD})
    run = engine.update(INCIDENT, run, "Customer jane@acme.io called from +1 415 555 0132", by=COMMS, now=_minutes(5))
    view = RunView(
        id=3, title="Refund for card 4111 1111 1111 1111", playbook=INCIDENT, run=run, incident=_view(run).incident
    )
    text = review_markdown(view, ZoneInfo("America/New_York"))
    assert "jane@acme.io" not in text and "555 0132" not in text and "4111 1111" not in text
    assert "\\[email\\]" in text and "\\[phone\\]" in text and "\\[card\\]" in text
