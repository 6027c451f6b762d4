"""Roles that name Slack user groups (S…): members read at start-up, kept current by the
`subteam_members_changed` event and the periodic refresh, and refusals that list people."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config
from bot.sandbox import Sandbox
from bot.services.policy import Policy
from bot.slack.client import make_web_client
from bot.slack.standin import SlackStandIn
from bot.slack.usergroups import load_group_members, refresh_group_members

CONFIG = {"channels": {"triage": "C_TRIAGE"}, "roles": {"agents": ["S_SUPPORT"], "leads": ["U_LEAD"]}}


def _command(sandbox: Sandbox, text: str, user: str) -> str:
    response = sandbox.simulator.slash_command("/ticket", text, user_id=user, channel_id="C_TRIAGE")
    assert response.status == 200
    return str(response.json()["text"])


def _members_changed(sandbox: Sandbox, event_id: str, *, added: list[str], removed: list[str]) -> None:
    event = {
        "type": "subteam_members_changed", "subteam_id": "S_SUPPORT", "team_id": "T_FRONTLINE",
        "date_previous_update": 1796655600, "date_update": 1796655660,
        "added_users": added, "added_users_count": str(len(added)),
        "removed_users": removed, "removed_users_count": str(len(removed)),
    }  # fmt: skip
    assert sandbox.simulator.event(event, event_id=event_id).status == 200


def test_group_members_work_tickets_and_others_are_refused_by_name(database_url: str) -> None:
    with Sandbox(database_url=database_url, config=parse_config(CONFIG)) as sandbox:
        assert "Created *T-1*" in _command(sandbox, "Export button is broken", "U_REQUESTER")
        refused = _command(sandbox, "take T-1", "U_ENG")
        # Who may is said with people, never with a group mention (which would ping the whole group).
        assert refused == (
            ":warning: Only agents work tickets, so you cannot change T-1. Agents: <@U_AGENT1>, <@U_AGENT2>, <@U_LEAD>."
        )
        assert "subteam" not in refused
        assert _command(sandbox, "take T-1", "U_AGENT1") == "T-1: <@U_AGENT1> took it"


def test_membership_changes_apply_at_once_and_a_retried_event_changes_nothing(database_url: str) -> None:
    with Sandbox(database_url=database_url, config=parse_config(CONFIG)) as sandbox:
        _command(sandbox, "Export button is broken", "U_REQUESTER")
        _members_changed(sandbox, "Ev_G1", added=["U_ENG"], removed=["U_AGENT2"])
        _members_changed(sandbox, "Ev_G1", added=["U_ENG"], removed=["U_AGENT2"])  # Slack's retry
        assert sandbox.deps.policy.groups.of("S_SUPPORT") == {"U_AGENT1", "U_ENG"}
        assert _command(sandbox, "take T-1", "U_ENG") == "T-1: <@U_ENG> took it"
        assert _command(sandbox, "status T-1 pending", "U_AGENT2").startswith(":warning: Only agents work tickets")
        # A group no role names is none of our business.
        event = {"type": "subteam_members_changed", "subteam_id": "S_OTHER", "added_users": ["U_REQUESTER"]}
        assert sandbox.simulator.event(event).status == 200
        assert sandbox.deps.policy.groups.of("S_OTHER") == frozenset()


def test_the_periodic_refresh_reads_slack_and_keeps_the_last_members_when_slack_fails() -> None:
    with SlackStandIn() as standin:
        client = make_web_client(standin.bot_token, standin.api_url)
        policy = Policy.from_config(parse_config(CONFIG))
        load_group_members(client, policy)
        assert policy.workers == ["U_AGENT1", "U_AGENT2", "U_LEAD"]
        standin.set_usergroup("S_SUPPORT", ["U_AGENT2"])
        refresh_group_members(client, policy)
        assert policy.is_agent("U_AGENT2") and not policy.is_agent("U_AGENT1")
        standin.set_usergroup("S_SUPPORT", [])
        standin.fail_next("usergroups.users.list", "fatal_error")
        refresh_group_members(client, policy)
        assert policy.groups.of("S_SUPPORT") == {"U_AGENT2"}


def test_a_group_slack_does_not_know_stops_start_up_naming_every_key(database_url: str) -> None:
    config = parse_config({"roles": {"agents": ["U_AGENT1", "S_NOPE"], "leads": ["S_NOPE"]}})
    with pytest.raises(ConfigError) as caught, Sandbox(database_url=database_url, config=config):
        pass
    assert caught.value.problems == ["roles.agents[1], roles.leads[0]: no user group S_NOPE in this workspace"]


def test_a_missing_scope_says_which_scope_to_add() -> None:
    with SlackStandIn() as standin:
        client = make_web_client(standin.bot_token, standin.api_url)
        policy = Policy.from_config(parse_config(CONFIG))
        standin.fail_next("usergroups.users.list", "missing_scope")
        with pytest.raises(ConfigError) as caught:
            load_group_members(client, policy)
    assert caught.value.problems == [
        "roles.agents[0]: reading user group members needs the usergroups:read scope "
        "(reinstall the app from `frontline manifest`)"
    ]
