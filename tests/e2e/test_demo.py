from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator

import pytest

from bot.demo import STORY, run_demo


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """What `frontline demo` prints (played once for this module: it takes seconds). It runs with
    a temporary directory of its own, which must be empty again afterwards."""
    temp = tmp_path_factory.mktemp("demo-tmp")
    before, tempfile.tempdir = tempfile.tempdir, str(temp)
    try:
        out = io.StringIO()
        assert run_demo(out=out) == 0
    finally:
        tempfile.tempdir = before
    assert list(temp.iterdir()) == []  # without --keep, nothing is left behind
    yield out.getvalue()


def test_demo_plays_the_story_and_prints_channels(printed: str) -> None:
    text = printed
    assert text.count("Created *T-") == 0  # rendered for people, not raw mrkdwn markers
    for ref in ("T-1", "T-2", "T-3"):
        assert ref in text
    assert "P0: keyword 'down'; tier enterprise; 300 users affected (> 100)" in text
    assert "T-99 does not exist." in text
    assert "unknown customer 'acmee'" in text
    assert "#support-triage" in text
    # The intake part: a plain message became T-4, acknowledged in its thread, and an agent replied.
    assert "↳ Frontline: Ticket T-4 opened (P1): The EU checkout page shows error 500 since 9am & orders fail" in text
    assert "&amp;" not in text
    # Working it: the card's thread tells the story top to bottom, in order.
    story = [
        "↳ Frontline: @Alex Rivera responded first",
        "↳ Frontline: @Alex Rivera took it",
        "↳ Frontline: @Alex Rivera set it: OPEN → PENDING",
        "↳ Frontline: @Jordan Kim replied: PENDING → OPEN",
        "↳ Frontline: @Alex Rivera set it: OPEN → SOLVED",
    ]
    positions = [text.index(line) for line in story]
    assert positions == sorted(positions)
    assert "only leads or admins may reassign it" in text
    assert f"{len(STORY)}." in text
    # A message outside the intake channels becomes a ticket by the :ticket: reaction, acknowledged in its thread.
    assert "Opened" in text and "by @Alex Rivera via reaction" in text
    assert "↳ Frontline: Ticket T-5 opened (P2): FYI smallco says the invoices page times out" in text
    # The simulated clock: a nudge at 12 minutes, the breach and the unassigned pings at 16.
    assert "→ #support-triage: ⏳ T-1's first response is 75% through its target" in text
    assert "→ #support-l2: 🚨 T-1 breached its first response SLA" in text
    # T-2, T-3, T-5, T-7 and T-8; T-4 was solved, T-6 taken, and T-1 went straight to L2 (a P0).
    assert text.count("→ #support-triage: :wave:") == 5
    # The bug: filed from T-2 with the form, two more tickets linked, its card counting them.
    assert "BUG-1" in text and "T-2, T-7, T-8" in text
    # Escalations: the matrix sent T-1 to L2 and told L3 and management; T-6 went with a full handoff.
    assert "#support-l3 (C_L3)\n  Frontline: :vertical_traffic_light: T-1: P0 ticket — escalated to L2" in text
    assert "• Compared their IdP metadata with ours → The signing certificate changed on their side yesterday" in text
    assert "acknowledged the L2 escalation" in text
    assert "→ #support-l2: ⏰ T-1's L2 escalation (#support-l2) has waited 16m without acknowledgement" in text


def test_demo_runs_an_incident_from_start_to_summary(printed: str) -> None:
    played, _, channels = printed.partition("What the channels show now:")
    # What the lead did and saw, in story order; the reminders come from the clock moved on 30 minutes.
    story = [
        "Sam Okafor in #support-triage: /incident start Checkout errors for EU customers",
        "↳ (only you) INC-1 started (P0): creating #inc-1-checkout-errors-for-eu-customers",
        "Sam Okafor in #inc-1-checkout-errors-for-eu-customers: clicks [Done] on INC-1",
        "(30m later: the worker's sweep runs)",
        "→ #inc-1-checkout-errors-for-eu-customers: ⏰ @Sam Okafor INC-1: Post a status page update is due",
        "→ #inc-1-checkout-errors-for-eu-customers: 🔁 @Sam Okafor INC-1: Update the status page every 30 minutes "
        "is due again (the last one was 30m ago).",
        "Sam Okafor in #inc-1-checkout-errors-for-eu-customers: /incident update The payment provider is failing over",
        "↳ (only you) INC-1 resolved; the summary is posted in its channel.",
    ]
    positions = [played.index(line) for line in story]
    assert positions == sorted(positions)
    # The announcement in #incidents, resolved, with the update and the summary after it.
    announced = channels.split("#incidents (C_INCIDENTS)\n")[1].split("\n\n")[0]
    assert announced.startswith("  Frontline (edited): == INC-1 · Checkout errors for EU customers ==")
    assert "Status ✅ resolved by @Sam Okafor" in announced and "📢 INC-1 update from @Sam Okafor" in announced
    assert "== Summary · INC-1 · Checkout errors for EU customers ==" in announced
    # The incident's own channel: its card, the first step done, the reminders, the update, the summary.
    own = channels.split("#inc-1-checkout-errors-for-eu-customers (C")[1].split("\n\n")[0]
    shown = [
        "== INC-1 · Checkout errors for EU customers ==",
        "== Step 1/6 · Activate incident response ==",
        "✅ Done by @Sam Okafor",
        "== Step 2/6 · Post a status page update ==",
        "🔁 @Sam Okafor INC-1: Update the status page every 30 minutes is due again",
        "📢 INC-1 update from @Sam Okafor: The payment provider is failing over to its backup",
        "✅ INC-1 resolved by @Sam Okafor",  # the notice, then the summary the run's end posts
        "== Summary · INC-1 · Checkout errors for EU customers ==",
        "Duration 30m | Steps 1 done · 1 skipped · 4 not reached",
        "Reminders sent 2",
        "✅ Activate incident response: @Sam Okafor",
        "🏁 Resolved by @Sam Okafor · 30m after the start",
    ]
    positions = [own.index(line) for line in shown]
    assert positions == sorted(positions)


def test_demo_ends_with_a_standup_digest(printed: str) -> None:
    channels = printed.partition("What the channels show now:")[2]
    standup = channels.split("#support-standup (C_STANDUP)\n")[1].split("\n\n")[0]
    assert "== Standup digest ·" in standup and "Asked for by @Sam Okafor" in standup
