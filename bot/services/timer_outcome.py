"""What acting on a due timer can say besides its outcome: that it is not due after all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Reschedule"]


@dataclass(frozen=True)
class Reschedule:
    """The timer is not due after all (the clock moved, or there is nobody to chase now): look
    again at `when`. The sweep moves it and releases its claim; it stays unfired."""

    when: datetime
