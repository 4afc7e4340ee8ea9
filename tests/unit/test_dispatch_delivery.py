"""walkbot.delivery against the fake Bot API's flood limits and faults: 429 waits and never
drops, 5xx gives up after bounded retries with a reason, 403 says blocked; and the pacer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from telegram import Bot

from walkbot.delivery import Result, send_message
from walkbot.sandbox import TEST_TOKEN, FakeBotApi, Limits
from walkbot.scheduling.dispatch import Pacer

CHAT = 555


@pytest.fixture
async def limited() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(limits=Limits(sustained_per_chat=True)) as api:
        yield api


@pytest.fixture
async def bot(limited: FakeBotApi) -> AsyncIterator[Bot]:
    """A bare Bot: no rate limiter, so every 429 reaches walkbot.delivery."""
    async with Bot(TEST_TOKEN, base_url=limited.base_url) as client:
        yield client


async def test_flood_control_on_one_chat_waits_and_drops_nothing(
    limited: FakeBotApi, bot: Bot
) -> None:
    started = time.monotonic()
    results = await asyncio.gather(*(send_message(bot, CHAT, f"m{n}") for n in range(5)))
    assert [r.result for r in results] == [Result.SENT] * 5
    assert sorted(m.body for m in limited.messages(CHAT)) == [f"m{n}" for n in range(5)]
    assert limited.stats.too_many_requests >= 2  # a burst of 3, then about 1 per second
    assert time.monotonic() - started >= 1.0


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """walkbot.delivery's sleeps, recorded instead of slept."""
    recorded: list[float] = []

    async def quick_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr("walkbot.delivery.asyncio", SimpleNamespace(sleep=quick_sleep))
    return recorded


async def test_429s_do_not_use_up_the_attempts(waits: list[float]) -> None:
    async with FakeBotApi() as plain, Bot(TEST_TOKEN, base_url=plain.base_url) as client:
        plain.fail_next("sendMessage", status=429, retry_after=7, times=6)  # > ATTEMPTS
        delivery = await send_message(client, CHAT, "hello")
    assert delivery.result is Result.SENT
    assert waits == [7.0] * 6


async def test_server_errors_give_up_with_a_reason(waits: list[float]) -> None:
    async with FakeBotApi() as plain, Bot(TEST_TOKEN, base_url=plain.base_url) as client:
        plain.fail_next("sendMessage", status=502, times=10)
        delivery = await send_message(client, CHAT, "hello")
        assert len(plain.calls_to("sendMessage")) == 4
    assert delivery.result is Result.FAILED
    assert "Bad Gateway" in delivery.detail
    assert waits == [0.5, 1.0, 2.0]


async def test_a_blocked_chat_is_reported(limited: FakeBotApi, bot: Bot) -> None:
    alice = limited.user("Alice")
    alice.send("/start")
    alice.block()
    delivery = await send_message(bot, alice.id, "hello")
    assert delivery.result is Result.BLOCKED


async def test_the_pacer_spreads_starts_evenly() -> None:
    pacer = Pacer(rate=50)
    started = time.monotonic()
    for _ in range(11):
        await pacer.wait()
    assert 0.18 <= time.monotonic() - started < 0.5  # ten gaps of 20 ms
