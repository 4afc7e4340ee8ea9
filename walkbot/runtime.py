"""What every handler and job needs: the settings, the store, the clock, and the port the
jobs send through.

It lives outside bot/ so that scheduled jobs (scheduling/) can use it without importing the
Telegram handlers; the composition root (app.py) builds one per Application, with a
bot/notifier.py BotNotifier as its `notifier`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.clock import Clock
from walkbot.ports import JobNotifier
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction


@dataclass
class Runtime:
    settings: Settings
    sessions: SessionFactory
    clock: Clock
    notifier: JobNotifier  # what the cue jobs send (walkbot/ports.py)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with transaction(self.sessions) as session:
            yield session
