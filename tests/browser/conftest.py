"""Browser fixtures: Debian's chromium, launched by Playwright, one per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser.live import chromium_path, launch
from tests.e2e.conftest import api, clock
from tests.people import onboarded_chat
from walkbot.clock import ShiftedClock
from walkbot.sandbox import TEST_TOKEN, FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory

__all__ = ["api", "clock"]  # the e2e fixtures, used here as they are


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if chromium_path() is not None:
        return
    skip = pytest.mark.skip(reason="no chromium: apt-get install -y chromium (.ci/run does)")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        yield browser
        await browser.close()


# The real bot against the fake Bot API, as in tests/e2e, with the web layer on a free port
# serving the live screen.
WEBAPP_URL = "https://walkbot.example/live/"


@pytest.fixture
def settings(api: FakeBotApi, database_url: str) -> Settings:
    return Settings(
        telegram_bot_token=TEST_TOKEN,
        database_url=database_url,
        telegram_api_base_url=api.base_url,
        webapp_url=WEBAPP_URL,
        _env_file=None,
    )


@pytest.fixture
async def bot(settings: Settings, clock: ShiftedClock) -> AsyncIterator[RunningBot]:
    running = RunningBot(settings, clock=clock, web_port=0)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def alice(api: FakeBotApi, sessions: SessionFactory, bot: RunningBot) -> FakeUser:
    return await onboarded_chat(api, sessions, "Alice")
