"""Runs the real Application inside an existing event loop: for the tests and the console."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application

from walkbot.app import build_application
from walkbot.clock import Clock
from walkbot.runner import webhook_options
from walkbot.settings import Settings


class RunningBot:
    """The start and stop sequence of run_polling/run_webhook, minus signal handling."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.app: Application[Any, Any, Any, Any, Any, Any] | None = None

    async def start(self) -> None:
        app = build_application(self.settings, clock=self.clock)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        assert app.updater is not None
        try:
            if self.settings.webhook_url:
                await app.updater.start_webhook(
                    listen="127.0.0.1", port=self.settings.port, **webhook_options(self.settings)
                )
            else:
                await app.updater.start_polling(
                    poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES
                )
        except BaseException:  # e.g. the webhook port is taken: leave nothing open behind
            await app.shutdown()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)
            raise
        await app.start()
        self.app = app

    async def stop(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        assert app.updater is not None
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)

    async def restart(self) -> None:
        await self.stop()
        await self.start()
