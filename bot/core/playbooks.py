"""Playbooks (seed 001 Phase 11): what a playbook file may say, and the pure state machine a run
follows. No Slack and no database here: a run's state goes in and comes out, with `now` given.

A run works through its steps one at a time, in file order unless a step says `next:` or ends
the run (`end: true`); a decision step is left by choosing one of its options, each leading to a
step. A step is due `due` after the run's start (`due_from: start`) or after the step before it
became current (`due_from: previous`, the default); a step with `repeat` keeps reminding every
`repeat` from the time it became current until the run ends ("update the status page every
30 min"), even after it is done.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from bot.config import Duration, PositiveDuration

__all__ = [
    "Choice",
    "Event",
    "Playbook",
    "PlaybookError",
    "Run",
    "Step",
    "StepState",
    "choose",
    "complete",
    "finish",
    "planned_reminders",
    "remind",
    "skip",
    "start",
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
    repeat: PositiveDuration | None = None  # remind every … until the run ends
    message: Annotated[str, Field(min_length=1, max_length=2900)] | None = None  # a template to post
    decision: tuple[Choice, ...] = ()
    never: tuple[Text, ...] = ()  # shown beside the step
    next: Slug | None = None  # the step after this one, when not the next in the file
    end: bool = False  # the run finishes after this step

    @model_validator(mode="after")
    def _decision_or_next(self) -> Self:
        if self.decision and (self.next or self.end):
            raise ValueError("a decision step leads on through its choices: drop `next`/`end`")
        if len(self.decision) == 1 or len(self.decision) > 5:
            raise ValueError("a decision needs 2 to 5 choices")
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
        """The step that follows `step` when it is done (None: the run is over)."""
        if step.end:
            return None
        if step.next:
            return self.step(step.next)
        index = self.steps.index(step)
        return self.steps[index + 1] if index + 1 < len(self.steps) else None


# --------------------------------------------------------------------------------------------
# A run
# --------------------------------------------------------------------------------------------


class PlaybookError(ValueError):
    """What was asked does not fit the run's state; the message says why."""


@dataclass(frozen=True)
class Event:
    at: datetime
    by: str
    what: str  # started | done | skipped | chose | reminded | finished
    step: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class StepState:
    id: str
    status: str = "waiting"  # waiting | current | done | skipped
    since: datetime | None = None  # became current
    due_at: datetime | None = None
    reminded_at: datetime | None = None  # the last reminder (due or repeating)


@dataclass(frozen=True)
class Run:
    playbook: str
    started_at: datetime
    steps: tuple[StepState, ...]
    timeline: tuple[Event, ...] = ()
    finished_at: datetime | None = None
    current: str | None = None

    def state(self, step_id: str) -> StepState:
        return next(state for state in self.steps if state.id == step_id)

    @property
    def running(self) -> bool:
        return self.finished_at is None


def start(playbook: Playbook, *, by: str, now: datetime) -> Run:
    run = Run(
        playbook=playbook.name,
        started_at=now,
        steps=tuple(StepState(step.id) for step in playbook.steps),
        timeline=(Event(now, by, "started"),),
    )
    return _enter(run, playbook.steps[0], now=now)


def complete(playbook: Playbook, run: Run, step_id: str, *, by: str, now: datetime) -> Run:
    step = _current(playbook, run, step_id, doing="mark done")
    if step.decision:
        options = " or ".join(f"'{choice.label}'" for choice in step.decision)
        raise PlaybookError(f"'{step.title}' is a decision: choose {options}")
    run = _update(run, step_id, status="done", event=Event(now, by, "done", step_id))
    return _advance(playbook, run, playbook.after(step), by=by, now=now)


def skip(playbook: Playbook, run: Run, step_id: str, *, by: str, now: datetime) -> Run:
    step = _current(playbook, run, step_id, doing="skip")
    if step.decision:
        raise PlaybookError(f"'{step.title}' is a decision: it cannot be skipped, only decided")
    run = _update(run, step_id, status="skipped", event=Event(now, by, "skipped", step_id))
    return _advance(playbook, run, playbook.after(step), by=by, now=now)


def choose(playbook: Playbook, run: Run, step_id: str, label: str, *, by: str, now: datetime) -> Run:
    step = _current(playbook, run, step_id, doing="decide")
    choice = next((c for c in step.decision if c.label == label), None)
    if choice is None:
        options = ", ".join(f"'{c.label}'" for c in step.decision) or "none: it is no decision"
        raise PlaybookError(f"'{label}' is not an option of '{step.title}' (options: {options})")
    run = _update(run, step_id, status="done", event=Event(now, by, "chose", step_id, choice.label))
    return _advance(playbook, run, playbook.step(choice.goto), by=by, now=now)


def finish(playbook: Playbook, run: Run, *, by: str, now: datetime) -> Run:
    """End the run early (or again: a finished run stays as it was)."""
    if not run.running:
        raise PlaybookError(f"this {playbook.title} run finished already")
    return _advance(playbook, run, None, by=by, now=now)


def planned_reminders(playbook: Playbook, run: Run) -> dict[str, datetime]:
    """The reminders the run needs now (name -> when): the current step's, once, when it is due;
    and every repeating step reached so far, every `repeat` after its last reminder. None once
    the run has finished."""
    if not run.running:
        return {}
    planned: dict[str, datetime] = {}
    for state in run.steps:
        step = playbook.step(state.id)
        if state.status == "current" and state.due_at is not None and state.reminded_at is None and step.due:
            planned[f"step:{state.id}:due"] = state.due_at
        if step.repeat is not None and state.since is not None:
            last = state.reminded_at or state.since
            planned[f"step:{state.id}:repeat"] = last + step.repeat
    return planned


def remind(playbook: Playbook, run: Run, name: str, *, now: datetime) -> tuple[Run, Step | None]:
    """A reminder came due: record it; returns the step to remind its owner of (None when it no
    longer applies: the step was done meanwhile, or the run is over)."""
    if name not in planned_reminders(playbook, run):
        return run, None
    step_id = name.split(":")[1]
    run = _update(run, step_id, reminded_at=now, event=Event(now, "frontline", "reminded", step_id))
    return run, playbook.step(step_id)


# --------------------------------------------------------------------------------------------


def _current(playbook: Playbook, run: Run, step_id: str, *, doing: str) -> Step:
    if not run.running:
        raise PlaybookError(f"this {playbook.title} run has finished; nothing left to {doing}")
    if step_id not in {step.id for step in playbook.steps}:
        raise PlaybookError(f"'{step_id}' is no step of {playbook.title}")
    if run.current != step_id:
        state = run.state(step_id).status
        now_at = f"; the current step is '{playbook.step(run.current).title}'" if run.current else ""
        raise PlaybookError(f"'{playbook.step(step_id).title}' is {state}, not the current step{now_at}")
    return playbook.step(step_id)


def _advance(playbook: Playbook, run: Run, following: Step | None, *, by: str, now: datetime) -> Run:
    if following is None:
        return dataclasses.replace(
            run, current=None, finished_at=now, timeline=(*run.timeline, Event(now, by, "finished"))
        )
    return _enter(run, following, now=now)


def _enter(run: Run, step: Step, *, now: datetime) -> Run:
    """`step` becomes current; due `step.due` after the run's start or after now (the previous
    step was done now)."""
    anchor = run.started_at if step.due_from == "start" else now
    due = anchor + step.due
    steps = tuple(
        dataclasses.replace(state, status="current", since=now, due_at=due, reminded_at=None)
        if state.id == step.id
        else state
        for state in run.steps
    )
    return dataclasses.replace(run, steps=steps, current=step.id)


def _update(
    run: Run, step_id: str, *, event: Event, status: str | None = None, reminded_at: datetime | None = None
) -> Run:
    def changed(state: StepState) -> StepState:
        if state.id != step_id:
            return state
        return dataclasses.replace(state, status=status or state.status, reminded_at=reminded_at or state.reminded_at)

    finished_step = status in {"done", "skipped"} and run.current == step_id
    return dataclasses.replace(
        run,
        steps=tuple(changed(state) for state in run.steps),
        current=None if finished_step else run.current,
        timeline=(*run.timeline, event),
    )
