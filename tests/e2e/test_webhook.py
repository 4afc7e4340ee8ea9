"""Webhook mode through walkbot's own web layer (walkbot/web.py): the fake Bot API posts
updates to /telegram with the secret, as Telegram does; requests without it, or too large, are
refused; /healthz answers in both modes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from walkbot.sandbox import TEST_TOKEN, FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings
from walkbot.web import MAX_BODY_BYTES, SECRET_HEADER, PortUnavailable

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
        except PortUnavailable:
            if attempt == 2:
                raise
    yield running
    await running.stop()


async def test_updates_posted_by_telegram_are_handled(
    api: FakeBotApi, webhook_bot: RunningBot
) -> None:
    assert api.webhook["secret_token"] == SECRET
    assert api.webhook["url"].endswith("/telegram")
    alice = api.user("Alice")
    update = alice.send("/start")  # delivered to /telegram by the fake, with the secret
    await alice.wait_for_text("Hello, Alice")
    assert (update["update_id"], 200) in api.webhook_deliveries
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{webhook_bot.web_url}/healthz") as health,
    ):
        assert health.status == 200
        report = await health.json()
    assert report["mode"] == "webhook" and report["database"] == "reachable"
    assert report["last_update_at"] is not None


async def test_the_webhook_refuses_a_wrong_secret_and_a_large_body(
    api: FakeBotApi, webhook_bot: RunningBot
) -> None:
    url = api.webhook["url"]
    alice = api.user("Alice")
    help_update = {**alice.send("/help"), "update_id": 900_000}  # the fake delivers its own
    await alice.wait_for_text("Here's what I can do")
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=help_update) as refused:
            assert refused.status == 403
        wrong = {SECRET_HEADER: "not-the-secret"}
        async with http.post(url, json=help_update, headers=wrong) as refused_again:
            assert refused_again.status == 403
        too_big = b"{" + b" " * MAX_BODY_BYTES + b"}"
        async with http.post(url, data=too_big, headers={SECRET_HEADER: SECRET}) as large:
            assert large.status == 413
        async with http.post(url, data=b"{oops", headers={SECRET_HEADER: SECRET}) as garbage:
            assert garbage.status == 400
    assert len(alice.messages()) == 1  # none of those reached a handler
    # The server is still well: a good update after them is handled.
    alice.send("/help")
    await api.until(lambda: len(alice.messages()) == 2, timeout=5)


async def test_healthz_answers_in_polling_mode(api: FakeBotApi, settings: Settings) -> None:
    running = RunningBot(settings, web_port=0)
    await running.start()
    try:
        alice = api.user("Alice")
        alice.send("/help")
        await alice.wait_for_text("Here's what I can do")
        async with aiohttp.ClientSession() as http:
            # The first dispatch tick comes a second after the start; 10 s is the bound for
            # a loaded machine (six test workers on two cores).
            deadline = asyncio.get_running_loop().time() + 10
            while True:
                async with http.get(f"{running.web_url}/healthz") as health:
                    assert health.status == 200
                    report = await health.json()
                if report["dispatcher"]["last_tick_at"] is not None:
                    break
                assert asyncio.get_running_loop().time() < deadline, "the dispatcher never ticked"
                await asyncio.sleep(0.2)
            async with http.post(f"{running.web_url}/telegram", json={}) as webhook:
                assert webhook.status == 404  # polling: nothing to post to
        assert report["mode"] == "polling" and report["status"] == "ok"
        assert report["last_update_at"] is not None
    finally:
        await running.stop()


def test_a_webhook_needs_a_strong_secret() -> None:
    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        Settings(
            telegram_bot_token=TEST_TOKEN,
            webhook_url="https://example.org/telegram",
            webhook_secret="short",
            _env_file=None,
        )
