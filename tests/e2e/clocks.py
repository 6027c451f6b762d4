"""A clock the end-to-end tests set by hand: the app reads `now` from it, as it would read the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Clock"]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now
