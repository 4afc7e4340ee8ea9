"""walkbot.delivery against the fake Bot API's flood limits and faults: 429 waits and never
drops, 5xx gives up after bounded retries with a reason, 403 says blocked; and the pacer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from itertools import pairwise
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


async def test_a_chat_that_no_longer_exists_counts_as_blocked(waits: list[float]) -> None:
    """A deleted account answers 400 "chat not found": stop writing, as for a block. Other
    400s are our mistake in one message: that message fails, the chat stays."""
    async with FakeBotApi() as plain, Bot(TEST_TOKEN, base_url=plain.base_url) as client:
        plain.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
        gone = await send_message(client, CHAT, "hello")
        plain.fail_next("sendMessage", status=400, description="Bad Request: message is too long")
        refused = await send_message(client, CHAT, "hello")
    assert (gone.result, gone.detail) == (Result.BLOCKED, "400 Chat not found")
    assert refused.result is Result.FAILED
    assert waits == []  # neither is retried


async def test_the_pacer_spreads_starts_evenly() -> None:
    interval, slack = 1 / 50, 0.002
    pacer = Pacer(rate=50)
    before = time.monotonic()
    starts = []
    for _ in range(11):
        await pacer.wait()
        starts.append(time.monotonic())
    # The nth start is never ahead of its slot n intervals on: no burst, however busy the
    # machine. A busy machine can only make a start late (and the one after it catch up).
    for n, at in enumerate(starts):
        assert at - before >= n * interval - slack, (n, [round(s - before, 3) for s in starts])
    # So a start that came on time is followed by a full gap.
    for n in range(1, len(starts)):
        on_time = starts[n - 1] - before <= (n - 1) * interval + 0.005
        gap = starts[n] - starts[n - 1]
        assert not on_time or gap >= 0.015, (n, gap)
    assert starts[-1] - before < 1.0  # ten gaps of 20 ms, with room for a loaded machine


async def test_the_pacer_leaves_a_full_interval_before_every_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same on an event-loop clock that only the pacer's sleeps move (the pacer reads
    loop.time()), so the gaps are exact: a pacer that bunched starts in pairs or threes would
    pass any wall-clock test on a busy machine."""
    now = [1000.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    loop = SimpleNamespace(time=lambda: now[0])
    monkeypatch.setattr(
        "walkbot.scheduling.dispatch.asyncio",
        SimpleNamespace(get_running_loop=lambda: loop, sleep=sleep),
    )
    pacer = Pacer(rate=50)
    starts = []
    for _ in range(11):
        await pacer.wait()
        starts.append(now[0])
    gaps = [later - earlier for earlier, later in pairwise(starts)]
    assert gaps == pytest.approx([0.02] * 10)
