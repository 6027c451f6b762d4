"""The configured rules turned into core objects once per process (calendars, priority rules, SLA)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.config import Customer, FrontlineConfig
from bot.core.calendar import AlwaysOpen, BusinessCalendar, Calendar, format_closing_time
from bot.core.permissions import Role
from bot.core.playbooks import Playbook
from bot.core.priority import PriorityRules
from playbooks import load_playbooks

__all__ = ["GroupMembers", "Policy", "SlaTarget", "is_group"]


def is_group(ref: str) -> bool:
    """A user group ID (S…) rather than a user ID (U…/W…)."""
    return ref.startswith("S")


class GroupMembers:
    """Who is in each user group that `roles` names, as last read from Slack. Replaced whole on
    each refresh, so a reader never sees half an update."""

    def __init__(self, members: Mapping[str, Iterable[str]] | None = None) -> None:
        self._members: dict[str, frozenset[str]] = {group: frozenset(users) for group, users in (members or {}).items()}
        self._lock = threading.Lock()

    def of(self, group: str) -> frozenset[str]:
        return self._members.get(group, frozenset())

    def replace(self, group: str, users: Iterable[str]) -> None:
        with self._lock:
            self._members = {**self._members, group: frozenset(users)}

    def change(self, group: str, *, added: Iterable[str] = (), removed: Iterable[str] = ()) -> None:
        """Apply a membership change Slack reported (`subteam_members_changed`)."""
        with self._lock:
            current = self._members.get(group, frozenset())
            self._members = {**self._members, group: (current | frozenset(added)) - frozenset(removed)}

    def expand(self, refs: Iterable[str]) -> list[str]:
        """User IDs, with each group replaced by its members; first mention first, no repeats."""
        members = self._members
        users = (user for ref in refs for user in (sorted(members.get(ref, ())) if is_group(ref) else (ref,)))
        return list(dict.fromkeys(users))


@dataclass(frozen=True)
class SlaTarget:
    first_response: timedelta
    resolution: timedelta
    calendar: Calendar


@dataclass(frozen=True)
class Policy:
    config: FrontlineConfig
    priority_rules: PriorityRules
    business_calendar: BusinessCalendar
    groups: GroupMembers = field(default_factory=GroupMembers)
    playbooks: Mapping[str, Playbook] = field(default_factory=load_playbooks)  # by name

    @classmethod
    def from_config(cls, config: FrontlineConfig, playbooks: Mapping[str, Playbook] | None = None) -> Policy:
        hours = config.business_hours
        calendar = BusinessCalendar.from_spec(
            timezone=hours.timezone,
            days=hours.days,
            start=hours.start.strftime("%H:%M"),
            end=format_closing_time(hours.end),
            holiday_country=hours.holidays.country,
            holiday_subdiv=hours.holidays.subdiv,
            extra_holidays=hours.holidays.extra,
        )
        return cls(
            config=config,
            priority_rules=_priority_rules(config),
            business_calendar=calendar,
            playbooks=load_playbooks() if playbooks is None else playbooks,
        )

    @property
    def triage_channel(self) -> str | None:
        return self.config.channels.triage

    @property
    def customer_names(self) -> list[str]:
        return sorted(customer.name for customer in self.config.customers.values())

    def customer(self, name: str) -> Customer | None:
        return self.config.customer(name)

    def roles_of(self, user_id: str) -> set[Role]:
        roles = self.config.roles
        refs = {
            Role.AGENT: roles.agents, Role.L2: roles.l2, Role.L3: roles.l3, Role.LEAD: roles.leads,
            Role.ADMIN: roles.admins,
        }  # fmt: skip
        return {role for role, listed in refs.items() if self._names(listed, user_id)}

    def _names(self, refs: Iterable[str], user_id: str) -> bool:
        return any(user_id in self.groups.of(ref) if is_group(ref) else ref == user_id for ref in refs)

    @property
    def group_ids(self) -> list[str]:
        """Every user group that some role names."""
        roles = self.config.roles
        refs = [*roles.agents, *roles.l2, *roles.l3, *roles.leads, *roles.admins]
        return list(dict.fromkeys(ref for ref in refs if is_group(ref)))

    def is_agent(self, user_id: str) -> bool:
        """Anyone who works tickets: agents, L2, L3, leads and admins."""
        return bool(self.roles_of(user_id))

    @property
    def workers(self) -> list[str]:
        """Everyone who works tickets, as user IDs (groups expanded)."""
        roles = self.config.roles
        return self.groups.expand([*roles.agents, *roles.l2, *roles.l3, *roles.leads, *roles.admins])

    @property
    def supervisors(self) -> list[str]:
        """Leads and admins, as user IDs (groups expanded)."""
        return self.groups.expand([*self.config.roles.leads, *self.config.roles.admins])

    @property
    def leads(self) -> list[str]:
        """Leads, as user IDs (groups expanded): who hears of every breach."""
        return self.groups.expand(self.config.roles.leads)

    def tier_members(self, tier: str) -> list[str]:
        """Who works escalations at `tier` (user IDs): L2/L3 from roles; management is the leads and
        admins. L1 is every agent."""
        roles = self.config.roles
        refs = {"L1": roles.agents, "L2": roles.l2, "L3": roles.l3, "management": (*roles.leads, *roles.admins)}
        return self.groups.expand(refs.get(tier, ()))

    def may_handle(self, tier: str, user_id: str) -> bool:
        """Acknowledge or take an escalation at `tier`: its members, leads and admins."""
        return user_id in self.tier_members(tier) or user_id in self.supervisors

    def is_supervisor(self, user_id: str) -> bool:
        return bool({Role.LEAD, Role.ADMIN} & self.roles_of(user_id))

    def escalation_channel(self, tier: str) -> str | None:
        """Where `tier`'s handoff cards go; the triage channel when the tier has none."""
        channels = self.config.channels.escalation
        configured = {"L2": channels.L2, "L3": channels.L3, "management": channels.management}.get(tier)
        return configured or self.triage_channel

    @property
    def reopen_window(self) -> timedelta:
        return self.config.lifecycle.reopen_window

    @property
    def intake_channels(self) -> frozenset[str]:
        return frozenset(self.config.channels.intake)

    def sla_target(self, priority: str) -> SlaTarget:
        target = getattr(self.config.sla, priority)
        calendar: Calendar = AlwaysOpen() if target.calendar == "24x7" else self.business_calendar
        return SlaTarget(target.first_response, target.resolution, calendar)


def _priority_rules(config: FrontlineConfig) -> PriorityRules:
    rules = config.auto_priority
    tiers = {str(tier): "P1" for tier in rules.P1.tiers} | {str(tier): "P0" for tier in rules.P0.tiers}
    return PriorityRules(
        keywords={"P0": rules.P0.keywords, "P1": rules.P1.keywords, "P3": rules.P3.keywords},
        tiers=tiers,
        affected_users_threshold=rules.P0.affected_users_over,
        revenue_impact="P1" if rules.P1.revenue_impact else None,
        categories={category: "P3" for category in rules.P3.categories},
        default=rules.default_priority,
        sentiment_boost=rules.sentiment_boost,
    )
