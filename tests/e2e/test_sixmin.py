"""The guided six-minute walk test end to end, shortened to 12 s (each "minute" is 2 s) or 18 s:
phrases on time with sound and a Stop button, recording, comparison, Stop, restarts, forgeries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.rows import (
    latest_row,
    no_jobs_left,
    row_when,
    sent_at,
    sleep_until,
    started_at,
)
from tests.people import onboarded_chat
from walkbot.clock import SystemClock
from walkbot.domain.sixmin import PHRASES
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, sync_url, transaction
from walkbot.store.models import SixMinuteTest

# A "minute" of 2 s: with 1 s the cues alone would exceed Telegram's ~1 message a second per
# chat, which the production rate limiter (on in these tests) rightly enforces.
MINUTE_S = 2.0  # with six_minute_test_seconds=12
# A phrase is on time when it reaches Telegram no earlier than its moment (by the bot's clock,
# from the test row's started_at) and less than LATE_S after it. The bot itself skips a phrase
# whose job runs more than a second late (walkbot.domain.sixmin.LATE_GRACE_MIN_S), so a phrase
# that arrives at all left within that second; LATE_S adds half a second for its HTTP call.
# Measured with six xdist workers and a busy loop on two cores: 0.01-0.05 s late.
# EARLY_S only absorbs the clocks (timers sleep on the monotonic clock, moments are wall-clock).
LATE_S = 1.5
EARLY_S = 0.05
READING_S = 3.5


def test_row(database_url: str, user_id: int) -> dict[str, object]:
    return latest_row(database_url, "six_minute_tests", user_id)


test_row.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.fixture
def quick(settings: Settings) -> Settings:
    return settings.model_copy(update={"six_minute_test_seconds": 12})


@pytest.fixture
async def running(quick: Settings) -> AsyncIterator[RunningBot]:
    bot = RunningBot(quick)
    await bot.start()
    yield bot
    await bot.stop()


async def set_up(user: FakeUser, direction: str) -> None:
    """/sixmin, a direction, effort before, then Start."""
    user.send("/sixmin")
    choice = await user.wait_for_text("Which way today?")
    user.tap(direction, message=choice)
    card = await user.wait_for_text("Six-minute walk test")
    user.tap("2 very easy", message=card)
    ready = await user.wait_for_text("Ready?")
    # A person reads the card before Start; meanwhile the chat's burst allowance (three
    # messages, then about one a second) refills, as it would before a real test.
    await asyncio.sleep(READING_S)
    user.tap("Start", message=ready)


async def test_a_guided_test_cues_each_minute_then_records_and_compares(
    api: FakeBotApi, sessions: SessionFactory, running: RunningBot, database_url: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    now = SystemClock().now()
    async with transaction(sessions) as session:  # earlier tests to compare with
        for direction, metres, days in (("forward", 540.0, 30), ("backward", 288.0, 21)):
            at = now - timedelta(days=days)
            session.add(
                SixMinuteTest(
                    user_id=alice.id,
                    direction=direction,
                    status="done",
                    created_at=at,
                    started_at=at,
                    ended_at=at + timedelta(minutes=6),
                    metres=metres,
                )
            )
    alice.send("/sixmin")
    choice = await alice.wait_for_text("Which way today?")
    assert "Your latest: backward 288 m, forward 540 m." in choice.body
    assert choice.disable_notification

    await set_up(alice, "Backward")
    card = next(m for m in alice.messages() if "Six-minute walk test" in m.body)
    for words in ("30 m", "Rest for 10 minutes", "Not today if you have", "Stop at once"):
        assert words in card.body, words
    go = await alice.wait_for_text("Go!")
    started = await started_at(database_url, "six_minute_tests", alice.id)
    assert go.button_labels() == ["⏹ Stop"]

    for offset, _, words in PHRASES:
        cue = await alice.wait_for_text(words, timeout=10)
        assert cue.body == words
        due = started + timedelta(seconds=offset / 60 * MINUTE_S)
        late = (sent_at(api, cue) - due).total_seconds()
        assert -EARLY_S <= late < LATE_S, (words, late)
        assert not cue.disable_notification, words  # cues make a sound
        assert cue.button_labels() == ([] if words == "Stop." else ["⏹ Stop"]), words
    prompt = await alice.wait_for_text("How far did you walk?")
    assert prompt.disable_notification and prompt.button_labels() == ["I didn't measure it"]
    assert test_row(database_url, alice.id)["status"] == "recording"

    alice.send("forty laps")
    await alice.wait_for_text("couldn't read")
    alice.send("5 laps of 60 m + 12 m")
    effort = await alice.wait_for_text("Got it: 312 m.")
    assert "How hard did that feel" in effort.body
    alice.tap("7 hard", message=effort)
    symptoms = await alice.wait_for_text("did you stop or rest")
    alice.tap("None", message=symptoms)
    result = await alice.wait_for_text("Backward 312 m")
    assert "Backward 312 m, 58% of your forward distance; +24 m since 3 weeks ago." in result.body
    assert "about 7% better" in result.body  # the second backward test

    row = test_row(database_url, alice.id)
    assert (row["status"], row["step"], row["direction"]) == ("done", None, "backward")
    assert (row["metres"], row["laps"], row["lap_length_m"]) == (312.0, 5, 60.0)
    assert (row["effort_before"], row["effort_after"], row["symptoms"]) == (2, 7, None)
    assert not row["stopped_early"] and row["last_cue_index"] == len(PHRASES) - 1

    alice.send("/export")
    export = await alice.wait_for_text("Your walkbot data")
    exported = json.loads(export.document or b"{}")["six_minute_tests"]
    assert [(t["direction"], t["metres"], t["status"]) for t in exported] == [
        ("forward", 540.0, "done"),
        ("backward", 288.0, "done"),
        ("backward", 312.0, "done"),
    ]


async def test_stop_ends_the_test_at_once_with_the_safety_message(
    api: FakeBotApi, sessions: SessionFactory, running: RunningBot, database_url: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    bob = await onboarded_chat(api, sessions, "Bob")
    await set_up(alice, "Forward")
    first = await alice.wait_for_text("5 minutes to go")
    started = await started_at(database_url, "six_minute_tests", alice.id)
    test_id = test_row(database_url, alice.id)["id"]
    bob.send("/sixmin")
    bobs = await bob.wait_for_text("Which way today?")
    forged = [
        bob.tap_data(f"6m:{test_id}:stop", message=bobs),  # not his test
        bob.tap_data("6m:new:sideways", message=bobs),
        alice.tap_data(f"6m:{test_id}:start", message=first),  # already running
        alice.tap_data(f"6m:{test_id}:ea:5", message=first),  # not asked yet
        alice.tap_data(f"6m:{test_id}:explode", message=first),
    ]
    ids = [update["callback_query"]["id"] for update in forged]
    await api.until(lambda: all(api.answered_callbacks.get(i) is not None for i in ids), 5)
    assert {api.answered_callbacks[i] for i in ids} == {"That button is out of date."}
    assert test_row(database_url, alice.id)["status"] == "running"
    again = alice.tap_data("6m:new:backward", message=first)["callback_query"]["id"]
    await api.until(lambda: api.answered_callbacks.get(again) is not None, 5)
    assert "test is running" in str(api.answered_callbacks[again])

    alice.send("/sixmin")
    await alice.wait_for_text("is running")
    alice.tap("Stop", message=first)
    stopped = await alice.wait_for_text("Stopped.")
    assert "chest pain" in stopped.body and "medical help" in stopped.body
    assert "How far did you get?" in stopped.body
    seen = len(alice.messages())
    # The rest of the six "minutes" (by the test's own start, when its phrases are due): no
    # more cues.
    await sleep_until(started + timedelta(seconds=6 * MINUTE_S + 0.5))
    assert alice.messages()[seen:] == []
    alice.send("40 m")
    effort = await alice.wait_for_text("Got it: 40 m.")
    alice.tap("Skip", message=effort)
    symptoms = await alice.wait_for_text("did you stop or rest")
    alice.send("Felt dizzy after two minutes")
    result = await alice.wait_for_text("stopped early")
    assert "clinician" in result.body
    row = test_row(database_url, alice.id)
    assert (row["status"], row["stopped_early"], row["metres"]) == ("stopped", True, 40.0)
    assert row["symptoms"] == "Felt dizzy after two minutes" and row["effort_after"] is None
    assert symptoms.button_labels() == ["None"]


async def test_blocked_as_the_distance_question_goes_out(
    api: FakeBotApi, sessions: SessionFactory, running: RunningBot, database_url: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    api.fail_next("sendMessage", status=403, chat_id=alice.id, text_contains="mark the spot")
    await set_up(alice, "Backward")
    await api.wait_for(lambda c: c.params.get("text") == "Stop.", timeout=6 * MINUTE_S + 5)
    user = await row_when(database_url, "users", alice.id, lambda r: not r["active"])
    assert user["next_nudge_at"] is None
    test = await row_when(database_url, "six_minute_tests", alice.id, lambda r: r["step"] is None)
    assert test["status"] == "stopped"  # closed: nothing waits for a distance that cannot come
    assert test["metres"] is None


async def test_told_of_a_block_mid_test_the_test_ends_without_another_phrase(
    api: FakeBotApi, sessions: SessionFactory, running: RunningBot, database_url: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    await set_up(alice, "Backward")
    await alice.wait_for_text("Go!")
    sends = len(api.calls_to("sendMessage"))
    alice.block()
    test = await row_when(
        database_url, "six_minute_tests", alice.id, lambda r: r["status"] != "running"
    )
    assert (test["status"], bool(test["stopped_early"]), test["step"]) == ("stopped", True, None)
    assert running.app is not None and running.app.job_queue is not None
    await no_jobs_left(running.app.job_queue, "sixmin:")
    assert len(api.calls_to("sendMessage")) == sends


async def test_sixmin_waits_while_a_walk_is_under_way(
    api: FakeBotApi, sessions: SessionFactory, running: RunningBot, database_url: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    alice.send("/walk 1x30/30")
    card = await alice.wait_for_text("Before you start")
    alice.tap("Start", message=card)
    await alice.wait_for_text("BACKWARD")
    alice.send("/sixmin")
    await alice.wait_for_text("You're on a walk right now")
    assert test_row(database_url, alice.id) == {}
    stranger = api.user("Stranger")
    stranger.send("/sixmin")
    await stranger.wait_for_text("/start")


async def test_a_walk_waits_while_a_test_is_running(
    api: FakeBotApi, sessions: SessionFactory, settings: Settings, database_url: str
) -> None:
    """One timed thing at a time: two interleaved sets of cues would be unsafe to follow."""
    bot = RunningBot(settings.model_copy(update={"six_minute_test_seconds": 60}))
    await bot.start()
    try:
        alice = await onboarded_chat(api, sessions, "Alice")
        alice.send("/walk 1x30/30")
        card = await alice.wait_for_text("Before you start")  # a card left waiting...
        await set_up(alice, "Forward")
        await alice.wait_for_text("Go!")
        alice.send("/walk")
        refusal = await alice.wait_for_text("six-minute test is running")
        assert refusal.button_labels() == ["⏹ Stop"]
        update = alice.tap("Start", message=card)  # ...cannot be started during the test
        query_id = update["callback_query"]["id"]
        await api.until(lambda: api.answered_callbacks.get(query_id) is not None, timeout=5)
        assert "out of date" in (api.answered_callbacks[query_id] or "")
        assert test_row(database_url, alice.id)["status"] == "running"
        engine = create_engine(sync_url(database_url))
        with engine.connect() as connection:
            statuses = connection.execute(
                text("SELECT status FROM walks WHERE user_id = :id"), {"id": alice.id}
            ).scalars()
            assert list(statuses) == ["ready"]
        engine.dispose()
    finally:
        await bot.stop()


async def test_a_restart_mid_test_skips_stale_phrases_and_still_says_stop(
    api: FakeBotApi, sessions: SessionFactory, settings: Settings, database_url: str
) -> None:
    slower = settings.model_copy(update={"six_minute_test_seconds": 18})  # a minute is 3 s

    bot = RunningBot(slower)
    await bot.start()
    try:
        alice = await onboarded_chat(api, sessions, "Alice")
        await set_up(alice, "Backward")
        await alice.wait_for_text("Go!")
        await bot.stop()  # down through the 3 s and 6 s phrases (by the test's own start)
        started = await started_at(database_url, "six_minute_tests", alice.id)
        await sleep_until(started + timedelta(seconds=7.3))
        await bot.start()
        await alice.wait_for_text("only 1 minute to go", timeout=15)
        await alice.wait_for_text("In a moment", timeout=5)
        stop = await alice.wait_for_text("Stop.", timeout=5)
        assert stop.body == "Stop."
        await alice.wait_for_text("How far did you walk?")
        bodies = [m.body for m in alice.messages()]
        assert not any("5 minutes to go" in b or "4 minutes to go" in b for b in bodies)
        assert test_row(database_url, alice.id)["last_cue_index"] == len(PHRASES) - 1
    finally:
        await bot.stop()
