"""Playbooks: the shipped files, what a file may say (every problem with its path and key), and
the pure state machine of a run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.core.permissions import PermissionDeniedError
from bot.core.playbooks import (
    Event,
    Playbook,
    PlaybookError,
    assign,
    check_may_act,
    choose,
    complete,
    finish,
    move,
    planned_reminders,
    remind,
    responsible,
    run_from_json,
    run_to_json,
    skip,
    start,
    update,
)
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
    # The activate step is due in 5 minutes; the status page every 30 minutes from the start,
    # whichever step the run is on.
    assert planned_reminders(incident, run) == {
        "step:activate:due": T0 + timedelta(minutes=5),
        "step:status-updates:repeat": T0 + timedelta(minutes=30),
    }
    assert remind(incident, run, "step:activate:due", now=T0 + timedelta(minutes=4)) == (run, None)  # not yet
    run, step = remind(incident, run, "step:activate:due", now=T0 + timedelta(minutes=5))
    assert step is not None and step.id == "activate"
    assert "step:activate:due" not in planned_reminders(incident, run)  # once
    assert remind(incident, run, "step:activate:due", now=T0 + timedelta(minutes=6)) == (run, None)
    run, step = remind(incident, run, "step:status-updates:repeat", now=T0 + timedelta(minutes=31))
    assert step is not None and planned_reminders(incident, run)["step:status-updates:repeat"] == T0 + timedelta(
        minutes=61
    )
    for step_id in ("activate", "status-page", "acknowledgement", "respond-to-tickets", "status-updates"):
        run = complete(incident, run, step_id, by="U1", now=T0 + timedelta(minutes=40))
    # Done, and still reminding every 30 minutes while the incident runs.
    assert planned_reminders(incident, run)["step:status-updates:repeat"] == T0 + timedelta(minutes=61)
    run = finish(incident, run, by="U1", now=T0 + timedelta(hours=2))
    assert planned_reminders(incident, run) == {}
    assert remind(incident, run, "step:status-updates:repeat", now=T0 + timedelta(hours=3))[1] is None


def test_an_update_does_the_recurring_work_and_resets_its_reminder() -> None:
    incident = SHIPPED["incident"]
    run = start(incident, by="U1", now=T0)
    run = update(incident, run, "Failing over", by="U2", now=T0 + timedelta(minutes=20))
    assert planned_reminders(incident, run)["step:status-updates:repeat"] == T0 + timedelta(minutes=50)
    assert run.timeline[-1] == Event(T0 + timedelta(minutes=20), "U2", "update", None, "Failing over")
    run = finish(incident, run, by="U1", now=T0 + timedelta(minutes=30))
    with pytest.raises(PlaybookError, match="finished"):
        update(incident, run, "late", by="U2", now=T0 + timedelta(minutes=31))


def test_a_step_done_early_is_not_reminded_and_a_moved_due_time_moves_its_reminder() -> None:
    """Field case F10, variant: a "1 day before" reminder of a step completed early is never sent;
    when the step's date moves, the reminder moves with it."""
    playbook = Playbook.model_validate(
        {
            "name": "renewal", "title": "Renewal", "description": "D", "roles": ["csm"],
            "steps": [
                {"id": "call", "title": "C", "instructions": "I", "owner": "csm", "due": "7d", "remind_before": "1d"},
                {"id": "send", "title": "Send", "instructions": "I", "owner": "csm", "due": "1d"},
            ],
        }
    )  # fmt: skip
    run = start(playbook, by="U1", now=T0)
    assert planned_reminders(playbook, run) == {"step:call:due": T0 + timedelta(days=6)}
    moved = move(playbook, run, "call", T0 + timedelta(days=10), by="U1", now=T0 + timedelta(hours=1))
    assert planned_reminders(playbook, moved) == {"step:call:due": T0 + timedelta(days=9)}
    assert remind(playbook, moved, "step:call:due", now=T0 + timedelta(days=6))[1] is None  # the old time
    early = complete(playbook, run, "call", by="U1", now=T0 + timedelta(days=2))
    assert "step:call:due" not in planned_reminders(playbook, early)
    assert remind(playbook, early, "step:call:due", now=T0 + timedelta(days=6))[1] is None


def test_roles_gate_the_steps_and_the_lead_covers_unfilled_roles() -> None:
    incident = SHIPPED["incident"]
    run = start(incident, by="U_LEAD", now=T0, roles={"commander": "U_CMD"})
    assert responsible(incident, run, "comms") == "U_CMD"  # nobody holds comms: the commander does
    run = assign(incident, run, "comms", "U_COMMS", by="U_CMD", now=T0)
    assert responsible(incident, run, "comms") == "U_COMMS"
    run = complete(incident, run, "activate", by="U_CMD", now=T0)
    with pytest.raises(PermissionDeniedError, match=r"for the comms \(<@U_COMMS>\)"):
        check_may_act(incident, run, "status-page", "U_OTHER", supervisor=False)
    check_may_act(incident, run, "status-page", "U_COMMS", supervisor=False)
    check_may_act(incident, run, "status-page", "U_OTHER", supervisor=True)  # leads and admins may
    with pytest.raises(PlaybookError, match="has no role 'pilot'"):
        assign(incident, run, "pilot", "U1", by="U_CMD", now=T0)
    with pytest.raises(PlaybookError, match="already comms"):
        assign(incident, run, "comms", "U_COMMS", by="U_CMD", now=T0)


def test_a_step_done_twice_names_who_did_it() -> None:
    incident = SHIPPED["incident"]
    run = complete(incident, start(incident, by="U1", now=T0), "activate", by="U2", now=T0)
    with pytest.raises(PlaybookError, match=r"'Activate incident response' was already done by <@U2>"):
        complete(incident, run, "activate", by="U3", now=T0)


def test_a_run_survives_its_stored_form_unchanged() -> None:
    refund = SHIPPED["refund"]
    run = start(refund, by="U1", now=T0, roles={"agent": "U1"})
    run = choose(refund, run, "window", "No", by="U1", now=T0 + timedelta(minutes=3))
    run, _ = remind(refund, run, "step:reason:due", now=T0 + timedelta(days=1))
    assert run_from_json(json.loads(json.dumps(run_to_json(run)))) == run


def test_a_playbook_directory_without_a_usable_incident_playbook_is_reported(tmp_path: Path) -> None:
    step = "steps: [{id: a, title: A, instructions: I, owner: agent}]\n"
    (tmp_path / "refund.yml").write_text("name: refund\ntitle: T\ndescription: D\nroles: [agent]\n" + step)
    with pytest.raises(ConfigError) as raised:
        load_playbooks(tmp_path)
    assert raised.value.problems == [
        f"{tmp_path}: no incident.yaml: `/incident start` runs a playbook named `incident`"
    ]
    (tmp_path / "incident.yaml").write_text("name: incident\ntitle: T\ndescription: D\nroles: [agent]\n" + step)
    with pytest.raises(ConfigError, match="roles: must include `commander`"):
        load_playbooks(tmp_path)
    (tmp_path / "incident.yaml").write_text(
        "name: incident\ntitle: T\ndescription: D\nroles: [commander]\n" + step.replace("agent", "commander")
    )
    assert sorted(load_playbooks(tmp_path)) == ["incident", "refund"]  # .yml files count too


def test_a_decision_with_two_buttons_of_one_label_is_refused() -> None:
    with pytest.raises(ValueError, match="needs its own label"):
        Playbook.model_validate(
            {
                "name": "x", "title": "T", "description": "D", "roles": ["a"],
                "steps": [
                    {"id": "s", "title": "S", "instructions": "I", "owner": "a",
                     "decision": [{"label": "Yes", "goto": "t"}, {"label": "Yes", "goto": "t"}]},
                    {"id": "t", "title": "T", "instructions": "I", "owner": "a"},
                ],
            }
        )  # fmt: skip


def test_a_step_reached_after_its_due_time_is_not_reminded_on_top_of_its_message() -> None:
    incident = SHIPPED["incident"]
    run = complete(incident, start(incident, by="U1", now=T0), "activate", by="U1", now=T0 + timedelta(minutes=20))
    assert run.current == "status-page" and run.state("status-page").due_at == T0 + timedelta(minutes=15)
    assert "step:status-page:due" not in planned_reminders(incident, run)
