"""Runs the real Application inside an existing event loop: for the tests and the console."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import make_url

from walkbot.clock import Clock
from walkbot.context import WalkbotApp
from walkbot.runner import Running
from walkbot.settings import Settings
from walkbot.web import WebServer

LEASE_TIMEOUT_S = 30.0


class RunningBot:
    """What `walkbot run` starts and stops (walkbot.runner.Running), minus signal handling,
    on loopback. The web layer runs in webhook mode on settings.port; in polling mode only
    when asked (`web_port`, 0 for any free port), so parallel tests need no ports."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, web_port: int | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._where = make_url(settings.database_url).render_as_string(hide_password=True)
        if web_port is None and settings.webhook_url:
            web_port = settings.port
        self._running = Running(
            settings, clock=clock, host="127.0.0.1", web_port=web_port, poll_timeout=1
        )

    @property
    def app(self) -> WalkbotApp | None:
        return self._running.app

    @property
    def web(self) -> WebServer | None:
        return self._running.web

    @property
    def web_url(self) -> str:
        assert self.web is not None, "no web layer: pass web_port"
        return f"http://127.0.0.1:{self.web.port}"

    async def start(self, *, lease_timeout: float = LEASE_TIMEOUT_S) -> None:
        """Returns once this bot leads: at once, unless another bot holds the lease on this
        database (then this waits as a standby, and says so after `lease_timeout`, rather
        than hang a test run behind a bot some test left running)."""
        await self._running.start()
        try:
            async with asyncio.timeout(lease_timeout):
                await self._running.wait_leading()
        except TimeoutError:
            await self._running.stop()
            raise RuntimeError(f"another walkbot holds the lease on {self._where}") from None
        except BaseException:
            await self._running.stop()
            raise

    async def stop(self) -> None:
        await self._running.stop()

    async def restart(self) -> None:
        await self.stop()
        await self.start()
