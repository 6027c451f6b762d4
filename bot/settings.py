"""The process environment (secrets, URLs, port), read once at start-up by pydantic-settings.

What a deployment changes per box lives here; what a support team decides lives in
frontline.yaml (bot/config.py). Problems come out as ConfigError lines such as
"env PORT: must be an integer between 1 and 65535 (got 'abc')".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config import ConfigError, Loc, choice_of, describe_validation_error

__all__ = ["DEFAULT_SLACK_API_URL", "Settings", "load_settings"]

DEFAULT_SLACK_API_URL = "https://slack.com/api/"

LogLevelName = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _port(value: object) -> object:
    # One message for "not a number" and "out of range": the fix is the same either way.
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.isdigit():
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


def _database_url(url: str) -> str:
    if url.startswith(_POSTGRES_ALIASES):
        # The driver Frontline ships with is psycopg 3; name it so SQLAlchemy does not look for psycopg2.
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if not url.startswith(("sqlite:///", "postgresql+psycopg://")):
        shown = url.rsplit("@", maxsplit=1)[-1] if "@" in url else url  # never echo a password
        raise ValueError(
            f"must be sqlite:///path/to/frontline.db or postgresql+psycopg://user:pass@host/db (got {shown!r})"
        )
    return url


class Settings(BaseSettings):
    """Environment variables, each named as the field in upper case (PORT, LOG_LEVEL, ...)."""

    # env_ignore_empty: "PORT=" (as `docker run -e PORT=` or an unset compose variable leaves
    # it) means "not set", not "set to nothing".
    model_config = SettingsConfigDict(case_sensitive=False, env_ignore_empty=True, extra="ignore", frozen=True)

    slack_bot_token: SecretStr = SecretStr("")
    slack_signing_secret: SecretStr = SecretStr("")
    slack_app_token: SecretStr = SecretStr("")  # Socket Mode only
    slack_api_url: Annotated[str, AfterValidator(_api_url)] = DEFAULT_SLACK_API_URL
    database_url: Annotated[str, AfterValidator(_database_url)] = "sqlite:///./frontline.db"
    frontline_config: Path = Path("./frontline.yaml")
    port: Annotated[int, BeforeValidator(_port)] = 3000
    log_level: Annotated[LogLevelName, choice_of(LogLevelName, {"WARN": "WARNING", "FATAL": "CRITICAL"})] = "INFO"


def _env_name(loc: Loc) -> str:
    return f"env {str(loc[0]).upper()}" if loc else "env"


def load_settings() -> Settings:
    """Settings from the environment; ConfigError (one line per bad variable) if any is unusable."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error, where=_env_name)) from None
