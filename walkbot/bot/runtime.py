"""What every handler needs (the store, the clock, the settings), kept in bot_data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import Application, CallbackContext

from walkbot.clock import Clock
from walkbot.services.users import Person
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction

RUNTIME_KEY = "walkbot.runtime"


@dataclass
class Runtime:
    settings: Settings
    sessions: SessionFactory
    clock: Clock

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with transaction(self.sessions) as session:
            yield session


Context = CallbackContext[Any, Any, Any, Any]


def runtime_of(context: Context) -> Runtime:
    return runtime_of_app(context.application)


def runtime_of_app(application: Application[Any, Any, Any, Any, Any, Any]) -> Runtime:
    value = application.bot_data[RUNTIME_KEY]
    assert isinstance(value, Runtime)
    return value


def person_of(update: Update) -> Person | None:
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    return Person(
        telegram_id=user.id,
        first_name=user.first_name,
        username=user.username,
        language_code=user.language_code,
    )
