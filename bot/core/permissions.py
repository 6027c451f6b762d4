"""Who may do what to a ticket (SPEC §4): anyone opens one; agents and every tier above work them;
changing the owner or priority of a ticket someone else owns is for leads and admins. A refusal
says who may. Reading: the support team reads every ticket; anyone else reads the tickets they
asked for or opened (a ticket holds a customer's words, names and numbers)."""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

__all__ = ["PermissionDeniedError", "Role", "check_may_change_others", "check_may_read", "check_may_work", "may_read"]


class Role(StrEnum):
    AGENT = "agent"
    L2 = "l2"
    L3 = "l3"
    LEAD = "lead"
    ADMIN = "admin"


_SUPERVISORS = frozenset({Role.LEAD, Role.ADMIN})


class PermissionDeniedError(PermissionError):
    """The actor may not do this; the message names who may."""


def _mentions(users: Collection[str]) -> str:
    return ", ".join(f"<@{user}>" for user in users) or "nobody is configured (roles in frontline.yaml)"


def check_may_work(roles: Collection[Role], *, what: str, workers: Collection[str]) -> None:
    if not roles:
        raise PermissionDeniedError(f"Only agents work tickets, so you cannot {what}. Agents: {_mentions(workers)}.")


def check_may_change_others(
    actor: str, roles: Collection[Role], *, owner: str | None, what: str, supervisors: Collection[str]
) -> None:
    """Taking over, reassigning or re-prioritising a ticket that someone else owns needs a lead."""
    if owner is None or owner == actor or _SUPERVISORS & set(roles):
        return
    raise PermissionDeniedError(
        f"<@{owner}> owns this ticket; only leads or admins may {what} it. Leads and admins: {_mentions(supervisors)}."
    )


def may_read(actor: str, roles: Collection[Role], *, requester: str | None, opened_by: str | None) -> bool:
    return bool(roles) or actor in {requester, opened_by}


def check_may_read(
    actor: str, roles: Collection[Role], *, ref: str, requester: str | None, opened_by: str | None,
    workers: Collection[str],
) -> None:  # fmt: skip
    if not may_read(actor, roles, requester=requester, opened_by=opened_by):
        raise PermissionDeniedError(
            f"{ref} is someone else's request: you can see the tickets you asked for; the support team"
            f" sees them all. Agents: {_mentions(workers)}."
        )
