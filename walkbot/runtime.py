"""What every handler and job needs: the settings, the store, the clock, and the port the
jobs send through.

It lives outside bot/ so that scheduled jobs (scheduling/) can use it without importing the
Telegram handlers; the composition root (app.py) builds one per Application, with a
bot/notifier.py BotNotifier as its `notifier` and the queue sources it registers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.clock import Clock
from walkbot.ports import JobNotifier
from walkbot.services.dispatch import Source
from walkbot.services.live import LiveScreens
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction
from walkbot.vitals import Vitals


@dataclass
class Runtime:
    settings: Settings
    sessions: SessionFactory
    clock: Clock
    notifier: JobNotifier  # what the cue jobs send (walkbot/ports.py)
    # The dispatch queue's registry: every kind of message sent at a stored instant.
    sources: tuple[Source[Any], ...] = ()
    # Last update received, last dispatcher tick: what /healthz reports (walkbot/web.py).
    vitals: Vitals = field(default_factory=Vitals)
    # Live screens showing walks, and their last heartbeats (services/live.py).
    live: LiveScreens = field(default_factory=LiveScreens)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with transaction(self.sessions) as session:
            yield session
