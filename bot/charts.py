"""Charts for the weekly digest, drawn with matplotlib (no screen: the Agg backend) into PNG bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")  # before pyplot: a server has no display

import matplotlib.pyplot as plt

__all__ = ["volume_and_sla_png"]


def volume_and_sla_png(rows: Sequence[tuple[str, int, int, int]], *, last_day: date, days: int = 14) -> bytes:
    """Tickets created per day (bars) and SLA compliance per day (line, % of clocks met of those
    decided) over the `days` days ending `last_day`; a day without tickets shows no bar and no point."""
    by_day = {day: (created, met, missed) for day, created, met, missed in rows}
    axis = [last_day - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    created = [by_day.get(d.isoformat(), (0, 0, 0))[0] for d in axis]
    compliance = [
        100 * met / (met + missed) if (met + missed) else float("nan")
        for met, missed in (by_day.get(d.isoformat(), (0, 0, 0))[1:] for d in axis)
    ]
    figure, volume = plt.subplots(figsize=(8, 3.2), dpi=100)
    try:
        labels = [d.strftime("%a %d") for d in axis]
        volume.bar(labels, created, color="#457b9d", label="tickets created")
        volume.set_ylabel("tickets created")
        volume.tick_params(axis="x", labelrotation=45, labelsize=8)
        sla = volume.twinx()
        sla.plot(labels, compliance, color="#e63946", marker="o", label="SLA compliance")
        sla.set_ylim(0, 105)
        sla.set_ylabel("SLA compliance %")
        volume.set_title(f"Volume and SLA compliance, {axis[0]:%d %b} – {axis[-1]:%d %b %Y} (UTC days)")
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(figure)
