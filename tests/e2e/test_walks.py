"""Walk sessions end to end: cues on time, controls, ratings, faults and forged buttons."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.rows import latest_row, row_when, sent_at, started_at
from tests.people import onboarded_chat
from walkbot.sandbox import FakeBotApi, FakeMessage, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, sync_url

# A cue is on time when it reaches Telegram no earlier than its moment in the walk (by the
# bot's clock, from the walk row's started_at) and less than LATE_S after it. The job fires on
# time; the lateness is the cue's transaction and its HTTP call. Measured with six xdist
# workers and a busy loop on two cores: 0.01-0.4 s (the last cue, which also ends the walk,
# is the slow one). 2 s leaves room for a stall several times that, and is still a cue a
# walker would call on time (the bot itself sends a cue as planned up to 5 s late). EARLY_S
# only absorbs the clocks: the timer sleeps on the monotonic clock, moments are wall-clock.
LATE_S = 2.0
EARLY_S = 0.05


def lateness(api: FakeBotApi, cue: FakeMessage, due: datetime) -> float:
    return (sent_at(api, cue) - due).total_seconds()


def walk_row(database_url: str, user_id: int) -> dict[str, object]:
    return latest_row(database_url, "walks", user_id)


async def start_walk(user: FakeUser, args: str) -> FakeMessage:
    """/walk with `args`, then Start on its card; returns the card."""
    user.send(f"/walk {args}")
    card = await user.wait_for_text("Before you start")
    user.tap("Start", message=card)
    return card


@pytest.fixture
async def alice(api: FakeBotApi, sessions: SessionFactory, bot: RunningBot) -> FakeUser:
    return await onboarded_chat(api, sessions, "Alice")


async def test_a_full_custom_walk_cues_on_time_then_rates(
    api: FakeBotApi, alice: FakeUser, database_url: str
) -> None:
    await start_walk(alice, "2x10/10")
    started = await started_at(database_url, "walks", alice.id)
    expected = [
        (0, "BACKWARD for 10 s"),
        (10, "Forward"),
        (20, "BACKWARD for 10 s"),
        (30, "Forward"),
        (40, "Well done"),
    ]
    for offset, words in expected:
        cue = await alice.wait_for_text(words, timeout=offset + 5)
        late = lateness(api, cue, started + timedelta(seconds=offset))
        assert -EARLY_S <= late < LATE_S, (words, late)
        if offset < 40:
            assert not cue.disable_notification
            assert cue.button_labels() == ["⏸ Pause", "⏹ Stop", "I need to stop"]
    bodies = [m.body for m in alice.messages()]
    assert any("Last round" in b for b in bodies)

    effort = await alice.wait_for_text("How hard did that feel")
    assert effort.button_labels()[5] == "5 moderate"
    alice.tap("5 moderate")
    pain = await alice.wait_for_screen("knee pain")  # one message: the question turns over
    assert pain is effort and pain.body.startswith("✓ Effort 5 moderate\n\n")
    alice.tap("7", message=pain)
    advice = await alice.wait_for_screen("Anything to note")
    assert advice.body.startswith("✓ Effort 5 moderate, knee pain 7/10\n\n")
    assert "clinician" in advice.body
    alice.send("Felt steady today")
    await alice.wait_for_text("all saved")

    row = walk_row(database_url, alice.id)
    assert (row["status"], row["end_reason"], row["rounds_done"]) == ("ended", "finished", 2)
    assert (row["backward_s"], row["effort"], row["knee_pain"]) == (20, 5, 7)
    assert row["note"] == "Felt steady today" and row["rating_step"] is None

    alice.send("/history")
    history = await alice.wait_for_text("Your latest walks")
    assert "20 s backward" in history.body and "effort 5" in history.body


async def test_pause_resume_shifts_the_timeline_and_stop_records_what_was_done(
    api: FakeBotApi, alice: FakeUser, database_url: str
) -> None:
    await start_walk(alice, "1x10/10")
    first = await alice.wait_for_text("BACKWARD for 10 s")
    alice.tap("Pause", message=first)
    paused = await alice.wait_for_text("Paused")
    assert paused.button_labels()[0] == "▶ Resume"
    await asyncio.sleep(12)  # longer than the phase: no cue may arrive while paused
    assert not any("Forward" in m.body for m in alice.messages())
    alice.tap("Resume", message=paused)
    resumed = await alice.wait_for_text("Off we go again")
    assert "BACKWARD" in resumed.body
    forward = await alice.wait_for_text("Forward", timeout=12)
    assert forward is not None
    alice.send("/walk")
    status = await alice.wait_for_text("on a walk right now")
    assert "forward" in status.body.lower()
    alice.send("/stop")
    stopped = await alice.wait_for_text("Good call to stop")
    assert "10 s backward" in stopped.body
    await alice.wait_for_text("How hard did that feel")
    row = walk_row(database_url, alice.id)
    assert (row["end_reason"], row["backward_s"], row["rounds_done"]) == ("stopped", 10, 1)
    assert (
        len(row["pauses"]) == 1
        if isinstance(row["pauses"], list)
        else '"ended_at"' in str(row["pauses"])
    )


async def test_i_need_to_stop_ends_at_once_and_kindly(
    api: FakeBotApi, alice: FakeUser, database_url: str
) -> None:
    await start_walk(alice, "3x30/30")
    cue = await alice.wait_for_text("BACKWARD")
    alice.tap("I need to stop", message=cue)
    kind = await alice.wait_for_text("listening to your body")
    assert "medical help" in kind.body
    await alice.wait_for_text("How hard did that feel")
    row = walk_row(database_url, alice.id)
    assert (row["status"], row["end_reason"]) == ("ended", "need_to_stop")


async def test_forged_stale_and_double_taps_change_nothing(
    api: FakeBotApi, alice: FakeUser, sessions: SessionFactory, database_url: str
) -> None:
    bob = await onboarded_chat(api, sessions, "Bob")
    bob.send("/help")
    await bob.wait_for_text("/walk")
    card = await start_walk(alice, "1x10/10")
    cue = await alice.wait_for_text("BACKWARD")
    walk_id = walk_row(database_url, alice.id)["id"]

    forged = [
        bob.tap_data(f"w:{walk_id}:stop", message=bob.messages()[-1]),  # not his walk
        bob.tap_data("w:notanumber:stop", message=bob.messages()[-1]),
        alice.tap_data(f"w:{walk_id}:explode", message=cue),
        alice.tap_data(f"w:{walk_id}:start", message=card),  # already started
        alice.tap_data(f"r:{walk_id}:effort:5", message=cue),  # the walk has not ended
        alice.tap_data("x" * 64, message=cue),
        alice.tap_data("w:²:stop", message=cue),  # isdigit() says yes, int() raises
        alice.tap_data("w:" + "9" * 40 + ":stop", message=cue),  # would overflow a BIGINT
    ]
    ids = [update["callback_query"]["id"] for update in forged]
    await api.until(lambda: all(api.answered_callbacks[i] is not None for i in ids), 5)
    assert {api.answered_callbacks[i] for i in ids} == {"That button is out of date."}
    assert walk_row(database_url, alice.id)["status"] == "active"

    alice.tap("Stop", message=cue)
    effort = await alice.wait_for_text("How hard did that feel")
    alice.tap_data(f"r:{walk_id}:effort:11", message=effort)
    alice.tap("4 easy", message=effort)
    double = alice.tap("9 very hard", message=effort)  # a double tap on the same prompt
    await alice.wait_for_screen("knee pain")
    second = double["callback_query"]["id"]
    await api.until(lambda: api.answered_callbacks.get(second) is not None, 5)  # handled
    assert walk_row(database_url, alice.id)["effort"] == 4


async def test_429_and_5xx_mid_walk_delay_cues_but_lose_nothing(
    api: FakeBotApi, alice: FakeUser, database_url: str
) -> None:
    await start_walk(alice, "1x10/10")
    await alice.wait_for_text("BACKWARD")
    api.fail_next("sendMessage", status=429, retry_after=1, chat_id=alice.id)
    forward = await alice.wait_for_text("Forward", timeout=15)
    api.fail_next("sendMessage", status=502, chat_id=alice.id)
    await alice.wait_for_text("Well done", timeout=15)
    await alice.wait_for_text("How hard did that feel")
    statuses = [c.status for c in api.calls if c.method == "sendMessage"]
    assert 429 in statuses and 502 in statuses
    assert "Forward" in forward.body
    assert walk_row(database_url, alice.id)["end_reason"] == "finished"


async def test_a_blocked_user_ends_the_walk_quietly(
    api: FakeBotApi, alice: FakeUser, database_url: str
) -> None:
    await start_walk(alice, "1x10/10")
    await alice.wait_for_text("BACKWARD")
    alice.block(tell_bot=False)  # the cue's 403 alone must end the walk
    await api.wait_for(lambda c: c.status == 403, timeout=15)
    row = await row_when(database_url, "walks", alice.id, lambda r: r["status"] == "ended")
    assert (row["status"], row["end_reason"], row["rating_step"]) == ("ended", "blocked", None)
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        active = connection.execute(
            text("SELECT active FROM users WHERE telegram_id = :id"), {"id": alice.id}
        ).scalar_one()
    engine.dispose()
    assert not active


async def test_an_unrated_walk_gets_one_gentle_reminder(
    api: FakeBotApi, sessions: SessionFactory, settings: Settings, database_url: str
) -> None:
    quick = settings.model_copy(update={"rating_reminder_minutes": 0.05})  # 3 s
    running = RunningBot(quick)
    await running.start()
    try:
        zoe = await onboarded_chat(api, sessions, "Zoe")
        await start_walk(zoe, "1x10/10")
        await zoe.wait_for_text("BACKWARD")
        zoe.send("/stop")
        await zoe.wait_for_text("How hard did that feel")
        reminder = await zoe.wait_for_text("gentle reminder", timeout=10)
        zoe.tap("6 moderate", message=reminder)
        await zoe.wait_for_screen("knee pain")
        await asyncio.sleep(4)
        # Counted as sent: the one reminder has since turned into the next question.
        reminders = [
            c
            for c in api.calls_to("sendMessage")
            if c.params.get("chat_id") == zoe.id and "gentle reminder" in c.params.get("text", "")
        ]
        assert len(reminders) == 1
        assert walk_row(database_url, zoe.id)["effort"] == 6
    finally:
        await running.stop()


async def test_not_now_on_the_safety_card_leaves_no_walk_and_no_cues(
    api: FakeBotApi, alice: FakeUser, database_url: str
) -> None:
    alice.send("/walk 2x10/10")
    card = await alice.wait_for_text("Before you start")
    start_data = card.buttons[0][0].callback_data or ""
    assert walk_row(database_url, alice.id)["status"] == "ready"
    alice.tap("Not now", message=card)
    await api.until(lambda: "Send /walk when you're ready" in card.body, timeout=5)
    assert walk_row(database_url, alice.id) == {}
    # The old card's Start button is now stale: it must not start a walk from nothing.
    update = alice.tap_data(start_data, message=card)
    query_id = update["callback_query"]["id"]
    await api.until(lambda: api.answered_callbacks.get(query_id) is not None, timeout=5)
    assert "out of date" in (api.answered_callbacks[query_id] or "")
    assert walk_row(database_url, alice.id) == {}
    assert not any("BACKWARD" in m.body for m in alice.messages())
