"""`frontline export tickets`: one record per ticket, for reporting and migration."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Engine

from bot.core.timefmt import iso_utc
from store import tickets
from store.db import read_scope
from store.models import Ticket

__all__ = ["TICKET_FIELDS", "ticket_record", "ticket_records", "write_tickets"]

TICKET_FIELDS = (
    "id",
    "title",
    "status",
    "priority",
    "priority_reason",
    "owner",
    "requester",
    "customer",
    "customer_tier",
    "category",
    "tags",
    "created_at",
    "first_responded_at",
    "solved_at",
    "closed_at",
    "first_response_due",
    "resolution_due",
    "breached",
    "source_channel",
    "source_ts",
)


def _time(value: datetime | None) -> str | None:
    return iso_utc(value) if value is not None else None


def ticket_record(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.ref,
        "title": ticket.title,
        "status": ticket.status,
        "priority": ticket.priority,
        "priority_reason": ticket.priority_reason,
        "owner": ticket.owner_id,
        "requester": ticket.requester_id,
        "customer": ticket.customer,
        "customer_tier": ticket.customer_tier,
        "category": ticket.category,
        "tags": list(ticket.tags),
        "created_at": _time(ticket.created_at),
        "first_responded_at": _time(ticket.first_responded_at),
        "solved_at": _time(ticket.solved_at),
        "closed_at": _time(ticket.closed_at),
        "first_response_due": _time(ticket.first_response_due),
        "resolution_due": _time(ticket.resolution_due),
        "breached": ticket.breached,
        "source_channel": ticket.source_channel,
        "source_ts": ticket.source_ts,
    }


def ticket_records(engine: Engine) -> Iterator[dict[str, Any]]:
    with read_scope(engine) as session:
        for ticket in tickets.iter_all(session):
            yield ticket_record(ticket)


def write_tickets(engine: Engine, out: TextIO, fmt: str) -> int:
    """Write every ticket as JSON Lines or CSV; returns how many were written."""
    count = 0
    if fmt == "jsonl":
        for record in ticket_records(engine):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.DictWriter(out, fieldnames=TICKET_FIELDS)
    writer.writeheader()
    for record in ticket_records(engine):
        writer.writerow({**record, "tags": " ".join(record["tags"])})
        count += 1
    return count
