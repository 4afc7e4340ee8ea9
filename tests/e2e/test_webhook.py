"""Webhook mode: Telegram's secret-token header is required; updates with it are handled."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from walkbot.sandbox import TEST_TOKEN, FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings

SECRET = "a-long-webhook-secret-1234"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def webhook_bot(api: FakeBotApi, database_url: str) -> AsyncIterator[RunningBot]:
    # A port found free can be taken by another test worker before the bot binds it: try again.
    for attempt in range(3):
        port = free_port()
        settings = Settings(
            telegram_bot_token=TEST_TOKEN,
            database_url=database_url,
            telegram_api_base_url=api.base_url,
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            webhook_secret=SECRET,
            port=port,
            _env_file=None,
        )
        running = RunningBot(settings)
        try:
            await running.start()
            break
        except OSError:
            if attempt == 2:
                raise
    yield running
    await running.stop()


async def test_webhook_checks_the_secret_header(api: FakeBotApi, webhook_bot: RunningBot) -> None:
    assert api.webhook["secret_token"] == SECRET
    url = api.webhook["url"]
    alice = api.user("Alice")
    update = alice.send("/help")  # queued for polling, which a webhook bot never does
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=update) as refused:
            assert refused.status == 403
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
        async with http.post(url, json=update, headers=wrong) as refused_again:
            assert refused_again.status == 403
        assert not alice.messages()
        right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with http.post(url, json=update, headers=right) as accepted:
            assert accepted.status == 200
    reply = await alice.wait_for_text("Here's what I can do")
    assert "/walk" in reply.body


def test_a_webhook_needs_a_strong_secret() -> None:
    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        Settings(
            telegram_bot_token=TEST_TOKEN,
            webhook_url="https://example.org/telegram",
            webhook_secret="short",
            _env_file=None,
        )
