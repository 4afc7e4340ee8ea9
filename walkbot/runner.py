"""Start the bot for real: logging, schema check, then the Application (polling or webhook)
and walkbot's web layer (walkbot/web.py, on $PORT) until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time

from telegram import Update
from telegram.error import Conflict, TelegramError

from walkbot.app import build_application
from walkbot.clock import Clock
from walkbot.context import WalkbotApp, runtime_of
from walkbot.lease import Lease, lease_for
from walkbot.logs import configure_logging
from walkbot.settings import Settings
from walkbot.store.db import is_sqlite
from walkbot.store.migrate import is_at_head, upgrade
from walkbot.web import WEBHOOK_PATH, PortUnavailable, WebServer, build_web_app

log = logging.getLogger("walkbot")
# Two 409s from getUpdates this close together: another poller, not a handover's overlap.
CONFLICT_WINDOW_S = 60.0
LISTEN_ALL = "0.0.0.0"  # noqa: S104 - Telegram and the platform's health checks must reach it


class Running:
    """The Application and the web layer, started and stopped in order: PTB's run_polling and
    run_webhook sequence, with walkbot's web app in place of PTB's Tornado server and without
    signal handling (run() adds it; tests and the console drive this directly).

    `web_port`: where the web layer listens (0: any free port, None: no web layer, which only
    polling allows). Start: the socket is bound first (a taken port fails before any call to
    Telegram), then initialize and serve: a standby (walkbot/lease.py). Once the lease is
    held (`leading`; `wait_leading`), `_start_leading`: post_init, start, and set_webhook or
    start polling. `term` ends when the lease is lost: the caller then stops this. Stop:
    polling or serving ends (requests in flight finish), then stop and shutdown, and the
    lease is given back last."""

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
        # Only the lease holder leads (walkbot/lease.py); the others are standbys.
        self.lease: Lease = lease_for(settings.database_url)
        self.term: asyncio.Task[None] | None = None  # _lead: ends when the lease is lost
        self.leading = asyncio.Event()
        # Set when Telegram answers getUpdates with 409: another process polls with this token.
        self.conflict = asyncio.Event()
        self._last_conflict: float | None = None  # time.monotonic() of the last 409

    async def start(self) -> None:
        """Everything a standby runs (the Application initialised, the web layer serving),
        then the lease task: once the lease is ours, `_lead` starts the leader's work."""
        settings = self.settings
        app = build_application(settings, clock=self.clock)
        runtime_of(app).vitals.role = "standby"  # until the lease is ours
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
        self.app, self.web = app, web
        try:
            await app.initialize()
            if web is not None:
                await web.start()
        except BaseException:
            await self.stop()
            raise
        self.term = asyncio.create_task(self._lead(app))

    async def wait_leading(self) -> None:
        """Until this process leads (raises what stopped it from starting to)."""
        assert self.term is not None, "not started"
        leading = asyncio.ensure_future(self.leading.wait())
        try:
            await asyncio.wait({leading, self.term}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            leading.cancel()
        if self.term.done():
            self.term.result()  # raises what failed
            raise RuntimeError("the lease was lost before leading")

    async def _lead(self, app: WalkbotApp) -> None:
        """The leader's term: wait for the lease, do the leader's work until the lease is
        lost (then return: the caller steps down). Raises when the work cannot start."""
        waited = time.monotonic()
        await self.lease.acquire()
        log.info(
            "walkbot leading (%s, after %.1f s as a standby)",
            self.lease.name,
            time.monotonic() - waited,
        )
        await self._start_leading(app)
        runtime_of(app).vitals.role = "leader"
        self.leading.set()
        await self.lease.lost.wait()
        log.error("walkbot lost the lease: stepping down")

    async def _start_leading(self, app: WalkbotApp) -> None:
        """What only the leader does: post_init (menus, cues.restore, sixmin.restore, the
        dispatcher, the overdue sweep), the JobQueue and update handling, then polling or
        the webhook. Stopped by `stop` in reverse order."""
        settings = self.settings
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
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

    def _polling_error(self, error: TelegramError) -> None:
        """PTB retries a failed getUpdates for ever. A 409 that repeats will not pass: another
        walkbot is polling with this token (or a webhook is set), and two would split the
        updates between them. Say so once and let the caller stop; anything else is retried,
        as PTB does. A single 409 is retried: when the lease passes on, the old leader's last
        getUpdates (confirming its offset as it stops) can end the new leader's first long
        poll once, and Telegram answers that one with 409. A 409 while the lease is in doubt
        (walkbot/lease.py) means another process took it: step down."""
        if isinstance(error, Conflict):
            if self.lease.in_doubt.is_set():
                # Our lease session failed and another process polls: it holds the lease.
                log.error("Telegram said 409 while the lease was in doubt: another leads")
                self.lease.lost.set()
                return
            now = time.monotonic()
            last, self._last_conflict = self._last_conflict, now
            if last is None or now - last > CONFLICT_WINDOW_S:
                log.warning("Telegram said 409 once (a getUpdates overlapped); retrying")
                return
            if not self.conflict.is_set():
                log.error("another process is receiving this bot's updates (409); stopping")
            self.conflict.set()
        else:
            log.warning("polling failed, retrying: %s", error)

    async def stop(self) -> None:
        """Stops whatever runs, leader's work first, and gives the lease back last: a
        standby takes over only once nothing here acts any more."""
        term, self.term = self.term, None
        if term is not None and not term.done():
            term.cancel()  # a standby waiting, or a leader watching its lease
            with contextlib.suppress(asyncio.CancelledError):
                await term
        app, self.app = self.app, None
        web, self.web = self.web, None
        try:
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
        finally:
            self.leading.clear()
            await self.lease.release()


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
    """Run until a signal or a polling conflict; True when a conflict stopped it. A process
    waits as a standby until it holds the lease; a leader that loses the lease stops all its
    work at once and waits as a standby again (with a fresh Application)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    mode = f"webhook at {WEBHOOK_PATH}" if settings.webhook_url else "polling"
    while True:
        running = Running(settings, web_port=settings.port)
        log.info("walkbot starting (%s)", mode)
        await running.start()
        assert running.web is not None and running.term is not None
        log.info(
            "walkbot running (web layer on port %s: /healthz); waiting for the lease (%s)",
            running.web.port,
            running.lease.name,
        )
        conflict = asyncio.ensure_future(running.conflict.wait())
        signalled = asyncio.ensure_future(stop.wait())
        term = running.term
        try:
            await asyncio.wait({conflict, signalled, term}, return_when=asyncio.FIRST_COMPLETED)
            log.info("walkbot stopping")
        finally:
            conflict.cancel()
            signalled.cancel()
            await running.stop()
        if term.done() and not term.cancelled():
            term.result()  # the leader's work could not start: raise it
            if not stop.is_set():
                continue  # the lease was lost: back to standby
        return running.conflict.is_set()
