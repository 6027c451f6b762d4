"""Playbooks (seed 001 Phase 11): what a playbook file may say, and the pure state machine a run
follows. No Slack and no database here: a run's state goes in and comes out, with `now` given.

A run works through its steps one at a time, in file order unless a step says `next:` or ends
the run (`end: true`); a decision step is left by choosing one of its options, each leading to a
step. A step is due `due` after the run's start (`due_from: start`) or after the step before it
became current (`due_from: previous`, the default); its owner is reminded once, `remind_before`
ahead of that (at the due time by default), unless it is done first. A step with `repeat` keeps
reminding every `repeat` after its last reminder until the run ends ("update the status page every
30 min"), even after it is done: counted from the run's start when `due_from: start` (whether or
not the run has reached the step: the status page is due every 30 minutes from the start, whatever
else is going on), else from when the step became current. An update (`update`) counts as the recurring
work of every step marked `reset_by_update`, so its next reminder is `repeat` after the update.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from bot.config import Duration, PositiveDuration
from bot.core.permissions import PermissionDeniedError

__all__ = [
    "Choice",
    "Event",
    "Playbook",
    "PlaybookError",
    "Run",
    "Step",
    "StepState",
    "assign",
    "check_may_act",
    "choose",
    "complete",
    "finish",
    "move",
    "note",
    "planned_reminders",
    "remind",
    "resolve",
    "responsible",
    "run_from_json",
    "run_to_json",
    "skip",
    "start",
    "update",
]


def _slug(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", value):
        raise ValueError("must be lower-case letters, digits, - or _, starting with a letter (at most 40)")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Text = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Model):
    """One button of a decision step."""

    label: Annotated[str, Field(min_length=1, max_length=75)]  # Block Kit's button text limit
    goto: Slug


class Step(_Model):
    id: Slug
    title: Annotated[str, Field(min_length=1, max_length=150)]
    instructions: Annotated[str, Field(min_length=1, max_length=2900)]  # mrkdwn, one section
    owner: Slug  # one of the playbook's roles
    due: Duration = timedelta(0)  # after the run's start or the previous step (`due_from`)
    due_from: Literal["start", "previous"] = "previous"
    remind_before: Duration = timedelta(0)  # the due reminder comes this long before the due time
    repeat: PositiveDuration | None = None  # remind every … until the run ends
    reset_by_update: bool = False  # a posted update does this step's recurring work (resets `repeat`)
    message: Annotated[str, Field(min_length=1, max_length=2900)] | None = None  # a template to post
    decision: tuple[Choice, ...] = ()
    never: tuple[Text, ...] = ()  # shown beside the step
    next: Slug | None = None  # the step after this one, when not the next in the file
    end: bool = False  # the run finishes after this step
    after_resolution: bool = False  # comes once the run is resolved (`resolve`), not in the sequence

    @model_validator(mode="after")
    def _decision_or_next(self) -> Self:
        if self.decision and (self.next or self.end):
            raise ValueError("a decision step leads on through its choices: drop `next`/`end`")
        if len(self.decision) == 1 or len(self.decision) > 5:
            raise ValueError("a decision needs 2 to 5 choices")
        if self.reset_by_update and self.repeat is None:
            raise ValueError("reset_by_update needs `repeat`: only a recurring step is reset by an update")
        if self.remind_before and self.remind_before > self.due:
            raise ValueError("remind_before is longer than `due`: the reminder would come before the step")
        if self.after_resolution and (self.repeat or self.decision):
            raise ValueError("an after_resolution step neither repeats nor decides: it comes once, after `resolve`")
        labels = [choice.label for choice in self.decision]
        if len(set(labels)) != len(labels):
            raise ValueError("each choice of a decision needs its own label")
        return self


class Playbook(_Model):
    name: Slug
    title: Annotated[str, Field(min_length=1, max_length=150)]
    description: Text
    roles: Annotated[tuple[Slug, ...], Field(min_length=1)]
    steps: Annotated[tuple[Step, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _steps_refer_to_what_exists(self) -> Self:
        ids = [step.id for step in self.steps]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"step ids must be unique: {', '.join(duplicates)} repeated")
        for step in self.steps:
            if step.owner not in self.roles:
                raise ValueError(f"step {step.id}: owner '{step.owner}' is not one of roles ({', '.join(self.roles)})")
            targets = [choice.goto for choice in step.decision] + ([step.next] if step.next else [])
            for target in targets:
                if target not in ids:
                    raise ValueError(f"step {step.id}: leads to '{target}', which is no step here")
                if target == step.id:
                    raise ValueError(f"step {step.id}: leads to itself")
        return self

    def step(self, step_id: str) -> Step:
        return next(step for step in self.steps if step.id == step_id)

    def after(self, step: Step) -> Step | None:
        """The step that follows `step` when it is done (None: the sequence is over). Steps that
        come after resolution follow each other, and are never reached from the others."""
        if step.end:
            return None
        if step.next:
            return self.step(step.next)
        rest = self.steps[self.steps.index(step) + 1 :]
        return next((s for s in rest if s.after_resolution == step.after_resolution), None)

    @property
    def resolvable(self) -> bool:
        """The run waits for `resolve` (an incident) rather than ending with its last step."""
        return any(step.after_resolution for step in self.steps)


# --------------------------------------------------------------------------------------------
# A run
# --------------------------------------------------------------------------------------------


class PlaybookError(ValueError):
    """What was asked does not fit the run's state; the message says why."""


@dataclass(frozen=True)
class Event:
    at: datetime
    by: str
    what: str  # started | done | skipped | chose | reminded | moved | role | update | note | finished
    step: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class StepState:
    id: str
    status: str = "waiting"  # waiting | current | done | skipped
    since: datetime | None = None  # became current
    due_at: datetime | None = None
    reminded_at: datetime | None = None  # the last due reminder (None: not reminded since it became current)
    repeated_at: datetime | None = None  # the last repeating reminder or update that did its work
    visits: int = 0  # how many times it became current (a decision may lead back to it)
    by: str | None = None  # who did or skipped it
    ended_at: datetime | None = None  # when it was done or skipped


@dataclass(frozen=True)
class Run:
    playbook: str
    started_at: datetime
    steps: tuple[StepState, ...]
    timeline: tuple[Event, ...] = ()
    finished_at: datetime | None = None
    current: str | None = None
    roles: tuple[tuple[str, str], ...] = ()  # (role, user) in the order they were filled
    resolved_at: datetime | None = None  # `resolve` came: the steps after resolution run now

    def state(self, step_id: str) -> StepState:
        return next(state for state in self.steps if state.id == step_id)

    @property
    def running(self) -> bool:
        return self.finished_at is None

    def holder(self, role: str) -> str | None:
        """Who holds `role` in this run (None: nobody yet)."""
        return dict(self.roles).get(role)


def start(playbook: Playbook, *, by: str, now: datetime, roles: dict[str, str] | None = None) -> Run:
    """A new run; `roles` fills some of the playbook's roles from the start (role -> user)."""
    unknown = sorted(set(roles or {}) - set(playbook.roles))
    if unknown:
        raise PlaybookError(f"{playbook.title} has no role {', '.join(unknown)} (roles: {', '.join(playbook.roles)})")
    run = Run(
        playbook=playbook.name,
        started_at=now,
        steps=tuple(StepState(step.id) for step in playbook.steps),
        timeline=(Event(now, by, "started"),),
        roles=tuple((roles or {}).items()),
    )
    return _enter(run, playbook.steps[0], now=now)


def complete(playbook: Playbook, run: Run, step_id: str, *, by: str, now: datetime) -> Run:
    step = _current(playbook, run, step_id, doing="mark done")
    if step.decision:
        options = " or ".join(f"'{choice.label}'" for choice in step.decision)
        raise PlaybookError(f"'{step.title}' is a decision: choose {options}")
    run = _end_step(run, step_id, "done", by=by, now=now, event=Event(now, by, "done", step_id))
    return _advance(playbook, run, playbook.after(step), by=by, now=now)


def skip(playbook: Playbook, run: Run, step_id: str, *, by: str, now: datetime) -> Run:
    step = _current(playbook, run, step_id, doing="skip")
    if step.decision:
        raise PlaybookError(f"'{step.title}' is a decision: it cannot be skipped, only decided")
    run = _end_step(run, step_id, "skipped", by=by, now=now, event=Event(now, by, "skipped", step_id))
    return _advance(playbook, run, playbook.after(step), by=by, now=now)


def choose(playbook: Playbook, run: Run, step_id: str, label: str, *, by: str, now: datetime) -> Run:
    step = _current(playbook, run, step_id, doing="decide")
    choice = next((c for c in step.decision if c.label == label), None)
    if choice is None:
        options = ", ".join(f"'{c.label}'" for c in step.decision) or "none: it is no decision"
        raise PlaybookError(f"'{label}' is not an option of '{step.title}' (options: {options})")
    event = Event(now, by, "chose", step_id, choice.label)
    run = _end_step(run, step_id, "done", by=by, now=now, event=event)
    return _advance(playbook, run, playbook.step(choice.goto), by=by, now=now)


def resolve(playbook: Playbook, run: Run, *, by: str, now: datetime) -> Run:
    """The matter is resolved (an incident): recurring steps stop, a current step that is not done
    is left (skipped), and the steps after resolution begin; with none, the run finishes."""
    _running(playbook, run, doing="resolve")
    if run.resolved_at is not None:
        raise PlaybookError(f"this {playbook.title} run was resolved already")
    if run.current and not playbook.step(run.current).after_resolution:
        event = Event(now, by, "skipped", run.current, "resolved first")
        run = _end_step(run, run.current, "skipped", by=by, now=now, event=event)
    run = dataclasses.replace(run, resolved_at=now, timeline=(*run.timeline, Event(now, by, "resolved")))
    if run.current:
        return run
    first = next((step for step in playbook.steps if step.after_resolution), None)
    return _advance(playbook, run, first, by=by, now=now)


def finish(playbook: Playbook, run: Run, *, by: str, now: datetime) -> Run:
    """End the run (early, or after its last step); a finished run cannot finish again."""
    if not run.running:
        raise PlaybookError(f"this {playbook.title} run finished already")
    return _finished(run, by=by, now=now)


def assign(playbook: Playbook, run: Run, role: str, user: str, *, by: str, now: datetime) -> Run:
    """`user` holds `role` from now on (replacing whoever held it)."""
    _running(playbook, run, doing="assign roles")
    if role not in playbook.roles:
        raise PlaybookError(f"{playbook.title} has no role '{role}' (roles: {', '.join(playbook.roles)})")
    roles = dict(run.roles)
    before = roles.get(role)
    if before == user:
        raise PlaybookError(f"<@{user}> is already {role}")
    roles[role] = user
    event = Event(now, by, "role", None, f"{role}={user}" + (f" (was {before})" if before else ""))
    return dataclasses.replace(run, roles=tuple(roles.items()), timeline=(*run.timeline, event))


def update(playbook: Playbook, run: Run, text: str, *, by: str, now: datetime) -> Run:
    """A status update was posted: on the timeline, and it does the recurring work of every step
    marked `reset_by_update` (their next reminder is one `repeat` from now)."""
    _running(playbook, run, doing="update")
    resets = {step.id for step in playbook.steps if step.reset_by_update}
    steps = tuple(dataclasses.replace(state, repeated_at=now) if state.id in resets else state for state in run.steps)
    return dataclasses.replace(run, steps=steps, timeline=(*run.timeline, Event(now, by, "update", None, text)))


def note(run: Run, what: str, detail: str, *, by: str, now: datetime) -> Run:
    """Put something that happened around the run on its timeline (a linked ticket, a new severity)."""
    return dataclasses.replace(run, timeline=(*run.timeline, Event(now, by, what, None, detail)))


def move(playbook: Playbook, run: Run, step_id: str, due_at: datetime, *, by: str, now: datetime) -> Run:
    """Give the current step a new due time; its reminder moves with it (and comes again if it had
    already come)."""
    step = _current(playbook, run, step_id, doing="move")
    state = run.state(step_id)
    steps = tuple(dataclasses.replace(s, due_at=due_at, reminded_at=None) if s.id == step_id else s for s in run.steps)
    was = state.due_at.isoformat() if state.due_at else "none"
    event = Event(now, by, "moved", step.id, f"{was} -> {due_at.isoformat()}")
    return dataclasses.replace(run, steps=steps, timeline=(*run.timeline, event))


def planned_reminders(playbook: Playbook, run: Run) -> dict[str, datetime]:
    """The reminders the run needs now (name -> when): the current step's, once, `remind_before` its
    due time; and each repeating step's next one. None once the run has finished."""
    if not run.running:
        return {}
    planned: dict[str, datetime] = {}
    for state in run.steps:
        step = playbook.step(state.id)
        since = state.since or run.started_at
        # A step that became current already overdue is not reminded on top of its own message.
        if state.status == "current" and state.due_at and state.due_at > since and not state.reminded_at and step.due:
            planned[f"step:{state.id}:due"] = max(state.due_at - step.remind_before, since)
        if step.repeat is not None and run.resolved_at is None:
            if state.repeated_at is not None:
                planned[f"step:{state.id}:repeat"] = state.repeated_at + step.repeat
            elif step.due_from == "start":
                planned[f"step:{state.id}:repeat"] = run.started_at + step.repeat
            elif state.since is not None:
                planned[f"step:{state.id}:repeat"] = state.since + step.repeat
    return planned


def remind(playbook: Playbook, run: Run, name: str, *, now: datetime) -> tuple[Run, Step | None]:
    """A reminder came due: record it; returns the step to remind its owner of (None when it no
    longer applies: the step was done meanwhile, or the run is over)."""
    when = planned_reminders(playbook, run).get(name)
    if when is None or when > now:
        return run, None
    step_id, kind = name.split(":")[1:3]

    def stamped(state: StepState) -> StepState:
        if state.id != step_id:
            return state
        due = kind == "due"
        return dataclasses.replace(
            state, reminded_at=now if due else state.reminded_at, repeated_at=state.repeated_at if due else now
        )

    steps = tuple(stamped(state) for state in run.steps)
    event = Event(now, "frontline", "reminded", step_id, kind)
    return dataclasses.replace(run, steps=steps, timeline=(*run.timeline, event)), playbook.step(step_id)


LEAD_ROLE = "lead"  # a playbook role that only the team's leads fill while nobody holds it


def responsible(playbook: Playbook, run: Run, role: str, *, leads: Sequence[str] = ()) -> str:
    """Who answers for `role` in the run: its holder; while nobody holds it, the team's first lead
    for the `lead` role (an approval stays with a lead), else whoever holds the playbook's first
    role (the run's lead: an incident's commander), else whoever started the run."""
    if role == LEAD_ROLE and not run.holder(role) and leads:
        return leads[0]
    return run.holder(role) or run.holder(playbook.roles[0]) or run.timeline[0].by


def check_may_act(
    playbook: Playbook, run: Run, step_id: str, actor: str, *, supervisor: bool, leads: Sequence[str] = ()
) -> None:
    """Done, Skip and a decision are for whoever answers for the step's role, and for leads and
    admins; a `lead` step nobody holds is for leads and admins only."""
    step = playbook.step(step_id)
    owner = responsible(playbook, run, step.owner, leads=leads)
    if supervisor or (actor == owner and not (step.owner == LEAD_ROLE and not run.holder(LEAD_ROLE))):
        return
    raise PermissionDeniedError(
        f"'{step.title}' is for the {step.owner} (<@{owner}>); only they, leads or admins may mark it."
    )


# --------------------------------------------------------------------------------------------
# Stored form: a run as JSON (the database keeps it in one column, changed under the run's lock)
# --------------------------------------------------------------------------------------------


def run_to_json(run: Run) -> dict[str, Any]:
    def stamp(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "playbook": run.playbook,
        "started_at": stamp(run.started_at),
        "finished_at": stamp(run.finished_at),
        "current": run.current,
        "resolved_at": stamp(run.resolved_at),
        "roles": [list(pair) for pair in run.roles],
        "steps": [
            {
                "id": s.id,
                "status": s.status,
                "since": stamp(s.since),
                "due_at": stamp(s.due_at),
                "reminded_at": stamp(s.reminded_at),
                "repeated_at": stamp(s.repeated_at),
                "visits": s.visits,
                "by": s.by,
                "ended_at": stamp(s.ended_at),
            }
            for s in run.steps
        ],
        "timeline": [[stamp(e.at), e.by, e.what, e.step, e.detail] for e in run.timeline],
    }


def run_from_json(data: dict[str, Any]) -> Run:
    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    started = when(data["started_at"])
    assert started is not None
    return Run(
        playbook=data["playbook"],
        started_at=started,
        finished_at=when(data.get("finished_at")),
        current=data.get("current"),
        resolved_at=when(data.get("resolved_at")),
        roles=tuple((str(role), str(user)) for role, user in data.get("roles", [])),
        steps=tuple(
            StepState(
                id=s["id"],
                status=s["status"],
                since=when(s.get("since")),
                due_at=when(s.get("due_at")),
                reminded_at=when(s.get("reminded_at")),
                repeated_at=when(s.get("repeated_at")),
                visits=int(s.get("visits", 0)),
                by=s.get("by"),
                ended_at=when(s.get("ended_at")),
            )
            for s in data["steps"]
        ),
        timeline=tuple(
            Event(when(at) or started, by, what, step, detail) for at, by, what, step, detail in data["timeline"]
        ),
    )


# --------------------------------------------------------------------------------------------


def _running(playbook: Playbook, run: Run, *, doing: str) -> None:
    if not run.running:
        raise PlaybookError(f"this {playbook.title} run has finished; nothing left to {doing}")


def _current(playbook: Playbook, run: Run, step_id: str, *, doing: str) -> Step:
    _running(playbook, run, doing=doing)
    if step_id not in {step.id for step in playbook.steps}:
        raise PlaybookError(f"'{step_id}' is no step of {playbook.title}")
    if run.current != step_id:
        state = run.state(step_id)
        title = playbook.step(step_id).title
        now_at = f"; the current step is '{playbook.step(run.current).title}'" if run.current else ""
        if state.status in {"done", "skipped"} and state.by:
            raise PlaybookError(f"'{title}' was already {state.status} by <@{state.by}>{now_at}")
        raise PlaybookError(f"'{title}' is {state.status}, not the current step{now_at}")
    return playbook.step(step_id)


def _advance(playbook: Playbook, run: Run, following: Step | None, *, by: str, now: datetime) -> Run:
    if following is None and playbook.resolvable and run.resolved_at is None:
        return dataclasses.replace(run, current=None)  # its sequence is done; it waits for `resolve`
    if following is None:
        return _finished(run, by=by, now=now)
    return _enter(run, following, now=now)


def _finished(run: Run, *, by: str, now: datetime) -> Run:
    return dataclasses.replace(run, current=None, finished_at=now, timeline=(*run.timeline, Event(now, by, "finished")))


def _enter(run: Run, step: Step, *, now: datetime) -> Run:
    """`step` becomes current; due `step.due` after the run's start or after now (the previous
    step was done now)."""
    anchor = run.started_at if step.due_from == "start" else now
    due = anchor + step.due
    steps = tuple(
        dataclasses.replace(
            state, status="current", since=now, due_at=due, reminded_at=None, visits=state.visits + 1,
            by=None, ended_at=None,
        )
        if state.id == step.id
        else state
        for state in run.steps
    )  # fmt: skip
    return dataclasses.replace(run, steps=steps, current=step.id)


def _end_step(run: Run, step_id: str, status: str, *, by: str, now: datetime, event: Event) -> Run:
    steps = tuple(
        dataclasses.replace(state, status=status, by=by, ended_at=now) if state.id == step_id else state
        for state in run.steps
    )
    return dataclasses.replace(run, steps=steps, current=None, timeline=(*run.timeline, event))
