"""The configured rules turned into core objects once per process (calendars, priority rules, SLA)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.config import Customer, FrontlineConfig
from bot.core.calendar import AlwaysOpen, BusinessCalendar, Calendar
from bot.core.permissions import Role
from bot.core.priority import PriorityRules

__all__ = ["Policy", "SlaTarget"]


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

    @classmethod
    def from_config(cls, config: FrontlineConfig) -> Policy:
        hours = config.business_hours
        calendar = BusinessCalendar.from_spec(
            timezone=hours.timezone,
            days=hours.days,
            start=hours.start.strftime("%H:%M"),
            end=hours.end.strftime("%H:%M"),
            holiday_country=hours.holidays.country,
            holiday_subdiv=hours.holidays.subdiv,
            extra_holidays=hours.holidays.extra,
        )
        return cls(config=config, priority_rules=_priority_rules(config), business_calendar=calendar)

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
        members = {
            Role.AGENT: roles.agents, Role.L2: roles.l2, Role.L3: roles.l3, Role.LEAD: roles.leads,
            Role.ADMIN: roles.admins,
        }  # fmt: skip
        return {role for role, users in members.items() if user_id in users}

    def is_agent(self, user_id: str) -> bool:
        """Anyone who works tickets: agents, L2, L3, leads and admins."""
        return bool(self.roles_of(user_id))

    @property
    def workers(self) -> list[str]:
        roles = self.config.roles
        return list(dict.fromkeys([*roles.agents, *roles.l2, *roles.l3, *roles.leads, *roles.admins]))

    @property
    def supervisors(self) -> list[str]:
        return list(dict.fromkeys([*self.config.roles.leads, *self.config.roles.admins]))

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
