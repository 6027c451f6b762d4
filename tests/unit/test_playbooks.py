"""Playbooks: the shipped files, what a file may say (every problem with its path and key), and
the pure state machine of a run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.core.playbooks import PlaybookError, choose, complete, finish, planned_reminders, remind, skip, start
from playbooks import load_playbooks

T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
SHIPPED = load_playbooks()


def test_the_shipped_playbooks_are_seed_001s_five() -> None:
    assert sorted(SHIPPED) == ["angry-customer", "churn-threat", "incident", "refund", "social-crisis"]
    incident = SHIPPED["incident"]
    assert [s.id for s in incident.steps][:2] == ["activate", "status-page"]
    assert incident.step("status-page").due == timedelta(minutes=15)
    assert incident.step("status-updates").repeat == timedelta(minutes=30)
    social = SHIPPED["social-crisis"]
    assert social.step("acknowledge-publicly").due == timedelta(minutes=30)
    assert "Argue publicly" in social.step("monitor").never


BAD_FILES = {
    "unknown-key.yaml": ("name: unknown-key\ntitle: T\ndescription: D\nroles: [agent]\n"
                         "steps: [{id: a, title: A, instructions: I, owner: agent, colour: red}]\n",
                         "steps[0].colour: unknown key"),
    "bad-owner.yaml": ("name: bad-owner\ntitle: T\ndescription: D\nroles: [agent]\n"
                       "steps: [{id: a, title: A, instructions: I, owner: lead}]\n",
                       "step a: owner 'lead' is not one of roles (agent)"),
    "dangling.yaml": ("name: dangling\ntitle: T\ndescription: D\nroles: [agent]\nsteps:\n"
                      "  - {id: a, title: A, instructions: I, owner: agent,\n"
                      "     decision: [{label: X, goto: b}, {label: Y, goto: zz}]}\n"
                      "  - {id: b, title: B, instructions: I, owner: agent}\n",
                      "step a: leads to 'zz', which is no step here"),
    "bad-duration.yaml": ("name: bad-duration\ntitle: T\ndescription: D\nroles: [agent]\n"
                          "steps: [{id: a, title: A, instructions: I, owner: agent, repeat: often}]\n",
                          "steps[0].repeat: invalid duration 'often'"),
    "renamed.yaml": ("name: other\ntitle: T\ndescription: D\nroles: [agent]\n"
                     "steps: [{id: a, title: A, instructions: I, owner: agent}]\n",
                     "name: must be the file's name without .yaml ('renamed', got 'other')"),
    "broken.yaml": ("name: [unclosed\n", "invalid YAML at line 2"),
}  # fmt: skip


def test_every_problem_of_every_file_is_reported_with_its_path_and_key(tmp_path: Path) -> None:
    for name, (text, _) in BAD_FILES.items():
        (tmp_path / name).write_text(text)
    fine = "name: fine\ntitle: T\ndescription: D\nroles: [agent]\n"
    (tmp_path / "fine.yaml").write_text(fine + "steps: [{id: a, title: A, instructions: I, owner: agent}]\n")
    with pytest.raises(ConfigError) as raised:
        load_playbooks(tmp_path)
    problems = raised.value.problems
    for name, (_, expected) in BAD_FILES.items():
        assert any(line.startswith(str(tmp_path / name)) and expected in line for line in problems), (name, problems)
    assert not any("fine.yaml" in line for line in problems)


def test_a_run_walks_the_steps_in_order_and_records_who_did_what() -> None:
    incident = SHIPPED["incident"]
    run = start(incident, by="U1", now=T0)
    assert run.current == "activate" and run.state("activate").due_at == T0 + timedelta(minutes=5)
    run = complete(incident, run, "activate", by="U1", now=T0 + timedelta(minutes=3))
    assert run.current == "status-page"
    assert run.state("status-page").due_at == T0 + timedelta(minutes=15)  # from the run's start
    run = skip(incident, run, "status-page", by="U2", now=T0 + timedelta(minutes=4))
    assert run.current == "acknowledgement"
    assert run.state("acknowledgement").due_at == T0 + timedelta(minutes=14)  # from the previous step
    assert [(e.what, e.step, e.by) for e in run.timeline] == [
        ("started", None, "U1"), ("done", "activate", "U1"), ("skipped", "status-page", "U2"),
    ]  # fmt: skip


def test_a_step_that_is_not_current_cannot_be_done_and_a_finished_run_takes_nothing() -> None:
    incident = SHIPPED["incident"]
    run = start(incident, by="U1", now=T0)
    with pytest.raises(PlaybookError, match="'Post a status page update' is waiting, not the current step"):
        complete(incident, run, "status-page", by="U1", now=T0)
    with pytest.raises(PlaybookError, match="'nope' is no step"):
        complete(incident, run, "nope", by="U1", now=T0)
    run = finish(incident, run, by="U1", now=T0 + timedelta(hours=1))
    assert not run.running and run.current is None
    with pytest.raises(PlaybookError, match="has finished"):
        complete(incident, run, "activate", by="U1", now=T0)
    with pytest.raises(PlaybookError, match="finished already"):
        finish(incident, run, by="U1", now=T0)
    assert planned_reminders(incident, run) == {}


def test_decisions_branch_and_cannot_be_marked_done() -> None:
    refund = SHIPPED["refund"]
    run = start(refund, by="U1", now=T0)
    with pytest.raises(PlaybookError, match="is a decision: choose 'Yes' or 'No'"):
        complete(refund, run, "window", by="U1", now=T0)
    with pytest.raises(PlaybookError, match="'Perhaps' is not an option"):
        choose(refund, run, "window", "Perhaps", by="U1", now=T0)
    run = choose(refund, run, "window", "No", by="U1", now=T0)
    run = choose(refund, run, "reason", "Yes", by="U1", now=T0)
    assert run.current == "refund-and-investigate"
    run = complete(refund, run, "refund-and-investigate", by="U1", now=T0)
    assert run.current == "amount"  # `next:` jumps over the tenure branch
    run = choose(refund, run, "amount", "No: my decision", by="U1", now=T0)
    run = complete(refund, run, "agent-discretion", by="U1", now=T0)
    assert not run.running  # `end: true`
    assert [e.detail for e in run.timeline if e.what == "chose"] == ["No", "Yes", "No: my decision"]


def test_reminders_fire_once_when_due_and_repeating_steps_until_the_run_ends() -> None:
    incident = SHIPPED["incident"]
    run = start(incident, by="U1", now=T0)
    assert planned_reminders(incident, run) == {"step:activate:due": T0 + timedelta(minutes=5)}
    run, step = remind(incident, run, "step:activate:due", now=T0 + timedelta(minutes=5))
    assert step is not None and step.id == "activate"
    assert planned_reminders(incident, run) == {}  # once
    assert remind(incident, run, "step:activate:due", now=T0 + timedelta(minutes=6)) == (run, None)
    for step_id in ("activate", "status-page", "acknowledgement", "respond-to-tickets"):
        run = complete(incident, run, step_id, by="U1", now=T0 + timedelta(minutes=20))
    assert run.current == "status-updates"
    run = complete(incident, run, "status-updates", by="U2", now=T0 + timedelta(minutes=25))
    # Done, and still reminding every 30 minutes while the incident runs.
    planned = planned_reminders(incident, run)
    assert planned["step:status-updates:repeat"] == T0 + timedelta(minutes=50)
    run, step = remind(incident, run, "step:status-updates:repeat", now=T0 + timedelta(minutes=50))
    assert step is not None
    assert planned_reminders(incident, run)["step:status-updates:repeat"] == T0 + timedelta(minutes=80)
    run = finish(incident, run, by="U1", now=T0 + timedelta(hours=2))
    assert planned_reminders(incident, run) == {}
    assert remind(incident, run, "step:status-updates:repeat", now=T0 + timedelta(hours=3))[1] is None
