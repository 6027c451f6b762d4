"""Per-channel pacing: a burst passes, then one message a second per channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.slack.pacing import ChannelPacer

T0 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def test_a_burst_passes_then_one_a_second() -> None:
    pacer = ChannelPacer(burst=3, per_second=1.0)
    assert [pacer.wait_for("C1", T0) for _ in range(3)] == [timedelta(0)] * 3
    assert pacer.wait_for("C1", T0) == timedelta(seconds=1)
    assert pacer.wait_for("C1", T0 + timedelta(milliseconds=500)) == timedelta(milliseconds=500)
    assert pacer.wait_for("C1", T0 + timedelta(seconds=1)) == timedelta(0)
    assert pacer.wait_for("C1", T0 + timedelta(seconds=1)) == timedelta(seconds=1)


def test_channels_are_paced_apart_and_refill_to_the_burst_only() -> None:
    pacer = ChannelPacer(burst=2, per_second=1.0)
    for _ in range(2):
        pacer.wait_for("C1", T0)
    assert pacer.wait_for("C2", T0) == timedelta(0)  # another channel has its own budget
    later = T0 + timedelta(hours=1)
    assert [pacer.wait_for("C1", later) for _ in range(3)] == [timedelta(0), timedelta(0), timedelta(seconds=1)]
