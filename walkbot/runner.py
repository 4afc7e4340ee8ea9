"""Start the bot for real: logging, schema check, then polling or webhook until a signal."""

from __future__ import annotations

import logging
import sys
from typing import Any

from telegram import Update

from walkbot.app import build_application
from walkbot.logs import configure_logging
from walkbot.settings import Settings
from walkbot.store.db import is_sqlite
from walkbot.store.migrate import is_at_head, upgrade

log = logging.getLogger("walkbot")
WEBHOOK_PATH = "telegram"


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Telegram must send WEBHOOK_SECRET in X-Telegram-Bot-Api-Secret-Token; PTB answers 403
    to any update without it."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    return {
        "url_path": WEBHOOK_PATH,
        "webhook_url": settings.webhook_url,
        "secret_token": secret,
        "allowed_updates": Update.ALL_TYPES,
    }


def run(settings: Settings) -> int:
    secrets = [settings.telegram_bot_token.get_secret_value()]
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    configure_logging(settings.log_level, secrets=secrets)
    if is_sqlite(settings.database_url):
        upgrade(settings.database_url)  # the embedded database needs no separate step
    elif not is_at_head(settings.database_url):
        print("walkbot: the database schema is out of date; run `walkbot migrate`", file=sys.stderr)
        return 2
    app = build_application(settings)
    if settings.webhook_url:
        log.info("walkbot starting (webhook on port %s)", settings.port)
        app.run_webhook(
            listen="0.0.0.0",  # noqa: S104 - a webhook must accept Telegram's connections
            port=settings.port,
            **webhook_options(settings),
        )
    else:
        log.info("walkbot starting (polling)")
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    log.info("walkbot stopped")
    return 0
