"""Settings fail fast with clear words; logs never show the token."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from walkbot.logs import RedactingFormatter
from walkbot.sandbox import TEST_TOKEN
from walkbot.settings import DEFAULT_DATABASE_URL, DatabaseSettings, Settings


def make(**values: object) -> Settings:
    return Settings(telegram_bot_token=TEST_TOKEN, _env_file=None, **values)  # type: ignore[arg-type]


def test_heroku_style_postgres_urls_are_rewritten() -> None:
    settings = DatabaseSettings(database_url="postgres://u@h/db", _env_file=None)
    assert settings.database_url == "postgresql://u@h/db"


@pytest.mark.parametrize(
    ("environment", "dotenv", "expected"),
    [
        (None, None, DEFAULT_DATABASE_URL),
        (None, "sqlite:///from-dotenv.db", "sqlite:///from-dotenv.db"),
        ("sqlite:///from-env.db", None, "sqlite:///from-env.db"),
        ("sqlite:///from-env.db", "sqlite:///from-dotenv.db", "sqlite:///from-env.db"),
    ],
)
def test_the_environment_wins_over_dotenv_for_the_database_and_the_bot_alike(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    environment: str | None,
    dotenv: str | None,
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TEST_TOKEN)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    if environment is not None:
        monkeypatch.setenv("DATABASE_URL", environment)
    if dotenv is not None:
        (tmp_path / ".env").write_text(f"DATABASE_URL={dotenv}\n", encoding="utf-8")
    assert DatabaseSettings().database_url == expected
    assert Settings().database_url == expected


@pytest.mark.parametrize(
    "values",
    [
        {"telegram_bot_token": "nonsense"},
        {"database_url": "mysql://root@localhost/x"},
        {"telegram_api_base_url": "api.telegram.org/bot"},
        {"log_level": "CHATTY"},
        {"port": 70000},
    ],
)
def test_bad_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**{"telegram_bot_token": TEST_TOKEN, "_env_file": None, **values})  # type: ignore[arg-type]


def test_the_token_is_secret_in_reprs_and_logs() -> None:
    settings = make()
    assert TEST_TOKEN not in repr(settings)
    formatter = RedactingFormatter("%(message)s", [TEST_TOKEN])
    record = logging.LogRecord(
        "httpx", logging.ERROR, __file__, 1, "POST %s failed", (f"/bot{TEST_TOKEN}/getMe",), None
    )
    try:
        raise RuntimeError(f"connect to /bot{TEST_TOKEN}/sendMessage")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    text = formatter.format(record)
    assert TEST_TOKEN not in text
    assert "/bot<redacted>/getMe" in text and "/bot<redacted>/sendMessage" in text
