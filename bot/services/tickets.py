"""Ticket use cases. Each function is one transaction: load, ask the core, save, enqueue for Slack."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.lifecycle import Status
from bot.core.priority import PriorityDecision, decide_priority
from bot.core.ticket_command import ListFilter
from bot.services import cards, escalation_matrix, sla
from bot.services.policy import Policy
from store import audit, counters, events, tickets
from store.db import read_scope, session_scope
from store.models import AuditEvent, Ticket
from store.tickets import TicketQuery

__all__ = [
    "CreatedTicket",
    "DuplicateRequestError",
    "NewTicket",
    "TicketInputError",
    "create_ticket",
    "get_ticket",
    "history",
    "insert_ticket",
    "list_tickets",
]


class TicketInputError(ValueError):
    """The request cannot become a ticket as given; the message says what to change."""


class DuplicateRequestError(TicketInputError):
    """The same Slack request arrived again (a replay or a client retry): nothing more is created."""


@dataclass(frozen=True)
class NewTicket:
    title: str
    description: str
    created_by: str
    source_kind: str
    requester_id: str | None = None
    source_channel: str | None = None
    source_ts: str | None = None
    customer: str | None = None
    priority: str | None = None  # a person's explicit choice; otherwise auto-priority decides
    affected_users: int | None = None
    owner_id: str | None = None
    category: str | None = None
    attachments: tuple[dict[str, str], ...] = ()
    request_key: str | None = None  # the Slack request that asked (a replay of it creates nothing)


@dataclass(frozen=True)
class CreatedTicket:
    ticket: Ticket
    outbox_ids: list[int]


def create_ticket(engine: Engine, policy: Policy, request: NewTicket, *, now: datetime) -> CreatedTicket:
    """Create the ticket and queue its card (the worker posts it)."""
    with session_scope(engine) as session:
        return insert_ticket(session, policy, request, now=now)


def insert_ticket(session: Session, policy: Policy, request: NewTicket, *, now: datetime) -> CreatedTicket:
    """`create_ticket` inside a transaction the caller owns (e.g. with the event that caused it)."""
    customer = policy.customer(request.customer) if request.customer else None
    if request.customer and customer is None and policy.customer_names:
        known = ", ".join(policy.customer_names)
        raise TicketInputError(f"unknown customer '{request.customer}' (known: {known})")
    if request.owner_id and not policy.is_agent(request.owner_id):
        raise TicketInputError(
            f"<@{request.owner_id}> is not an agent, so cannot own tickets (roles in frontline.yaml)"
        )
    tier = customer.tier if customer else None
    decision = _priority(policy, request, tier)
    if request.request_key and not events.first_delivery(session, request.request_key[:64], now=now):
        raise DuplicateRequestError("this request was already handled (it arrived twice); nothing new was created")
    number = counters.next_value(session, "ticket")
    ticket = Ticket(
        number=number,
        title=request.title,
        description=request.description,
        status=Status.OPEN if request.owner_id else Status.NEW,
        priority=decision.priority,
        priority_reason=decision.reason,
        category=request.category or decision.category,
        sentiment=decision.sentiment,
        requester_id=request.requester_id,
        owner_id=request.owner_id,
        customer=customer.name if customer else request.customer,
        customer_tier=tier,
        affected_users=request.affected_users,
        created_by=request.created_by,
        source_kind=request.source_kind,
        source_channel=request.source_channel,
        source_ts=request.source_ts,
        attachments=list(request.attachments),
        created_at=now,
        updated_at=now,
        status_since=now,
        first_response_running_since=now,
        resolution_running_since=now,
    )
    sla.reconcile_clocks(policy, ticket, now=now)  # due times, written with the row
    session.add(ticket)
    session.flush()
    assert ticket.id is not None
    sla.plan_new(session, policy, ticket)
    audit.record(
        session,
        at=now,
        actor=request.created_by,
        entity_type="ticket",
        entity_id=ticket.id,
        action="created",
        field="priority",
        after=decision.reason,
    )
    outbox_ids = cards.enqueue_card(session, policy, ticket, now=now)
    escalation_matrix.apply_matrix(session, policy, ticket, text=_text_to_read(request), now=now, new=True)
    return CreatedTicket(ticket=ticket, outbox_ids=outbox_ids)


def _text_to_read(request: NewTicket) -> str:
    """Title and description, read once: a title taken from the description's first line is in it."""
    title = request.title.removesuffix("…")
    return request.description if request.description.startswith(title) else f"{request.title}\n{request.description}"


def _priority(policy: Policy, request: NewTicket, tier: str | None) -> PriorityDecision:
    auto = decide_priority(
        _text_to_read(request),
        policy.priority_rules,
        tier=tier,
        affected_users=request.affected_users,
        category=request.category,
    )
    if request.priority is None or request.priority == auto.priority:
        return auto
    override = (f"set by <@{request.created_by}> (auto: {auto.reason})",)
    return dataclasses.replace(auto, priority=request.priority, reasons=override)


def get_ticket(engine: Engine, number: int) -> Ticket | None:
    with read_scope(engine) as session:
        return tickets.by_number(session, number)


PAGE_SIZE = 10
AT_RISK_WITHIN = timedelta(hours=1)  # `list breaching`: overdue, or due within this


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    total: int
    page: int
    page_size: int = PAGE_SIZE


def list_tickets(
    engine: Engine, filters: ListFilter, *, actor: str, page: int, now: datetime, team: bool = True
) -> TicketPage:
    """The page of tickets `filters` select; `team`: the actor is on the support team (sees every
    ticket), else only the tickets they asked for or opened are listed."""
    query = TicketQuery(
        open_only=filters.open_only or filters.breaching,
        owner=actor if filters.mine else filters.owner,
        priority=filters.priority,
        customer=filters.customer,
        due_before=now + AT_RISK_WITHIN if filters.breaching else None,
        requested_by=None if team else actor,
    )
    with read_scope(engine) as session:
        rows, total = tickets.search(session, query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return TicketPage(rows, total, page)


def history(engine: Engine, number: int) -> tuple[Ticket, list[AuditEvent]] | None:
    """The ticket and every change to it, oldest first."""
    with read_scope(engine) as session:
        ticket = tickets.by_number(session, number)
        if ticket is None or ticket.id is None:
            return None
        return ticket, list(audit.events_for(session, "ticket", ticket.id))
