"""Typed settings from the environment (and an optional .env), failing fast on bad values.

DatabaseSettings is the one place the database is configured: `walkbot migrate`, Alembic's
env.py and the console need only it, with no token; Settings (for `walkbot run`) extends it.
Both read the process environment first, then `.env` in the working directory."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
DEFAULT_DATABASE_URL = "sqlite:///walkbot.db"


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = DEFAULT_DATABASE_URL

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("postgres://"):  # Heroku-style; SQLAlchemy knows only postgresql://
            value = "postgresql://" + value.removeprefix("postgres://")
        if not (value.startswith("sqlite") or value.startswith("postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value


class Settings(DatabaseSettings):
    """Everything `walkbot run` needs: the database, and the bot token with the rest."""

    telegram_bot_token: SecretStr
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # The web layer's port (/healthz, and /telegram with a webhook); 0: any free port (tests).
    port: int = Field(default=8443, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # How often the dispatcher looks for due nudges; small in tests.
    dispatch_interval_seconds: float = Field(default=10.0, gt=0, le=3600)
    # A group challenge's board is edited in place at most once per this: with its daily posts
    # that stays well inside Telegram's 20 messages a minute per group. Small in tests.
    board_edit_gap_seconds: float = Field(default=30.0, ge=0, le=3600)
    # A gentle reminder when a finished walk is not rated within this time.
    rating_reminder_minutes: float = Field(default=30.0, gt=0, le=24 * 60)
    # How often walks and six-minute tests past their end are looked for, and how long past
    # it they must be, to be wrapped up as their last cue would have (its send failed, or the
    # database was down over it). Small in tests.
    overdue_sweep_seconds: float = Field(default=60.0, gt=0, le=3600)
    overdue_grace_seconds: float = Field(default=30.0, ge=0, le=3600)
    # Length of the guided six-minute walk test; tests set 6 so each "minute" is 1 s.
    six_minute_test_seconds: int = Field(default=360, ge=6, le=360)
    # Set only by tests and the console: the local fake Bot API has no rate limits to respect.
    rate_limit: bool = True
    # The live-walk screen (a Telegram Mini App): its public https address (served by the web
    # layer at /live/). Unset: no Live screen button anywhere, chat cues only.
    webapp_url: str | None = None
    # How old a live screen's signed initData may be before its requests are refused.
    webapp_auth_max_age_seconds: int = Field(default=86400, ge=60, le=7 * 86400)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not TOKEN_PATTERN.match(value.get_secret_value().strip()):
            raise ValueError(
                "does not look like a bot token (expected digits, a colon, then 30+ letters, "
                "digits, _ or -, as @BotFather gives it)"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://", value):
            raise ValueError(
                "must start with http:// or https:// (e.g. https://api.telegram.org/bot)"
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith("https://") and not value.startswith("http://127.0.0.1"):
            raise ValueError("must be an https:// URL that Telegram can reach")
        return value

    @field_validator("webapp_url")
    @classmethod
    def _webapp_url(cls, value: str | None) -> str | None:
        """Telegram opens Mini Apps over https only; the query (?walk=12) is added here."""
        if value is None or not value.strip():
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("must be an https:// address (Telegram opens Mini Apps over https)")
        if parts.query or parts.fragment:
            raise ValueError("must have no ?query or #fragment (walkbot adds ?walk=<id>)")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url is None:
            return self
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ValueError(
                "WEBHOOK_SECRET must be set with WEBHOOK_URL: "
                "16-256 characters of A-Z, a-z, 0-9, _ or -"
            )
        return self
