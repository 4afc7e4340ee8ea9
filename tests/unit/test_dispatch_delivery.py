"""walkbot.delivery against the fake Bot API's flood limits and faults: 429 waits and never
drops, 5xx gives up after bounded retries with a reason, 403 says blocked; and the pacer.

On looptime's fast-forwarded loop, with the fake API counting on the same clock: the waits are
virtual and exact (a 7 s retry_after is 7 s between two calls, in no real time at all).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from itertools import pairwise

import pytest
from telegram import Bot

from walkbot.delivery import Result, send_message
from walkbot.sandbox import TEST_TOKEN, FakeBotApi, Limits
from walkbot.scheduling.dispatch import Pacer

pytestmark = [pytest.mark.looptime, pytest.mark.usefixtures("fake_api_on_loop_time")]

CHAT = 555


def call_times(api: FakeBotApi, method: str = "sendMessage") -> list[float]:
    """When each call reached the fake API, in loop seconds after the first (to the tick)."""
    times = [c.received_at for c in api.calls_to(method)]
    return [round(t - times[0], 6) for t in times]


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
    results = await asyncio.gather(*(send_message(bot, CHAT, f"m{n}") for n in range(5)))
    assert [r.result for r in results] == [Result.SENT] * 5
    assert sorted(m.body for m in limited.messages(CHAT)) == [f"m{n}" for n in range(5)]
    # A burst of 3; the other two are refused with retry_after 2 (the burst's second is not
    # over), wait exactly that, and go.
    statuses = [c.status for c in limited.calls_to("sendMessage")]
    assert statuses == [200, 200, 200, 429, 429, 200, 200]
    assert call_times(limited) == [0.0] * 5 + [2.0, 2.0]


async def test_429s_do_not_use_up_the_attempts() -> None:
    async with FakeBotApi() as plain, Bot(TEST_TOKEN, base_url=plain.base_url) as client:
        plain.fail_next("sendMessage", status=429, retry_after=7, times=6)  # > ATTEMPTS
        delivery = await send_message(client, CHAT, "hello")
    assert delivery.result is Result.SENT
    assert call_times(plain) == [7.0 * n for n in range(7)]  # waited as told, each time


async def test_server_errors_give_up_with_a_reason() -> None:
    async with FakeBotApi() as plain, Bot(TEST_TOKEN, base_url=plain.base_url) as client:
        plain.fail_next("sendMessage", status=502, times=10)
        delivery = await send_message(client, CHAT, "hello")
    assert delivery.result is Result.FAILED
    assert "Bad Gateway" in delivery.detail
    assert call_times(plain) == [0.0, 0.5, 1.5, 3.5]  # 4 attempts, backing off 0.5, 1 and 2 s


async def test_a_blocked_chat_is_reported(limited: FakeBotApi, bot: Bot) -> None:
    alice = limited.user("Alice")
    alice.send("/start")
    alice.block()
    delivery = await send_message(bot, alice.id, "hello")
    assert delivery.result is Result.BLOCKED


async def test_a_chat_that_no_longer_exists_counts_as_blocked() -> None:
    """A deleted account answers 400 "chat not found": stop writing, as for a block. Other
    400s are our mistake in one message: that message fails, the chat stays."""
    async with FakeBotApi() as plain, Bot(TEST_TOKEN, base_url=plain.base_url) as client:
        plain.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
        gone = await send_message(client, CHAT, "hello")
        plain.fail_next("sendMessage", status=400, description="Bad Request: message is too long")
        refused = await send_message(client, CHAT, "hello")
    assert (gone.result, gone.detail) == (Result.BLOCKED, "400 Chat not found")
    assert refused.result is Result.FAILED
    assert call_times(plain) == [0.0, 0.0]  # neither is retried


async def test_the_pacer_leaves_a_full_interval_before_every_start() -> None:
    """Exact gaps on the loop's virtual clock (looptime; the pacer reads loop.time()): a pacer
    that bunched starts in pairs or threes would pass any wall-clock test on a busy machine."""

    def loop_time() -> float:
        return asyncio.get_running_loop().time()

    pacer = Pacer(rate=50)
    starts = []
    for _ in range(11):
        await pacer.wait()
        starts.append(loop_time())
    gaps = [round(later - earlier, 6) for earlier, later in pairwise(starts)]
    assert gaps == [0.02] * 10
