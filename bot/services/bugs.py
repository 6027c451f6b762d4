"""Bugs filed from support (seed 004): file one from a ticket, link more tickets to it, resolve it,
and tell every linked ticket's requester it is fixed. One transaction per use case: the bug (then
the ticket) is locked, every change is audited (on the bug, and on the ticket for ticket-side
changes), and the bug card's update and thread line — and the ticket card's — are queued with it.

The bug card lives in L3's escalation channel (the triage channel when L3 has none), posted once
and updated in place; it is rendered when the worker sends it, so it always shows the bug as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.bugs import BugReport, check_may_resolve, ten_x
from bot.core.text import escape_mrkdwn, truncate
from bot.services import cards
from bot.services.policy import Policy
from bot.services.ticket_changes import ticket_to_work
from bot.slack import bug_blocks
from bot.slack.bug_blocks import LinkedTickets
from bot.slack.delivery import AfterSent, GiveUpError, Prepare, where_posted
from store import audit, bugs, counters, events, outbox
from store.db import read_scope, session_scope
from store.models import AuditEvent, Bug, OutboxMessage, Ticket

__all__ = [
    "AFTER_SENT",
    "PREPARE",
    "BugNotFoundError",
    "BugOutcome",
    "bug_channel",
    "file_bug",
    "get_bug",
    "link_bug",
    "notify_requesters",
    "resolve_bug",
    "ticket_for_bug_form",
]

CARD, REFRESH, NOTE, ALERT, NOTIFY = "bug_card", "bug_card_refresh", "bug_thread_note", "bug_alert", "bug_notify"


class BugNotFoundError(LookupError):
    pass


@dataclass(frozen=True)
class BugOutcome:
    bug: Bug
    changed: bool
    message: str  # mrkdwn for the person who asked (ephemeral)


def bug_channel(policy: Policy) -> str | None:
    """Where bug cards and 10x alerts go: L3's escalation channel, else the triage channel."""
    return policy.config.channels.escalation.L3 or policy.triage_channel


def _who_may_resolve(policy: Policy) -> list[str]:
    roles = policy.config.roles
    return policy.groups.expand([*roles.l3, *roles.leads, *roles.admins])


# --- use cases ------------------------------------------------------------------------------------


def ticket_for_bug_form(engine: Engine, policy: Policy, *, number: int, actor: str) -> Ticket:
    """The ticket a bug form is opened for, once the actor may file one from it."""
    with read_scope(engine) as session:
        return ticket_to_work(session, policy, number, actor=actor, what="file a bug from {ref}", for_update=False)


def file_bug(
    engine: Engine, policy: Policy, *, number: int, actor: str, report: BugReport, request_key: str, now: datetime
) -> Bug | None:
    """Create `BUG-<n>` linked to ticket `number` and queue its card; None when this request (the same
    form submitted twice) was already handled. Raises TicketNotFoundError or PermissionDeniedError."""
    with session_scope(engine) as session:
        ticket = ticket_to_work(session, policy, number, actor=actor, what="file a bug from {ref}")
        if not events.first_delivery(session, request_key[:64], now=now):
            return None
        bug = Bug(
            number=counters.next_value(session, "bug"),
            title=report.title,
            severity=report.severity,
            priority=report.priority,
            impact=report.impact,
            area=report.area,
            steps=report.steps,
            expected=report.expected,
            actual=report.actual,
            environment=report.environment,
            reported_by=actor,
            created_at=now,
            updated_at=now,
        )
        session.add(bug)
        session.flush()
        assert bug.id is not None
        _audit(session, bug, actor, "created", now, field="priority", after=f"{report.priority} ({report.severity})")
        _enqueue_card(session, policy, bug, now=now)
        title = escape_mrkdwn(truncate(report.title, 200))
        _link(session, bug, ticket, actor, now, note=f"<@{actor}> filed {bug.ref} from it: {title}")
        # The card shows the bug as it is when sent: no update or thread line is needed for this change,
        # but the 10x rule is asked all the same (a threshold of 0 would trip on the first ticket).
        _check_ten_x(session, policy, bug, actor, now)
        return bug


def link_bug(engine: Engine, policy: Policy, *, number: int, bug_number: int, actor: str, now: datetime) -> BugOutcome:
    """Link ticket `number` to `BUG-<bug_number>`; asks the 10x rule. Raises BugNotFoundError,
    TicketNotFoundError or PermissionDeniedError, and then changes nothing."""
    with session_scope(engine) as session:
        bug = bugs.by_number(session, bug_number, for_update=True)  # the bug first, then the ticket: one order
        if bug is None or bug.id is None:
            raise BugNotFoundError(f"BUG-{bug_number} does not exist.")
        ticket = ticket_to_work(session, policy, number, actor=actor, what="link {ref} to " + bug.ref)
        assert ticket.id is not None
        if bugs.link_of(session, bug.id, ticket.id) is not None:
            return BugOutcome(bug, False, f"{ticket.ref} is already linked to {bug.ref}.")
        _link(session, bug, ticket, actor, now, note=f"<@{actor}> linked it to {bug.ref}")
        count = len(bugs.link_times(session, bug.id))
        event = _audit(session, bug, actor, "linked", now, field="ticket", after=ticket.ref)
        lines = [f"<@{actor}> linked {ticket.ref} ({count} ticket{'s' if count != 1 else ''})"]
        lines += _check_ten_x(session, policy, bug, actor, now)
        _touch(session, bug, now)
        _enqueue_bug_change(session, bug, change_id=_id(session, event), note="\n".join(lines), now=now)
        return BugOutcome(bug, True, f"Linked {ticket.ref} to {bug.ref} ({count} linked).")


def resolve_bug(engine: Engine, policy: Policy, *, bug_number: int, actor: str, now: datetime) -> BugOutcome:
    """Mark the bug resolved (L3, leads, admins); its card then offers to notify the requesters."""
    with session_scope(engine) as session:
        bug = bugs.by_number(session, bug_number, for_update=True)
        if bug is None or bug.id is None:
            raise BugNotFoundError(f"BUG-{bug_number} does not exist.")
        check_may_resolve(policy.roles_of(actor), what=f"resolve {bug.ref}", who_may=_who_may_resolve(policy))
        if bug.status == "resolved":
            return BugOutcome(bug, False, f"{bug.ref} is already resolved (by {_mention(bug.resolved_by)}).")
        event = _audit(session, bug, actor, "changed", now, field="status", before=bug.status, after="resolved")
        _audit(session, bug, actor, "changed", now, field="resolved_at", after=now)
        bug.status, bug.resolved_by, bug.resolved_at = "resolved", actor, now
        _touch(session, bug, now)
        _enqueue_bug_change(session, bug, change_id=_id(session, event), note=f"<@{actor}> resolved it", now=now)
        reachable = sum(1 for ticket in bugs.linked_tickets(session, bug.id) if _reach(ticket) is not None)
        if not reachable:
            return BugOutcome(bug, True, f"{bug.ref} resolved. None of its tickets has a requester to tell.")
        plural = "s" if reachable != 1 else ""
        return BugOutcome(
            bug,
            True,
            f"{bug.ref} resolved. Tell its {reachable} requester{plural} with the card's Notify button "
            f"or `/ticket bug {bug.ref} notify`.",
        )


def notify_requesters(engine: Engine, policy: Policy, *, bug_number: int, actor: str, now: datetime) -> BugOutcome:
    """Tell each linked ticket's requester, in their request's thread (or by DM), that the bug is fixed.
    Each ticket is told at most once, ever: the outbox key `bug:<id>:notify:<ticket id>` is unique, so a
    double click, a retry or a second run tells only tickets linked since."""
    with session_scope(engine) as session:
        bug = bugs.by_number(session, bug_number, for_update=True)
        if bug is None or bug.id is None:
            raise BugNotFoundError(f"BUG-{bug_number} does not exist.")
        what = f"notify the requesters of {bug.ref}"
        check_may_resolve(policy.roles_of(actor), what=what, who_may=_who_may_resolve(policy))
        if bug.status != "resolved":
            return BugOutcome(bug, False, f"{bug.ref} is not resolved yet: resolve it first, then notify.")
        linked = bugs.linked_tickets(session, bug.id)
        untold = [t for t in linked if _reach(t) is not None and not _was_told(session, bug, t)]
        messages = sum(_tell(session, bug, ticket, actor, now) for ticket in untold)
        told = untold
        if not told:
            if bug.notified_by:
                return BugOutcome(bug, False, f"{bug.ref}'s requesters were already notified by <@{bug.notified_by}>.")
            return BugOutcome(bug, False, f"None of {bug.ref}'s tickets has a requester to tell.")
        count = f"{messages} requester{'s' if messages != 1 else ''}" if messages else "no one new"
        event = _audit(session, bug, actor, "notified", now, field="tickets", after=" ".join(t.ref for t in told))
        if bug.notified_at is None:
            _audit(session, bug, actor, "changed", now, field="notified_by", after=actor)
            bug.notified_by, bug.notified_at = actor, now
        _touch(session, bug, now)
        _enqueue_bug_change(session, bug, change_id=_id(session, event), note=f"<@{actor}> told {count}", now=now)
        return BugOutcome(bug, True, f"Telling {count} of {bug.ref} that it is fixed.")


def get_bug(engine: Engine, bug_number: int) -> tuple[Bug, LinkedTickets] | None:
    with read_scope(engine) as session:
        bug = bugs.by_number(session, bug_number)
        if bug is None:
            return None
        return bug, _linked(session, bug)


# --- steps shared by the use cases --------------------------------------------------------------


def _link(session: Session, bug: Bug, ticket: Ticket, actor: str, now: datetime, *, note: str) -> None:
    """The link row, its audit on the ticket and the ticket card's thread line."""
    assert bug.id is not None and ticket.id is not None
    bugs.add_link(session, bug_id=bug.id, ticket_id=ticket.id, actor=actor, now=now)
    event = audit.record(
        session, at=now, actor=actor, entity_type="ticket", entity_id=ticket.id, action="linked", field="bug",
        after=bug.ref,
    )  # fmt: skip
    ticket.updated_at = now
    session.add(ticket)
    cards.enqueue_change(session, ticket, change_id=_id(session, event), note=note, now=now)


def _check_ten_x(session: Session, policy: Policy, bug: Bug, actor: str, now: datetime) -> list[str]:
    """Seed 001's 10x rule, asked after every link: the first time it trips, the bug is raised to P1
    (if lower), flagged, and L3's channel gets one alert. Returns the bug card's thread lines."""
    assert bug.id is not None
    if bug.status == "resolved":
        return []  # fixed already: more reports are for telling, not for raising it
    verdict = ten_x(bugs.link_times(session, bug.id), priority=bug.priority, now=now)
    if not verdict.tripped or bug.flagged_at is not None:
        return []
    before = bug.priority
    _audit(session, bug, "frontline", "flagged", now, field="flagged_at", after=now)
    bug.flagged_at = now
    if verdict.priority != before:
        _audit(session, bug, "frontline", "changed", now, field="priority", before=before, after=verdict.priority)
        bug.priority = verdict.priority
    _touch(session, bug, now)
    channel = bug_channel(policy)
    if channel:
        alert = bug_blocks.ten_x_alert(bug, recent_links=verdict.recent_links, before=before)
        outbox.enqueue(
            session, key=f"bug:{bug.id}:10x", method="chat.postMessage",
            args={"channel": channel, "unfurl_links": False, **alert}, purpose=ALERT, now=now,
        )  # fmt: skip
    raised = f"raised {before} → {bug.priority}" if before != bug.priority else f"stays {bug.priority}"
    return [f":rotating_light: 10x rule: {verdict.recent_links} tickets in 30 days — {raised}"]


def _reach(ticket: Ticket) -> dict[str, str] | None:
    """Where the requester hears from us: their request's thread, else a DM; None if there is nobody."""
    if ticket.source_channel and ticket.source_ts and ticket.source_kind != "command" and not ticket.source_deleted_at:
        return {"channel": ticket.source_channel, "thread_ts": ticket.source_ts}
    if ticket.requester_id:
        return {"channel": ticket.requester_id}
    return None


def _tell(session: Session, bug: Bug, ticket: Ticket, actor: str, now: datetime) -> bool:
    """Tell one ticket's requester that the bug is fixed: a reply in their request's thread, or one
    DM per person however many of their tickets the bug had. The ticket is recorded as told either
    way; returns whether a message was queued (False: nobody to tell, told before, or DMed already)."""
    assert bug.id is not None and ticket.id is not None
    where = _reach(ticket)
    if where is None or _was_told(session, bug, ticket):
        return False
    by_dm = "thread_ts" not in where
    key = f"bug:{bug.id}:notify-dm:{ticket.requester_id}" if by_dm else _told_key(bug, ticket)
    message = bug_blocks.requester_notice(bug, ticket)
    queued = outbox.enqueue(
        session, key=key, method="chat.postMessage",
        args={**where, "unfurl_links": False, **message}, purpose=NOTIFY, ticket_id=ticket.id, now=now,
    )  # fmt: skip
    event = audit.record(
        session, at=now, actor=actor, entity_type="ticket", entity_id=ticket.id, action="notified", field="bug",
        after=bug.ref,
    )  # fmt: skip
    how = "in the request's thread" if not by_dm else "by DM" if queued is not None else "(already, by DM)"
    note = f"<@{actor}> told the requester {how} that {bug.ref} is fixed"
    cards.enqueue_change(session, ticket, change_id=_id(session, event), note=note, now=now)
    return queued is not None


def _was_told(session: Session, bug: Bug, ticket: Ticket) -> bool:
    assert ticket.id is not None
    return any(e.action == "notified" and e.after == bug.ref for e in audit.events_for(session, "ticket", ticket.id))


def _audit(
    session: Session,
    bug: Bug,
    actor: str,
    action: str,
    now: datetime,
    *,
    field: str,
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    assert bug.id is not None
    return audit.record(
        session, at=now, actor=actor, entity_type="bug", entity_id=bug.id, action=action, field=field,
        before=before, after=after,
    )  # fmt: skip


def _id(session: Session, event: AuditEvent) -> int:
    """The id of an audit event just added: it names the change in outbox keys."""
    session.flush()
    assert event.id is not None
    return event.id


def _touch(session: Session, bug: Bug, now: datetime) -> None:
    bug.updated_at = now
    session.add(bug)


def _mention(user: str | None) -> str:
    return f"<@{user}>" if user else "someone"


# --- the bug card in Slack --------------------------------------------------------------------------


def _enqueue_card(session: Session, policy: Policy, bug: Bug, *, now: datetime) -> None:
    channel = bug_channel(policy)
    if not channel:
        return
    outbox.enqueue(
        session, key=f"bug:{bug.id}:card", method="chat.postMessage", args={"channel": channel, "bug_id": bug.id},
        purpose=CARD, now=now,
    )  # fmt: skip


def _enqueue_bug_change(session: Session, bug: Bug, *, change_id: int, note: str, now: datetime) -> None:
    """Update the bug card in place and add `note` (mrkdwn we wrote) to its thread; nothing without a card."""
    if not bug.card_ts and outbox.by_key(session, f"bug:{bug.id}:card") is None:
        return
    for purpose, method, args in ((REFRESH, "chat.update", {}), (NOTE, "chat.postMessage", {"text": note})):
        outbox.enqueue(
            session, key=f"bug:{bug.id}:{purpose}:{change_id}", method=method, args={"bug_id": bug.id, **args},
            purpose=purpose, now=now,
        )  # fmt: skip


def _told_key(bug: Bug, ticket: Ticket) -> str:
    return f"bug:{bug.id}:notify:{ticket.id}"


def _linked(session: Session, bug: Bug) -> LinkedTickets:
    """The bug's tickets, and how many people a notification would reach now: the requesters of
    tickets not yet told (a ticket linked after a notify is told by the next one)."""
    assert bug.id is not None
    linked = bugs.linked_tickets(session, bug.id)
    untold = [t for t in linked if _reach(t) is not None and not _was_told(session, bug, t)]
    people = {t.requester_id or f"ticket:{t.id}" for t in untold}
    return LinkedTickets([ticket.ref for ticket in linked], len(people))


def _bug_of(session: Session, message: OutboxMessage) -> Bug:
    bug_id = message.args.get("bug_id")
    bug = bugs.by_id(session, int(bug_id)) if isinstance(bug_id, int) else None
    if bug is None:
        raise GiveUpError(f"bug id {bug_id} not found")
    return bug


def _where_the_card_is(session: Session, bug: Bug) -> tuple[str, str]:
    key = f"bug:{bug.id}:card"
    return where_posted(session, channel=bug.card_channel, ts=bug.card_ts, key=key, what=f"the card of {bug.ref}")


def _prepare_card(session: Session, message: OutboxMessage) -> dict[str, Any]:
    bug = _bug_of(session, message)
    return {
        "channel": message.args["channel"],
        "unfurl_links": False,
        **bug_blocks.bug_card(bug, _linked(session, bug)),
    }


def _prepare_refresh(session: Session, message: OutboxMessage) -> dict[str, Any]:
    bug = _bug_of(session, message)
    channel, ts = _where_the_card_is(session, bug)
    return {"channel": channel, "ts": ts, **bug_blocks.bug_card(bug, _linked(session, bug))}


def _prepare_note(session: Session, message: OutboxMessage) -> dict[str, Any]:
    channel, ts = _where_the_card_is(session, _bug_of(session, message))
    return {"channel": channel, "thread_ts": ts, "text": message.args["text"], "unfurl_links": False}


def _card_posted(session: Session, message: OutboxMessage, response: dict[str, Any], now: datetime) -> None:
    bug = _bug_of(session, message)
    assert bug.id is not None
    bugs.set_card(session, bug.id, str(response["channel"]), str(response["ts"]))


AFTER_SENT: dict[str, AfterSent] = {CARD: _card_posted}
PREPARE: dict[str, Prepare] = {CARD: _prepare_card, REFRESH: _prepare_refresh, NOTE: _prepare_note}
