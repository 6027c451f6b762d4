"""Erasing personal data in place: a ticket's content (for `erase-user` and for retention) and one
person's ID and words wherever they were copied (every text and JSON column of every table).

Rows stay, and so do the columns metrics read (times, priority, status, counts, ratings): only words
and the person's ID go."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, String, Table, Text, bindparam, cast, delete, func, or_, select, update
from sqlmodel import Session, SQLModel, col

from bot.core.erasure import ERASED, Scrubber, erase_strings
from store.models import (
    AuditEvent,
    Comment,
    CsatRating,
    Digest,
    Escalation,
    OutboxMessage,
    Ticket,
    TicketVector,
)

__all__ = [
    "TEXT_AUDIT_FIELDS",
    "TextColumns",
    "candidate_keys",
    "closed_before",
    "digests_before",
    "erase_ticket_content",
    "erase_words_of",
    "owned_by",
    "scrub_rows",
    "scrubbable_tables",
    "texts_of",
    "tickets_requested_by",
    "withdraw_messages_to",
]

# Audit fields whose before/after are somebody's words (the rest are statuses, times, priorities,
# which metrics such as the reopen rate read).
TEXT_AUDIT_FIELDS = ("title", "description", "note", "comment", "text", "summary", "csat_comment")
# The parts of a handoff that are not free text.
_HANDOFF_KEEP = frozenset({"sentiment", "needed_by", "tier"})
_DELIVERED = ("sent", "dead")
_CHUNK = 500


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def tickets_requested_by(session: Session, user_id: str) -> list[int]:
    statement = select(col(Ticket.id)).where(col(Ticket.requester_id) == user_id).order_by(col(Ticket.id))
    return [int(row[0]) for row in session.execute(statement)]


def texts_of(session: Session, user_id: str, ticket_ids: Sequence[int]) -> list[str]:
    """Everything the person wrote, and everything written in their tickets, as stored."""
    texts: list[str] = []
    for chunk in _chunks(ticket_ids):
        for title, description in session.execute(
            select(col(Ticket.title), col(Ticket.description)).where(col(Ticket.id).in_(chunk))
        ):
            texts += [title, description]
        texts += session.execute(select(col(Comment.text)).where(col(Comment.ticket_id).in_(chunk))).scalars()
        texts += session.execute(select(col(CsatRating.comment)).where(col(CsatRating.ticket_id).in_(chunk))).scalars()
        for (handoff,) in session.execute(select(col(Escalation.handoff)).where(col(Escalation.ticket_id).in_(chunk))):
            texts += _strings({k: v for k, v in (handoff or {}).items() if k not in _HANDOFF_KEEP})
        for before, after in session.execute(
            select(col(AuditEvent.before), col(AuditEvent.after)).where(
                col(AuditEvent.entity_type) == "ticket",
                col(AuditEvent.entity_id).in_(chunk),
                col(AuditEvent.field).in_(TEXT_AUDIT_FIELDS),
            )
        ):
            texts += [before, after]
    texts += session.execute(select(col(Comment.text)).where(col(Comment.author) == user_id)).scalars()
    texts += session.execute(select(col(CsatRating.comment)).where(col(CsatRating.rated_by) == user_id)).scalars()
    return [text for text in texts if isinstance(text, str) and text and text != ERASED]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def closed_before(session: Session, cutoff: datetime, *, marker: str, limit: int) -> list[int]:
    """Tickets CLOSED before `cutoff` whose words are not yet replaced by `marker`, oldest id first."""
    statement = (
        select(col(Ticket.id))
        .where(col(Ticket.status) == "CLOSED", col(Ticket.closed_at) < cutoff, col(Ticket.title) != marker)
        .order_by(col(Ticket.id))
        .limit(limit)
    )
    return [int(row[0]) for row in session.execute(statement)]


def digests_before(session: Session, cutoff: datetime, *, after_id: int, limit: int) -> list[Digest]:
    """Digests decided before `cutoff` with an id above `after_id` (the last one already purged),
    oldest first."""
    statement = (
        select(Digest)
        .where(col(Digest.id) > after_id, col(Digest.created_at) < cutoff)
        .order_by(col(Digest.id))
        .limit(limit)
    )
    return list(session.scalars(statement))


def erase_ticket_content(session: Session, ticket_ids: Sequence[int], *, marker: str = ERASED) -> int:
    """Replace the words in these tickets and in everything attached to them with `marker`: title,
    description, attachments, the requester; every comment; CSAT comments; audit text; escalation
    handoffs; the text of their delivered messages; their sentence vectors (zeroed, so the rows that
    say "checked" stay and match nothing). Returns how many rows changed (0 when already erased)."""
    changed = 0
    for chunk in _chunks(ticket_ids):
        changed += _rowcount(
            session,
            update(Ticket)
            .where(
                col(Ticket.id).in_(chunk),
                or_(
                    col(Ticket.title) != marker,
                    col(Ticket.description) != "",
                    col(Ticket.requester_id).is_not(None),
                ),
            )
            .values(title=marker, description="", attachments=[], requester_id=None),
        )
        changed += _rowcount(
            session,
            update(Comment).where(col(Comment.ticket_id).in_(chunk), col(Comment.text) != marker).values(text=marker),
        )
        changed += _rowcount(
            session,
            update(CsatRating)
            .where(col(CsatRating.ticket_id).in_(chunk), col(CsatRating.comment).is_not(None))
            .values(comment=None),
        )
        for field in ("before", "after"):
            column = getattr(AuditEvent, field)
            changed += _rowcount(
                session,
                update(AuditEvent)
                .where(
                    col(AuditEvent.entity_type) == "ticket",
                    col(AuditEvent.entity_id).in_(chunk),
                    col(AuditEvent.field).in_(TEXT_AUDIT_FIELDS),
                    col(column).is_not(None),
                    col(column) != marker,
                )
                .values({field: marker}),
            )
        changed += _erase_json(session, Escalation, "handoff", chunk, lambda v: erase_strings(v, keep=_HANDOFF_KEEP))
        changed += _erase_json(
            session, Escalation, "context", chunk, lambda v: {**v, "summary": marker} if v.get("summary") else v
        )
        changed += _erase_delivered_messages(session, chunk)
        changed += _zero_vectors(session, chunk)
    return changed


def erase_words_of(session: Session, user_id: str, *, marker: str = ERASED) -> int:
    """Replace what the person wrote in other people's tickets (replies, ratings' comments)."""
    return _rowcount(
        session,
        update(Comment).where(col(Comment.author) == user_id, col(Comment.text) != marker).values(text=marker),
    ) + _rowcount(
        session,
        update(CsatRating)
        .where(col(CsatRating.rated_by) == user_id, col(CsatRating.comment).is_not(None))
        .values(comment=None),
    )


def owned_by(session: Session, user_id: str) -> list[Ticket]:
    """The tickets `user_id` owns: what addresses them, rather than records them, and so must not
    become the literal "[erased]" (an owner "[erased]" gets nudges nobody reads)."""
    return list(session.scalars(select(Ticket).where(col(Ticket.owner_id) == user_id).order_by(col(Ticket.id))))


def withdraw_messages_to(session: Session, user_id: str) -> int:
    """Delete the messages still waiting to be sent to `user_id` (a DM to channel "[erased]" dies)."""
    args = OutboxMessage.__table__.c.args  # type: ignore[attr-defined]
    to_them = or_(args["channel"].as_string() == user_id, args["user"].as_string() == user_id)
    return _rowcount(session, delete(OutboxMessage).where(col(OutboxMessage.status) == "pending", to_them))


def _rowcount(session: Session, statement: Any) -> int:
    return int(session.connection().execute(statement).rowcount or 0)


def _erase_json(session: Session, model: type[SQLModel], name: str, ticket_ids: list[int], erase: Any) -> int:
    table: Table = model.__table__  # type: ignore[attr-defined]
    changed = 0
    for key, value in session.connection().execute(
        select(table.c.id, table.c[name]).where(table.c.ticket_id.in_(ticket_ids))
    ):
        erased = erase(value or {})
        if erased != value:
            session.connection().execute(update(table).where(table.c.id == key).values({name: erased}))
            changed += 1
    return changed


def _erase_delivered_messages(session: Session, ticket_ids: list[int]) -> int:
    # A delivered message is never read again (its result keeps where it landed); one still to be
    # sent is rendered from the (erased) ticket or scrubbed like any other row.
    return _rowcount(
        session,
        update(OutboxMessage)
        .where(
            col(OutboxMessage.ticket_id).in_(ticket_ids),
            col(OutboxMessage.status).in_(_DELIVERED),
            col(OutboxMessage.purpose) != ERASED,
        )
        .values(args={}, purpose=ERASED),
    )


def _zero_vectors(session: Session, ticket_ids: list[int]) -> int:
    changed = 0
    rows = session.execute(
        select(col(TicketVector.id), col(TicketVector.vector)).where(col(TicketVector.ticket_id).in_(ticket_ids))
    ).all()
    for vector_id, vector in rows:
        zeros = bytes(len(vector))
        if bytes(vector) != zeros:
            session.execute(update(TicketVector).where(col(TicketVector.id) == vector_id).values(vector=zeros))
            changed += 1
    return changed


@dataclass(frozen=True)
class TextColumns:
    """A table's primary key and its text and JSON columns: where a person's words can be."""

    table: Table
    key: Column[Any]
    columns: tuple[Column[Any], ...]
    unique: frozenset[str]  # those of them whose values must stay unique


def _still_unique(column: Column[Any], value: str) -> str:
    suffix = f"~{secrets.token_hex(4)}"
    length = getattr(column.type, "length", None) or 255
    return value[: length - len(suffix)] + suffix


def scrubbable_tables() -> list[TextColumns]:
    """Every table with text or JSON columns."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        (key,) = table.primary_key.columns
        # SQLModel's str columns are a TypeDecorator over String: judged by what they store.
        columns = tuple(
            column for column in table.columns if isinstance(getattr(column.type, "impl", column.type), String | JSON)
        )
        unique_indexes = (index for index in table.indexes if index.unique and len(index.columns) == 1)
        unique = {column.name for column in columns if column.primary_key or column.unique}
        unique |= {column.name for index in unique_indexes for column in index.columns if column in columns}
        if columns:
            found.append(TextColumns(table, key, columns, frozenset(unique)))
    return found


def candidate_keys(session: Session, where: TextColumns, scrubber: Scrubber, *, batch: int = 1000) -> list[Any]:
    """Keys of the rows in which `scrubber` would change something (the table read in batches)."""
    found: list[Any] = []
    last: Any = None
    # The database skips the rows holding none of the scrubber's words (as lower-case text, JSON
    # included); the scrubber decides on the rest.
    keys = scrubber.keys
    words = None if keys is None else or_(*(func.lower(cast(c, Text)).contains(k) for c in where.columns for k in keys))
    while True:
        statement = select(where.key, *where.columns).order_by(where.key).limit(batch)
        if words is not None:
            statement = statement.where(words)
        if last is not None:
            statement = statement.where(where.key > last)
        rows = session.connection().execute(statement).all()
        found += [row[0] for row in rows if _scrubbed(where, row, scrubber)]
        if len(rows) < batch:
            return found
        last = rows[-1][0]


def _scrubbed(where: TextColumns, row: Any, scrubber: Scrubber) -> dict[str, Any]:
    """The row's changed values (by column name) once scrubbed."""
    changed = {}
    for column, value in zip(where.columns, row[1:], strict=True):
        if value is not None and (scrubbed := scrubber.value(value)) != value:
            changed[column.name] = scrubbed
    return changed


def scrub_rows(session: Session, where: TextColumns, keys: list[Any], scrubber: Scrubber) -> int:
    """Scrub the rows `keys` as they are now (read again in this transaction). A unique value that
    held the person's ID or words (an outbox key naming them, an incident channel's reserved name)
    gets a random suffix, so that two such values cannot become one."""
    changed = 0
    connection = session.connection()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        for row in connection.execute(select(where.key, *where.columns).where(where.key.in_(chunk))).all():
            values = _scrubbed(where, row, scrubber)
            if not values:
                continue
            for name in where.unique.intersection(values):
                values[name] = _still_unique(where.table.c[name], values[name])
            statement = update(where.table).where(where.key == bindparam("old_key")).values(values)
            connection.execute(statement, {"old_key": row[0]})
            changed += 1
    return changed
