"""Unit tests for bot.core.timefmt: UTC normalisation and the local text people read on cards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.core.timefmt import format_local, iso_utc, to_utc, zone

NY = ZoneInfo("America/New_York")


def test_to_utc_converts_aware_datetimes() -> None:
    result = to_utc(datetime(2026, 12, 7, 9, 30, tzinfo=NY))
    assert result == datetime(2026, 12, 7, 14, 30, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_to_utc_accepts_fixed_offsets() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert to_utc(datetime(2026, 1, 1, 2, 0, tzinfo=plus_two)) == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


def test_to_utc_rejects_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_utc(datetime(2026, 12, 7, 9, 30))


def test_iso_utc_format() -> None:
    assert iso_utc(datetime(2026, 12, 7, 9, 30, tzinfo=NY)) == "2026-12-07T14:30:00Z"


def test_iso_utc_truncates_subseconds() -> None:
    assert iso_utc(datetime(2026, 12, 7, 14, 30, 5, 999_999, tzinfo=UTC)) == "2026-12-07T14:30:05Z"


def test_iso_utc_rejects_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        iso_utc(datetime(2026, 12, 7, 14, 30))


def test_format_local_same_year_omits_year() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert format_local(datetime(2026, 12, 7, 14, 30, tzinfo=UTC), "America/New_York", now=now) == (
        "Mon 7 Dec 09:30 EST"
    )


def test_format_local_other_year_shows_year() -> None:
    now = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
    assert format_local(datetime(2026, 12, 7, 14, 30, tzinfo=UTC), "America/New_York", now=now) == (
        "Mon 7 Dec 2026 09:30 EST"
    )


def test_format_local_without_now_shows_year() -> None:
    assert format_local(datetime(2026, 12, 7, 14, 30, tzinfo=UTC), "America/New_York") == ("Mon 7 Dec 2026 09:30 EST")


def test_format_local_compares_years_in_local_time() -> None:
    # 03:00Z on 1 Jan 2027 is still New Year's Eve 2026 in New York, as is `now`.
    now = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    assert format_local(datetime(2027, 1, 1, 3, 0, tzinfo=UTC), "America/New_York", now=now) == ("Thu 31 Dec 22:00 EST")


@pytest.mark.parametrize(
    ("instant", "tz", "expected"),
    [
        (datetime(2026, 7, 6, 12, 0, tzinfo=UTC), "America/New_York", "Mon 6 Jul 08:00 EDT"),
        (datetime(2026, 7, 6, 7, 30, tzinfo=UTC), "Europe/London", "Mon 6 Jul 08:30 BST"),
        (datetime(2026, 11, 2, 8, 30, tzinfo=UTC), "Europe/London", "Mon 2 Nov 08:30 GMT"),
        (datetime(2026, 11, 2, 8, 30, tzinfo=UTC), "UTC", "Mon 2 Nov 08:30 UTC"),
    ],
)
def test_format_local_abbreviation_follows_dst(instant: datetime, tz: str, expected: str) -> None:
    assert format_local(instant, tz, now=instant) == expected


def test_format_local_rejects_naive_and_unknown_zone() -> None:
    aware = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        format_local(datetime(2026, 12, 7, 14, 30), "America/New_York")
    with pytest.raises(ValueError, match="naive"):
        format_local(aware, "America/New_York", now=datetime(2026, 12, 7))
    with pytest.raises(ValueError, match="unknown timezone"):
        format_local(aware, "Mars/Olympus_Mons")


@pytest.mark.parametrize("name", ["", "Not/AZone", "../etc/passwd"])
def test_zone_rejects_bad_names(name: str) -> None:
    with pytest.raises(ValueError, match="unknown timezone"):
        zone(name)
