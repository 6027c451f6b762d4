"""frontline.yaml: the operator's configuration, validated into frozen pydantic models.

Every key is optional; an empty or absent default file gives seed 001's defaults. A bad file
never reaches the running bot as a traceback: load_config() raises ConfigError carrying one line
per problem, "<key.path>: <what is wrong>", which `frontline check-config` prints as is.
describe_validation_error() is the one place pydantic errors become those lines (settings.py
uses it for the environment too).
"""

from __future__ import annotations

import csv
import re
import string
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args
from zoneinfo import ZoneInfo

import holidays
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from bot.core.calendar import format_closing_time
from bot.core.durations import format_duration, parse_duration
from bot.core.pii import mask_pii

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "SEED_SLA",
    "AutoPriorityConfig",
    "BusinessHours",
    "ChannelsConfig",
    "ConfigError",
    "Customer",
    "DigestConfig",
    "EscalationChannels",
    "EscalationConfig",
    "EscalationMatrix",
    "FrontlineConfig",
    "HolidaysConfig",
    "IntakeConfig",
    "LifecycleConfig",
    "Loc",
    "MatrixRule",
    "P0Rules",
    "P1Rules",
    "P3Rules",
    "RolesConfig",
    "SlaConfig",
    "SlaTarget",
    "SurgeConfig",
    "choice_of",
    "demo_config",
    "describe_validation_error",
    "key_path",
    "load_config",
    "load_customers_csv",
    "parse_config",
    "read_yaml",
]

DEFAULT_CONFIG_PATH = Path("frontline.yaml")

Loc = tuple[int | str, ...]


class ConfigError(Exception):
    """A configuration (file or environment) that cannot be used; one problem per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)


# --------------------------------------------------------------------------------------------
# Error lines: the only place pydantic's wording is turned into ours.
# --------------------------------------------------------------------------------------------


def key_path(loc: Loc) -> str:
    """("sla", "P1", "first_response") -> "sla.P1.first_response"; list positions as [0]."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def describe_validation_error(error: ValidationError, where: Callable[[Loc], str] = key_path) -> list[str]:
    """One "<where>: <what is wrong>" line per pydantic error; `where` names the location."""
    lines = []
    for detail in error.errors(include_url=False):
        location = where(detail["loc"])
        message = _problem_message(detail)
        lines.append(f"{location}: {message}" if location else message)
    return lines


def _shown(value: object) -> str:
    """A short, unambiguous echo of what the operator wrote, for "(got ...)"."""
    if isinstance(value, tuple):
        value = list(value)
    text = value.isoformat() if isinstance(value, date | time) else repr(value)
    text = mask_pii(text)  # a token or an address pasted into the wrong key is not printed back
    return text if len(text) <= 60 else text[:57] + "..."


def _invalid(message: str, value: object) -> ValueError:
    return ValueError(f"{message} (got {_shown(value)})")


def _number(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# pydantic's own error types, reworded. These say all there is to say...
_FIXED_MESSAGES = {"extra_forbidden": "unknown key", "missing": "is required", "invalid_key": "keys must be text"}
# ... and these say what the value must be; "(got ...)" is appended.
_EXPECTATIONS = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "date_type": "must be a date like 2026-12-24",
    "date_parsing": "must be a date like 2026-12-24",
    "date_from_datetime_parsing": "must be a date like 2026-12-24",
    "date_from_datetime_inexact": "must be a date like 2026-12-24",
}
_BOUNDS = {
    "greater_than": "must be more than {}",
    "greater_than_equal": "must be at least {}",
    "less_than": "must be less than {}",
    "less_than_equal": "must be at most {}",
}
_BOUND_KEYS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}


def _problem_message(detail: ErrorDetails) -> str:
    kind = detail["type"]
    context = detail.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        return str(context["error"])  # our own validators' messages, already complete
    if kind in _FIXED_MESSAGES:
        return _FIXED_MESSAGES[kind]
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(context.get("expected", "")))
        expectation = "must be one of " + ", ".join(choices)
    elif kind in _BOUNDS:
        expectation = _BOUNDS[kind].format(_number(context[_BOUND_KEYS[kind]]))
    elif kind in _EXPECTATIONS:
        expectation = _EXPECTATIONS[kind]
    else:
        return detail["msg"]  # a custom error (e.g. the CSV reader's), worded by whoever raised it
    return f"{expectation} (got {_shown(detail['input'])})"


# --------------------------------------------------------------------------------------------
# Value types. Validators take any input and word their own errors, so a wrong type and a wrong
# form get the same helpful line ("must be a channel ID ... (got 123)").
# --------------------------------------------------------------------------------------------


def choice_of(literal: Any, aliases: Mapping[str, str] | None = None) -> BeforeValidator:
    """Accept a Literal's values case-insensitively (plus aliases); word the error with them."""
    choices: tuple[str, ...] = get_args(literal)
    canonical = {choice.casefold(): choice for choice in choices}
    canonical.update({alias.casefold(): choice for alias, choice in (aliases or {}).items()})

    def check(value: object) -> str:
        if isinstance(value, str) and value.strip().casefold() in canonical:
            return canonical[value.strip().casefold()]
        raise _invalid("must be one of " + ", ".join(choices), value)

    return BeforeValidator(check)


def _text_matching(pattern: str, message: str) -> PlainValidator:
    compiled = re.compile(pattern)

    def check(value: object) -> str:
        if isinstance(value, str) and compiled.fullmatch(value.strip()):
            return value.strip()
        raise _invalid(message, value)

    return PlainValidator(check)


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        # No bare numbers: "15" could mean minutes or hours, and the reader can't tell which.
        raise _invalid("must be a duration with a unit, like 15m, 4h or 2d", value)
    return parse_duration(value)


def _positive(duration: timedelta) -> timedelta:
    if duration <= timedelta(0):
        raise ValueError("must be longer than 0m")
    return duration


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _invalid('must be a time like "09:00" (24-hour HH:MM)', value)
    return time(int(match[1]), int(match[2]))


def _closing_time(value: object) -> time:
    # "24:00" is midnight at the end of the day, kept as 00:00, which is how the calendar reads an end.
    if isinstance(value, str) and value.strip() == "24:00":
        return time(0)
    return _clock_time(value)


def _is_time_zone(name: object) -> bool:
    if not isinstance(name, str):
        return False
    try:
        ZoneInfo(name)
    except (ValueError, LookupError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def _time_zone(value: object) -> str:
    if not _is_time_zone(value):
        raise ValueError(f"unknown time zone {_shown(value)} (use an IANA name like America/New_York)")
    return str(value)


Duration = Annotated[timedelta, PlainValidator(_duration), PlainSerializer(format_duration, when_used="json")]
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
ClockTime = Annotated[
    time, PlainValidator(_clock_time), PlainSerializer(lambda t: t.strftime("%H:%M"), when_used="json")
]
ClosingTime = Annotated[time, PlainValidator(_closing_time), PlainSerializer(format_closing_time, when_used="json")]
TimeZoneName = Annotated[str, PlainValidator(_time_zone)]
# Slack IDs are upper-case letters and digits (C0123...); "_" too, for stand-in IDs like C_HELP.
ChannelRef = Annotated[
    str,
    _text_matching(
        r"[CG][A-Z0-9_]+|#(?:[^\WA-Z]|-){1,80}",
        "must be a channel ID like C0123 or a name like #support-triage",
    ),
]
MemberRef = Annotated[
    str,
    _text_matching(r"[UWS][A-Z0-9_]+", "must be a Slack user ID like U0123 or a user group ID like S0123"),
]
BotId = Annotated[str, _text_matching(r"B[A-Z0-9_]+", "must be a Slack bot ID like B0123")]
Keyword = Annotated[str, _text_matching(r".*\S.*", "must be a non-empty phrase"), AfterValidator(str.lower)]

TierName = Literal["free", "pro", "business", "enterprise"]
Tier = Annotated[TierName, choice_of(TierName)]
WeekdayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Weekday = Annotated[
    WeekdayName,
    # Full names too: "tuesday" is "tue" (the stem before "day" is not the abbreviation for four days).
    choice_of(
        WeekdayName,
        {full: full[:3] for full in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")},
    ),
]
PriorityName = Literal["P0", "P1", "P2", "P3"]
Priority = Annotated[PriorityName, choice_of(PriorityName)]
CalendarName = Literal["24x7", "business"]
Calendar = Annotated[CalendarName, choice_of(CalendarName)]


class _Model(BaseModel):
    # forbid: a typo ("resolutoin") is reported instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_means_default(cls, data: Any) -> Any:
        # "sla:" with every line under it commented out is None in YAML; read it as "use the
        # defaults". Only where None is not itself a meaningful value ("affected_users_over:
        # null" turns a rule off, so it stays).
        if not isinstance(data, Mapping):
            return data
        return {
            key: value
            for key, value in data.items()
            if value is not None or key not in cls.model_fields or _accepts_none(cls.model_fields[key])
        }


def _accepts_none(field: FieldInfo) -> bool:
    return type(None) in get_args(field.annotation)


# --------------------------------------------------------------------------------------------
# Sections of frontline.yaml, in file order.
# --------------------------------------------------------------------------------------------


class EscalationChannels(_Model):
    """Where each escalation tier's handoff cards go."""

    L2: ChannelRef | None = None
    L3: ChannelRef | None = None
    management: ChannelRef | None = None


class ChannelsConfig(_Model):
    triage: ChannelRef | None = None  # every ticket's card lives here
    intake: tuple[ChannelRef, ...] = ()  # every top-level message here becomes a ticket
    escalation: EscalationChannels = Field(default_factory=EscalationChannels)
    incidents: ChannelRef | None = None  # incident announcements
    social: ChannelRef | None = None  # social-media crisis work
    standup: ChannelRef | None = None  # the daily digest


class HolidaysConfig(_Model):
    """Days the business calendar skips: a country's public holidays plus extra dates."""

    country: str | None = None  # ISO code the `holidays` package knows, e.g. US, GB, DE
    subdiv: str | None = None  # state/region within the country, e.g. CA for California
    extra: tuple[date, ...] = ()

    @field_validator("country", mode="before")
    @classmethod
    def _known_country(cls, value: object) -> object:
        if value is None:
            return None
        hint = "use a code the holidays package knows, like US, GB or DE"
        message = f"unknown holiday country {_shown(value)} ({hint})"
        if not isinstance(value, str):
            raise ValueError(message)
        try:
            holidays.country_holidays(value.strip().upper())
        except NotImplementedError:
            raise ValueError(message) from None
        return value.strip().upper()

    @field_validator("subdiv", mode="before")
    @classmethod
    def _known_subdivision(cls, value: object, info: ValidationInfo) -> object:
        if value is None or "country" not in info.data:
            return value  # no subdivision, or the country is wrong and its own error says so
        country = info.data["country"]
        if country is None:
            raise _invalid("needs a country to belong to", value)
        message = f"unknown subdivision {_shown(value)} of {country}"
        if not isinstance(value, str):
            raise ValueError(message)
        try:
            holidays.country_holidays(country, subdiv=value.strip())
        except NotImplementedError:
            raise ValueError(message) from None
        return value.strip()


class BusinessHours(_Model):
    """The calendar that 'business' SLA clocks run on. Times are local to `timezone`."""

    timezone: TimeZoneName = "UTC"  # defaults to the top-level timezone (see FrontlineConfig)
    days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    start: ClockTime = time(9, 0)
    # validate_default: "start: 18:00" alone must still be checked against the default end.
    end: ClosingTime = Field(default=time(17, 0), validate_default=True)
    holidays: HolidaysConfig = Field(default_factory=HolidaysConfig)

    @field_validator("days")
    @classmethod
    def _some_days_once_each(cls, days: tuple[str, ...]) -> tuple[str, ...]:
        if not days:
            raise ValueError("must list at least one day")
        if len(set(days)) != len(days):
            raise _invalid("must not repeat a day", days)
        return days

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: time, info: ValidationInfo) -> time:
        start = info.data.get("start")
        if start is not None and end != time(0) and end <= start:
            raise ValueError(f"must be after start ({start:%H:%M}); 24:00 is midnight at the end of the day")
        return end

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# Seed 001 "Priority Matrix": first response / resolution targets. P0 runs around the clock.
SEED_SLA: Mapping[str, Mapping[str, str]] = {
    "P0": {"first_response": "15m", "resolution": "4h", "calendar": "24x7"},
    "P1": {"first_response": "1h", "resolution": "8h", "calendar": "business"},
    "P2": {"first_response": "4h", "resolution": "24h", "calendar": "business"},
    "P3": {"first_response": "24h", "resolution": "72h", "calendar": "business"},
}


class SlaTarget(_Model):
    first_response: PositiveDuration
    resolution: PositiveDuration
    calendar: Calendar = "business"

    @model_validator(mode="after")
    def _first_response_within_resolution(self) -> Self:
        if self.first_response > self.resolution:
            raise ValueError(
                f"first_response ({format_duration(self.first_response)}) must not be longer "
                f"than resolution ({format_duration(self.resolution)})"
            )
        return self


def _seed_target(priority: str) -> Callable[[], SlaTarget]:
    return lambda: SlaTarget.model_validate(SEED_SLA[priority])


class SlaConfig(_Model):
    P0: SlaTarget = Field(default_factory=_seed_target("P0"))
    P1: SlaTarget = Field(default_factory=_seed_target("P1"))
    P2: SlaTarget = Field(default_factory=_seed_target("P2"))
    P3: SlaTarget = Field(default_factory=_seed_target("P3"))
    warn_at: tuple[float, ...] = (0.5, 0.75, 0.9)  # fractions of a target at which to nudge

    @model_validator(mode="before")
    @classmethod
    def _fill_from_seed(cls, data: Any) -> Any:
        # "P1: {first_response: 2h}" changes only that; the rest stays P1's seed value (not
        # some generic default), so each priority is merged over its own row of the matrix.
        if not isinstance(data, Mapping):
            return data
        merged = dict(data)
        for priority, seed in SEED_SLA.items():
            if isinstance(data.get(priority), Mapping):
                merged[priority] = {**seed, **data[priority]}
        return merged

    @field_validator("warn_at")
    @classmethod
    def _fractions_in_order(cls, fractions: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 < fraction < 1 for fraction in fractions):
            raise _invalid("fractions must be strictly between 0 and 1", fractions)
        if list(fractions) != sorted(set(fractions)):
            raise _invalid("must be in increasing order without repeats", fractions)
        return fractions

    def target(self, priority: str) -> SlaTarget:
        """The target for "P0".."P3"."""
        if priority not in SEED_SLA:
            raise KeyError(priority)
        target: SlaTarget = getattr(self, priority)
        return target


class LifecycleConfig(_Model):
    """Stage timers (seed 001 "Stage Definitions")."""

    new_unassigned: PositiveDuration = timedelta(minutes=15)  # NEW without owner -> ping triage
    pending_warn: PositiveDuration = timedelta(hours=72)  # PENDING this long -> warn the requester
    pending_close_grace: PositiveDuration = timedelta(hours=24)  # ... then close this much later
    solved_close: PositiveDuration = timedelta(hours=48)  # SOLVED -> CLOSED
    escalation_ack: PositiveDuration = timedelta(hours=4)  # unacknowledged escalation -> re-nudge
    reopen_window: Duration = timedelta(days=7)  # CLOSED tickets may reopen this long; 0m = never


class RolesConfig(_Model):
    """Who may do what: Slack user IDs (U…/W…) or user group IDs (S…)."""

    agents: tuple[MemberRef, ...] = ()
    l2: tuple[MemberRef, ...] = ()
    l3: tuple[MemberRef, ...] = ()
    leads: tuple[MemberRef, ...] = ()
    admins: tuple[MemberRef, ...] = ()


class DigestConfig(_Model):
    time: ClockTime = time(9, 0)  # local time (top-level timezone) of the daily standup digest
    weekdays_only: bool = True
    weekly_day: Weekday = "mon"  # the day the weekly dashboard digest goes out


class Customer(_Model):
    name: str  # the key in frontline.yaml or the CSV's name column
    tier: Tier = "free"
    arr: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0  # annual recurring revenue, in dollars
    aliases: tuple[Annotated[str, _text_matching(r".*\S.*", "must be a non-empty name")], ...] = ()

    def known_as(self) -> tuple[str, ...]:
        """Every spelling that finds this customer, folded for comparison."""
        return tuple(_fold(spelling) for spelling in (self.name, *self.aliases))


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


# Seed 001 "Auto-Priority Rules". P2 is the default when nothing matches.
class P0Rules(_Model):
    keywords: tuple[Keyword, ...] = ("outage", "down", "data loss", "breach", "can't login all")
    tiers: tuple[Tier, ...] = ("enterprise",)
    affected_users_over: Annotated[int, Field(ge=0)] | None = 100  # more affected users -> P0; null = off


class P1Rules(_Model):
    keywords: tuple[Keyword, ...] = ("broken", "not working", "error", "billing issue")
    tiers: tuple[Tier, ...] = ("business",)
    revenue_impact: bool = True  # a ticket marked as costing the customer revenue -> P1


class P3Rules(_Model):
    keywords: tuple[Keyword, ...] = ("feature request", "nice to have", "suggestion")
    categories: tuple[Keyword, ...] = ("enhancement",)


class AutoPriorityConfig(_Model):
    P0: P0Rules = Field(default_factory=P0Rules)
    P1: P1Rules = Field(default_factory=P1Rules)
    P3: P3Rules = Field(default_factory=P3Rules)
    default_priority: Priority = "P2"
    sentiment_boost: bool = True  # negative/urgent sentiment raises P2 to P1 (never to P0, never from P3)


class IntakeConfig(_Model):
    # The reaction that turns any message into a ticket; ":ticket:" is accepted as "ticket".
    ticket_emoji: Annotated[
        str,
        _text_matching(r"[a-z0-9_+'-]+", "must be an emoji name like ticket"),
        # Listed after, so it runs first: later Annotated validators wrap earlier ones.
        BeforeValidator(lambda value: value.strip().strip(":").lower() if isinstance(value, str) else value),
    ] = "ticket"
    bot_allowlist: tuple[BotId, ...] = ()  # other bots whose posts may open tickets


class SurgeConfig(_Model):
    """When several tickets about one failure arrive close together, alert triage once."""

    enabled: bool = True
    min_tickets: Annotated[int, Field(ge=2)] = 3
    min_requesters: Annotated[int, Field(ge=1, validate_default=True)] = 2
    window: PositiveDuration = timedelta(minutes=30)
    # Cosine similarity of two tickets' sentence vectors (after the category adjustment) at or above
    # which they may report the same failure. Higher: fewer, tighter surges.
    similarity: Annotated[float, Field(gt=0, lt=1)] = 0.85
    # Similarity to the centre of a surge (or of a forming group) that a ticket needs to join (stay in) it.
    join_similarity: Annotated[float, Field(gt=0, lt=1)] = 0.9
    # How much closer to "something is broken" than to "I'd like / how do I" a ticket must read to
    # count as a failure report (only reports make surges).
    report_margin: Annotated[float, Field(ge=-1, le=1)] = 0.005
    category_bonus: Annotated[float, Field(ge=0, le=0.5)] = 0.02  # same known category
    category_penalty: Annotated[float, Field(ge=0, le=0.5)] = 0.04  # different known categories

    @field_validator("min_requesters")
    @classmethod
    def _not_more_requesters_than_tickets(cls, requesters: int, info: ValidationInfo) -> int:
        tickets = info.data.get("min_tickets")
        if tickets is not None and requesters > tickets:
            raise ValueError(f"must not be more than min_tickets ({tickets})")
        return requesters


# Seed 001 "Escalation Decision Matrix": each trigger escalates, suggests escalating (a button on
# the card) or only notifies; `within` is the timeline, which is also how long an escalation it
# makes may wait for acknowledgement before the tier is nudged again.
ActionName = Literal["escalate", "suggest", "notify", "off"]
Action = Annotated[ActionName, choice_of(ActionName)]
EscalationTierName = Literal["L2", "L3", "management"]
EscalationTier = Annotated[
    EscalationTierName, choice_of(EscalationTierName, {"l2": "L2", "l3": "L3", "mgmt": "management"})
]
NotifyName = Literal["L2", "L3", "management", "leads", "social"]
NotifyTarget = Annotated[NotifyName, choice_of(NotifyName, {"l2": "L2", "l3": "L3", "mgmt": "management"})]


class MatrixRule(_Model):
    action: Action = "escalate"
    tier: EscalationTier = "L2"  # where it escalates (or suggests escalating) to
    notify: tuple[NotifyTarget, ...] = ()  # who else hears of it: tier channels, leads (DM), channels.social
    within: PositiveDuration = timedelta(hours=4)

    @model_validator(mode="after")
    def _notify_has_someone(self) -> Self:
        if self.action == "notify" and not self.notify:
            raise ValueError("action notify needs at least one `notify` target (L2, L3, management, leads, social)")
        return self


class P0Rule(MatrixRule):
    notify: tuple[NotifyTarget, ...] = ("L3", "management")
    within: PositiveDuration = timedelta(minutes=15)


# Phrases that say the thing, not words that merely occur: "Sue from accounting", "our legal team
# asked for your DPA", "we're leaving the office early", "a manager account for our new hire" and
# "marketing tweeted the signup link" are ordinary requests. Two fresh-eyes reviews found the
# misfires these lists avoid; a row that is still noisy for a team can be set to `suggest`.
CHURN_WORDS = (
    "cancel our subscription", "cancel my subscription", "cancel our account", "cancel my account",
    "cancel our contract", "cancelling our contract", "canceling our contract", "terminate our contract",
    "not renewing", "not to renew", "won't be renewing", "will not be renewing", "won't renew", "will not renew",
    "switch to a competitor", "switching to a competitor", "switching to your competitor", "moving to a competitor",
    "take our business elsewhere", "looking at other vendors", "looking at other providers",
)  # fmt: skip
LEGAL_WORDS = (
    "legal action", "lawsuit", "sue you", "sue your company", "going to sue", "we will sue", "suing you",
    "suing your company", "take you to court", "hear from our lawyers", "hear from my lawyer", "my solicitor",
    "gdpr violation", "violates gdpr", "violating gdpr", "gdpr breach", "breach of gdpr", "report you to the",
    "complaint to the regulator", "hipaa violation", "subpoena", "breach of contract", "compliance violation",
)  # fmt: skip
MANAGER_WORDS = (
    "speak to a manager", "speak with a manager", "talk to a manager", "talk to your manager",
    "speak to your manager", "get me a manager", "speak to a supervisor", "speak to your supervisor",
    "talk to a supervisor", "talk to your supervisor", "through to your supervisor", "through to your manager",
    "escalate this to your manager", "escalate this to management", "someone more senior", "speak to your boss",
    "talk to your boss",
)  # fmt: skip
SOCIAL_WORDS = (
    "tweeted about", "tweeting about", "on twitter about", "posted on linkedin", "posted this on linkedin",
    "on reddit about", "thread on reddit", "on hacker news", "posted publicly", "bad review on",
    "review on trustpilot", "one-star review", "1-star review",
)  # fmt: skip


class ChurnRule(MatrixRule):
    keywords: tuple[Keyword, ...] = CHURN_WORDS
    arr_over: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 10_000  # dollars of ARR
    notify: tuple[NotifyTarget, ...] = ("leads",)
    within: PositiveDuration = timedelta(hours=1)


class LegalRule(MatrixRule):
    keywords: tuple[Keyword, ...] = LEGAL_WORDS
    notify: tuple[NotifyTarget, ...] = ("leads", "management")
    within: PositiveDuration = timedelta(hours=1)


class RepeatRule(MatrixRule):
    times: Annotated[int, Field(ge=2)] = 3  # tickets about the same issue from one requester, this one included
    window: PositiveDuration = timedelta(days=30)
    suggest_bug: bool = True


class StuckRule(MatrixRule):
    action: Action = "suggest"
    after: PositiveDuration = timedelta(minutes=30)  # OPEN with an owner this long
    priorities: tuple[Priority, ...] = ("P0", "P1")  # "escalated priority"
    within: PositiveDuration = timedelta(minutes=30)


class ManagerRule(MatrixRule):
    """A requester asking for a manager goes to the leads: never refused."""

    action: Action = "notify"
    keywords: tuple[Keyword, ...] = MANAGER_WORDS
    notify: tuple[NotifyTarget, ...] = ("leads",)
    within: PositiveDuration = timedelta(minutes=15)


class SocialRule(MatrixRule):
    action: Action = "notify"
    keywords: tuple[Keyword, ...] = SOCIAL_WORDS
    notify: tuple[NotifyTarget, ...] = ("social",)
    within: PositiveDuration = timedelta(minutes=30)


class EscalationMatrix(_Model):
    p0: P0Rule = Field(default_factory=P0Rule)
    churn: ChurnRule = Field(default_factory=ChurnRule)
    legal: LegalRule = Field(default_factory=LegalRule)
    repeat: RepeatRule = Field(default_factory=RepeatRule)
    stuck: StuckRule = Field(default_factory=StuckRule)
    manager: ManagerRule = Field(default_factory=ManagerRule)
    social: SocialRule = Field(default_factory=SocialRule)


class EscalationConfig(_Model):
    matrix: EscalationMatrix = Field(default_factory=EscalationMatrix)


_CHANNEL_NAME_FIELDS = frozenset({"n", "slug", "YYYY", "MM", "DD"})


def _channel_name_template(value: str) -> str:
    fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    unknown = sorted(fields - _CHANNEL_NAME_FIELDS)
    if unknown:
        raise ValueError(f"unknown field {{{unknown[0]}}}: use {{n}}, {{slug}}, {{YYYY}}, {{MM}}, {{DD}}")
    if "slug" not in fields:
        raise ValueError("must contain {slug} (the incident's title, shortened)")
    fixed = value.format(n="", slug="", YYYY="", MM="", DD="")
    if fixed != fixed.lower() or not re.fullmatch(r"[a-z0-9_-]*", fixed) or len(fixed) > 40:
        raise ValueError("the fixed part may hold only lower-case letters, digits, - and _ (at most 40)")
    return value


class IncidentsConfig(_Model):
    """`/incident start`: how its channel is named (Slack: lower case, at most 80 characters; a
    taken name gets -2, -3, …)."""

    channel_name: Annotated[str, AfterValidator(_channel_name_template)] = "inc-{n}-{slug}"
    default_severity: Literal["P0", "P1", "P2", "P3"] = "P0"


class RetentionConfig(_Model):
    """How long closed tickets keep their words; absent: for ever. Past it the sweep empties them
    (text, notes, requester, vectors, audit text); the rows stay for the metrics."""

    # Strict: YAML's `true` would otherwise be read as 1 day and purge every closed ticket tomorrow.
    closed_ticket_days: Annotated[StrictInt, Field(gt=0, le=36500)] | None = None


class FrontlineConfig(_Model):
    timezone: TimeZoneName = "UTC"  # digests and displayed times; business hours default to it
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)
    roles: RolesConfig = Field(default_factory=RolesConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    customers: Mapping[str, Customer] = Field(default_factory=dict)
    auto_priority: AutoPriorityConfig = Field(default_factory=AutoPriorityConfig)
    intake: IntakeConfig = Field(default_factory=IntakeConfig)
    surge: SurgeConfig = Field(default_factory=SurgeConfig)
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    incidents: IncidentsConfig = Field(default_factory=IncidentsConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    @model_validator(mode="before")
    @classmethod
    def _business_hours_follow_timezone(cls, data: Any) -> Any:
        # One timezone line should be enough for most teams; only a valid one is copied, so a
        # bad name is reported once (at `timezone`), not twice.
        if not isinstance(data, Mapping) or not _is_time_zone(data.get("timezone")):
            return data
        hours = data.get("business_hours") or {}
        if isinstance(hours, Mapping) and "timezone" not in hours:
            return {**data, "business_hours": {**hours, "timezone": data["timezone"]}}
        return data

    @field_validator("customers", mode="before")
    @classmethod
    def _customers_from_mapping_or_csv(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            base_dir = (info.context or {}).get("base_dir", Path.cwd())
            return load_customers_csv(value, Path(base_dir))
        if isinstance(value, Mapping):
            # str(key): YAML reads an account number like 1042 as an int, but it is a name here.
            if any(not str(key).strip() for key in value):
                raise ValueError("a customer's name must not be empty")
            return {str(key): _named_entry(str(key), entry) for key, entry in value.items()}
        return value

    @field_validator("customers")
    @classmethod
    def _one_customer_per_name(cls, customers: Mapping[str, Customer]) -> Mapping[str, Customer]:
        owners: dict[str, str] = {}
        for key, customer in customers.items():
            for spelling in customer.known_as():
                owner = owners.setdefault(spelling, key)
                if owner != key:
                    raise ValueError(f"{spelling!r} names both {owner} and {key}; names and aliases must be unique")
        return customers

    @model_validator(mode="after")
    def _retention_outlasts_reopening(self) -> Self:
        # A ticket reopened after its words were purged would come back as an open "[purged]".
        days = self.retention.closed_ticket_days
        window = self.lifecycle.reopen_window
        if days is not None and timedelta(days=days) < window:
            needed = -(-window // timedelta(days=1))  # whole days, rounded up
            raise ValueError(
                f"retention.closed_ticket_days: {days} is shorter than lifecycle.reopen_window "
                f"({format_duration(window)}), so a ticket could be reopened after its words were purged; "
                f"make it at least {needed}, or shorten the reopen window"
            )
        return self

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def customer(self, name: str) -> Customer | None:
        """The customer called `name` or with `name` among its aliases (case-insensitive)."""
        wanted = _fold(name)
        return next((c for c in self.customers.values() if wanted in c.known_as()), None)


def _named_entry(key: str, entry: object) -> object:
    # The key is the customer's name; a name inside the entry may only repeat it (as a dump does).
    if not isinstance(entry, Mapping):
        return entry
    if entry.get("name", key) != key:
        raise ValueError(f"customer {key}: the name is the key; put other spellings in aliases")
    return {**entry, "name": key}


# --------------------------------------------------------------------------------------------
# Customers from a CSV file (columns name, tier, arr; optional aliases separated by ";").
# --------------------------------------------------------------------------------------------

_CSV_REQUIRED = ("name", "tier", "arr")
_CSV_COLUMNS = (*_CSV_REQUIRED, "aliases")


def load_customers_csv(path_text: str, base_dir: Path) -> dict[str, Customer]:
    """Read customers from a CSV (relative paths are relative to the config file).

    Problems are raised as one pydantic error per bad line, naming the file and line, so they
    come out of describe_validation_error() like every other config problem.
    """
    path = base_dir / path_text
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:  # -sig: Excel's BOM
            customers, problems = _read_customer_rows(csv.DictReader(handle), path_text)
    except (OSError, UnicodeDecodeError) as exc:
        problems = [f"cannot read {path_text} ({getattr(exc, 'strerror', None) or exc})"]
    if problems:
        raise ValidationError.from_exception_data(
            "customers",
            [
                InitErrorDetails(type=PydanticCustomError("customers_csv", problem), loc=(), input=path_text)
                for problem in problems
            ],
        )
    return customers


def _read_customer_rows(reader: csv.DictReader[str], shown: str) -> tuple[dict[str, Customer], list[str]]:
    header = [column.strip().lower() for column in reader.fieldnames or []]
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        return {}, [f"{shown} line 1: column {', '.join(repeated)} appears more than once"]
    missing = [column for column in _CSV_REQUIRED if column not in header]
    unknown = [column for column in header if column not in _CSV_COLUMNS]
    if missing or unknown:
        wrong = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
        return {}, [f"{shown} line 1: columns must be {', '.join(_CSV_COLUMNS)} (aliases optional); {wrong}"]
    reader.fieldnames = header
    customers: dict[str, Customer] = {}
    first_line: dict[str, int] = {}
    problems: list[str] = []
    for row in reader:
        where = f"{shown} line {reader.line_num}"
        if None in row:  # DictReader's bucket for cells beyond the header
            problems.append(f"{where}: more cells than columns")
            continue
        cells = {column: (text or "").strip() for column, text in row.items()}
        if not any(cells.values()):
            continue  # blank line
        if any("\n" in text or "\r" in text for text in cells.values()):
            # A quote left open swallows the following lines into one cell (and their customers).
            problems.append(f"{where}: a quoted cell runs over several lines (is a closing quote missing?)")
            continue
        name = cells["name"]
        if name and _fold(name) in first_line:
            problems.append(f"{where}: duplicate customer {name!r} (first on line {first_line[_fold(name)]})")
            continue
        first_line[_fold(name)] = reader.line_num
        try:
            customers[name] = Customer.model_validate(_csv_entry(cells))
        except ValidationError as exc:
            problems.extend(f"{where}: {line}" for line in describe_validation_error(exc))
    return customers, problems


def _csv_entry(cells: Mapping[str, str]) -> dict[str, object]:
    # An empty cell means "not given", as a missing key would in YAML: tier free, arr 0, and
    # for the name "name: is required".
    entry: dict[str, object] = {column: text for column, text in cells.items() if text}
    if "aliases" in entry:
        entry["aliases"] = [alias.strip() for alias in cells["aliases"].split(";") if alias.strip()]
    return entry


# --------------------------------------------------------------------------------------------
# Reading the file.
# --------------------------------------------------------------------------------------------


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars and duplicate-key detection.

    PyYAML follows YAML 1.1, where `end: 17:00` is the integer 1020 (base 60) and
    `country: NO` is False; both are plain mistakes waiting to happen in this file.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


_YAML11_SCALARS = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML11_SCALARS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_ConfigLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9][0-9_]*$"), list("-+0123456789"))
_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+"
        r"|[-+]?[0-9][0-9_]*\."
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
# Decimal always: YAML 1.1 reads 010 as octal 8.
_ConfigLoader.add_constructor(
    "tag:yaml.org,2002:int",
    lambda loader, node: int(str(loader.construct_scalar(node)).replace("_", ""), 10),  # type: ignore[arg-type]
)


def read_yaml(path: Path) -> object:
    """A YAML file's content; a file that cannot be read or parsed is a ConfigError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read the file ({getattr(exc, 'strerror', None) or exc})"]) from None
    try:
        return yaml.load(text, Loader=_ConfigLoader)  # a SafeLoader: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"{path}: invalid YAML{where}: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: invalid YAML: {str(exc).splitlines()[0]}"]) from None
    except RecursionError:
        raise ConfigError([f"{path}: invalid YAML: nested too deeply"]) from None


def _kind(value: object) -> str:
    names = {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}
    return names.get(type(value), type(value).__name__)


def parse_config(data: object, source: str = "config", base_dir: Path | None = None) -> FrontlineConfig:
    """Validate already-parsed YAML (None = empty file). `base_dir` anchors a customers CSV."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        expected = "the top level must be a mapping of keys like timezone, channels, sla"
        raise ConfigError([f"{source}: {expected} (got {_kind(data)})"])
    try:
        return FrontlineConfig.model_validate(data, context={"base_dir": base_dir or Path.cwd()})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def load_config(path: Path | None = None) -> FrontlineConfig:
    """Load and validate frontline.yaml.

    `path=None` (or ./frontline.yaml itself) means the default file, which may be absent (then:
    all defaults); any other path must exist. Raises ConfigError, one line per problem.
    """
    path = path or DEFAULT_CONFIG_PATH
    # FRONTLINE_CONFIG's default arrives here as an explicit Path, so "the default" is judged
    # by value: ./frontline.yaml may be absent, any other named file must exist.
    if not path.exists() and path == DEFAULT_CONFIG_PATH:
        return FrontlineConfig()
    if not path.exists():
        raise ConfigError([f"{path}: config file not found"])
    return parse_config(read_yaml(path), source=str(path), base_dir=path.parent)


# The embedded configuration `frontline demo` runs on (IDs of the built-in Slack stand-in).
_DEMO: Mapping[str, object] = {
    "timezone": "America/New_York",
    "channels": {
        "triage": "C_TRIAGE",
        "intake": ["C_HELP"],
        "escalation": {"L2": "C_L2", "L3": "C_L3", "management": "C_MGMT"},
        "incidents": "C_INCIDENTS",
        "social": "C_SOCIAL",
        "standup": "C_STANDUP",
    },
    "roles": {
        "agents": ["U_AGENT1", "U_AGENT2"],
        "l2": ["U_AGENT2"],
        "l3": ["U_ENG"],
        "leads": ["U_LEAD"],
        "admins": ["U_ADMIN"],
    },
    "customers": {
        "acme": {"tier": "enterprise", "arr": 120000},
        "globex": {"tier": "business", "arr": 40000},
        "smallco": {"tier": "free", "arr": 0},
    },
}


def demo_config() -> FrontlineConfig:
    return parse_config(_DEMO, source="demo config")
