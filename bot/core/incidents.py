"""Incident channel names (pure): `inc-{n}-{slug}` by default, within Slack's rules (lower case,
letters, digits, - and _, at most 80 characters), with -2, -3, … when a name is taken."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

__all__ = ["MAX_CHANNEL_NAME", "SEVERITIES", "channel_name", "slug"]

MAX_CHANNEL_NAME = 80
SEVERITIES = ("P0", "P1", "P2", "P3")


def slug(title: str) -> str:
    """The title as a channel-name part: accents dropped, lower case, words joined by -."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words) or "incident"


def channel_name(template: str, *, number: int, title: str, day: date, attempt: int = 1) -> str:
    """The name for the incident's `attempt`-th try (1: no suffix). The slug is shortened, at a word
    boundary where it can be, so the whole name with its suffix fits in 80 characters."""
    suffix = f"-{attempt}" if attempt > 1 else ""
    fields = {"n": str(number), "YYYY": f"{day.year:04d}", "MM": f"{day.month:02d}", "DD": f"{day.day:02d}"}
    fixed = len(template.format(slug="", **fields)) + len(suffix)
    room = max(MAX_CHANNEL_NAME - fixed, 1)
    words = slug(title)
    if len(words) > room:
        cut = words[:room]
        words = cut.rsplit("-", 1)[0] if "-" in cut and words[room] != "-" else cut.rstrip("-")
    return template.format(slug=words or "incident", **fields) + suffix
