"""Playbook runs (seed 001 Phase 11): starting one, Done · Skip · a decision on its current step,
roles, updates, linked tickets, reminders through the timer sweep, and the summary at the end.

A run's state is the pure engine's `Run`, kept as JSON on its row; every change locks the row,
applies one engine function, saves, re-plans the run's timers and queues what Slack must show, in
one transaction. Messages are rendered when they are sent (`PREPARE`), so they show the run as it
is then; a step's message is posted once per visit and updated in place when it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import playbooks as engine_
from bot.core.permissions import PermissionDeniedError
from bot.core.playbooks import Playbook, PlaybookError, Run
from bot.services.policy import Policy
from bot.services.ticket_changes import ticket_to_work
from bot.services.timer_outcome import Reschedule
from bot.slack import playbook_blocks
from bot.slack.delivery import AfterFailed, GiveUpError, NotReadyError, Prepare, where_posted
from bot.slack.playbook_blocks import IncidentView, RunView
from store import audit, events, outbox, timers
from store import playbooks as store
from store.db import session_scope
from store.models import OutboxMessage, PlaybookRun, Timer

__all__ = [
    "SYSTEM_ACTOR",
    "TIMER_KIND",
    "DuplicateRequestError",
    "RunNotFoundError",
    "Started",
    "UnknownPlaybookError",
    "act",
    "after_failed_hooks",
    "check_may_run",
    "fire_timer",
    "follow_owner",
    "link_tickets",
    "locked",
    "open_in",
    "playbook_named",
    "post_summary",
    "prepare_hooks",
    "run_playbook",
    "save",
    "start_in",
    "tickets_to_link",
    "view_of",
]

SYSTEM_ACTOR = "frontline"
CHANNEL_WAIT = timedelta(minutes=1)
TIMER_KIND = "playbook"
CARD, CARD_REFRESH, STEP, STEP_REFRESH = (
    "playbook_card",
    "playbook_card_refresh",
    "playbook_step",
    "playbook_step_refresh",
)
REMINDER, SUMMARY = "playbook_reminder", "playbook_summary"
# Slack errors that say the run's channel is gone for the bot: reminders stop after the first one.
_CHANNEL_GONE = frozenset({"is_archived", "channel_not_found", "not_in_channel"})


class UnknownPlaybookError(LookupError):
    pass


class RunNotFoundError(LookupError):
    pass


class DuplicateRequestError(PlaybookError):
    """The same Slack request arrived again; it was handled the first time."""


def playbook_named(policy: Policy, name: str) -> Playbook:
    playbook = policy.playbooks.get(name.strip().lower())
    if playbook is None:
        known = ", ".join(f"`{n}`" for n in sorted(policy.playbooks)) or "none (see FRONTLINE_PLAYBOOKS)"
        raise UnknownPlaybookError(f"There is no playbook `{name[:40]}`. Playbooks: {known}.")
    return playbook


def check_may_run(policy: Policy, actor: str, what: str) -> None:
    """Starting a playbook (an incident too) is for leads and admins (SPEC §4)."""
    if not policy.is_supervisor(actor):
        who = ", ".join(f"<@{u}>" for u in policy.supervisors) or "nobody is configured (roles in frontline.yaml)"
        raise PermissionDeniedError(f"Only leads and admins {what}. Leads and admins: {who}.")


# --------------------------------------------------------------------------------------------
# Starting
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    run_id: int
    name: str  # what to call it in the answer
    channel: str | None


def run_playbook(
    db: Engine,
    policy: Policy,
    *,
    name: str,
    target: str,
    ticket_number: int | None,
    actor: str,
    channel: str,
    request_key: str,
    now: datetime,
) -> Started:
    """`/playbook run <name> [T-42|<title>]`: in `channel`, or in the playbook's own channel
    (`channels.social` for social-crisis) when one is configured."""
    playbook = playbook_named(policy, name)
    check_may_run(policy, actor, "run playbooks")
    if playbook.name == "incident":
        raise PlaybookError("Incidents get their own channel: use `/incident start &lt;title&gt;`.")
    with session_scope(db) as session:
        if not events.first_delivery(session, request_key[:64], now=now):
            raise DuplicateRequestError("This request was already handled (it arrived twice); nothing more changed.")
        ticket_ids: list[int] = []
        title = target or playbook.title
        roles = {playbook.roles[0]: actor}
        if ticket_number is not None:
            ticket = ticket_to_work(session, policy, ticket_number, actor=actor, what="run a playbook on {ref}")
            assert ticket.id is not None
            ticket_ids, title = [ticket.id], f"{ticket.ref} {ticket.title}"
            if ticket.owner_id and "agent" in playbook.roles:  # the ticket's owner works its playbook
                roles = {"agent": ticket.owner_id}
        where = _home_channel(policy, playbook) or channel
        row = start_in(session, policy, playbook, title=title, actor=actor, channel=where, now=now, roles=roles)
        link_tickets(session, row, ticket_ids, actor=actor, now=now)
        assert row.id is not None
        return Started(row.id, f"{playbook.title} (run {row.id})", where)


def _home_channel(policy: Policy, playbook: Playbook) -> str | None:
    return policy.config.channels.social if playbook.name == "social-crisis" else None


def start_in(
    session: Session,
    policy: Policy,
    playbook: Playbook,
    *,
    title: str,
    actor: str,
    channel: str | None,
    now: datetime,
    roles: dict[str, str] | None = None,
) -> PlaybookRun:
    """A new run, in the caller's transaction. With no `channel` yet (an incident's is being
    created), nothing is posted until `open_in` names it."""
    run = engine_.start(playbook, by=actor, now=now, roles=roles or {playbook.roles[0]: actor})
    row = PlaybookRun(
        playbook=playbook.name,
        title=title,
        channel=channel,
        state=engine_.run_to_json(run),
        started_by=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    audit.record(
        session, at=now, actor=actor, entity_type="playbook_run", entity_id=row.id, action="created",
        field="playbook", before=None, after=playbook.name,
    )  # fmt: skip
    if channel:
        open_in(session, row, channel, now=now)
    _plan(session, playbook, row, run)
    return row


def open_in(session: Session, row: PlaybookRun, channel: str, *, now: datetime) -> None:
    """The run posts in `channel` from now on: its card, then its current step."""
    row.channel = channel
    session.add(row)
    outbox.enqueue(
        session, key=f"run:{row.id}:card", method="chat.postMessage",
        args={"run_id": row.id, "channel": channel}, purpose=CARD, now=now,
    )  # fmt: skip
    run = engine_.run_from_json(row.state)
    if run.current:
        _post_step(session, row, run, run.current, now=now)


# --------------------------------------------------------------------------------------------
# Changing a run
# --------------------------------------------------------------------------------------------


def locked(session: Session, policy: Policy, run_id: int) -> tuple[PlaybookRun, Playbook, Run]:
    row = store.run_by_id(session, run_id, for_update=True)
    if row is None:
        raise RunNotFoundError(f"Run {run_id} does not exist.")
    playbook = policy.playbooks.get(row.playbook)
    if playbook is None:
        raise RunNotFoundError(f"Run {run_id} follows playbook `{row.playbook}`, which is no longer installed.")
    return row, playbook, engine_.run_from_json(row.state)


def save(
    session: Session, policy: Policy, row: PlaybookRun, before: Run, after: Run, *, actor: str, now: datetime
) -> None:
    """Store the run's new state and show it: the ended step's message, the next step's, the card,
    the summary when it finished; then re-plan its reminders."""
    playbook = policy.playbooks[row.playbook]
    row.state = engine_.run_to_json(after)
    if not after.running and row.status != "finished":
        row.status, row.finished_at = "finished", after.finished_at
        audit.record(
            session, at=now, actor=actor, entity_type="playbook_run", entity_id=row.id or 0, action="changed",
            field="status", before="running", after="finished",
        )  # fmt: skip
    session.add(row)
    if row.channel:
        for state in after.steps:
            was = before.state(state.id)
            if was.status == "current" and (state.status != "current" or state.visits != was.visits):
                _refresh_step(session, row, state.id, was.visits, now=now)
        if after.current and (
            after.current != before.current or after.state(after.current).visits != before.state(after.current).visits
        ):
            _post_step(session, row, after, after.current, now=now)
        _refresh_card(session, row, len(after.timeline), now=now)
        if before.running and not after.running:
            post_summary(session, row, key=f"run:{row.id}:summary", now=now)
    _plan(session, playbook, row, after)


def follow_owner(session: Session, policy: Policy, ticket_id: int, *, owner: str, actor: str, now: datetime) -> None:
    """The ticket has a new owner: in the running playbooks for it, the `agent` role (its owner's
    steps, buttons and reminders) moves to them. The caller holds the ticket's lock."""
    for run_id in store.running_run_ids_for_ticket(session, ticket_id):
        row, playbook, before = locked(session, policy, run_id)
        if "agent" not in playbook.roles or before.holder("agent") == owner:
            continue
        after = engine_.assign(playbook, before, "agent", owner, by=actor, now=now)
        save(session, policy, row, before, after, actor=actor, now=now)
        if row.channel and after.current:  # its message names the step's owner
            visit = after.state(after.current).visits
            _refresh_step(session, row, after.current, visit, now=now, why=f"owner:{len(after.timeline)}")


def post_summary(session: Session, row: PlaybookRun, *, key: str, now: datetime) -> None:
    """The run's summary as it stands, in its channel (rendered when sent)."""
    outbox.enqueue(
        session, key=key, method="chat.postMessage", args={"run_id": row.id, "channel": row.channel},
        purpose=SUMMARY, now=now,
    )  # fmt: skip


def act(
    db: Engine,
    policy: Policy,
    *,
    run_id: int,
    step_id: str,
    visit: int,
    action: str,
    actor: str,
    now: datetime,
    choice: int | None = None,
) -> str:
    """A click on a step's Done, Skip or a decision's option; returns what to tell the clicker."""
    with session_scope(db) as session:
        row, playbook, run = locked(session, policy, run_id)
        if step_id not in {s.id for s in playbook.steps}:
            raise PlaybookError(f"'{step_id[:40]}' is no step of {playbook.title}; this message is out of date.")
        state = run.state(step_id)
        if state.visits != visit and state.status == "current":
            raise PlaybookError(
                f"This message is from an earlier pass through '{playbook.step(step_id).title}'; use the newest one."
            )
        if run.running and run.current == step_id:
            supervisor = policy.is_supervisor(actor)
            engine_.check_may_act(playbook, run, step_id, actor, supervisor=supervisor, leads=policy.leads)
        step = playbook.step(step_id)
        if action == "done":
            after = engine_.complete(playbook, run, step_id, by=actor, now=now)
        elif action == "skip":
            after = engine_.skip(playbook, run, step_id, by=actor, now=now)
        else:
            if choice is None or not 0 <= choice < len(step.decision):
                raise PlaybookError(f"That option is not one of '{step.title}'; this message is out of date.")
            after = engine_.choose(playbook, run, step_id, step.decision[choice].label, by=actor, now=now)
        save(session, policy, row, run, after, actor=actor, now=now)
        return f"{'Done' if action == 'done' else 'Skipped' if action == 'skip' else 'Chosen'}: {step.title}."


def link_tickets(session: Session, row: PlaybookRun, ticket_ids: list[int], *, actor: str, now: datetime) -> list[int]:
    """Link tickets to the run (each once); returns the ids newly linked."""
    assert row.id is not None
    return [t for t in ticket_ids if store.link_ticket(session, run_id=row.id, ticket_id=t, actor=actor, now=now)]


def tickets_to_link(session: Session, policy: Policy, numbers: list[int], *, actor: str) -> list[int]:
    """The ids of T-`numbers` (each must exist and the actor must work tickets)."""
    found = []
    for number in numbers:
        ticket = ticket_to_work(session, policy, number, actor=actor, what="link {ref}", for_update=False)
        assert ticket.id is not None
        found.append(ticket.id)
    return found


def _plan(session: Session, playbook: Playbook, row: PlaybookRun, run: Run) -> None:
    assert row.id is not None
    planned = {} if row.reminders_off else engine_.planned_reminders(playbook, run)
    due = {name: (f"playbook:{row.id}:{name}:{int(when.timestamp())}", when) for name, when in planned.items()}
    timers.plan(session, kind=TIMER_KIND, subject_id=row.id, due=due)


def _post_step(session: Session, row: PlaybookRun, run: Run, step_id: str, *, now: datetime) -> None:
    visit = run.state(step_id).visits
    outbox.enqueue(
        session, key=f"run:{row.id}:step:{step_id}:{visit}", method="chat.postMessage",
        args={"run_id": row.id, "step": step_id, "visit": visit, "channel": row.channel}, purpose=STEP, now=now,
    )  # fmt: skip


def _refresh_step(
    session: Session, row: PlaybookRun, step_id: str, visit: int, *, now: datetime, why: str = "ended"
) -> None:
    outbox.enqueue(
        session, key=f"run:{row.id}:step:{step_id}:{visit}:{why}", method="chat.update",
        args={"run_id": row.id, "step": step_id, "visit": visit}, purpose=STEP_REFRESH, now=now,
    )  # fmt: skip


def _refresh_card(session: Session, row: PlaybookRun, change: int, *, now: datetime) -> None:
    outbox.enqueue(
        session, key=f"run:{row.id}:card:{change}", method="chat.update",
        args={"run_id": row.id}, purpose=CARD_REFRESH, now=now,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Reminders (the timer sweep)
# --------------------------------------------------------------------------------------------


def fire_timer(session: Session, policy: Policy, timer: Timer, *, now: datetime) -> str | Reschedule:
    """A step came due or its recurring work is due again: remind whoever answers for it, in the
    run's channel (the caller holds no lock on the run; this takes it)."""
    # The sweep runs without autoflush, and the re-read below replaces what the session holds: an
    # earlier reminder of the same run in this batch must reach the row first, or it is lost (with
    # its stamp, a recurring reminder would never be planned again).
    session.flush()
    row = store.run_by_id(session, timer.subject_id, for_update=True)
    playbook = policy.playbooks.get(row.playbook) if row is not None else None
    if row is None or playbook is None or row.status != "running" or row.reminders_off:
        return "no longer applies"
    if not row.channel:  # its incident's channel is still being created: remind once it exists
        return Reschedule(now + CHANNEL_WAIT)
    run = engine_.run_from_json(row.state)
    after, step = engine_.remind(playbook, run, timer.name, now=now)
    if step is None:
        return "no longer applies"
    row.state = engine_.run_to_json(after)
    session.add(row)
    kind = timer.name.split(":")[2]
    state = run.state(step.id)
    counted_from = run.started_at if step.due_from == "start" else state.since or run.started_at
    last = (state.repeated_at or counted_from) if kind == "repeat" else None
    args = {
        "run_id": row.id, "step": step.id, "kind": kind, "visit": state.visits, "channel": row.channel,
        "last": last.isoformat() if last else None,
    }  # fmt: skip
    outbox.enqueue(session, key=timer.key, method="chat.postMessage", args=args, purpose=REMINDER, now=now)
    _plan(session, playbook, row, after)
    return "queued"


# --------------------------------------------------------------------------------------------
# Delivery: rendered when sent
# --------------------------------------------------------------------------------------------


def view_of(session: Session, policy: Policy, row: PlaybookRun) -> RunView:
    assert row.id is not None
    incident = store.incident_of_run(session, row.id)
    shown = None
    if incident is not None:
        shown = IncidentView(
            ref=incident.ref, severity=incident.severity, status=incident.status, channel=incident.channel_id,
            channel_name=incident.channel_name, last_update=incident.last_update, resolved_by=incident.resolved_by,
            resolved_at=incident.resolved_at, notified_by=incident.notified_by, notified_at=incident.notified_at,
        )  # fmt: skip
    return RunView(
        id=row.id,
        title=row.title,
        playbook=policy.playbooks[row.playbook],
        run=engine_.run_from_json(row.state),
        tickets=tuple((t.ref, t.title) for t in store.linked_tickets(session, row.id)),
        incident=shown,
        reminders_off=row.reminders_off,
        leads=tuple(policy.leads),
    )


def _subject(session: Session, policy: Policy, message: OutboxMessage) -> tuple[PlaybookRun, RunView]:
    row = store.run_by_id(session, int(message.args["run_id"]))
    if row is None or row.playbook not in policy.playbooks:
        raise GiveUpError(f"run {message.args.get('run_id')} no longer exists")
    if not row.channel:
        raise NotReadyError("the run's channel does not exist yet")
    return row, view_of(session, policy, row)


def _prepare(policy: Policy, render: Callable[[PlaybookRun, RunView, OutboxMessage], dict[str, Any] | None]) -> Prepare:
    def prepare(session: Session, message: OutboxMessage) -> dict[str, Any] | None:
        row, view = _subject(session, policy, message)
        return render(row, view, message)

    return prepare


def _card(row: PlaybookRun, view: RunView, _: OutboxMessage) -> dict[str, Any]:
    return {"channel": row.channel, "unfurl_links": False, **playbook_blocks.run_card(view)}


def _card_again(session: Session, row: PlaybookRun, view: RunView) -> dict[str, Any]:
    channel, ts = where_posted(session, key=f"run:{row.id}:card", what="the run's card")
    return {"channel": channel, "ts": ts, **playbook_blocks.run_card(view)}


def _step(row: PlaybookRun, view: RunView, message: OutboxMessage) -> dict[str, Any]:
    return {"channel": row.channel, "unfurl_links": False, **playbook_blocks.step_message(view, message.args["step"])}


def _step_again(session: Session, row: PlaybookRun, view: RunView, message: OutboxMessage) -> dict[str, Any]:
    args = message.args
    key = f"run:{row.id}:step:{args['step']}:{args['visit']}"
    channel, ts = where_posted(session, key=key, what="the step's message")
    return {"channel": channel, "ts": ts, **playbook_blocks.step_message(view, args["step"])}


def _reminder(row: PlaybookRun, view: RunView, message: OutboxMessage) -> dict[str, Any] | None:
    if row.reminders_off or not view.run.running:  # queued before the channel was found gone, or the run ended
        return None
    state = view.run.state(message.args["step"])
    if message.args["kind"] == "due" and (state.status != "current" or state.visits != message.args.get("visit")):
        return None  # done (or moved on) while the reminder waited to be sent
    if message.args["kind"] == "repeat" and view.run.resolved_at is not None:
        return None
    step = view.playbook.step(message.args["step"])
    last = datetime.fromisoformat(message.args["last"]) if message.args.get("last") else None
    shown = playbook_blocks.reminder(view, step, kind=message.args["kind"], last=last, now=message.created_at)
    return {"channel": row.channel, **shown}


def _summary(row: PlaybookRun, view: RunView, _: OutboxMessage) -> dict[str, Any]:
    return {"channel": row.channel, "unfurl_links": False, **playbook_blocks.summary(view)}


def prepare_hooks(policy: Policy) -> dict[str, Prepare]:
    def with_session(render: Callable[[Session, PlaybookRun, RunView, OutboxMessage], dict[str, Any]]) -> Prepare:
        def prepare(session: Session, message: OutboxMessage) -> dict[str, Any]:
            row, view = _subject(session, policy, message)
            return render(session, row, view, message)

        return prepare

    return {
        CARD: _prepare(policy, _card),
        CARD_REFRESH: with_session(lambda s, row, view, _: _card_again(s, row, view)),
        STEP: _prepare(policy, _step),
        STEP_REFRESH: with_session(_step_again),
        REMINDER: _prepare(policy, _reminder),
        SUMMARY: _prepare(policy, _summary),
    }


def _reminder_failed(policy: Policy) -> AfterFailed:
    def after(session: Session, message: OutboxMessage, error: str, now: datetime) -> bool:
        """A reminder that cannot be posted because the run's channel is gone (archived, deleted, the
        bot removed) stops the run's reminders: at most one failed post, never a retry loop (F10)."""
        if error not in _CHANNEL_GONE:
            return False
        row = store.run_by_id(session, int(message.args["run_id"]), for_update=True)
        if row is None or row.reminders_off:
            return False
        row.reminders_off = f"Slack said `{error}` for the run's channel"[:64]
        session.add(row)
        assert row.id is not None
        timers.plan(session, kind=TIMER_KIND, subject_id=row.id, due={})
        return False  # the generic report still tells triage, once per channel and error

    return after


def after_failed_hooks(policy: Policy) -> dict[str, AfterFailed]:
    return {REMINDER: _reminder_failed(policy)}
