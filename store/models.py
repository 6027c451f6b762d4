"""Database tables. Only `store/` imports these; services receive plain values or these rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, Index, LargeBinary, String, Text, TypeDecorator, text
from sqlmodel import Field, SQLModel

__all__ = [
    "AuditEvent",
    "Bug",
    "BugLink",
    "Comment",
    "Counter",
    "CsatRating",
    "Digest",
    "Escalation",
    "EscalationTrigger",
    "Incident",
    "IncidentChannelName",
    "OutboxMessage",
    "PlaybookRun",
    "RunTicket",
    "SlackEvent",
    "Surge",
    "SurgeMember",
    "Ticket",
    "TicketVector",
    "Timer",
    "UTCDateTime",
    "WorkerHeartbeat",
]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite has no time zones; we store naive UTC there)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json_list_column() -> Any:
    # `default=[]`, not `default_factory=list`: pydantic copies a mutable default for each row all
    # the same, and for a factory it inspects `list`'s signature on every construction, which made
    # `Ticket(...)` cost 270 µs instead of 100.
    return Field(default=[], sa_column=Column(JSON, nullable=False, default=list))


def _json_dict_column() -> Any:
    return Field(default={}, sa_column=Column(JSON, nullable=False, default=dict))


def _text_column() -> Any:
    return Field(default="", sa_column=Column(Text, nullable=False, default=""))


def _utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Counter(SQLModel, table=True):
    """Gapless per-kind sequence (T-<n>, BUG-<n>, INC-<n>), bumped inside the creating transaction."""

    __tablename__ = "counters"

    name: str = Field(primary_key=True, max_length=32)
    value: int = 0


OPEN_BOARD_COLUMNS = (
    "status", "priority", "breached", "created_at",
    "first_response_running_since", "first_response_due", "resolution_running_since", "resolution_due",
)  # fmt: skip
CREATED_METRICS_COLUMNS = (
    "created_at", "priority", "category", "first_responded_at", "first_response_used_s",
    "first_response_stopped_at", "first_response_breached", "resolution_stopped_at", "resolution_breached",
)  # fmt: skip


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    # One message becomes at most one ticket, however many ways it is turned into one (an intake
    # post, a retried event, a reaction and the shortcut on the same message).
    __table_args__ = (
        Index("ux_tickets_source", "source_channel", "source_ts", unique=True),
        Index("ix_tickets_owner_status_priority", "owner_id", "status", "priority"),  # queue queries
        # Covering indexes for the digest and the metrics: with a million tickets, reading a month's
        # (or the open backlog's) columns from an index instead of from each row is the difference
        # between seconds and tens of milliseconds (README "Performance").
        # PostgreSQL's indexes do not carry the row's id as SQLite's do: INCLUDE it, or choosing
        # the listed tickets' ids goes back to the table for every candidate row.
        Index("ix_tickets_open_board", *OPEN_BOARD_COLUMNS, postgresql_include=["id"]),
        Index("ix_tickets_created_metrics", *CREATED_METRICS_COLUMNS, postgresql_include=["id"]),
        Index("ix_tickets_solved_metrics", "solved_at", "created_at", "resolution_used_s", "resolution_stopped_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: str = Field(default="NEW", max_length=16, index=True)
    priority: str = Field(default="P2", max_length=2, index=True)
    priority_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    category: str | None = Field(default=None, max_length=64)
    sentiment: str | None = Field(default=None, max_length=16)
    root_cause: str | None = Field(default=None, max_length=32)  # bot.core.root_causes, set by an agent
    resolution_type: str | None = Field(default=None, max_length=32)
    tags: list[str] = _json_list_column()
    requester_id: str | None = Field(default=None, max_length=32, index=True)
    owner_id: str | None = Field(default=None, max_length=32, index=True)
    customer: str | None = Field(default=None, max_length=128)
    customer_tier: str | None = Field(default=None, max_length=16)
    affected_users: int | None = None
    created_by: str = Field(max_length=32)
    source_kind: str = Field(max_length=16)
    source_channel: str | None = Field(default=None, max_length=32)
    source_ts: str | None = Field(default=None, max_length=32)
    source_permalink: str | None = Field(default=None, sa_column=Column(String(512), nullable=True))
    source_deleted_at: datetime | None = _utc_column()
    attachments: list[dict[str, str]] = _json_list_column()
    card_channel: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = _utc_column(nullable=False, index=True)
    updated_at: datetime = _utc_column(nullable=False)
    first_responded_at: datetime | None = _utc_column()
    solved_at: datetime | None = _utc_column(index=True)
    closed_at: datetime | None = _utc_column()
    first_response_due: datetime | None = _utc_column(index=True)
    resolution_due: datetime | None = _utc_column(index=True)
    breached: bool = False  # either clock breached
    # SLA clocks (bot.core.sla.Clock): working seconds used before `*_running_since`; running while
    # that is set, stopped once `*_stopped_at` is, paused when neither is.
    first_response_used_s: int = 0
    first_response_running_since: datetime | None = _utc_column()
    first_response_stopped_at: datetime | None = _utc_column()
    first_response_breached: bool = False
    resolution_used_s: int = 0
    resolution_running_since: datetime | None = _utc_column()
    resolution_stopped_at: datetime | None = _utc_column()
    resolution_breached: bool = False
    status_since: datetime | None = _utc_column()  # when the ticket entered its current status

    @property
    def ref(self) -> str:
        return f"T-{self.number}"


AUDIT_STATUS_CHANGES = "field = 'status'"  # the partial index's condition, as queries must write it


class AuditEvent(SQLModel, table=True):
    """Append-only history of every change: who, when, what, before → after."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
        # Tickets' status changes by time, covering what the reopen rate reads (migration 0014).
        Index(
            "ix_audit_events_status_changes",
            "at",
            "entity_type",
            "entity_id",
            "before",
            "after",
            sqlite_where=text(AUDIT_STATUS_CHANGES),
            postgresql_where=text(AUDIT_STATUS_CHANGES),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc_column(nullable=False, index=True)
    actor: str = Field(max_length=32)
    entity_type: str = Field(max_length=16)
    entity_id: int
    action: str = Field(max_length=32)
    field: str | None = Field(default=None, max_length=64)
    before: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    after: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class OutboxMessage(SQLModel, table=True):
    """A Slack Web API call that a transaction decided to make; delivered (at most once) by the sender.

    `key` is unique: deciding twice to send the same thing (a retried request, two workers) collides
    here instead of reaching Slack twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # The claim skips a row while an earlier row of its ticket is undelivered: one probe here per
        # candidate. Without it PostgreSQL intersected the ticket index with every undelivered row's
        # status entry for each candidate, and a claim with 10,000 rows waiting took 28 s (found by
        # the scale-out soak).
        Index(
            "ix_outbox_ticket_undelivered",
            "ticket_id",
            "id",
            sqlite_where=text("status IN ('pending', 'sending')"),
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    method: str = Field(max_length=64)
    args: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    purpose: str = Field(max_length=32)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _utc_column(nullable=False)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = _utc_column()
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = _utc_column(nullable=False)
    sent_at: datetime | None = _utc_column()


class Timer(SQLModel, table=True):
    """Something to do at `due_at` (an SLA nudge, a stage timer, later escalation and playbook
    reminders), done once: `key` is unique and `fired_at` is set in the transaction that acts on it."""

    __tablename__ = "timers"
    __table_args__ = (
        # The sweep reads only unfired timers that are due: its cost follows the work, not the table.
        Index(
            "ix_timers_unfired_due",
            "due_at",
            sqlite_where=text("fired_at IS NULL"),
            postgresql_where=text("fired_at IS NULL"),
        ),
        Index("ix_timers_subject", "kind", "subject_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    kind: str = Field(max_length=32)  # what `subject_id` is: "ticket"
    subject_id: int
    name: str = Field(max_length=64)  # what is due, e.g. "sla:resolution:warn:0.75", "stage:solved_close"
    due_at: datetime = _utc_column(nullable=False)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = _utc_column()
    fired_at: datetime | None = _utc_column()
    outcome: str | None = Field(default=None, max_length=255)


class SlackEvent(SQLModel, table=True):
    """Events already acted on, by Slack's `event_id`: a retried delivery changes nothing."""

    __tablename__ = "slack_events"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = _utc_column(nullable=False)


class Comment(SQLModel, table=True):
    """A reply in a ticket's source thread: from an agent (a response) or the requester."""

    __tablename__ = "comments"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    author: str = Field(max_length=32)
    role: str = Field(max_length=16)  # agent | requester | other
    text: str = Field(sa_column=Column(Text, nullable=False))
    slack_ts: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    created_at: datetime = _utc_column(nullable=False)


class Escalation(SQLModel, table=True):
    """A ticket handed to a higher tier (seed 001 "Escalation Handoff Template"). `level` counts the
    ticket's escalations (1, 2, …); it is unique per ticket, so a double-clicked or retried escalation
    cannot record a second one."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ux_escalations_ticket_level", "ticket_id", "level", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    level: int
    tier: str = Field(max_length=16)  # L2 | L3 | management
    from_tier: str = Field(max_length=16)  # L1 | L2 | L3
    status: str = Field(default="open", max_length=16, index=True)  # open | acknowledged | returned | closed
    escalated_by: str = Field(max_length=32)
    trigger: str | None = Field(default=None, max_length=32)  # the matrix trigger, when it escalated by itself
    # What the next tier needs (what was tried, what is needed, …) and the ticket as it was then.
    handoff: dict[str, Any] = _json_dict_column()
    context: dict[str, Any] = _json_dict_column()
    ack_within_s: int
    created_at: datetime = _utc_column(nullable=False)
    acknowledged_by: str | None = Field(default=None, max_length=32)
    acknowledged_at: datetime | None = _utc_column()
    returned_by: str | None = Field(default=None, max_length=32)
    returned_at: datetime | None = _utc_column()
    nudges: int = 0  # unacknowledged re-nudges sent
    card_channel: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)


class EscalationTrigger(SQLModel, table=True):
    """A row of the escalation decision matrix that matched a ticket: once per ticket and trigger."""

    __tablename__ = "escalation_triggers"
    __table_args__ = (Index("ux_escalation_triggers_ticket", "ticket_id", "trigger", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    trigger: str = Field(max_length=32)
    action: str = Field(max_length=16)  # escalate | suggest | notify
    tier: str = Field(max_length=16)  # the tier it escalates or suggests escalating to
    reason: str = _text_column()
    at: datetime = _utc_column(nullable=False)


class Bug(SQLModel, table=True):
    """A bug filed from support (seed 004's support-to-bug pipeline), `BUG-<n>`, linked to tickets."""

    __tablename__ = "bugs"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    severity: str = Field(max_length=16)  # critical | major | minor | trivial
    priority: str = Field(max_length=2)
    impact: str = _text_column()
    area: str = Field(default="", max_length=128)
    steps: str = _text_column()
    expected: str = _text_column()
    actual: str = _text_column()
    environment: str = _text_column()
    status: str = Field(default="open", max_length=16, index=True)  # open | resolved
    flagged_at: datetime | None = _utc_column()  # when the 10x rule raised it
    reported_by: str = Field(max_length=32)
    created_at: datetime = _utc_column(nullable=False)
    updated_at: datetime = _utc_column(nullable=False)
    resolved_by: str | None = Field(default=None, max_length=32)
    resolved_at: datetime | None = _utc_column()
    notified_by: str | None = Field(default=None, max_length=32)  # who told the linked requesters
    notified_at: datetime | None = _utc_column()
    card_channel: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)

    @property
    def ref(self) -> str:
        return f"BUG-{self.number}"


class BugLink(SQLModel, table=True):
    __tablename__ = "bug_links"
    __table_args__ = (Index("ux_bug_links_bug_ticket", "bug_id", "ticket_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    bug_id: int = Field(foreign_key="bugs.id")
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    linked_by: str = Field(max_length=32)
    linked_at: datetime = _utc_column(nullable=False)


class PlaybookRun(SQLModel, table=True):
    """One run of a playbook (seed 001 Phase 11). Its steps, roles and timeline are the pure
    engine's `Run` as JSON (`bot.core.playbooks.run_to_json`), changed only under this row's lock."""

    __tablename__ = "playbook_runs"

    id: int | None = Field(default=None, primary_key=True)
    playbook: str = Field(max_length=40)
    title: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="running", max_length=16, index=True)  # running | finished
    channel: str | None = Field(default=None, max_length=32, index=True)  # where it posts; None: not yet known
    state: dict[str, Any] = _json_dict_column()
    started_by: str = Field(max_length=32)
    created_at: datetime = _utc_column(nullable=False)
    finished_at: datetime | None = _utc_column()
    reminders_off: str | None = Field(default=None, max_length=64)  # why reminders stopped (its channel is gone)

    @property
    def ref(self) -> str:
        return f"RUN-{self.id}"


class RunTicket(SQLModel, table=True):
    """A ticket linked to a run (an incident's reports, the ticket an angry-customer run is for)."""

    __tablename__ = "playbook_run_tickets"
    __table_args__ = (Index("ux_playbook_run_tickets", "run_id", "ticket_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="playbook_runs.id")
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    linked_by: str = Field(max_length=32)
    linked_at: datetime = _utc_column(nullable=False)


class Incident(SQLModel, table=True):
    """`INC-<n>`: an incident with its own channel, running the `incident` playbook."""

    __tablename__ = "incidents"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    severity: str = Field(default="P0", max_length=2)
    status: str = Field(default="open", max_length=16, index=True)  # open | resolved
    run_id: int = Field(foreign_key="playbook_runs.id", unique=True)
    channel_name: str = Field(max_length=80)  # the name asked of Slack (last tried)
    channel_id: str | None = Field(default=None, max_length=32, index=True)  # once Slack created it
    created_by: str = Field(max_length=32)
    created_at: datetime = _utc_column(nullable=False)
    resolved_by: str | None = Field(default=None, max_length=32)
    resolved_at: datetime | None = _utc_column()
    last_update: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    notified_by: str | None = Field(default=None, max_length=32)  # who told the linked requesters
    notified_at: datetime | None = _utc_column()

    @property
    def ref(self) -> str:
        return f"INC-{self.number}"


class IncidentChannelName(SQLModel, table=True):
    """Every channel name an incident has used or tried: unique here, so two incidents started at
    once never ask Slack for the same name, and a name Slack refused is never tried again."""

    __tablename__ = "incident_channel_names"

    name: str = Field(primary_key=True, max_length=80)
    incident_id: int = Field(foreign_key="incidents.id")
    outcome: str = Field(default="reserved", max_length=16)  # reserved | created | taken


class Digest(SQLModel, table=True):
    """A standup digest decided: at most one per kind and slot (the daily one's slot is its local
    date), however many workers look at once; it keeps what it said."""

    __tablename__ = "digests"
    __table_args__ = (Index("ux_digests_kind_slot", "kind", "slot", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # daily | adhoc
    slot: str = Field(max_length=64)  # 2026-12-07 for a daily one; the request for an ad-hoc one
    due_at: datetime = _utc_column(nullable=False)
    created_at: datetime = _utc_column(nullable=False)
    late: bool = False
    requested_by: str | None = Field(default=None, max_length=32)
    channel: str = Field(max_length=32)
    snapshot: dict[str, Any] = _json_dict_column()


class CsatRating(SQLModel, table=True):
    """A requester's 1–5 rating of a solved ticket: one per ticket (the first click counts)."""

    __tablename__ = "csat_ratings"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", unique=True)
    rating: int
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    rated_by: str = Field(max_length=32)
    rated_at: datetime = _utc_column(nullable=False, index=True)


class TicketVector(SQLModel, table=True):
    """A ticket's sentence embedding, computed once after the ticket is created (float32, unit length).
    Its presence also says the ticket has been through the surge check."""

    __tablename__ = "ticket_vectors"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", unique=True)
    model: str = Field(max_length=128)
    topic: str | None = Field(default=None, max_length=64)  # bot.core.surge.topic_of, when it was checked
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = _utc_column(nullable=False, index=True)


class Surge(SQLModel, table=True):
    """Tickets about one failure arriving close together: one alert in triage, updated in place."""

    __tablename__ = "surges"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    created_at: datetime = _utc_column(nullable=False)
    last_member_at: datetime = _utc_column(nullable=False, index=True)
    alert_channel: str | None = Field(default=None, max_length=32)
    alert_ts: str | None = Field(default=None, max_length=32)
    incident_id: int | None = Field(default=None, foreign_key="incidents.id")
    incident_by: str | None = Field(default=None, max_length=32)


class SurgeMember(SQLModel, table=True):
    """A ticket in a surge: a ticket is in at most one (the unique key holds it under concurrency)."""

    __tablename__ = "surge_members"

    id: int | None = Field(default=None, primary_key=True)
    surge_id: int = Field(foreign_key="surges.id", index=True)
    ticket_id: int = Field(foreign_key="tickets.id", unique=True)
    joined_at: datetime = _utc_column(nullable=False)


class WorkerHeartbeat(SQLModel, table=True):
    """One row per worker process, written on each sweep: what `/readyz` and `/metrics` of any
    process read to tell whether the time-based work is being done."""

    __tablename__ = "worker_heartbeats"

    worker_id: str = Field(primary_key=True, max_length=255)  # host:pid:suffix, as the outbox's `claimed_by`
    started_at: datetime = _utc_column(nullable=False)
    beat_at: datetime = _utc_column(nullable=False)
    last_sweep_at: datetime | None = _utc_column()  # the last sweep that finished without an error
    sweep_seconds: float  # its interval, so a reader knows when a beat is late
