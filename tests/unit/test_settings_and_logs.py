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


class FakePgError(Exception):
    """Shaped like psycopg's NotNullViolation: the detail quotes the whole row."""

    __module__ = "psycopg.errors"  # where the driver's errors live
    sqlstate = "23502"

    class diag:  # psycopg's names: table, column, constraint; never the row
        table_name, column_name, constraint_name = "users", "units", None


def _logged(formatter: logging.Formatter, record: logging.LogRecord, error: BaseException) -> str:
    try:
        raise error
    except BaseException:
        import sys

        record.exc_info = sys.exc_info()
    return formatter.format(record)


def test_database_errors_in_tracebacks_quote_no_values() -> None:
    from sqlalchemy.exc import IntegrityError

    detail = 'null value in "units"\nDETAIL: Failing row contains (7, Zelda, {"heart": true})'
    orig = FakePgError(detail)
    error = IntegrityError("INSERT INTO users (name) VALUES (%(name)s)", {"name": "Zelda"}, orig)
    error.__cause__ = orig
    formatter = RedactingFormatter("%(message)s", [TEST_TOKEN])
    record = logging.LogRecord("walkbot", logging.ERROR, __file__, 1, "handler failed", (), None)
    record.exc_text = f"cached by another handler: {detail}"  # never reused
    text = _logged(formatter, record, error)
    assert "Zelda" not in text and "heart" not in text
    assert "IntegrityError: FakePgError (23502) table=users column=units" in text
    assert "[SQL: INSERT INTO users (name) VALUES (%(name)s)]" in text
    assert "Traceback (most recent call last)" in text


def test_other_exceptions_keep_their_words_and_chain() -> None:
    formatter = RedactingFormatter("%(message)s", [TEST_TOKEN])
    record = logging.LogRecord("walkbot", logging.ERROR, __file__, 1, "failed", (), None)
    try:
        raise KeyError("first")
    except KeyError as first:
        second = RuntimeError("second")
        second.__context__ = first
    text = _logged(formatter, record, second)
    assert text.index("KeyError: 'first'") < text.index("RuntimeError: second")


def test_ptb_warnings_withhold_the_data_they_quote() -> None:
    update = {"message": {"text": "Zelda's private note", "from": {"first_name": "Zelda"}}}
    record = logging.LogRecord(
        "telegram.ext.Updater",
        logging.CRITICAL,
        __file__,
        1,
        "Received data was *not* processed! Received data was: %r (update %s)",
        (update, 42),
        None,
    )
    text = RedactingFormatter("%(message)s", []).format(record)
    assert "Zelda" not in text and "<withheld>" in text and "(update 42)" in text


def test_chatty_loggers_stay_quiet_even_at_debug() -> None:
    from walkbot.logs import QUIET, configure_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level, {name: logging.getLogger(name).level for name in QUIET}
    try:
        configure_logging("DEBUG", secrets=[])
        assert not logging.getLogger("telegram.ext.ExtBot").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)
        assert not logging.getLogger("aiosqlite").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("walkbot").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


def test_engines_hide_parameters(tmp_path: Path) -> None:
    from walkbot.store.db import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert engine.sync_engine.hide_parameters
