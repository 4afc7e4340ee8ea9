"""`walkbot run | migrate | console`: read settings, build the application, run it."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import ValidationError

from walkbot.settings import DatabaseSettings, Settings

Loaded = TypeVar("Loaded")

EXIT_CONFIG = 2

SETUP_HELP = """\
walkbot needs a Telegram bot token to run.
  1. In Telegram, message @BotFather, send /newbot, and copy the token it gives you.
  2. Run:  TELEGRAM_BOT_TOKEN=123456789:AA... walkbot run   (or put it in a .env file)
To try walkbot offline first, with no token and no Telegram:  walkbot console"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="walkbot", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (polling, or webhook when WEBHOOK_URL is set)")
    commands.add_parser("migrate", help="upgrade the database schema to the latest version")
    console = commands.add_parser("console", help="chat with walkbot offline in this terminal")
    console.add_argument("--database-url", default=None, help="default: a walkbot-console.db file")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        return _migrate()
    if args.command == "console":
        return _console(args.database_url)
    if args.command in (None, "run"):
        return _run()
    parser.print_help()
    return EXIT_CONFIG


def load_settings() -> Settings | None:
    """Settings from the environment, or None after one clear line on stderr."""
    if not os.environ.get("TELEGRAM_BOT_TOKEN") and not _dotenv_has_token():
        print(SETUP_HELP, file=sys.stderr)
        return None
    return _reported(Settings)


def load_database_settings(database_url: str | None = None) -> DatabaseSettings | None:
    """The database settings (`database_url` given here wins over the environment and .env),
    or None after one clear line on stderr."""
    if database_url is None:
        return _reported(DatabaseSettings)
    return _reported(lambda: DatabaseSettings(database_url=database_url))


def _reported(load: Callable[[], Loaded]) -> Loaded | None:
    try:
        return load()
    except ValidationError as error:
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"]) or "settings"
            message = problem["msg"].removeprefix("Value error, ")
            print(f"walkbot: {field.upper()} {message}", file=sys.stderr)
        return None


def _dotenv_has_token() -> bool:
    try:
        with open(".env", encoding="utf-8") as env:
            return any(line.strip().startswith("TELEGRAM_BOT_TOKEN=") for line in env)
    except OSError:
        return False


def _migrate() -> int:
    settings = load_database_settings()
    if settings is None:
        return EXIT_CONFIG
    from walkbot.store.migrate import upgrade

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    upgrade(settings.database_url)
    return 0


def _console(database_url: str | None) -> int:
    """The console keeps its own database (walkbot-console.db) unless given one: chatting
    offline never writes into the DATABASE_URL the real bot uses."""
    if database_url is not None:
        settings = load_database_settings(database_url)
        if settings is None:
            return EXIT_CONFIG
        database_url = settings.database_url
    from walkbot.sandbox.console import run_console

    return run_console(database_url=database_url)


def _run() -> int:
    settings = load_settings()
    if settings is None:
        return EXIT_CONFIG
    from walkbot.runner import run

    return run(settings)
