"""Slack timestamps (`1700000000.000100`: seconds and microseconds) and the time-zone details of a user."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

_TS_PATTERN = re.compile(r"^(\d{1,12})(?:\.(\d{1,6}))?$")
_TZ_LABELS = {
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "UTC": "Coordinated Universal Time",
}


def _format_ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _ts_micros(ts: str) -> int | None:
    match = _TS_PATTERN.match(ts)
    if match is None:
        return None
    return int(match.group(1)) * 1_000_000 + int((match.group(2) or "0").ljust(6, "0"))


def _tz_details(tz: str) -> tuple[int, str]:
    now = datetime.now(ZoneInfo(tz))
    offset = now.utcoffset()
    abbreviation = now.tzname() or tz
    return int(offset.total_seconds()) if offset else 0, _TZ_LABELS.get(abbreviation, abbreviation)
