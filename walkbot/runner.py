"""Start the bot for real: logging, schema check, then the Application (polling or webhook)
and walkbot's web layer (walkbot/web.py, on $PORT) until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from telegram import Update
from telegram.error import Conflict, TelegramError

from walkbot.app import build_application
from walkbot.clock import Clock
from walkbot.context import WalkbotApp
from walkbot.logs import configure_logging
from walkbot.settings import Settings
from walkbot.store.db import is_sqlite
from walkbot.store.migrate import is_at_head, upgrade
from walkbot.web import WEBHOOK_PATH, PortUnavailable, WebServer, build_web_app

log = logging.getLogger("walkbot")
LISTEN_ALL = "0.0.0.0"  # noqa: S104 - Telegram and the platform's health checks must reach it


class Running:
    """The Application and the web layer, started and stopped in order: PTB's run_polling and
    run_webhook sequence, with walkbot's web app in place of PTB's Tornado server and without
    signal handling (run() adds it; tests and the console drive this directly).

    `web_port`: where the web layer listens (0: any free port, None: no web layer, which only
    polling allows). Start: the socket is bound first (a taken port fails before any call to
    Telegram), then initialize, post_init, start, serve, and set_webhook or start polling.
    Stop: polling or serving ends (requests in flight finish), then stop and shutdown."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        host: str = LISTEN_ALL,
        web_port: int | None = None,
        poll_timeout: int = 10,
    ) -> None:
        if web_port is None and settings.webhook_url:
            raise ValueError("a webhook needs the web layer")
        self.settings, self.clock, self.host = settings, clock, host
        self.web_port, self.poll_timeout = web_port, poll_timeout
        self.app: WalkbotApp | None = None
        self.web: WebServer | None = None
        # Set when Telegram answers getUpdates with 409: another process polls with this token.
        self.conflict = asyncio.Event()

    async def start(self) -> None:
        settings = self.settings
        app = build_application(settings, clock=self.clock)
        web = None
        if self.web_port is not None:
            try:
                web = WebServer(
                    build_web_app(app, settings),
                    host=self.host,
                    port=self.web_port,
                    log_level=settings.log_level,
                )
            except BaseException:  # the port is taken: close the database engine again
                if app.post_shutdown is not None:
                    await app.post_shutdown(app)
                raise
        try:
            await app.initialize()
            if app.post_init is not None:
                await app.post_init(app)
            await app.start()
            if web is not None:
                await web.start()
            if settings.webhook_url:
                secret = settings.webhook_secret
                assert secret is not None  # Settings refuses a webhook without one
                await app.bot.set_webhook(
                    url=settings.webhook_url,
                    secret_token=secret.get_secret_value(),
                    allowed_updates=Update.ALL_TYPES,
                )
            else:
                assert app.updater is not None
                await app.updater.start_polling(
                    poll_interval=0,
                    timeout=self.poll_timeout,
                    allowed_updates=Update.ALL_TYPES,
                    error_callback=self._polling_error,
                )
        except BaseException:  # e.g. Telegram refused the webhook: leave nothing open behind
            self.app, self.web = app, web
            await self.stop()
            raise
        self.app, self.web = app, web

    def _polling_error(self, error: TelegramError) -> None:
        """PTB retries a failed getUpdates for ever. A 409 will not pass: another walkbot is
        polling with this token (or a webhook is set), and two would split the updates between
        them. Say so once and let the caller stop; anything else is retried, as PTB does."""
        if isinstance(error, Conflict):
            if not self.conflict.is_set():
                log.error("another process is receiving this bot's updates (409); stopping")
            self.conflict.set()
        else:
            log.warning("polling failed, retrying: %s", error)

    async def stop(self) -> None:
        app, self.app = self.app, None
        web, self.web = self.web, None
        if app is None:
            if web is not None:
                await web.stop()
            return
        if app.updater is not None and app.updater.running:
            await app.updater.stop()  # confirms the polling offset of what was received
        if web is not None:
            await web.stop()  # no new updates; those in flight are put in the queue first
        if app.running:
            await app.stop()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


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
    try:
        conflict = asyncio.run(_serve(settings))
    except PortUnavailable as error:
        print(f"walkbot: {error.strerror}", file=sys.stderr)
        return 2
    log.info("walkbot stopped")
    if conflict:
        print(
            "walkbot: another process is receiving this bot's updates (Telegram said 409); "
            "stop it (or delete its webhook), then start this one again",
            file=sys.stderr,
        )
        return 3
    return 0


async def _serve(settings: Settings) -> bool:
    """Run until a signal or a polling conflict; True when a conflict stopped it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    running = Running(settings, web_port=settings.port)
    mode = f"webhook at {WEBHOOK_PATH}" if settings.webhook_url else "polling"
    log.info("walkbot starting (%s)", mode)
    await running.start()
    assert running.web is not None
    log.info("walkbot running (web layer on port %s: /healthz)", running.web.port)
    conflict = asyncio.ensure_future(running.conflict.wait())
    signalled = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({conflict, signalled}, return_when=asyncio.FIRST_COMPLETED)
        log.info("walkbot stopping")
    finally:
        conflict.cancel()
        signalled.cancel()
        await running.stop()
    return running.conflict.is_set()
