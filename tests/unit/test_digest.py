"""The digest's schedule (weekdays, DST, late) and its stored form, and PII masking. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.digest import EVERY_DAY, WEEKDAYS, Listed, Snapshot, is_late, is_stale, latest_slot, snapshot_from_json
from bot.core.pii import mask_pii
from bot.slack import digest_blocks

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def _slot(now: datetime, *, tz: ZoneInfo = NY, weekdays_only: bool = True) -> datetime:
    return latest_slot(now, tz=tz, at=time(9, 0), days=WEEKDAYS if weekdays_only else EVERY_DAY)


def test_the_latest_slot_is_nine_local_on_a_weekday() -> None:
    monday_nine = datetime(2026, 12, 7, 9, 0, tzinfo=NY)
    assert _slot(monday_nine) == monday_nine
    assert _slot(monday_nine - timedelta(seconds=1)) == datetime(2026, 12, 4, 9, 0, tzinfo=NY)  # Friday's
    assert _slot(datetime(2026, 12, 6, 12, 0, tzinfo=NY)) == datetime(2026, 12, 4, 9, 0, tzinfo=NY)  # Sunday
    assert _slot(datetime(2026, 12, 6, 12, 0, tzinfo=NY), weekdays_only=False) == datetime(2026, 12, 6, 9, 0, tzinfo=NY)


@pytest.mark.parametrize(
    ("tz", "after_change", "utc_hour"),
    [
        (NY, datetime(2026, 11, 2, 9, 0), 14),
        (NY, datetime(2026, 3, 9, 9, 0), 13),
        (LONDON, datetime(2026, 3, 30, 9, 0), 8),
    ],
)
def test_nine_stays_nine_across_dst(tz: ZoneInfo, after_change: datetime, utc_hour: int) -> None:
    slot = _slot(after_change.replace(tzinfo=tz) + timedelta(minutes=1), tz=tz)
    assert slot.astimezone(UTC).hour == utc_hour and slot.astimezone(tz).hour == 9


def test_late_is_more_than_a_quarter_hour_after_the_slot_and_stale_half_a_day_after() -> None:
    slot = datetime(2026, 12, 7, 9, 0, tzinfo=NY)
    assert not is_late(slot, slot + timedelta(minutes=15))
    assert is_late(slot, slot + timedelta(minutes=16))
    assert not is_stale(slot, slot + timedelta(hours=11, minutes=59))
    assert is_stale(slot, slot + timedelta(hours=12))


def test_a_snapshot_survives_its_stored_form() -> None:
    snapshot = Snapshot(
        day=date(2026, 12, 7), since=datetime(2026, 12, 4, 14, 0, tzinfo=UTC), new=3,
        new_tickets=(Listed("T-1", "Checkout fails", "P1", "U1", datetime(2026, 12, 7, 13, 0, tzinfo=UTC)),),
        open_by_priority={"P1": 2, "P2": 1}, top_categories=(("technical", 2),),
        bugs=(Listed("BUG-2", "Export 500", "P1", detail="4"),),
    )  # fmt: skip
    assert snapshot_from_json(snapshot.to_json()) == snapshot


def test_the_headline_counts_and_the_thread_lists_with_pii_masked() -> None:
    snapshot = Snapshot(
        day=date(2026, 12, 7), since=datetime(2026, 12, 4, 14, 0, tzinfo=UTC), new=12,
        new_tickets=(Listed("T-9", "Call me on +1 415 555 0132 <!channel>", "P0", None),),
        open_by_priority={"P0": 1, "P2": 4}, breached=1,
        breached_tickets=(Listed("T-3", "Refund for jane@acme.io", "P1", "U_AGENT1"),),
    )  # fmt: skip
    head = digest_blocks.headline(
        snapshot,
        due=datetime(2026, 12, 7, 14, 0, tzinfo=UTC),
        late=True,
        requested_by=None,
        posted=datetime(2026, 12, 7, 16, 30, tzinfo=UTC),
    )
    assert head["text"].startswith("Standup digest 2026-12-07 (late): 12 new, 5 open, 1 breached")
    assert ":hourglass: Late" in str(head["blocks"]) and "P0 1 · P1 0 · P2 4 · P3 0" in str(head["blocks"])
    shown = str(digest_blocks.details(snapshot)["blocks"])
    assert "*New* (12)" in shown and "… and 11 more" in shown and "[phone]" in shown and "[email]" in shown
    assert "<!channel>" not in shown and "555 0132" not in shown and "jane@acme.io" not in shown
    assert "<@U_AGENT1>" in shown and "unassigned" in shown


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("write to jane.doe+test@acme.co.uk today", "write to [email] today"),
        ("card 4111-1111-1111-1111 was declined", "card [card] was declined"),
        ("call +44 20 7946 0958", "call [phone]"),
        ("token xoxb-123456789-abcdefghij leaked", "token [token] leaked"),
        ("Authorization: Bearer abcdefghijklmnop1234", "Authorization: [token]"),
        (
            "250 users since 2026-12-07 10:30, error 502, order 1043",
            "250 users since 2026-12-07 10:30, error 502, order 1043",
        ),
        ("not a card 1234 5678 9012 3456", "not a card 1234 5678 9012 3456"),
    ],
)
def test_pii_is_masked_and_ordinary_numbers_are_not(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


def test_a_title_with_entities_is_escaped_exactly_once_in_the_digest() -> None:
    """Field case F3's kind: the digest repeats what was typed, '&', '<' and '>' escaped once."""
    snapshot = Snapshot(
        day=date(2026, 12, 7), since=datetime(2026, 12, 4, 14, 0, tzinfo=UTC), new=1,
        new_tickets=(Listed("T-3", "R&D export <beta> fails", "P2", None),),
    )  # fmt: skip
    shown = str(digest_blocks.details(snapshot)["blocks"])
    assert "R&amp;D export &lt;beta&gt; fails" in shown and "&amp;amp;" not in shown
