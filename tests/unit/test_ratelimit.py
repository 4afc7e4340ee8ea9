"""walkbot.ratelimit.ChatRateLimiter: per-chat spacing, a 429 holds only its chat, bounded
retries, group and overall limits, requests without a chat go straight through, and pruning.

Most tests drive process_request with a recording callback and fast rates passed to the
constructor, so they run in fractions of a second; a few use the production rates, one
through a real Bot against the fake Bot API's Telegram-like limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from walkbot.app import build_application
from walkbot.ratelimit import ChatRateLimiter, background
from walkbot.sandbox import TEST_TOKEN, FakeBotApi, Limits
from walkbot.settings import Settings

A, B = 101, 202
GROUP = -100123
# The tests' unit of time, in seconds: one message per U per chat after the burst. Large
# enough that a busy CI machine stalling the event loop for a tenth of a second cannot turn
# "at once" into "late"; every bound below is a multiple of it.
U = 0.2
AT_ONCE = U / 2


class Recorder:
    """The callback PTB would pass: records (chat, time since start) and can raise 429s."""

    def __init__(self, fail: Callable[[Any, int], float | None] | None = None) -> None:
        self.started = time.monotonic()
        self.sent: list[tuple[Any, float]] = []
        self.calls: list[Any] = []
        self.fail = fail

    async def __call__(self, chat: Any) -> dict[str, Any]:
        self.calls.append(chat)
        wait = self.fail(chat, self.calls.count(chat)) if self.fail else None
        if wait is not None:
            raise RetryAfter(timedelta(seconds=wait))
        self.sent.append((chat, time.monotonic() - self.started))
        return {"ok": True}

    def times(self, chat: Any) -> list[float]:
        return [t for c, t in self.sent if c == chat]


async def send(
    limiter: ChatRateLimiter,
    callback: Recorder,
    chat: Any,
    *,
    endpoint: str = "sendMessage",
    rate_limit_args: int | None = None,
) -> Any:
    data = {} if chat is None else {"chat_id": chat, "text": "hi"}
    return await limiter.process_request(callback, (chat,), {}, endpoint, data, rate_limit_args)


def fast(**overrides: Any) -> ChatRateLimiter:
    """Production shape about five times faster: a burst of 3, then one per U per chat. The
    overall limit is off unless a test sets it: most tests are about one chat's limits."""
    args: dict[str, Any] = {
        "private_max_rate": 3,
        "private_time_period": 3 * U,
        "overall_max_rate": 0,
        "retry_margin": 0.0,
        "max_retries": 3,
    }
    return ChatRateLimiter(**(args | overrides))


async def test_one_private_chat_is_spaced_after_a_burst_many_chats_are_not() -> None:
    limiter, callback = fast(), Recorder()
    await asyncio.gather(*(send(limiter, callback, A) for _ in range(7)))
    times = callback.times(A)
    assert len(times) == 7
    assert max(times[:3]) < AT_ONCE  # the burst of 3 at once
    assert times[-1] == pytest.approx(4 * U, abs=U / 2)  # then 4 more, one per U
    gaps = [b - a for a, b in itertools.pairwise(times[2:])]
    assert min(gaps) > 0.8 * U

    others = Recorder()
    await asyncio.gather(*(send(limiter, others, 1000 + n) for n in range(7)))
    assert max(t for _, t in others.sent) < AT_ONCE  # 7 different chats: all at once


async def test_production_rate_is_a_burst_of_three_then_about_one_a_second() -> None:
    limiter, callback = ChatRateLimiter(), Recorder()
    await asyncio.gather(*(send(limiter, callback, A) for _ in range(4)))
    times = callback.times(A)
    assert max(times[:3]) < AT_ONCE
    assert 1.05 <= times[3] <= 1.1 + AT_ONCE


async def test_a_429_holds_only_its_chat_and_is_retried() -> None:
    # Chat A's first send is refused with retry_after 4U; B keeps going meanwhile.
    callback = Recorder(fail=lambda chat, n: 4 * U if chat == A and n == 1 else None)
    limiter = fast()
    first = asyncio.create_task(send(limiter, callback, A))
    await asyncio.sleep(U / 4)
    during = [asyncio.create_task(send(limiter, callback, B)) for _ in range(2)]
    second_a = asyncio.create_task(send(limiter, callback, A))  # queued behind the hold
    await asyncio.gather(first, second_a, *during)

    assert callback.calls.count(A) == 3  # refused, retried, and the second message
    assert all(t < U / 4 + AT_ONCE for t in callback.times(B))  # B was not held
    assert min(callback.times(A)) >= 4 * U  # A waited out retry_after


async def test_retries_run_out_and_the_429_reaches_the_caller() -> None:
    callback = Recorder(fail=lambda chat, n: 0.01)
    with pytest.raises(RetryAfter):
        await send(fast(max_retries=2), callback, A)
    assert len(callback.calls) == 3  # the first try and 2 retries

    callback = Recorder(fail=lambda chat, n: 0.01)
    with pytest.raises(RetryAfter):
        await send(fast(max_retries=2), callback, A, rate_limit_args=4)  # per call
    assert len(callback.calls) == 5

    callback = Recorder(fail=lambda chat, n: 0.01)
    with pytest.raises(RetryAfter):
        await send(fast(max_retries=0), callback, A)
    assert len(callback.calls) == 1


async def test_after_giving_up_the_chat_stays_held_for_retry_after() -> None:
    callback = Recorder(fail=lambda chat, n: 3 * U if chat == A and n == 1 else None)
    limiter = fast(max_retries=0)
    with pytest.raises(RetryAfter):
        await send(limiter, callback, A)
    await asyncio.gather(send(limiter, callback, A), send(limiter, callback, B))
    assert callback.times(A)[0] >= 3 * U  # its next message waited: it would only be refused
    assert callback.times(B)[0] < AT_ONCE


def test_the_application_uses_it_when_rate_limiting(tmp_path: Path) -> None:
    settings = Settings(
        telegram_bot_token=TEST_TOKEN,
        database_url=f"sqlite:///{tmp_path / 'walkbot.db'}",
        _env_file=None,
    )
    assert isinstance(build_application(settings).bot.rate_limiter, ChatRateLimiter)
    plain = settings.model_copy(update={"rate_limit": False})
    assert build_application(plain).bot.rate_limiter is None


async def test_groups_get_the_group_limit() -> None:
    limiter = fast(group_max_rate=2, group_time_period=6 * U)  # 2, then one per 3U
    callback = Recorder()
    await asyncio.gather(
        *(send(limiter, callback, GROUP) for _ in range(3)),
        *(send(limiter, callback, "@walkers") for _ in range(3)),  # a channel by name
        *(send(limiter, callback, str(GROUP - 1)) for _ in range(3)),  # an id as a string
    )
    for chat in (GROUP, "@walkers", str(GROUP - 1)):
        times = callback.times(chat)
        assert max(times[:2]) < AT_ONCE
        assert times[2] == pytest.approx(3 * U, abs=U / 2)


async def test_overall_limit_spans_chats_and_holds_in_any_window() -> None:
    """At most 3 in any 3U, across chats: a burst of 2 at once, then (3 - 2) per 3U, so no
    window of 3U holds four. (A bucket of the whole rate would let 3 go at once and 3 more
    within the same 3U.)"""
    limiter = fast(overall_max_rate=3, overall_time_period=3 * U, overall_burst=2)
    callback = Recorder()
    await asyncio.gather(*(send(limiter, callback, 1000 + n) for n in range(5)))
    times = sorted(t for _, t in callback.sent)
    assert max(times[:2]) < AT_ONCE
    assert times[2] == pytest.approx(3 * U, abs=U / 2)
    assert all(later - earlier > 2.5 * U for earlier, later in zip(times, times[3:], strict=False))


@pytest.mark.parametrize("marked", [True, False])
async def test_cues_go_before_a_queued_fan_out(marked: bool) -> None:
    """Twenty background sends (the dispatcher's) queue for an overall budget of 2 per U. Six
    cues for other chats arrive while they wait: marked as background, the fan-out lets all six
    through first; unmarked (the control), they mix with the queue as aiolimiter wakes it."""
    limiter = fast(overall_max_rate=4, overall_time_period=U, overall_burst=2)
    recorder = Recorder()
    cues = [A + n for n in range(6)]

    async def fan_out() -> None:
        with background() if marked else contextlib.nullcontext():
            await asyncio.gather(*(send(limiter, recorder, 1000 + n) for n in range(20)))

    fan = asyncio.create_task(fan_out())
    await asyncio.sleep(AT_ONCE)  # the first two go at once, the rest wait for budget
    sent_before = len(recorder.sent)
    await asyncio.gather(*(send(limiter, recorder, chat) for chat in cues))
    after = [chat for chat, _ in recorder.sent[sent_before:]]
    overtaken = after.index(cues[-1]) + 1 - len(cues)  # fan-out sends before the last cue
    if marked:
        assert overtaken <= 2  # one or two may have taken a drip of budget as the cues arrived
    else:
        assert overtaken > 1
    await fan
    assert len(recorder.sent) == 26


async def test_requests_without_a_chat_are_not_limited_nor_held_by_a_chat() -> None:
    limiter = fast(overall_max_rate=1, overall_time_period=10)
    callback = Recorder(fail=lambda chat, n: 5.0 if chat == A and n == 1 else None)
    held = asyncio.create_task(send(limiter, callback, A))  # A held for 5 s
    await asyncio.sleep(0.01)
    started = time.monotonic()
    await asyncio.gather(
        *(send(limiter, callback, None, endpoint="answerCallbackQuery") for _ in range(20))
    )
    assert time.monotonic() - started < AT_ONCE
    held.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await held


async def test_a_429_without_a_chat_holds_everything() -> None:
    callback = Recorder(fail=lambda chat, n: 3 * U if chat is None and n == 1 else None)
    limiter = fast()
    unknown = asyncio.create_task(send(limiter, callback, None, endpoint="setMyCommands"))
    await asyncio.sleep(U / 4)
    await asyncio.gather(unknown, send(limiter, callback, B))
    assert callback.times(B)[0] >= 3 * U


async def test_idle_chats_are_pruned_busy_and_held_ones_kept() -> None:
    limiter = fast(private_time_period=0.003, overall_max_rate=0, prune_above=16)  # 1 ms
    callback = Recorder(fail=lambda chat, n: 5.0 if chat == A else None)
    held = asyncio.create_task(send(limiter, callback, A))
    await asyncio.sleep(0.01)
    for n in range(300):  # a fan-out to 300 chats, one message each
        await send(limiter, callback, 1000 + n)
        await asyncio.sleep(0.002)
    assert limiter.tracked_chats <= 16
    assert A in limiter._chats  # its hold is still on
    held.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await held

    busy = ChatRateLimiter(prune_above=8)  # production rates: a chat stays busy 1.1 s
    for n in range(25):  # within the overall burst of 30
        await send(busy, Recorder(), 1000 + n)
    assert busy.tracked_chats == 25  # none idle yet: nothing dropped
    await asyncio.sleep(1.15)  # now all 25 are idle
    for n in range(20):
        await send(busy, Recorder(), 5000 + n)
    assert busy.tracked_chats <= 20  # the idle ones went at the next prune


def telegram_refuses(arrivals: list[float], *, burst: int, interval: float) -> list[int]:
    """Which messages a Telegram-like bucket (burst, then one per interval, counted on
    arrival) would refuse, as GCRA: indices into `arrivals`, in order."""
    tat, refused = float("-inf"), []
    for index, at in enumerate(arrivals):
        if at < tat - (burst - 1) * interval - 1e-9:
            refused.append(index)
        else:
            tat = max(tat, at) + interval
    return refused


async def test_a_chat_is_paced_by_arrival_so_a_slow_burst_cannot_crowd_the_next() -> None:
    # The burst is slow on the way (a busy loop, a slow network), the next message is not:
    # counted when they leave, the 4th would reach Telegram right behind the 3rd.
    latency = {1: 1.5 * U, 2: 1.5 * U, 3: 1.5 * U}
    arrived: list[tuple[int, float]] = []
    started = time.monotonic()

    async def deliver(n: int) -> dict[str, Any]:
        await asyncio.sleep(latency.get(n, 0.0))
        arrived.append((n, time.monotonic() - started))
        return {"ok": True}

    limiter = fast()
    await asyncio.gather(
        *(
            limiter.process_request(deliver, (n,), {}, "sendMessage", {"chat_id": A}, None)
            for n in range(1, 6)
        )
    )
    assert [n for n, _ in arrived] == [1, 2, 3, 4, 5]  # one chat's messages stay in order
    times = [t for _, t in arrived]
    assert telegram_refuses(times, burst=3, interval=U) == []
    # and the checker itself refuses what the old send-time bucket produced
    assert telegram_refuses([1.5 * U, 1.5 * U, 1.5 * U, U], burst=3, interval=U) == [3]


async def test_against_telegram_like_limits_nothing_is_refused() -> None:
    async with (
        FakeBotApi(limits=Limits(sustained_per_chat=True)) as api,
        ExtBot(
            TEST_TOKEN, base_url=api.base_url, rate_limiter=ChatRateLimiter(max_retries=3)
        ) as bot,
    ):

        async def replies() -> None:  # a handler answering one chatty person, one by one
            # (with the 25 nudges, within the overall burst of 30: see the module's gaps)
            for n in range(5):
                await bot.send_message(A, f"reply {n}")

        await asyncio.gather(replies(), *(bot.send_message(1000 + n, "nudge") for n in range(25)))
        assert [m.body for m in api.messages(A)] == [f"reply {n}" for n in range(5)]
        assert all(len(api.messages(1000 + n)) == 1 for n in range(25))
        assert api.stats.too_many_requests == 0
