"""walkbot.ratelimit.ChatRateLimiter: per-chat spacing, a 429 holds only its chat, bounded
retries, group and overall limits, requests without a chat go straight through, and pruning.

Every test runs on looptime's fast-forwarded event loop: `loop.time()`, `asyncio.sleep` and
aiolimiter (which reads `loop.time()`) see virtual time, so the production rates are used as
they are and every time is asserted exactly (to the loop clock's microsecond), however busy
the machine is. Most tests drive process_request with a recording callback; one goes through a
real Bot against the fake Bot API's Telegram-like limits, counted on the same virtual clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
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

pytestmark = pytest.mark.looptime

A, B = 101, 202
GROUP = -100123
PACE = 1.1  # a private chat: a burst of 3, then one message every 1.1 s
MARGIN = 0.1  # the default retry_margin added to a 429's retry_after


def after(seconds: float) -> float:
    """The first tick of the loop's clock at or after `seconds`: a limiter that computes a wait
    of 1/28 s wakes on the microsecond after it."""
    return math.ceil(round(seconds * 1e6, 3)) / 1e6


def now() -> float:
    """The loop's (virtual) time, in whole microseconds, as looptime keeps it."""
    return round(asyncio.get_running_loop().time(), 6)


class Recorder:
    """The callback PTB would pass: records (chat, loop time since it was made) and can raise
    429s."""

    def __init__(self, fail: Callable[[Any, int], float | None] | None = None) -> None:
        self.started = now()
        self.sent: list[tuple[Any, float]] = []
        self.calls: list[Any] = []
        self.fail = fail

    async def __call__(self, chat: Any) -> dict[str, Any]:
        self.calls.append(chat)
        wait = self.fail(chat, self.calls.count(chat)) if self.fail else None
        if wait is not None:
            raise RetryAfter(timedelta(seconds=wait))
        self.sent.append((chat, round(now() - self.started, 6)))
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


def limiter(**overrides: Any) -> ChatRateLimiter:
    """The production limiter with 3 retries, and the overall limit off unless a test sets it:
    most tests are about one chat's limits."""
    args: dict[str, Any] = {"overall_max_rate": 0, "max_retries": 3}
    return ChatRateLimiter(**(args | overrides))


async def test_one_private_chat_is_spaced_after_a_burst_many_chats_are_not() -> None:
    paced, callback = limiter(), Recorder()
    await asyncio.gather(*(send(paced, callback, A) for _ in range(7)))
    # The burst of 3 at once, then one every 1.1 s.
    assert callback.times(A) == [0.0, 0.0, 0.0, 1.1, 2.2, 3.3, 4.4]

    others = Recorder()
    await asyncio.gather(*(send(paced, others, 1000 + n) for n in range(7)))
    assert [t for _, t in others.sent] == [0.0] * 7  # 7 different chats: all at once


async def test_production_rate_is_a_burst_of_three_then_one_every_1_1_s() -> None:
    """The whole production limiter, overall limit included: its burst of 2 then 28/s spaces
    the third message of the chat's burst by 1/28 s, and the fourth still waits for 1.1 s."""
    production, callback = ChatRateLimiter(), Recorder()
    await asyncio.gather(*(send(production, callback, A) for _ in range(4)))
    assert callback.times(A) == [0.0, 0.0, after(1 / 28), PACE]


async def test_a_429_holds_only_its_chat_and_is_retried() -> None:
    # Chat A's first send is refused with retry_after 1 s; B keeps going meanwhile.
    callback = Recorder(fail=lambda chat, n: 1 if chat == A and n == 1 else None)
    paced = limiter()
    first = asyncio.create_task(send(paced, callback, A))
    await asyncio.sleep(0.25)
    during = [asyncio.create_task(send(paced, callback, B)) for _ in range(2)]
    second_a = asyncio.create_task(send(paced, callback, A))  # queued behind the hold
    await asyncio.gather(first, second_a, *during)

    assert callback.calls.count(A) == 3  # refused, retried, and the second message
    assert callback.times(B) == [0.25, 0.25]  # B was not held
    # A waited out retry_after and the margin; the refused try counted towards its burst.
    assert callback.times(A) == [1 + MARGIN, 1 + MARGIN]


async def test_retries_run_out_and_the_429_reaches_the_caller() -> None:
    callback = Recorder(fail=lambda chat, n: 1)
    with pytest.raises(RetryAfter):
        await send(limiter(max_retries=2), callback, A)
    assert len(callback.calls) == 3  # the first try and 2 retries

    callback = Recorder(fail=lambda chat, n: 1)
    with pytest.raises(RetryAfter):
        await send(limiter(max_retries=2), callback, A, rate_limit_args=4)  # per call
    assert len(callback.calls) == 5

    callback = Recorder(fail=lambda chat, n: 1)
    with pytest.raises(RetryAfter):
        await send(limiter(max_retries=0), callback, A)
    assert len(callback.calls) == 1


async def test_after_giving_up_the_chat_stays_held_for_retry_after() -> None:
    callback = Recorder(fail=lambda chat, n: 3 if chat == A and n == 1 else None)
    paced = limiter(max_retries=0)
    with pytest.raises(RetryAfter):
        await send(paced, callback, A)
    await asyncio.gather(send(paced, callback, A), send(paced, callback, B))
    assert callback.times(A) == [3 + MARGIN]  # its next message waited: it would be refused
    assert callback.times(B) == [0.0]


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
    """20 a minute per group, as PTB: 20 at once, then one every 3 s."""
    paced, callback = limiter(), Recorder()
    await asyncio.gather(
        *(send(paced, callback, GROUP) for _ in range(22)),
        *(send(paced, callback, "@walkers") for _ in range(22)),  # a channel by name
        *(send(paced, callback, str(GROUP - 1)) for _ in range(22)),  # an id as a string
    )
    for chat in (GROUP, "@walkers", str(GROUP - 1)):
        assert callback.times(chat) == [0.0] * 20 + [3.0, 6.0], chat


async def test_overall_limit_spans_chats_and_holds_in_any_window() -> None:
    """At most 30 in any second, across chats: a burst of 2 at once, then 28 a second, so the
    busiest second holds exactly 30. (A bucket of the whole rate, PTB's, would let 30 go at once
    and 30 more within the same second.)"""
    overall, callback = limiter(overall_max_rate=30), Recorder()
    await asyncio.gather(*(send(overall, callback, 1000 + n) for n in range(90)))
    times = sorted(t for _, t in callback.sent)
    assert times == [0.0, 0.0, *(after(n / 28) for n in range(1, 89))]
    busiest = max(
        sum(1 for t in times if start <= t <= start + 1 + 1e-9) for start in times
    )  # every closed window of one second that starts at a send
    assert busiest == 30


@pytest.mark.parametrize("marked", [True, False])
async def test_cues_go_before_a_queued_fan_out(marked: bool) -> None:
    """Twenty background sends (the dispatcher's) queue for the overall budget (production: a
    burst of 2, then 28 a second). Six cues for other chats arrive while they wait: marked as
    background, the fan-out lets all six through first; unmarked (the control), the cues queue
    behind the fan-out in aiolimiter."""
    overall, recorder = limiter(overall_max_rate=30), Recorder()
    cues = [A + n for n in range(6)]

    async def fan_out() -> None:
        with background() if marked else contextlib.nullcontext():
            await asyncio.gather(*(send(overall, recorder, 1000 + n) for n in range(20)))

    fan = asyncio.create_task(fan_out())
    await asyncio.sleep(0.01)  # the first two go at once, the rest wait for budget
    sent_before = len(recorder.sent)
    await asyncio.gather(*(send(overall, recorder, chat) for chat in cues))
    after = [chat for chat, _ in recorder.sent[sent_before:]]
    overtaken = after.index(cues[-1]) + 1 - len(cues)  # fan-out sends before the last cue
    assert sent_before == 2
    assert overtaken == (0 if marked else 18)
    await fan
    assert len(recorder.sent) == 26


async def test_requests_without_a_chat_are_not_limited_nor_held_by_a_chat() -> None:
    paced = limiter(overall_max_rate=1, overall_time_period=10)
    callback = Recorder(fail=lambda chat, n: 5 if chat == A and n == 1 else None)
    held = asyncio.create_task(send(paced, callback, A))  # A held for 5 s
    await asyncio.sleep(0.01)
    await asyncio.gather(
        *(send(paced, callback, None, endpoint="answerCallbackQuery") for _ in range(20))
    )
    assert callback.times(None) == [0.01] * 20  # all at once, while A is held
    held.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await held


async def test_reading_about_a_group_does_not_spend_its_messages() -> None:
    """Join taps look members up (getChatMember) in the group: those are not messages, so a
    burst of them leaves the group's 20 a minute for the card and its posts."""
    paced, callback = limiter(), Recorder()
    await asyncio.gather(
        *(send(paced, callback, GROUP, endpoint="getChatMember") for _ in range(30))
    )
    await asyncio.gather(*(send(paced, callback, GROUP) for _ in range(20)))
    assert callback.times(GROUP) == [0.0] * 50  # 30 look-ups, then 20 messages at once
    await send(paced, callback, GROUP, endpoint="editMessageText")  # an edit is the 21st
    assert callback.times(GROUP)[-1] == 3.0


async def test_a_429_without_a_chat_holds_everything() -> None:
    callback = Recorder(fail=lambda chat, n: 3 if chat is None and n == 1 else None)
    paced = limiter()
    unknown = asyncio.create_task(send(paced, callback, None, endpoint="setMyCommands"))
    await asyncio.sleep(0.25)
    await asyncio.gather(unknown, send(paced, callback, B))
    assert callback.times(None) == [3 + MARGIN]  # retried once the hold ran out
    assert callback.times(B) == [3 + MARGIN]  # B, unrelated, was held as well


async def test_idle_chats_are_pruned_busy_and_held_ones_kept() -> None:
    paced = limiter(prune_above=16)
    callback = Recorder(fail=lambda chat, n: 500 if chat == A else None)
    held = asyncio.create_task(send(paced, callback, A))  # held for 500 s
    await asyncio.sleep(0.01)
    for n in range(300):  # a fan-out to 300 chats, one message each, a chat's pace apart
        await send(paced, callback, 1000 + n)
        await asyncio.sleep(PACE)
    assert paced.tracked_chats <= 16
    assert A in paced._chats  # its hold is still on
    held.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await held

    busy = ChatRateLimiter(prune_above=8)  # production rates: a chat stays busy 1.1 s
    for n in range(25):  # within the overall burst of 30
        await send(busy, Recorder(), 1000 + n)
    assert busy.tracked_chats == 25  # none idle yet: nothing dropped
    await asyncio.sleep(PACE + 0.05)  # the last went at 23/28 s: now all 25 are idle
    for n in range(20):
        await send(busy, Recorder(), 5000 + n)
    assert busy.tracked_chats == 20  # the idle ones went at the next prune


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
    latency = {1: 0.3, 2: 0.3, 3: 0.3}
    arrived: list[tuple[int, float]] = []
    started = now()

    async def deliver(n: int) -> dict[str, Any]:
        await asyncio.sleep(latency.get(n, 0.0))
        arrived.append((n, round(now() - started, 6)))
        return {"ok": True}

    paced = limiter()
    await asyncio.gather(
        *(
            paced.process_request(deliver, (n,), {}, "sendMessage", {"chat_id": A}, None)
            for n in range(1, 6)
        )
    )
    # One chat's messages stay in order and go one at a time; each is counted when its
    # response is back, so the 4th waits 1.1 s x 3 - 2.2 s of burst after the 1st came back.
    assert arrived == [(1, 0.3), (2, 0.6), (3, 0.9), (4, 1.4), (5, 2.5)]
    assert telegram_refuses([t for _, t in arrived], burst=3, interval=1.0) == []
    # and the checker itself refuses what the old send-time bucket produced
    assert telegram_refuses([0.3, 0.3, 0.3, 1.0], burst=3, interval=1.0) == [3]


async def test_against_telegram_like_limits_nothing_is_refused(
    fake_api_on_loop_time: None,
) -> None:
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
