"""Incidents (seed 001 Playbook 3, Major Outage): `INC-<n>` with its own channel, announced in
`channels.incidents`, running the `incident` playbook there; roles, updates, severity, linked
tickets, resolving once (from any path) and closing the loop with the linked tickets' requesters.

Every change to an incident takes its run's lock, so a resolve and a retried resolve, or two role
changes, queue instead of both acting. Channel names are reserved in the database before Slack is
asked (two incidents started at once never want the same name); a name Slack says is taken is
never tried again, and the next suffix is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import playbooks as engine_
from bot.core.durations import format_duration
from bot.core.incidents import SEVERITIES, channel_name
from bot.core.permissions import PermissionDeniedError
from bot.core.playbooks import PlaybookError, responsible
from bot.core.text import escape_mrkdwn, truncate
from bot.services import playbook_runs
from bot.services.policy import Policy
from bot.slack import kit, playbook_blocks
from bot.slack.delivery import AfterFailed, AfterSent, GiveUpError, Prepare, where_posted
from store import audit, counters, events, outbox
from store import playbooks as store
from store.db import session_scope
from store.models import Incident, OutboxMessage, PlaybookRun

__all__ = [
    "ACCEPTED_ERRORS",
    "IncidentError",
    "IncidentNotFoundError",
    "after_failed_hooks",
    "after_sent_hooks",
    "assign_role",
    "find",
    "link",
    "notify_linked",
    "prepare_hooks",
    "resolve",
    "set_severity",
    "start",
    "status",
    "update",
]

PLAYBOOK = "incident"
CHANNEL, INVITE, CARD, CARD_REFRESH = "incident_channel", "incident_invite", "incident_card", "incident_card_refresh"
MAX_NAME_ATTEMPTS = 20
ACCEPTED_ERRORS = {INVITE: frozenset({"already_in_channel"}), CHANNEL: frozenset({"name_taken"})}


class IncidentNotFoundError(LookupError):
    pass


class IncidentError(PlaybookError):
    """What was asked does not fit the incident's state; nothing changed."""


@dataclass(frozen=True)
class Ref:
    """Which incident a command means: `INC-<n>` given, else the incident whose channel it ran in."""

    number: int | None = None
    channel: str | None = None


def find(session: Session, ref: Ref) -> Incident:
    if ref.number is not None:
        incident = store.incident_by_number(session, ref.number)
        if incident is None:
            raise IncidentNotFoundError(f"INC-{ref.number} does not exist.")
        return incident
    here = store.incidents_in_channel(session, ref.channel) if ref.channel else []
    if len(here) > 1:
        refs = ", ".join(i.ref for i in here)
        raise IncidentNotFoundError(
            f"Several incidents run in this channel ({refs}): name one, e.g. `/incident status {here[0].ref}`."
        )
    incident = here[0] if here else None
    if incident is None:
        raise IncidentNotFoundError(
            "This is not an incident channel: run it in the incident's channel, or name the incident "
            "(`/incident update INC-3 &lt;text&gt;`)."
        )
    return incident


def _locked(session: Session, policy: Policy, ref: Ref) -> tuple[Incident, PlaybookRun]:
    """The incident and its run, under the run's lock (then read again, fresh)."""
    first = find(session, ref)
    row, _, _ = playbook_runs.locked(session, policy, first.run_id)
    session.refresh(first)
    return first, row


# --------------------------------------------------------------------------------------------
# Starting
# --------------------------------------------------------------------------------------------


def start(
    db: Engine,
    policy: Policy,
    *,
    title: str,
    actor: str,
    request_key: str,
    now: datetime,
    severity: str | None = None,
    ticket_numbers: tuple[int, ...] = (),
) -> Incident:
    """`/incident start <title>` (or its form, or a surge's button): INC-<n>, its run, its channel
    (asked of Slack through the outbox) and its announcement. A repeated request changes nothing."""
    playbook_runs.check_may_run(policy, actor, "start incidents")
    playbook = playbook_runs.playbook_named(policy, PLAYBOOK)
    with session_scope(db) as session:
        if not events.first_delivery(session, request_key[:64], now=now):
            raise playbook_runs.DuplicateRequestError("This request was already handled; nothing more changed.")
        ticket_ids = playbook_runs.tickets_to_link(session, policy, list(ticket_numbers), actor=actor)
        number = counters.next_value(session, "incident")
        row = playbook_runs.start_in(
            session, policy, playbook, title=title, actor=actor, channel=None, now=now, roles={"commander": actor}
        )
        assert row.id is not None
        incident = Incident(
            number=number,
            title=title,
            severity=severity or policy.config.incidents.default_severity,
            run_id=row.id,
            channel_name="",
            created_by=actor,
            created_at=now,
        )
        session.add(incident)
        session.flush()
        assert incident.id is not None
        incident.channel_name = _reserve_name(session, policy, incident, first_attempt=1)
        playbook_runs.link_tickets(session, row, ticket_ids, actor=actor, now=now)
        audit.record(
            session, at=now, actor=actor, entity_type="incident", entity_id=incident.id, action="created",
            field="severity", before=None, after=incident.severity,
        )  # fmt: skip
        _ask_for_channel(session, incident, now=now)
        if policy.config.channels.incidents:
            outbox.enqueue(
                session, key=f"incident:{incident.id}:card", method="chat.postMessage",
                args={"incident_id": incident.id}, purpose=CARD, now=now,
            )  # fmt: skip
        return incident


def _reserve_name(session: Session, policy: Policy, incident: Incident, *, first_attempt: int) -> str:
    """The first free name from `first_attempt` on (1: no suffix), claimed in the database."""
    assert incident.id is not None
    day = incident.created_at.astimezone(policy.config.tzinfo).date()
    template = policy.config.incidents.channel_name
    for attempt in range(first_attempt, first_attempt + 1000):
        name = channel_name(template, number=incident.number, title=incident.title, day=day, attempt=attempt)
        if store.reserve_channel_name(session, name, incident_id=incident.id):
            return name
    raise IncidentError("No free channel name is left for this title; change `incidents.channel_name`.")


def _ask_for_channel(session: Session, incident: Incident, *, now: datetime) -> None:
    outbox.enqueue(
        session, key=f"incident:{incident.id}:channel:{incident.channel_name}", method="conversations.create",
        args={"name": incident.channel_name}, purpose=CHANNEL, now=now,
    )  # fmt: skip


def _incident_of(session: Session, message: OutboxMessage) -> Incident:
    incident = store.incident_by_channel_name(session, str(message.args.get("name") or ""))
    if incident is None:
        raise GiveUpError(f"no incident wants the channel {message.args.get('name')}")
    return incident


def _channel_created(policy: Policy) -> AfterSent:
    def after(session: Session, message: OutboxMessage, response: dict[str, Any], now: datetime) -> None:
        """The channel exists: the run posts there, the reporter and role holders are invited. Or
        the name is taken (an archived channel, one made by hand): the next free name is asked for."""
        incident = _incident_of(session, message)
        row, _, run = playbook_runs.locked(session, policy, incident.run_id)
        if response.get("error") == "name_taken":
            _next_name(session, policy, incident, row, now=now)
            return
        channel = str((response.get("channel") or {}).get("id") or "")
        incident.channel_id = channel
        session.add(incident)
        store.set_name_outcome(session, incident.channel_name, "created")
        playbook_runs.open_in(session, row, channel, now=now)
        people = [incident.created_by, *(user for _, user in run.roles)]
        _invite(session, incident, people, now=now)
        _refresh_card(session, incident, now=now)
        if incident.status == "resolved":  # resolved before its channel existed: say so there too
            _resolved_notice(session, incident, row, now=now)
            playbook_runs.post_summary(session, row, key=f"run:{row.id}:summary:resolved", now=now)

    return after


def _next_name(session: Session, policy: Policy, incident: Incident, row: PlaybookRun, *, now: datetime) -> None:
    store.set_name_outcome(session, incident.channel_name, "taken")
    assert incident.id is not None
    tried = store.names_tried(session, incident.id)
    if tried >= MAX_NAME_ATTEMPTS:
        _run_without_channel(session, policy, incident, row, why=f"{tried} names were taken", now=now)
        return
    incident.channel_name = _reserve_name(session, policy, incident, first_attempt=tried + 1)
    session.add(incident)
    _ask_for_channel(session, incident, now=now)


def _channel_refused(policy: Policy) -> AfterFailed:
    def after(session: Session, message: OutboxMessage, error: str, now: datetime) -> bool:
        """Slack will not create the channel (missing scope, restricted): the incident runs in
        `channels.incidents` (or triage) and says why there."""
        incident = _incident_of(session, message)
        row, _, _ = playbook_runs.locked(session, policy, incident.run_id)
        store.set_name_outcome(session, incident.channel_name, "refused")
        _run_without_channel(session, policy, incident, row, why=f"Slack said `{error}`", now=now)
        return True

    return after


def _run_without_channel(
    session: Session, policy: Policy, incident: Incident, row: PlaybookRun, *, why: str, now: datetime
) -> None:
    fallback = policy.config.channels.incidents or policy.triage_channel
    if not fallback:
        return
    text = (
        f":warning: I could not create #{incident.channel_name} for {incident.ref} ({why}), so the incident runs here."
    )
    outbox.enqueue(
        session, key=f"incident:{incident.id}:no-channel", method="chat.postMessage",
        args={"channel": fallback, "text": text}, purpose="incident_notice", now=now,
    )  # fmt: skip
    incident.channel_id = fallback
    session.add(incident)
    playbook_runs.open_in(session, row, fallback, now=now)
    _refresh_card(session, incident, now=now)


def _invite(session: Session, incident: Incident, users: list[str], *, now: datetime) -> None:
    """Invite people to the incident's channel (once its channel exists; until then the creation
    invites everyone who holds a role by then)."""
    wanted = sorted(set(users))
    if not incident.channel_id or not wanted:
        return
    for user in wanted:
        outbox.enqueue(
            session, key=f"incident:{incident.id}:invite:{user}", method="conversations.invite",
            args={"channel": incident.channel_id, "users": user}, purpose=INVITE, now=now,
        )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Working an incident
# --------------------------------------------------------------------------------------------


def _check_lead(policy: Policy, incident: Incident, row: PlaybookRun, actor: str, what: str) -> None:
    """Roles, severity and resolving are for the commander, leads and admins."""
    playbook = policy.playbooks[row.playbook]
    commander = responsible(playbook, engine_.run_from_json(row.state), "commander")
    if actor == commander or policy.is_supervisor(actor):
        return
    raise PermissionDeniedError(f"Only {incident.ref}'s commander (<@{commander}>), leads or admins may {what}.")


def _check_member(policy: Policy, incident: Incident, row: PlaybookRun, actor: str, what: str) -> None:
    """Updates and links are for anyone holding a role in the incident, leads and admins."""
    run = engine_.run_from_json(row.state)
    if actor in {user for _, user in run.roles} or policy.is_supervisor(actor):
        return
    holders = ", ".join(f"{role}: <@{user}>" for role, user in run.roles)
    raise PermissionDeniedError(f"Only {incident.ref}'s role holders ({holders}), leads or admins may {what}.")


def _check_open(incident: Incident, what: str) -> None:
    if incident.status == "resolved":
        when = incident.resolved_at.isoformat(timespec="minutes") if incident.resolved_at else "earlier"
        raise IncidentError(
            f"{incident.ref} was resolved by <@{incident.resolved_by}> ({when}); {what}. Nothing changed."
        )


def assign_role(db: Engine, policy: Policy, *, ref: Ref, role: str, user: str, actor: str, now: datetime) -> str:
    with session_scope(db) as session:
        incident, row = _locked(session, policy, ref)
        _check_open(incident, "its roles are settled")
        _check_lead(policy, incident, row, actor, "assign roles")
        playbook = policy.playbooks[row.playbook]
        before = engine_.run_from_json(row.state)
        after = engine_.assign(playbook, before, role, user, by=actor, now=now)
        playbook_runs.save(session, policy, row, before, after, actor=actor, now=now)
        _invite(session, incident, [user], now=now)
        _post_in_channel(
            session,
            incident,
            f":bust_in_silhouette: <@{user}> is {role} (set by <@{actor}>).",
            key=f"role:{len(after.timeline)}",
            now=now,
        )
        _refresh_card(session, incident, now=now)
        return f"<@{user}> is {incident.ref}'s {role}."


def update(db: Engine, policy: Policy, *, ref: Ref, text: str, actor: str, now: datetime) -> str:
    """A status update: in the incident's channel and `channels.incidents`, on the timeline, and it
    resets the status-page reminder."""
    with session_scope(db) as session:
        incident, row = _locked(session, policy, ref)
        _check_open(incident, "updates are closed")
        _check_member(policy, incident, row, actor, "post updates")
        playbook = policy.playbooks[row.playbook]
        before = engine_.run_from_json(row.state)
        after = engine_.update(playbook, before, text, by=actor, now=now)
        playbook_runs.save(session, policy, row, before, after, actor=actor, now=now)
        incident.last_update = text
        session.add(incident)
        shown = f":loudspeaker: *{incident.ref} update* from <@{actor}>: {escape_mrkdwn(truncate(text, 2800))}"
        key = f"update:{len(after.timeline)}"
        _post_in_channel(session, incident, shown, key=key, now=now)
        if policy.config.channels.incidents and policy.config.channels.incidents != incident.channel_id:
            outbox.enqueue(
                session, key=f"incident:{incident.id}:{key}:announce", method="chat.postMessage",
                args={"channel": policy.config.channels.incidents, "text": shown}, purpose="incident_update", now=now,
            )  # fmt: skip
        _refresh_card(session, incident, now=now)
        resets = [step for step in playbook.steps if step.reset_by_update and step.repeat]
        if not resets:
            return f"Update posted for {incident.ref}."
        due = ", ".join(f"{step.title.lower()} in {format_duration(step.repeat)}" for step in resets if step.repeat)
        return f"Update posted for {incident.ref}; the next reminder to {due}."


def set_severity(db: Engine, policy: Policy, *, ref: Ref, severity: str, actor: str, now: datetime) -> str:
    if severity not in SEVERITIES:
        raise IncidentError(f"Severity must be one of {', '.join(SEVERITIES)}.")
    with session_scope(db) as session:
        incident, row = _locked(session, policy, ref)
        _check_open(incident, "its severity is settled")
        _check_lead(policy, incident, row, actor, "change the severity")
        if incident.severity == severity:
            return f"{incident.ref} is already {severity}."
        before_severity, incident.severity = incident.severity, severity
        session.add(incident)
        before = engine_.run_from_json(row.state)
        after = engine_.note(before, "severity", f"{before_severity} -> {severity}", by=actor, now=now)
        playbook_runs.save(session, policy, row, before, after, actor=actor, now=now)
        audit.record(
            session, at=now, actor=actor, entity_type="incident", entity_id=incident.id or 0, action="changed",
            field="severity", before=before_severity, after=severity,
        )  # fmt: skip
        _refresh_card(session, incident, now=now)
        return f"{incident.ref} is now {severity}."


def link(db: Engine, policy: Policy, *, ref: Ref, numbers: tuple[int, ...], actor: str, now: datetime) -> str:
    with session_scope(db) as session:
        return link_in(session, policy, ref=ref, numbers=numbers, actor=actor, now=now)


def link_in(session: Session, policy: Policy, *, ref: Ref, numbers: tuple[int, ...], actor: str, now: datetime) -> str:
    """`link` within the caller's transaction (a surge's late joiner is linked as it joins)."""
    incident, row = _locked(session, policy, ref)
    _check_open(incident, "link its tickets before resolving it, or tell their requesters yourself")
    ticket_ids = playbook_runs.tickets_to_link(session, policy, list(numbers), actor=actor)
    added = set(playbook_runs.link_tickets(session, row, ticket_ids, actor=actor, now=now))
    if not added:
        refs = ", ".join(f"T-{n}" for n in numbers)
        return f"{refs} {'is' if len(numbers) == 1 else 'are'} already linked to {incident.ref}; nothing changed."
    refs = ", ".join(f"T-{n}" for n, ticket_id in zip(numbers, ticket_ids, strict=True) if ticket_id in added)
    before = engine_.run_from_json(row.state)
    after = engine_.note(before, "linked", refs, by=actor, now=now)
    playbook_runs.save(session, policy, row, before, after, actor=actor, now=now)
    _refresh_card(session, incident, now=now)
    return f"Linked {refs} to {incident.ref}."


def resolve(db: Engine, policy: Policy, *, ref: Ref, actor: str, now: datetime) -> str:
    """Resolve, from any path (the command, the card's button, a retry of either): the run ends (no
    reminder after this), the summary and the resolved notice go out once."""
    with session_scope(db) as session:
        incident, row = _locked(session, policy, ref)
        _check_open(incident, "it stays resolved")
        _check_lead(policy, incident, row, actor, "resolve it")
        incident.status, incident.resolved_by, incident.resolved_at = "resolved", actor, now
        session.add(incident)
        _resolved_notice(session, incident, row, now=now)  # the notice first, then the summary
        before = engine_.run_from_json(row.state)
        playbook = policy.playbooks[row.playbook]
        resolved = before.running and before.resolved_at is None
        after = engine_.resolve(playbook, before, by=actor, now=now) if resolved else before
        playbook_runs.save(session, policy, row, before, after, actor=actor, now=now)
        if after.running and row.channel:  # the steps after resolution go on: the summary so far, now
            playbook_runs.post_summary(session, row, key=f"run:{row.id}:summary:resolved", now=now)
        audit.record(
            session, at=now, actor=actor, entity_type="incident", entity_id=incident.id or 0, action="changed",
            field="status", before="open", after="resolved",
        )  # fmt: skip
        _refresh_card(session, incident, now=now)
        if policy.config.channels.incidents and policy.config.channels.incidents != incident.channel_id:
            outbox.enqueue(
                session, key=f"incident:{incident.id}:summary:announce", method="chat.postMessage",
                args={"run_id": row.id, "channel": policy.config.channels.incidents},
                purpose=SUMMARY_ANNOUNCE, now=now,
            )  # fmt: skip
        return f"{incident.ref} resolved; the summary is posted in its channel."


SUMMARY_ANNOUNCE = "incident_summary"


def _resolved_notice(session: Session, incident: Incident, row: PlaybookRun, *, now: datetime) -> None:
    linked = store.linked_tickets(session, row.id or 0)
    offer = " The announcement's *Notify linked requesters* closes the loop with them." if linked else ""
    when = kit.slack_date(incident.resolved_at or now)
    text = f":white_check_mark: *{incident.ref} resolved* by <@{incident.resolved_by}> {when}.{offer}"
    _post_in_channel(session, incident, text, key="resolved", now=now)


def notify_linked(db: Engine, policy: Policy, *, ref: Ref, actor: str, now: datetime) -> str:
    """Close the loop: a reply in every linked ticket's thread (a DM to the requester when the
    ticket has no thread), once per ticket, however often the button is clicked."""
    with session_scope(db) as session:
        incident, row = _locked(session, policy, ref)
        if incident.status != "resolved":
            raise IncidentError(f"{incident.ref} is not resolved yet: resolve it first, then tell the requesters.")
        if incident.notified_at is not None:
            by = f"<@{incident.notified_by}>"
            raise IncidentError(f"The requesters of {incident.ref}'s tickets were already told by {by}; nothing sent.")
        if engine_.run_from_json(row.state).holder("comms") != actor:
            _check_lead(policy, incident, row, actor, "notify the requesters")
        told = []
        for ticket in store.linked_tickets(session, row.id or 0):
            text = (
                f"Update on your report ({ticket.ref}): the problem behind it, {incident.ref} "
                f"\u201c{escape_mrkdwn(truncate(incident.title, 200))}\u201d, is resolved. Thank you for reporting it "
                "and for your patience; reply here if you still see it."
            )
            if ticket.source_channel and ticket.source_ts:
                args = {"channel": ticket.source_channel, "thread_ts": ticket.source_ts, "text": text}
            elif ticket.requester_id:
                args = {"channel": ticket.requester_id, "text": text}
            else:
                continue
            outbox.enqueue(
                session, key=f"incident:{incident.id}:notify:{ticket.id}", method="chat.postMessage",
                args=args, purpose="incident_loop_closed", ticket_id=ticket.id, now=now,
            )  # fmt: skip
            told.append(ticket.ref)
        if not told:
            raise IncidentError(f"{incident.ref} has no linked tickets with a requester to tell.")
        incident.notified_by, incident.notified_at = actor, now
        session.add(incident)
        before = engine_.run_from_json(row.state)
        after = engine_.note(before, "notified", ", ".join(told), by=actor, now=now)
        row.state = engine_.run_to_json(after)
        session.add(row)
        _refresh_card(session, incident, now=now)
        return f"Told the requesters of {', '.join(told)} that {incident.ref} is resolved."


def status(db: Engine, policy: Policy, *, ref: Ref) -> dict[str, Any]:
    """`/incident status`: the incident asked about, or every open one."""
    with session_scope(db) as session:
        if ref.number is None and (ref.channel is None or store.incident_by_channel(session, ref.channel) is None):
            found = store.open_incidents(session)
            if not found:
                return {"text": "No incident is open. `/incident start &lt;title&gt;` starts one."}
            lines = [
                f"• *{i.ref}* · {i.severity} · {escape_mrkdwn(truncate(i.title, 120))} · "
                + (f"<#{i.channel_id}>" if i.channel_id else f"#{i.channel_name}")
                for i in found[:30]
            ]
            return {"text": "Open incidents:\n" + "\n".join(lines)}
        incident = find(session, ref)
        row = store.run_by_id(session, incident.run_id)
        assert row is not None
        view = playbook_runs.view_of(session, policy, row)
        card = playbook_blocks.incident_card(view)
        progress = playbook_blocks.run_status([view])
        blocks = [b for b in card["blocks"] if b["type"] != "actions"] + progress["blocks"]
        return {"text": card["text"], "blocks": blocks}


# --------------------------------------------------------------------------------------------
# Posting
# --------------------------------------------------------------------------------------------


def _post_in_channel(session: Session, incident: Incident, text: str, *, key: str, now: datetime) -> None:
    if incident.channel_id:
        outbox.enqueue(
            session, key=f"incident:{incident.id}:{key}", method="chat.postMessage",
            args={"channel": incident.channel_id, "text": truncate(text, 3900)}, purpose="incident_post", now=now,
        )  # fmt: skip


def _refresh_card(session: Session, incident: Incident, *, now: datetime) -> None:
    # Every change gets its own row (several can happen within one millisecond); each renders the
    # incident as it is when sent, so the last one to go out shows the latest.
    outbox.enqueue(
        session, key=f"incident:{incident.id}:card:{uuid.uuid4().hex}", method="chat.update",
        args={"incident_id": incident.id}, purpose=CARD_REFRESH, now=now,
    )  # fmt: skip


def prepare_hooks(policy: Policy) -> dict[str, Prepare]:
    def view(session: Session, message: OutboxMessage) -> playbook_blocks.RunView:
        incident = session.get(Incident, int(message.args["incident_id"]))
        row = store.run_by_id(session, incident.run_id) if incident is not None else None
        if incident is None or row is None:
            raise GiveUpError(f"incident {message.args.get('incident_id')} no longer exists")
        return playbook_runs.view_of(session, policy, row)

    def card(session: Session, message: OutboxMessage) -> dict[str, Any] | None:
        channel = policy.config.channels.incidents
        return (
            {"channel": channel, "unfurl_links": False, **playbook_blocks.incident_card(view(session, message))}
            if channel
            else None
        )

    def card_again(session: Session, message: OutboxMessage) -> dict[str, Any] | None:
        if not policy.config.channels.incidents:
            return None
        channel, ts = where_posted(
            session, key=f"incident:{message.args['incident_id']}:card", what="the incident's announcement"
        )
        return {"channel": channel, "ts": ts, **playbook_blocks.incident_card(view(session, message))}

    def summary(session: Session, message: OutboxMessage) -> dict[str, Any]:
        row = store.run_by_id(session, int(message.args["run_id"]))
        if row is None:
            raise GiveUpError("the run no longer exists")
        shown = playbook_blocks.summary(playbook_runs.view_of(session, policy, row))
        return {"channel": message.args["channel"], "unfurl_links": False, **shown}

    return {CARD: card, CARD_REFRESH: card_again, SUMMARY_ANNOUNCE: summary}


def after_sent_hooks(policy: Policy) -> dict[str, AfterSent]:
    return {CHANNEL: _channel_created(policy)}


def after_failed_hooks(policy: Policy) -> dict[str, AfterFailed]:
    return {CHANNEL: _channel_refused(policy)}
