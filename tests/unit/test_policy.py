"""Roles that name user groups: membership checks and the people a refusal names."""

from __future__ import annotations

from bot.config import parse_config
from bot.core.permissions import Role
from bot.services.policy import GroupMembers, Policy


def _policy() -> Policy:
    config = parse_config({"roles": {"agents": ["U_A", "S_SUP"], "l2": ["S_SUP"], "leads": ["U_L", "S_LEADS"]}})
    return Policy.from_config(config)


def test_a_group_member_has_the_roles_of_the_group() -> None:
    policy = _policy()
    policy.groups.replace("S_SUP", ["U_B", "U_C"])
    assert policy.roles_of("U_B") == {Role.AGENT, Role.L2}
    assert policy.roles_of("U_A") == {Role.AGENT}
    assert policy.roles_of("S_SUP") == set()  # a group ID is not a person
    assert policy.roles_of("U_NOBODY") == set()
    assert policy.group_ids == ["S_SUP", "S_LEADS"]


def test_workers_and_supervisors_are_people_in_order_without_repeats() -> None:
    policy = _policy()
    policy.groups.replace("S_SUP", ["U_C", "U_A"])
    assert policy.workers == ["U_A", "U_C", "U_L"]  # S_LEADS has no members yet
    assert policy.supervisors == ["U_L"]


def test_changes_are_set_deltas_so_a_repeat_changes_nothing() -> None:
    groups = GroupMembers({"S_SUP": ["U_A", "U_B"]})
    for _ in range(2):
        groups.change("S_SUP", added=["U_C"], removed=["U_A", "U_NOT_THERE"])
    assert groups.of("S_SUP") == {"U_B", "U_C"}
    groups.change("S_NEW", added=["U_D"])
    assert groups.of("S_NEW") == {"U_D"}
    assert groups.expand(["S_SUP", "U_B", "S_UNKNOWN"]) == ["U_B", "U_C"]
