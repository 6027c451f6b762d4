"""`frontline export tickets|bugs`: one record per ticket (or bug), for reporting and migration;
`frontline export incident INC-3`: the incident's post-incident review draft (Markdown).

Records pass through the one PII mask (`bot.core.pii`: e-mail addresses, phone and card numbers,
tokens and secrets) unless an admin asks for them whole (`--include-pii --as U…`, checked by the CLI);
the incident review always masks what people typed."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Engine

from bot.core.pii import mask_value
from bot.core.timefmt import iso_utc
from bot.incident_review import review_markdown
from bot.services import incidents, playbook_runs
from bot.services.policy import Policy
from store import bugs, tickets
from store import playbooks as runs
from store.db import read_scope
from store.models import Bug, Ticket

__all__ = [
    "BUG_FIELDS",
    "TICKET_FIELDS",
    "IncidentExportError",
    "bug_record",
    "bug_records",
    "csv_cell",
    "incident_review",
    "ticket_record",
    "ticket_records",
    "write_bugs",
    "write_tickets",
]

TICKET_FIELDS = (
    "id",
    "number",
    "title",
    "description",
    "status",
    "priority",
    "priority_reason",
    "owner",
    "requester",
    "created_by",
    "customer",
    "customer_tier",
    "affected_users",
    "category",
    "root_cause",
    "resolution_type",
    "tags",
    "attachments",
    "created_at",
    "updated_at",
    "first_responded_at",
    "solved_at",
    "closed_at",
    "first_response_due",
    "resolution_due",
    "breached",
    "source_kind",
    "source_channel",
    "source_ts",
    "source_deleted_at",
)


def _time(value: datetime | None) -> str | None:
    return iso_utc(value) if value is not None else None


def ticket_record(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.ref,
        "number": ticket.number,
        "title": ticket.title,
        "description": ticket.description,
        "status": ticket.status,
        "priority": ticket.priority,
        "priority_reason": ticket.priority_reason,
        "owner": ticket.owner_id,
        "requester": ticket.requester_id,
        "created_by": ticket.created_by,
        "customer": ticket.customer,
        "customer_tier": ticket.customer_tier,
        "affected_users": ticket.affected_users,
        "category": ticket.category,
        "root_cause": ticket.root_cause,
        "resolution_type": ticket.resolution_type,
        "tags": list(ticket.tags),
        "attachments": [attachment.get("name", "") for attachment in ticket.attachments],
        "created_at": _time(ticket.created_at),
        "updated_at": _time(ticket.updated_at),
        "first_responded_at": _time(ticket.first_responded_at),
        "solved_at": _time(ticket.solved_at),
        "closed_at": _time(ticket.closed_at),
        "first_response_due": _time(ticket.first_response_due),
        "resolution_due": _time(ticket.resolution_due),
        "breached": ticket.breached,
        "source_kind": ticket.source_kind,
        "source_channel": ticket.source_channel,
        "source_ts": ticket.source_ts,
        "source_deleted_at": _time(ticket.source_deleted_at),
    }


def _shown(record: dict[str, Any], include_pii: bool) -> dict[str, Any]:
    return record if include_pii else dict(mask_value(record))


def ticket_records(engine: Engine, *, include_pii: bool = False) -> Iterator[dict[str, Any]]:
    with read_scope(engine) as session:
        for ticket in tickets.iter_all(session):
            yield _shown(ticket_record(ticket), include_pii)


# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): customer text such as
# '=HYPERLINK(...)' must arrive as text, so it gets a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A record value as CSV text: lists joined by spaces, booleans as true/false (as in JSONL)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = " ".join(str(item) for item in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _write(records: Iterator[dict[str, Any]], fields: tuple[str, ...], out: TextIO, fmt: str) -> int:
    """Write records as JSON Lines or CSV; returns how many were written."""
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    for record in records:
        writer.writerow({key: csv_cell(value) for key, value in record.items()})
        count += 1
    return count


def write_tickets(engine: Engine, out: TextIO, fmt: str, *, include_pii: bool = False) -> int:
    """Write every ticket as JSON Lines or CSV (personal data masked unless `include_pii`); returns how
    many were written."""
    return _write(ticket_records(engine, include_pii=include_pii), TICKET_FIELDS, out, fmt)


BUG_FIELDS = (
    "id",
    "number",
    "title",
    "severity",
    "priority",
    "status",
    "impact",
    "area",
    "steps",
    "expected",
    "actual",
    "environment",
    "reported_by",
    "created_at",
    "updated_at",
    "flagged_at",
    "resolved_by",
    "resolved_at",
    "notified_by",
    "notified_at",
    "linked_count",
    "linked_tickets",
)


def bug_record(bug: Bug, linked: list[Ticket]) -> dict[str, Any]:
    """One bug with its linked tickets' refs (in the order they were linked) and their count."""
    return {
        "id": bug.ref,
        "number": bug.number,
        "title": bug.title,
        "severity": bug.severity,
        "priority": bug.priority,
        "status": bug.status,
        "impact": bug.impact,
        "area": bug.area,
        "steps": bug.steps,
        "expected": bug.expected,
        "actual": bug.actual,
        "environment": bug.environment,
        "reported_by": bug.reported_by,
        "created_at": _time(bug.created_at),
        "updated_at": _time(bug.updated_at),
        "flagged_at": _time(bug.flagged_at),
        "resolved_by": bug.resolved_by,
        "resolved_at": _time(bug.resolved_at),
        "notified_by": bug.notified_by,
        "notified_at": _time(bug.notified_at),
        "linked_count": len(linked),
        "linked_tickets": [ticket.ref for ticket in linked],
    }


def bug_records(engine: Engine, *, include_pii: bool = False) -> Iterator[dict[str, Any]]:
    with read_scope(engine) as session:
        for bug in bugs.iter_all(session):
            assert bug.id is not None
            yield _shown(bug_record(bug, bugs.linked_tickets(session, bug.id)), include_pii)


def write_bugs(engine: Engine, out: TextIO, fmt: str, *, include_pii: bool = False) -> int:
    """Write every bug as JSON Lines or CSV (personal data masked unless `include_pii`); returns how
    many were written."""
    return _write(bug_records(engine, include_pii=include_pii), BUG_FIELDS, out, fmt)


class IncidentExportError(LookupError):
    """The incident exists but cannot be shown (its playbook is no longer installed)."""


def incident_review(engine: Engine, policy: Policy, number: int) -> str:
    """INC-`number`'s post-incident review draft as Markdown, times in the configured time zone; raises
    `IncidentNotFoundError` when there is no such incident. Rendered whole before anything is written,
    so a failure leaves no half-written file."""
    with read_scope(engine) as session:
        incident = incidents.find(session, incidents.Ref(number=number))
        row = runs.run_by_id(session, incident.run_id)
        if row is None or row.playbook not in policy.playbooks:
            playbook = row.playbook if row is not None else "?"
            raise IncidentExportError(
                f"{incident.ref} follows playbook `{playbook}`, which is not installed here (FRONTLINE_PLAYBOOKS)."
            )
        view = playbook_runs.view_of(session, policy, row)
    return review_markdown(view, policy.config.tzinfo)
