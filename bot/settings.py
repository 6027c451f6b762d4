"""The process environment (secrets, URLs, port), read once at start-up by pydantic-settings.

What a deployment changes per box lives here; what a support team decides lives in
frontline.yaml (bot/config.py). Problems come out as ConfigError lines such as
"env PORT: must be an integer between 1 and 65535 (got 'abc')".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config import ConfigError, Loc, choice_of, describe_validation_error

__all__ = ["DEFAULT_SLACK_API_URL", "Settings", "load_settings"]

DEFAULT_SLACK_API_URL = "https://slack.com/api/"

LogLevelName = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _port(value: object) -> object:
    # One message for "not a number" and "out of range": the fix is the same either way.
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.isascii() and text.isdigit():
        text = int(text)
    if isinstance(text, int) and not isinstance(text, bool) and 1 <= text <= 65535:
        return text
    raise ValueError(f"must be an integer between 1 and 65535 (got {value!r})")


def _api_url(url: str) -> str:
    # slack_sdk joins base URL and method name by plain concatenation, so the "/" matters.
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"must be an http(s) URL like {DEFAULT_SLACK_API_URL} (got {url!r})")
    return url if url.endswith("/") else url + "/"


_POSTGRES_ALIASES = ("postgres://", "postgresql://")  # what Heroku, Dokku and libpq users write


_DATABASE_URL_FORMS = "sqlite:///path/to/frontline.db or postgresql+psycopg://user:pass@host/db"


def _database_url(url: str) -> str:
    if url.startswith(_POSTGRES_ALIASES):
        # The driver Frontline ships with is psycopg 3; name it so SQLAlchemy does not look for psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not url.startswith(("sqlite:///", "postgresql+psycopg://")):
        raise ValueError(f"must be {_DATABASE_URL_FORMS} (got {_without_password(url)!r})")
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - parsing the port is the check: "h:notaport" fails only here
    except (ArgumentError, ValueError):
        raise ValueError(f"is not a valid URL: {_without_password(url)!r} (use {_DATABASE_URL_FORMS})") from None
    if parsed.get_backend_name() == "sqlite" and not parsed.database:
        raise ValueError("names no SQLite file: use sqlite:///path/to/frontline.db (sqlite:/// alone is empty)")
    return url


def _without_password(url: str) -> str:
    """The URL with any password replaced, so an error message never echoes it."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, location = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{location}" if ":" in credentials else url


def _token_kind(prefix: str, kind: str) -> Callable[[SecretStr], SecretStr]:
    """A Slack token of the right kind: a user token (xoxp-) where a bot token belongs fails later,
    at the first call, with a less helpful error."""

    def check(token: SecretStr) -> SecretStr:
        value = token.get_secret_value().strip()
        if value and not value.startswith(prefix):
            shown = value.split("-", 1)[0] + "-…" if "-" in value else "no recognisable prefix"
            raise ValueError(f"must be {kind} ({prefix}…), got {shown}")
        return SecretStr(value)

    return check


def _signing_secret(secret: SecretStr) -> SecretStr:
    value = secret.get_secret_value()
    if value and not value.strip():
        raise ValueError("is blank: copy the Signing Secret from the app's Basic Information page")
    return SecretStr(value.strip())


class Settings(BaseSettings):
    """Environment variables, each named as the field in upper case (PORT, LOG_LEVEL, ...)."""

    # env_ignore_empty: "PORT=" (as `docker run -e PORT=` or an unset compose variable leaves
    # it) means "not set", not "set to nothing".
    model_config = SettingsConfigDict(case_sensitive=False, env_ignore_empty=True, extra="ignore", frozen=True)

    slack_bot_token: Annotated[SecretStr, AfterValidator(_token_kind("xoxb-", "a bot token"))] = SecretStr("")
    slack_signing_secret: Annotated[SecretStr, AfterValidator(_signing_secret)] = SecretStr("")
    # Socket Mode only
    slack_app_token: Annotated[SecretStr, AfterValidator(_token_kind("xapp-", "an app-level token"))] = SecretStr("")
    slack_api_url: Annotated[str, AfterValidator(_api_url)] = DEFAULT_SLACK_API_URL
    database_url: Annotated[str, AfterValidator(_database_url)] = "sqlite:///./frontline.db"
    frontline_config: Path = Path("./frontline.yaml")
    frontline_playbooks: Path | None = None  # a directory of playbook YAML files; default: those shipped
    port: Annotated[int, BeforeValidator(_port)] = 3000
    log_level: Annotated[LogLevelName, choice_of(LogLevelName, {"WARN": "WARNING", "FATAL": "CRITICAL"})] = "INFO"
    # Messages a second per channel the worker sends (Slack's limit is about 1); 0 = no pacing, for
    # the stand-in, which has no limit.
    slack_channel_rate: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 1.0


def _env_name(loc: Loc) -> str:
    return f"env {str(loc[0]).upper()}" if loc else "env"


def load_settings() -> Settings:
    """Settings from the environment; ConfigError (one line per bad variable) if any is unusable."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error, where=_env_name)) from None
