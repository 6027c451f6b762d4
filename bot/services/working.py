"""Working a ticket: take, assign, status, priority, tags, notes. One transaction per change: the
ticket row is locked, the rules are asked, every field change is audited, and the card update and
its thread line are queued in the same transaction (so a change is never shown twice or lost)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.lifecycle import IllegalTransitionError, Status, check_reopen, check_transition
from bot.core.permissions import PermissionDeniedError, check_may_change_others
from bot.core.root_causes import ROOT_CAUSES, Classification
from bot.core.text import escape_mrkdwn, truncate
from bot.services import csat, escalation_matrix, escalations, playbook_runs, sla
from bot.services.policy import Policy
from bot.services.retention import PURGED
from bot.services.ticket_changes import TicketNotFoundError, record_change, ticket_to_work
from store.db import session_scope
from store.models import Comment, Ticket

__all__ = ["MAX_TAGS", "ChangeOutcome", "ChangeRequest", "TicketNotFoundError", "apply_change"]

MAX_TAGS = 20


@dataclass(frozen=True)
class ChangeRequest:
    number: int
    actor: str
    action: str  # take | assign | status | priority | customer | tag | note | cause
    value: str | None = None
    classification: Classification | None = None  # with `cause`, or with status SOLVED


@dataclass(frozen=True)
class ChangeOutcome:
    ticket: Ticket
    changed: bool
    message: str  # for the person who asked (ephemeral)


@dataclass
class _Edit:
    """The field changes one request makes, as (field, before, after), and its thread line."""

    fields: list[tuple[str, object, object]]
    note: str


def apply_change(engine: Engine, policy: Policy, request: ChangeRequest, *, now: datetime) -> ChangeOutcome:
    """Apply one change; raises PermissionDeniedError, IllegalTransitionError or TicketNotFoundError
    (each with a message for the person) and then changes nothing."""
    with session_scope(engine) as session:
        ticket = ticket_to_work(session, policy, request.number, actor=request.actor, what="change {ref}")
        edit = _edit(session, policy, ticket, request, now)
        if edit is None:
            return ChangeOutcome(ticket, False, _no_change(ticket, request))
        edit.fields += sla.reconcile(session, policy, ticket, now=now)
        if ticket.status in {Status.SOLVED, Status.CLOSED}:
            escalations.finish(session, ticket, now=now)
        record_change(session, ticket, request.actor, edit.fields, note=edit.note, now=now)
        new_owner = next((after for field, _, after in edit.fields if field == "owner_id"), None)
        if isinstance(new_owner, str) and ticket.id is not None:
            playbook_runs.follow_owner(session, policy, ticket.id, owner=new_owner, actor=request.actor, now=now)
        if request.action in {"priority", "status"}:  # raised to P0, or a P0 reopened: the matrix's first row
            escalation_matrix.apply_matrix(session, policy, ticket, text="", now=now, new=False)
        if request.action == "customer":  # the request's words, read again now that its ARR is known
            text = f"{ticket.title}\n{ticket.description}"
            escalation_matrix.apply_matrix(session, policy, ticket, text=text, now=now, new=False)
        return ChangeOutcome(ticket, True, f"{ticket.ref}: {edit.note}")


def _edit(session: Session, policy: Policy, ticket: Ticket, request: ChangeRequest, now: datetime) -> _Edit | None:
    actor = request.actor
    match request.action:
        case "take":
            return _set_owner(policy, ticket, actor, actor, note=f"<@{actor}> took it", now=now)
        case "assign":
            assert request.value is not None
            if not policy.is_agent(request.value):
                raise PermissionDeniedError(
                    f"<@{request.value}> is not an agent, so cannot own tickets (roles in frontline.yaml)."
                )
            note = f"<@{actor}> assigned it to <@{request.value}>"
            return _set_owner(policy, ticket, actor, request.value, note=note, now=now)
        case "status":
            edit = _set_status(session, policy, ticket, Status(request.value or ""), actor=actor, now=now)
            if request.classification is None:
                return edit
            return _joined(edit, _classify(ticket, request.classification, actor))
        case "cause":
            assert request.classification is not None
            return _classify(ticket, request.classification, actor)
        case "priority":
            return _set_priority(policy, ticket, request.value or "", actor, now)
        case "customer":
            return _set_customer(policy, ticket, request.value or "", actor)
        case "tag":
            return _add_tags(ticket, (request.value or "").split(), actor)
        case "note":
            return _add_note(session, ticket, request.value or "", actor, now)
    raise ValueError(f"unknown ticket action {request.action!r}")


def _set_owner(policy: Policy, ticket: Ticket, actor: str, owner: str, *, note: str, now: datetime) -> _Edit | None:
    if ticket.owner_id == owner:
        return None
    check_may_change_others(
        actor, policy.roles_of(actor), owner=ticket.owner_id, what="reassign", supervisors=policy.supervisors
    )
    fields: list[tuple[str, object, object]] = [("owner_id", ticket.owner_id, owner)]
    ticket.owner_id = owner
    if ticket.status == Status.NEW:
        fields.append(("status", ticket.status, Status.OPEN))
        ticket.status, ticket.status_since = Status.OPEN, now
    return _Edit(fields, note)


def _set_status(
    session: Session, policy: Policy, ticket: Ticket, target: Status, *, actor: str, now: datetime
) -> _Edit | None:
    current = Status(ticket.status)
    if target == Status.OPEN and current in {Status.PENDING, Status.ESCALATED}:
        # While a tier has the ticket, working on it again means ESCALATED; leaving the tier is
        # `/ticket deescalate`, which gives it back to its L1 owner.
        target = escalations.working_status(session, ticket)
        if current == target == Status.ESCALATED:
            raise IllegalTransitionError(
                f"{ticket.ref} is escalated to {escalations.current_tier(session, ticket)}; "
                f"`/ticket deescalate {ticket.ref}` returns it to L1."
            )
    if current == target:
        return None
    check_transition(current, target)
    if current == Status.CLOSED:
        if ticket.title == PURGED:  # retention emptied it: there is nothing left to work on
            raise IllegalTransitionError(
                f"{ticket.ref}'s words were purged (retention.closed_ticket_days); open a new ticket"
            )
        check_reopen(ticket.closed_at, now=now, window=policy.reopen_window)
    fields: list[tuple[str, object, object]] = [("status", current, target)]
    if target == Status.SOLVED:
        fields.append(("solved_at", ticket.solved_at, now))
        ticket.solved_at = now
        csat.prompt(session, policy, ticket, now=now)
    if target == Status.CLOSED:
        fields.append(("closed_at", ticket.closed_at, now))
        ticket.closed_at = now
    if target == Status.OPEN and current in {Status.SOLVED, Status.CLOSED}:
        fields += [("solved_at", ticket.solved_at, None), ("closed_at", ticket.closed_at, None)]
        ticket.solved_at = ticket.closed_at = None
    ticket.status, ticket.status_since = target, now
    verb = "reopened it" if current in {Status.SOLVED, Status.CLOSED} and target == Status.OPEN else "set it"
    return _Edit(fields, f"<@{actor}> {verb}: {current} → {target}")


def _set_priority(policy: Policy, ticket: Ticket, priority: str, actor: str, now: datetime) -> _Edit | None:
    if ticket.priority == priority:
        return None
    check_may_change_others(
        actor, policy.roles_of(actor), owner=ticket.owner_id, what="re-prioritise", supervisors=policy.supervisors
    )
    before, reason = ticket.priority, f"{priority}: set by <@{actor}> (was {ticket.priority_reason})"
    fields: list[tuple[str, object, object]] = [
        ("priority", before, priority),
        ("priority_reason", ticket.priority_reason, reason),
    ]
    # The clocks keep the time they used, counted on the old priority's calendar up to now;
    # `sla.reconcile` then gives them the new priority's targets and calendar.
    sla.checkpoint(policy, ticket, now=now)
    ticket.priority, ticket.priority_reason = priority, reason
    return _Edit(fields, f"<@{actor}> changed the priority: {before} → {priority}")


def _set_customer(policy: Policy, ticket: Ticket, name: str, actor: str) -> _Edit | None:
    """Name the customer (a message in an intake channel has none): their tier and ARR then count,
    e.g. for the escalation matrix's churn row. The priority stays as decided; change it by hand."""
    customer = policy.customer(name)
    if customer is None:
        known = ", ".join(policy.customer_names) or "none configured (customers in frontline.yaml)"
        raise IllegalTransitionError(f"unknown customer '{name}' (known: {known})")
    if ticket.customer == customer.name:
        return None
    fields: list[tuple[str, object, object]] = [
        ("customer", ticket.customer, customer.name),
        ("customer_tier", ticket.customer_tier, customer.tier),
    ]
    ticket.customer, ticket.customer_tier = customer.name, customer.tier
    shown = escape_mrkdwn(f"{customer.name} ({customer.tier})")
    return _Edit(fields, f"<@{actor}> set the customer: {shown}")


def _classify(ticket: Ticket, classification: Classification, actor: str) -> _Edit | None:
    """Record why the ticket happened (and how it ended, when given); a resolution type not given
    keeps the one recorded."""
    fields: list[tuple[str, object, object]] = []
    if ticket.root_cause != classification.root_cause:
        fields.append(("root_cause", ticket.root_cause, classification.root_cause))
        ticket.root_cause = classification.root_cause
    resolution = classification.resolution_type
    if resolution is not None and ticket.resolution_type != resolution:
        fields.append(("resolution_type", ticket.resolution_type, resolution))
        ticket.resolution_type = resolution
    if not fields:
        return None
    label = ROOT_CAUSES[classification.root_cause][0]
    shown = f"{label}" + (f" (resolution: {resolution.replace('_', ' ')})" if resolution else "")
    return _Edit(fields, f"<@{actor}> recorded the root cause: {shown}")


def _joined(first: _Edit | None, second: _Edit | None) -> _Edit | None:
    """Two edits of one request as one: one audit entry set, one thread line."""
    if first is None or second is None:
        return first or second
    return _Edit(first.fields + second.fields, f"{first.note}; {second.note}")


def _add_tags(ticket: Ticket, new_tags: list[str], actor: str) -> _Edit | None:
    added = [tag for tag in new_tags if tag not in ticket.tags]
    if not added:
        return None
    tags = [*ticket.tags, *added]
    if len(tags) > MAX_TAGS:
        raise IllegalTransitionError(f"a ticket has at most {MAX_TAGS} tags ({ticket.ref} has {len(ticket.tags)})")
    fields: list[tuple[str, object, object]] = [("tags", " ".join(ticket.tags), " ".join(tags))]
    ticket.tags = tags
    return _Edit(fields, f"<@{actor}> tagged it: {escape_mrkdwn(' '.join(added))}")


def _add_note(session: Session, ticket: Ticket, text: str, actor: str, now: datetime) -> _Edit:
    assert ticket.id is not None
    # Internal notes live with the thread's comments; the key only has to be unique.
    session.add(
        Comment(
            ticket_id=ticket.id,
            author=actor,
            role="note",
            text=text,
            slack_ts=f"note:{uuid.uuid4().hex[:26]}",
            created_at=now,
        )
    )
    return _Edit([], f":memo: <@{actor}>: {escape_mrkdwn(truncate(text, 2500))}")


def _no_change(ticket: Ticket, request: ChangeRequest) -> str:
    match request.action:
        case "take" | "assign":
            return f"{ticket.ref} is already <@{ticket.owner_id}>'s."
        case "status":
            return f"{ticket.ref} is already {ticket.status}."
        case "priority":
            return f"{ticket.ref} is already {ticket.priority}."
        case "customer":
            return f"{ticket.ref} is already {escape_mrkdwn(ticket.customer or '')}'s."
        case "cause":
            return f"{ticket.ref} already has that root cause recorded."
        case _:
            return f"{ticket.ref} already has those tags."
