"""frontline.yaml and the environment: defaults, the example file, and the exact one-line errors
check-config prints. Also bot.core.durations, which the config's duration values go through."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bot.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    FrontlineConfig,
    demo_config,
    load_config,
    parse_config,
)
from bot.core.durations import MAX_DURATION_MINUTES, format_duration, parse_duration
from bot.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "frontline.example.yaml"
ENV_NAMES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "FRONTLINE_CONFIG",
    "PORT",
    "LOG_LEVEL",
)


def write(tmp_path: Path, text: str, name: str = "frontline.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    return caught.value.problems


# ---------------------------------------------------------------------------------------------
# Defaults
# ---------------------------------------------------------------------------------------------


def test_empty_file_gives_seed_001_priority_matrix(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    matrix = {
        priority: (target.first_response, target.resolution, target.calendar)
        for priority, target in (
            ("P0", config.sla.P0),
            ("P1", config.sla.P1),
            ("P2", config.sla.P2),
            ("P3", config.sla.P3),
        )
    }
    hours = timedelta(hours=1)
    assert matrix == {
        "P0": (timedelta(minutes=15), 4 * hours, "24x7"),
        "P1": (1 * hours, 8 * hours, "business"),
        "P2": (4 * hours, 24 * hours, "business"),
        "P3": (24 * hours, 72 * hours, "business"),
    }
    assert config.sla.warn_at == (0.5, 0.75, 0.9)
    assert config.sla.target("P2") == config.sla.P2


def test_empty_file_gives_seed_001_stage_timers_and_rules(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "# nothing configured yet\n"))
    lifecycle = config.lifecycle
    assert (
        lifecycle.new_unassigned,
        lifecycle.pending_warn,
        lifecycle.pending_close_grace,
        lifecycle.solved_close,
        lifecycle.escalation_ack,
        lifecycle.reopen_window,
    ) == (
        timedelta(minutes=15),
        timedelta(hours=72),
        timedelta(hours=24),
        timedelta(hours=48),
        timedelta(hours=4),
        timedelta(days=7),
    )
    rules = config.auto_priority
    assert rules.P0.keywords == ("outage", "down", "data loss", "breach", "can't login all")
    assert rules.P0.tiers == ("enterprise",)
    assert rules.P0.affected_users_over == 100
    assert rules.P1.keywords == ("broken", "not working", "error", "billing issue")
    assert rules.P1.tiers == ("business",)
    assert rules.P1.revenue_impact is True
    assert rules.P3.keywords == ("feature request", "nice to have", "suggestion")
    assert rules.P3.categories == ("enhancement",)
    assert rules.default_priority == "P2"
    assert (config.surge.min_tickets, config.surge.min_requesters, config.surge.window) == (
        3,
        2,
        timedelta(minutes=30),
    )
    assert config.intake.ticket_emoji == "ticket"
    assert config.business_hours.days == ("mon", "tue", "wed", "thu", "fri")
    assert (config.business_hours.start, config.business_hours.end) == (time(9), time(17))
    assert (config.digest.time, config.digest.weekdays_only, config.digest.weekly_day) == (time(9), True, "mon")
    assert config == FrontlineConfig()


def test_missing_default_file_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(None) == FrontlineConfig()
    # The CLI passes FRONTLINE_CONFIG's default as a Path; that is still "the default".
    assert load_config(Path("./frontline.yaml")) == FrontlineConfig()
    assert Path("./frontline.yaml") == DEFAULT_CONFIG_PATH


def test_default_file_is_read_when_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "timezone: Europe/London\n")
    assert load_config(None).timezone == "Europe/London"


def test_missing_explicit_path_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [f"{path}: config file not found"]


def test_blank_sections_mean_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "sla:\n  # P1: {first_response: 2h}\nchannels:\ncustomers:\n"))
    assert config == FrontlineConfig()


def test_partial_priority_override_keeps_that_priority_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "sla:\n  P0: {first_response: 30m}\n  P1: {resolution: 12h}\n"))
    assert (config.sla.P0.first_response, config.sla.P0.resolution, config.sla.P0.calendar) == (
        timedelta(minutes=30),
        timedelta(hours=4),
        "24x7",
    )
    assert (config.sla.P1.first_response, config.sla.P1.resolution) == (timedelta(hours=1), timedelta(hours=12))


def test_business_hours_follow_top_level_timezone_unless_set(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "timezone: Europe/London\n"))
    assert config.business_hours.timezone == "Europe/London"
    config = load_config(write(tmp_path, "timezone: Europe/London\nbusiness_hours: {timezone: Asia/Tokyo}\n"))
    assert config.business_hours.timezone == "Asia/Tokyo"
    assert str(config.business_hours.tzinfo) == "Asia/Tokyo"


def test_yaml_1_1_traps_are_read_as_written(tmp_path: Path) -> None:
    # PyYAML alone reads 17:00 as the integer 1020 and NO (Norway) as False.
    config = load_config(
        write(tmp_path, "business_hours: {start: 8:30, end: 17:00, holidays: {country: NO, extra: [2026-12-24]}}\n")
    )
    assert (config.business_hours.start, config.business_hours.end) == (time(8, 30), time(17))
    assert config.business_hours.holidays.country == "NO"
    assert config.business_hours.holidays.extra == (date(2026, 12, 24),)


def test_business_hours_may_end_at_midnight(tmp_path: Path) -> None:
    from bot.services.policy import Policy
    from bot.slack.blocks import sla_policy

    for end in ('"24:00"', "24:00"):  # quoted, and as YAML 1.1 would read it (base-60 1440)
        config = load_config(write(tmp_path, f"business_hours: {{start: '00:00', end: {end}, days: [mon, tue]}}\n"))
        assert config.business_hours.end == time(0)
    calendar = Policy.from_config(config).business_calendar
    monday_late = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    assert calendar.is_working(monday_late)
    assert calendar.add(monday_late, timedelta(hours=1)) == datetime(2026, 12, 8, 0, 30, tzinfo=UTC)
    assert "Mon, Tue 00:00–24:00 UTC" in json.dumps(sla_policy(config), ensure_ascii=False)
    assert config.model_dump(mode="json")["business_hours"]["end"] == "24:00"


def test_field_case_f4_business_hours_shape_loads(tmp_path: Path) -> None:
    text = (
        'business_hours: {timezone: America/New_York, days: [mon, tue, wed, thu, fri], start: "09:00",\n'
        '                 end: "17:00", holidays: {extra: ["2026-12-25"]}}\n'
        "sla: {P2: {first_response: 1h, resolution: 4h}, warn_at: [0.75]}\n"
    )
    config = load_config(write(tmp_path, text))
    holidays = config.business_hours.holidays
    assert (holidays.country, holidays.extra) == (None, (date(2026, 12, 25),))
    assert (config.sla.P2.first_response, config.sla.P2.resolution) == (timedelta(hours=1), timedelta(hours=4))
    assert config.sla.warn_at == (0.75,)


def test_friendly_spellings_are_normalised(tmp_path: Path) -> None:
    text = (
        "business_hours: {days: [Monday, TUE], holidays: {country: us, subdiv: CA}}\n"
        "customers: {acme: {tier: Enterprise}}\n"
        "intake: {ticket_emoji: ':ticket:'}\n"
        "sla: {P1: {calendar: 24X7}}\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.business_hours.days == ("mon", "tue")
    assert (config.business_hours.holidays.country, config.business_hours.holidays.subdiv) == ("US", "CA")
    assert config.customers["acme"].tier == "enterprise"
    assert config.intake.ticket_emoji == "ticket"
    assert config.sla.P1.calendar == "24x7"


def test_affected_users_rule_can_be_turned_off(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "auto_priority: {P0: {affected_users_over: null}}\n"))
    assert config.auto_priority.P0.affected_users_over is None


# ---------------------------------------------------------------------------------------------
# The example file
# ---------------------------------------------------------------------------------------------


def test_example_file_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.timezone == "America/New_York"
    assert config.channels.escalation.L2 == "C0L2"
    assert config.business_hours.holidays.country == "US"
    customer = config.customer("acme corp")
    assert customer is not None
    assert customer.name == "acme"


def _keys_missing(model: type[BaseModel], data: object, prefix: str = "") -> list[str]:
    """Every model key not present in `data`, descending into nested models."""
    if not isinstance(data, Mapping):
        return []
    missing = []
    for name, field in model.model_fields.items():
        if name not in data:
            missing.append(prefix + name)
        elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            missing += _keys_missing(field.annotation, data[name], f"{prefix}{name}.")
    return missing


def test_example_file_shows_every_key() -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert _keys_missing(FrontlineConfig, data) == []


# ---------------------------------------------------------------------------------------------
# One line per problem, exactly
# ---------------------------------------------------------------------------------------------

CHANNEL_HINT = "must be a channel ID like C0123 or a name like #support-triage"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "sla:\n  P1: {first_response: 1 hour}\n",
            "sla.P1.first_response: invalid duration '1 hour' (use forms like 15m, 4h, 2d)",
            id="bad-duration",
        ),
        pytest.param(
            "lifecycle: {solved_close: 48}\n",
            "lifecycle.solved_close: must be a duration with a unit, like 15m, 4h or 2d (got 48)",
            id="duration-without-unit",
        ),
        pytest.param(
            "lifecycle: {new_unassigned: 0m}\n",
            "lifecycle.new_unassigned: must be longer than 0m",
            id="zero-duration",
        ),
        pytest.param(
            "channels: {triage: support}\n",
            f"channels.triage: {CHANNEL_HINT} (got 'support')",
            id="bad-channel",
        ),
        pytest.param(
            "channels: {intake: [C0HELP, '#Help Desk']}\n",
            f"channels.intake[1]: {CHANNEL_HINT} (got '#Help Desk')",
            id="bad-channel-in-list",
        ),
        pytest.param(
            'business_hours: {start: "09:00", end: "08:30"}\n',
            "business_hours.end: must be after start (09:00); 24:00 is midnight at the end of the day",
            id="end-before-start",
        ),
        pytest.param(
            'business_hours: {start: "18:00"}\n',
            "business_hours.end: must be after start (18:00); 24:00 is midnight at the end of the day",
            id="start-after-default-end",
        ),
        pytest.param(
            'business_hours: {start: "9am"}\n',
            "business_hours.start: must be a time like \"09:00\" (24-hour HH:MM) (got '9am')",
            id="bad-time",
        ),
        pytest.param(
            "business_hours: {days: [mon, funday]}\n",
            "business_hours.days[1]: must be one of mon, tue, wed, thu, fri, sat, sun (got 'funday')",
            id="bad-day",
        ),
        pytest.param(
            "customers:\n  acme: {tier: gold}\n",
            "customers.acme.tier: must be one of free, pro, business, enterprise (got 'gold')",
            id="unknown-tier",
        ),
        pytest.param(
            "customers:\n  acme: {tier: pro, arr: -5}\n",
            "customers.acme.arr: must be at least 0 (got -5)",
            id="negative-arr",
        ),
        pytest.param("sla:\n  bogus: 1\n", "sla.bogus: unknown key", id="unknown-key"),
        pytest.param("business_hours: {strat: '08:00'}\n", "business_hours.strat: unknown key", id="typo-in-key"),
        pytest.param(
            "timezone: Mars/Base\n",
            "timezone: unknown time zone 'Mars/Base' (use an IANA name like America/New_York)",
            id="bad-timezone",
        ),
        pytest.param(
            "business_hours: {holidays: {country: XX}}\n",
            "business_hours.holidays.country: unknown holiday country 'XX' "
            "(use a code the holidays package knows, like US, GB or DE)",
            id="unknown-holiday-country",
        ),
        pytest.param(
            "business_hours: {holidays: {country: US, subdiv: ZZ}}\n",
            "business_hours.holidays.subdiv: unknown subdivision 'ZZ' of US",
            id="unknown-holiday-subdivision",
        ),
        pytest.param(
            "sla: {warn_at: [0.5, 1.0]}\n",
            "sla.warn_at: fractions must be strictly between 0 and 1 (got [0.5, 1.0])",
            id="warn-at-out-of-range",
        ),
        pytest.param(
            "sla: {warn_at: [0.9, 0.5]}\n",
            "sla.warn_at: must be in increasing order without repeats (got [0.9, 0.5])",
            id="warn-at-unsorted",
        ),
        pytest.param(
            "sla: {warn_at: [0.5, 0.5]}\n",
            "sla.warn_at: must be in increasing order without repeats (got [0.5, 0.5])",
            id="warn-at-repeated",
        ),
        pytest.param(
            "sla: {P2: {first_response: 30h}}\n",
            "sla.P2: first_response (1d6h) must not be longer than resolution (1d)",
            id="first-response-longer-than-resolution",
        ),
        pytest.param(
            "sla: {P1: {calendar: weekdays}}\n",
            "sla.P1.calendar: must be one of 24x7, business (got 'weekdays')",
            id="bad-calendar",
        ),
        pytest.param(
            "roles: {agents: [bob]}\n",
            "roles.agents[0]: must be a Slack user ID like U0123 or a user group ID like S0123 (got 'bob')",
            id="bad-role-member",
        ),
        pytest.param(
            "intake: {bot_allowlist: [U0BOT]}\n",
            "intake.bot_allowlist[0]: must be a Slack bot ID like B0123 (got 'U0BOT')",
            id="bad-bot-id",
        ),
        pytest.param(
            "surge: {min_tickets: 2, min_requesters: 3}\n",
            "surge.min_requesters: must not be more than min_tickets (2)",
            id="surge-requesters-over-tickets",
        ),
        pytest.param(
            "digest: {weekdays_only: sometimes}\n",
            "digest.weekdays_only: must be true or false (got 'sometimes')",
            id="bad-bool",
        ),
        pytest.param(
            "auto_priority: {P0: {keywords: outage}}\n",
            "auto_priority.P0.keywords: must be a list (got 'outage')",
            id="keywords-not-a-list",
        ),
        pytest.param("sla: 5\n", "sla: must be a mapping of keys to values (got 5)", id="section-not-mapping"),
        pytest.param(
            "customers:\n  acme: {aliases: [Globex]}\n  globex: {tier: pro}\n",
            "customers: 'globex' names both acme and globex; names and aliases must be unique",
            id="alias-names-two-customers",
        ),
        pytest.param(
            "customers:\n  acme: {name: Acme Corp}\n",
            "customers: customer acme: the name is the key; put other spellings in aliases",
            id="name-inside-customer",
        ),
    ],
)
def test_one_exact_line_per_problem(tmp_path: Path, text: str, expected: str) -> None:
    assert problems(tmp_path, text) == [expected]


def test_several_problems_give_several_lines(tmp_path: Path) -> None:
    text = (
        "timezone: Mars/Base\n"
        "channels: {triage: support}\n"
        "sla:\n"
        "  P1: {first_response: 1 hour}\n"
        "  bogus: 1\n"
        "customers:\n"
        "  acme: {tier: gold}\n"
    )
    assert problems(tmp_path, text) == [
        "timezone: unknown time zone 'Mars/Base' (use an IANA name like America/New_York)",
        f"channels.triage: {CHANNEL_HINT} (got 'support')",
        "sla.P1.first_response: invalid duration '1 hour' (use forms like 15m, 4h, 2d)",
        "sla.bogus: unknown key",
        "customers.acme.tier: must be one of free, pro, business, enterprise (got 'gold')",
    ]


def test_config_error_text_is_the_lines_joined(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "sla: {bogus: 1}\nchannels: {nope: 1}\n"))
    # In the order of the sections in frontline.example.yaml (channels before sla).
    assert str(caught.value) == "channels.nope: unknown key\nsla.bogus: unknown key"


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "channels:\n  triage: C0TRIAGE\n   intake: []\n")
    assert problems(tmp_path, path.read_text()) == [
        f"{path}: invalid YAML at line 3, column 10: mapping values are not allowed here"
    ]


def test_yaml_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "frontline.yaml"
    assert problems(tmp_path, "sla: {}\nchannels: {}\nsla: {warn_at: []}\n") == [
        f"{path}: invalid YAML at line 3, column 1: duplicate key 'sla'"
    ]


def test_top_level_list_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "frontline.yaml"
    assert problems(tmp_path, "- timezone: UTC\n- sla: {}\n") == [
        f"{path}: the top level must be a mapping of keys like timezone, channels, sla (got a list)"
    ]


def test_unreadable_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "frontline.yaml"
    path.write_bytes(b"timezone: \xff\xfe\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [line] = caught.value.problems
    assert line.startswith(f"{path}: cannot read the file (")


# ---------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------


def test_customer_lookup_is_case_insensitive_and_knows_aliases(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "customers:\n  acme: {tier: enterprise, arr: 120000, aliases: [Acme  Corp]}\n")
    )
    for spelling in ("acme", "ACME", " Acme ", "acme corp", "ACME CORP"):
        customer = config.customer(spelling)
        assert customer is not None, spelling
        assert (customer.name, customer.tier, customer.arr) == ("acme", "enterprise", 120000)
    assert config.customer("globex") is None


def test_numeric_customer_names_are_names(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "customers:\n  1042: {tier: pro}\n"))
    customer = config.customer("1042")
    assert customer is not None
    assert customer.tier == "pro"


def test_customers_from_csv_relative_to_config_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    # utf-8-sig: spreadsheets save CSV with a byte-order mark.
    (tmp_path / "data" / "customers.csv").write_text(
        "Name,Tier,ARR,aliases\nAcme,enterprise,120000,Acme Corp; ACME Inc\nsmallco,,,\n", encoding="utf-8-sig"
    )
    config = load_config(write(tmp_path, "customers: data/customers.csv\n"))
    acme = config.customer("acme inc")
    assert acme is not None
    assert (acme.name, acme.tier, acme.arr, acme.aliases) == ("Acme", "enterprise", 120000, ("Acme Corp", "ACME Inc"))
    smallco = config.customer("SMALLCO")
    assert smallco is not None
    assert (smallco.tier, smallco.arr) == ("free", 0)


def test_customers_csv_errors_name_the_line(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(
        "name,tier,arr\n"
        "acme,enterprise,120000\n"
        "globex,gold,40000\n"
        ",free,0\n"
        "ACME,free,1\n"
        "bigco,pro,lots\n"
        "\n"
        "wideco,pro,1,extra\n",
        encoding="utf-8",
    )
    assert problems(tmp_path, "customers: customers.csv\n") == [
        "customers: customers.csv line 3: tier: must be one of free, pro, business, enterprise (got 'gold')",
        "customers: customers.csv line 4: name: is required",
        "customers: customers.csv line 5: duplicate customer 'ACME' (first on line 2)",
        "customers: customers.csv line 6: arr: must be a number (got 'lots')",
        "customers: customers.csv line 8: more cells than columns",
    ]


def test_customers_csv_with_wrong_columns(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("name,tier,revenue\nacme,pro,1\n", encoding="utf-8")
    assert problems(tmp_path, "customers: customers.csv\n") == [
        "customers: customers.csv line 1: columns must be name, tier, arr, aliases (aliases optional); missing arr"
    ]


def test_customers_csv_missing_file(tmp_path: Path) -> None:
    assert problems(tmp_path, "customers: nowhere.csv\n") == [
        "customers: cannot read nowhere.csv (No such file or directory)"
    ]


# ---------------------------------------------------------------------------------------------
# Demo config and model behaviour
# ---------------------------------------------------------------------------------------------


def test_demo_config() -> None:
    config = demo_config()
    assert config.timezone == "America/New_York"
    assert config.business_hours.timezone == "America/New_York"
    channels = config.channels
    assert (channels.triage, channels.intake, channels.incidents, channels.social, channels.standup) == (
        "C_TRIAGE",
        ("C_HELP",),
        "C_INCIDENTS",
        "C_SOCIAL",
        "C_STANDUP",
    )
    assert (channels.escalation.L2, channels.escalation.L3, channels.escalation.management) == (
        "C_L2",
        "C_L3",
        "C_MGMT",
    )
    roles = config.roles
    assert (roles.agents, roles.l2, roles.l3, roles.leads, roles.admins) == (
        ("U_AGENT1", "U_AGENT2"),
        ("U_AGENT2",),
        ("U_ENG",),
        ("U_LEAD",),
        ("U_ADMIN",),
    )
    assert {name: (c.tier, c.arr) for name, c in config.customers.items()} == {
        "acme": ("enterprise", 120000),
        "globex": ("business", 40000),
        "smallco": ("free", 0),
    }
    assert config.sla == FrontlineConfig().sla


def test_models_are_frozen() -> None:
    config = demo_config()
    with pytest.raises(ValidationError):
        config.timezone = "UTC"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        config.sla.P0.resolution = timedelta(hours=1)  # type: ignore[misc]


def test_json_dump_uses_config_spellings() -> None:
    dumped: dict[str, Any] = demo_config().model_dump(mode="json")
    assert dumped["sla"]["P1"] == {"first_response": "1h", "resolution": "8h", "calendar": "business"}
    assert dumped["business_hours"]["start"] == "09:00"
    # What is dumped loads back to the same configuration.
    assert FrontlineConfig.model_validate(dumped) == demo_config()


# ---------------------------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("72h", timedelta(hours=72)),
        ("7d", timedelta(days=7)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d4h", timedelta(days=2, hours=4)),
        (" 1D2H3M ", timedelta(days=1, hours=2, minutes=3)),
        ("0m", timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "1 hour", "30m1h", "1h 30m", "-5m", "1.5h", "4w", "h", "1hh"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"invalid duration .* \(use forms like 15m, 4h, 2d\)$"):
        parse_duration(text)


@given(st.text(max_size=20))
def test_parse_duration_accepts_or_explains(text: str) -> None:
    try:
        parsed = parse_duration(text)
    except ValueError as error:
        assert repr(text) in str(error)
    else:
        assert parsed >= timedelta(0)


@pytest.mark.parametrize("text", ["99999999999d", "366d", "999999d", "8761h"])
def test_parse_duration_too_long(text: str) -> None:
    with pytest.raises(ValueError, match=r"is too long \(at most 365d\)"):
        parse_duration(text)
    assert parse_duration("365d") == timedelta(days=365)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(days=2, hours=4), "2d4h"),
        (timedelta(minutes=45), "45m"),
        (timedelta(0), "0m"),
        (timedelta(seconds=59), "0m"),
        (timedelta(hours=72), "3d"),
        (-timedelta(minutes=15), "-15m"),
    ],
)
def test_format_duration(duration: timedelta, expected: str) -> None:
    assert format_duration(duration) == expected


@given(st.integers(min_value=0, max_value=MAX_DURATION_MINUTES).map(lambda minutes: timedelta(minutes=minutes)))
def test_format_then_parse_round_trips(duration: timedelta) -> None:
    assert parse_duration(format_duration(duration)) == duration


@given(
    st.tuples(
        st.integers(0, 300) | st.none(), st.integers(0, 1_000) | st.none(), st.integers(0, 10_000) | st.none()
    ).filter(lambda parts: parts != (None, None, None))
)
def test_any_valid_spelling_parses_to_its_sum(parts: tuple[int | None, int | None, int | None]) -> None:
    days, hours, minutes = parts
    text = "".join(f"{count}{unit}" for count, unit in zip(parts, "dhm", strict=True) if count is not None)
    expected = timedelta(days=days or 0, hours=hours or 0, minutes=minutes or 0)
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected


# ---------------------------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_settings_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.slack_bot_token.get_secret_value() == ""
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite:///./frontline.db"
    assert settings.frontline_config == Path("./frontline.yaml")
    assert (settings.port, settings.log_level) == (3000, "INFO")


def test_settings_from_env(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    clean_env.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    clean_env.setenv("DATABASE_URL", "postgresql+psycopg://u@db/frontline")
    clean_env.setenv("FRONTLINE_CONFIG", "/etc/frontline.yaml")
    clean_env.setenv("PORT", "8080")
    clean_env.setenv("LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.slack_bot_token.get_secret_value() == "xoxb-secret"
    assert "xoxb-secret" not in repr(settings)
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.database_url == "postgresql+psycopg://u@db/frontline"
    assert settings.frontline_config == Path("/etc/frontline.yaml")
    assert (settings.port, settings.log_level) == (8080, "DEBUG")


def test_settings_empty_variable_means_unset(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PORT", "")
    assert load_settings().port == 3000


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PORT", "abc", "env PORT: must be an integer between 1 and 65535 (got 'abc')"),
        ("PORT", "0", "env PORT: must be an integer between 1 and 65535 (got '0')"),
        ("PORT", "70000", "env PORT: must be an integer between 1 and 65535 (got '70000')"),
        ("LOG_LEVEL", "loud", "env LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got 'loud')"),
        (
            "SLACK_API_URL",
            "slack.com/api",
            "env SLACK_API_URL: must be an http(s) URL like https://slack.com/api/ (got 'slack.com/api')",
        ),
        (
            "DATABASE_URL",
            "mysql://root:secret@db/frontline",
            "env DATABASE_URL: must be sqlite:///path/to/frontline.db or "
            "postgresql+psycopg://user:pass@host/db (got 'mysql://root:***@db/frontline')",
        ),
        (
            "DATABASE_URL",
            "postgresql+psycopg://u:secret@h:notaport/db",
            "env DATABASE_URL: is not a valid URL: 'postgresql+psycopg://u:***@h:notaport/db' (use "
            "sqlite:///path/to/frontline.db or postgresql+psycopg://user:pass@host/db)",
        ),
        (
            "DATABASE_URL",
            "sqlite:///",
            "env DATABASE_URL: names no SQLite file: use sqlite:///path/to/frontline.db (sqlite:/// alone is empty)",
        ),
        ("SLACK_BOT_TOKEN", "xoxp-12-34", "env SLACK_BOT_TOKEN: must be a bot token (xoxb-…), got xoxp-…"),
        ("SLACK_APP_TOKEN", "xoxb-1", "env SLACK_APP_TOKEN: must be an app-level token (xapp-…), got xoxb-…"),
        (
            "SLACK_SIGNING_SECRET",
            "   ",
            "env SLACK_SIGNING_SECRET: is blank: copy the Signing Secret from the app's Basic Information page",
        ),
    ],
)
def test_settings_errors_are_one_line(clean_env: pytest.MonkeyPatch, name: str, value: str, expected: str) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.problems == [expected]


def test_settings_several_errors(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PORT", "abc")
    clean_env.setenv("LOG_LEVEL", "loud")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.problems == [
        "env PORT: must be an integer between 1 and 65535 (got 'abc')",
        "env LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got 'loud')",
    ]


def test_settings_keyword_construction_normalises_too(clean_env: pytest.MonkeyPatch) -> None:
    assert Settings(slack_api_url="http://localhost:1/api").slack_api_url == "http://localhost:1/api/"


@pytest.mark.parametrize("url", ["postgres://u:p@db:5432/frontline", "postgresql://u:p@db:5432/frontline"])
def test_heroku_style_postgres_urls_use_the_shipped_driver(clean_env: pytest.MonkeyPatch, url: str) -> None:
    clean_env.setenv("DATABASE_URL", url)
    assert load_settings().database_url == "postgresql+psycopg://u:p@db:5432/frontline"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            'name,tier,arr\n"unterminated,free,0\nglobex,enterprise,5\n',
            "customers: customers.csv line 3: a quoted cell runs over several lines (is a closing quote missing?)",
        ),
        (
            "name,name,tier,arr\nacme,acme,pro,1\n",
            "customers: customers.csv line 1: column name appears more than once",
        ),
    ],
)
def test_customers_csv_quoting_and_header_mistakes_are_reported(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "customers.csv").write_text(content)
    config = tmp_path / "frontline.yaml"
    config.write_text("customers: customers.csv\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert caught.value.problems == [expected]


@pytest.mark.parametrize(
    ("written", "read"),
    [("monday", "mon"), ("Tuesday", "tue"), ("wednesday", "wed"), ("THURSDAY", "thu"), ("friday", "fri"),
     ("saturday", "sat"), ("sunday", "sun"), ("tue", "tue")],
)  # fmt: skip
def test_weekdays_may_be_written_in_full(written: str, read: str) -> None:
    assert parse_config({"business_hours": {"days": [written]}}).business_hours.days == (read,)
    assert parse_config({"digest": {"weekly_day": written}}).digest.weekly_day == read


def test_a_secret_pasted_into_the_wrong_key_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"channels": {"triage": "xoxb-111-222-secretpart"}, "roles": {"agents": ["jane@acme.io"]}})
    assert "secretpart" not in str(raised.value) and "jane@" not in str(raised.value)
    assert "(got '[token]')" in str(raised.value) and "[email]" in str(raised.value)
