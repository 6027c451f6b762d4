"""User groups (S…) named in `roles`: their members, read from Slack.

Read once at start-up (a group Slack does not know stops start-up with one line naming the key),
then every `REFRESH_SECONDS` by each process, and changed at once by the `subteam_members_changed`
event in the process that receives it. A refresh that fails keeps the last members it read.
"""

from __future__ import annotations

import structlog
from apscheduler.schedulers.base import BaseScheduler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import ConfigError, FrontlineConfig
from bot.services.policy import Policy

__all__ = ["REFRESH_SECONDS", "load_group_members", "refresh_group_members", "schedule_refresh"]

log = structlog.get_logger(__name__)

REFRESH_SECONDS = 300


def _members(client: WebClient, group: str) -> list[str]:
    users: list[str] = client.usergroups_users_list(usergroup=group).get("users", [])
    return [str(user) for user in users]


def _paths(config: FrontlineConfig, group: str) -> list[str]:
    roles = config.roles
    lists = {"agents": roles.agents, "l2": roles.l2, "l3": roles.l3, "leads": roles.leads, "admins": roles.admins}
    return [f"roles.{name}[{index}]" for name, refs in lists.items() for index, ref in enumerate(refs) if ref == group]


def load_group_members(client: WebClient, policy: Policy) -> None:
    """Read the members of every group the roles name; ConfigError for a group Slack cannot read."""
    problems: list[str] = []
    for group in policy.group_ids:
        try:
            policy.groups.replace(group, _members(client, group))
        except SlackApiError as error:
            code = error.response.get("error", "unknown")
            where = ", ".join(_paths(policy.config, group))
            if code == "no_such_subteam":
                problems.append(f"{where}: no user group {group} in this workspace")
            elif code == "missing_scope":
                problems.append(
                    f"{where}: reading user group members needs the usergroups:read scope "
                    "(reinstall the app from `frontline manifest`)"
                )
            else:
                raise
    if problems:
        raise ConfigError(problems)


def refresh_group_members(client: WebClient, policy: Policy) -> None:
    for group in policy.group_ids:
        try:
            policy.groups.replace(group, _members(client, group))
        except SlackApiError as error:  # Slack said no: its error code, not the whole response
            log.warning("usergroup_refresh_failed", group=group, slack_error=error.response.get("error"))
        except Exception as error:  # Slack unreachable for a moment: keep what we knew
            log.warning("usergroup_refresh_failed", group=group, error=str(error))


def schedule_refresh(scheduler: BaseScheduler, client: WebClient, policy: Policy) -> None:
    """Add the periodic refresh to `scheduler` when some role names a group."""
    if policy.group_ids:
        scheduler.add_job(
            refresh_group_members,
            "interval",
            args=(client, policy),
            seconds=REFRESH_SECONDS,
            id="refresh_usergroups",
            max_instances=1,
            coalesce=True,
        )
