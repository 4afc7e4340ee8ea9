"""End-to-end fixtures: a fake Bot API on loopback and the real bot polling it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from walkbot.clock import ShiftedClock
from walkbot.sandbox import TEST_TOKEN, FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
def settings(api: FakeBotApi, database_url: str) -> Settings:
    return Settings(
        telegram_bot_token=TEST_TOKEN,
        database_url=database_url,
        telegram_api_base_url=api.base_url,
        rating_reminder_minutes=30,
        _env_file=None,
    )


@pytest.fixture
async def bot(settings: Settings, clock: ShiftedClock) -> AsyncIterator[RunningBot]:
    running = RunningBot(settings, clock=clock)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def clock() -> ShiftedClock:
    """Real time, shifted where a test needs it; pass it to RunningBot(settings, clock=clock)."""
    return ShiftedClock()
