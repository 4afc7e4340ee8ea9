"""A walk cue held by flood control is said as it is when it finally leaves, or not at all
(issue 11, point 10): the walk domain's late policy (`due_cues`, through `restate_cue`) is
asked again at that moment, after every wait in the rate limiter and in delivery's own 429
waits. The limiter and delivery run on looptime's virtual clock, and the walk's clock is tied
to it, so a 12 s hold is exactly 12.1 s of walk time; the cue job's wiring uses the injected
fixed clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from tests.fakes import RecordingNotifier
from tests.unit.walk_jobs import ALICE, NOW, record_sends, walk_started
from walkbot.bot.notifier import outcome_of
from walkbot.context import WalkbotApp, runtime_of
from walkbot.delivery import Result, send_message
from walkbot.domain.walks import (
    CueDispatch,
    build_timeline,
    due_cues,
    parse_custom_plan,
    restate_cue,
)
from walkbot.ports import STALE
from walkbot.ratelimit import ChatRateLimiter, StaleMessage, restating
from walkbot.scheduling import cues
from walkbot.store.db import SessionFactory

STARTED = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
# 2 x (30 s backward + 30 s forward): cues 0 "Let's go" at 0 s, 1 "Forward" at 30 s,
# 2 "Turn around" at 60 s, 3 "Forward" at 90 s, 4 the finish at 120 s.
TIMELINE = build_timeline(parse_custom_plan("2x30/30"), STARTED)


def at(seconds: float) -> datetime:
    return STARTED + timedelta(seconds=seconds)


def turn_around() -> CueDispatch:
    """The second "turn around", claimed by its job on time (cues up to 1 already sent)."""
    claimed = due_cues(TIMELINE, at(60), last_sent_index=1)
    assert claimed.action == "send" and claimed.text is not None
    assert "Turn around: walk BACKWARD for 30 s" in claimed.text
    return claimed


def restated_at(seconds: float) -> str | None:
    return restate_cue(TIMELINE, at(seconds), sent_before=1, claimed=turn_around())


# --- the domain: the late policy asked again ---------------------------------------------------


def test_a_cue_that_leaves_within_the_grace_says_what_was_claimed() -> None:
    assert restated_at(60) == restated_at(65) == turn_around().text


def test_a_cue_held_longer_is_reworded_for_the_time_left() -> None:
    text = restated_at(72)
    assert text is not None and "Turn around: walk BACKWARD for 18 s" in text
    assert "Round 2 of 2" in text


def test_a_cue_whose_moment_has_passed_is_dropped() -> None:
    assert restated_at(90) is None  # "Forward" is due: its own job says what to do now
    assert restated_at(200) is None  # the walk is over: the finish says so


def test_a_late_heads_up_too_close_to_the_switch_is_dropped() -> None:
    timeline = build_timeline(parse_custom_plan("1x60/60"), STARTED)  # heads-up at 50 s
    claimed = due_cues(timeline, at(50), last_sent_index=0)
    assert claimed.text is not None and claimed.text.startswith("⏳ In 10 s")
    assert restate_cue(timeline, at(55), sent_before=0, claimed=claimed) == claimed.text  # grace
    restated = restate_cue(timeline, at(56), sent_before=0, claimed=claimed)
    assert restated is not None and restated.startswith("⏳ In 4 s")
    assert restate_cue(timeline, at(58), sent_before=0, claimed=claimed) is None


# --- the rate limiter and delivery: asked after every wait -------------------------------------


def walk_clock(seconds_in: float) -> Callable[[], datetime]:
    """The walk's clock at `seconds_in` now, moving with the (virtual) loop clock."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    return lambda: at(seconds_in + loop.time() - start)


def restater(clock: Callable[[], datetime]) -> Callable[[], str | None]:
    claimed = turn_around()
    return lambda: restate_cue(TIMELINE, clock(), sent_before=1, claimed=claimed)


def held_by(retry_after: float, sent: list[str]) -> Callable[..., Any]:
    """PTB's request callback: the first attempt meets a 429, later ones record their text."""

    async def callback(endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        if not sent and not getattr(callback, "refused", False):
            callback.refused = True  # type: ignore[attr-defined]
            raise RetryAfter(timedelta(seconds=retry_after))
        sent.append(data["text"])
        return {"ok": True}

    return callback


async def through_limiter(retry_after: float) -> list[str]:
    limiter = ChatRateLimiter(max_retries=3)
    sent: list[str] = []
    claimed = turn_around()
    assert claimed.text is not None
    data: dict[str, Any] = {"chat_id": ALICE, "text": claimed.text}
    with restating(restater(walk_clock(60))):
        await limiter.process_request(
            held_by(retry_after, sent), ("sendMessage", data), {}, "sendMessage", data, None
        )
    return sent


@pytest.mark.looptime
async def test_a_cue_held_by_a_429_in_the_limiter_leaves_reworded() -> None:
    (text,) = await through_limiter(12)  # held 12.1 s: 72 s into the walk
    assert "Turn around: walk BACKWARD for 18 s" in text


@pytest.mark.looptime
async def test_a_cue_held_past_the_next_switch_in_the_limiter_is_not_sent() -> None:
    with pytest.raises(StaleMessage):
        await through_limiter(35)  # held to 95 s: "Forward" is due instead


class StubBot:
    """A Bot without a rate limiter: the first send meets a 429 (delivery waits it out)."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        self.texts: list[str] = []

    async def send_message(self, **kwargs: Any) -> bool:
        self.texts.append(kwargs["text"])
        if len(self.texts) == 1:
            raise RetryAfter(timedelta(seconds=self.retry_after))
        return True


@pytest.mark.looptime
@pytest.mark.parametrize(("retry_after", "second"), [(3, "for 30 s"), (12, "for 18 s"), (35, None)])
async def test_delivery_asks_again_after_waiting_out_a_429(
    retry_after: float, second: str | None
) -> None:
    bot = StubBot(retry_after)
    claimed = turn_around()
    assert claimed.text is not None
    delivery = await send_message(
        bot,  # type: ignore[arg-type]
        ALICE,
        claimed.text,
        restate=restater(walk_clock(60)),
    )
    if second is None:
        assert len(bot.texts) == 1 and delivery.result is Result.FAILED
        assert outcome_of(delivery).detail == STALE
    else:
        assert delivery.result is Result.SENT and second in bot.texts[1]


# --- the cue job hands its restatement to the port, on the injected clock ---------------------


async def test_the_cue_job_restates_on_the_runtimes_clock(
    app: WalkbotApp, sessions: SessionFactory
) -> None:
    notifier: RecordingNotifier = record_sends(app)
    walk_id = await walk_started(
        sessions, ALICE, plan="2x30/30", ago=timedelta(seconds=60), last_cue=1
    )
    await cues.fire_due_cue(app, walk_id)
    ((method, _, details),) = notifier.calls
    assert method == "walk_cue" and "for 30 s" in details["text"]
    restate = details["restate"]
    clock = runtime_of(app).clock
    clock.at = NOW + timedelta(seconds=12)  # type: ignore[attr-defined]
    assert "Turn around: walk BACKWARD for 18 s" in restate()
    clock.at = NOW + timedelta(seconds=31)  # type: ignore[attr-defined]
    assert restate() is None
