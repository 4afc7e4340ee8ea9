"""Reminders, weekly summaries and the dispatch tick end to end: the real bot over HTTP, a
ShiftedClock jumped to just before a local minute, and a short dispatch interval."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from time import monotonic

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.rows import as_utc, call_index, latest_row, row_when
from tests.people import LONDON, onboarded_chat, people_due_a_reminder
from walkbot.clock import ShiftedClock
from walkbot.domain.schedule import wall_time_instant
from walkbot.sandbox import FakeBotApi, FakeMessage, FakeUser, Limits
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, sync_url, transaction
from walkbot.store.models import Walk

NUDGE = "Time for your backward walk"
SNOOZED_NUDGE = "Here's your reminder again"
KNEE_QUESTION = "How does your knee feel"
# Monday 5 January 2026, GMT. Reminders default to Mon, Wed, Fri at 08:00.
MONDAY = datetime(2026, 1, 5, tzinfo=UTC).date()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"dispatch_interval_seconds": 0.2})


def local(hour: int, minute: int = 0, second: int = 0, *, day: int = 0) -> datetime:
    instant = wall_time_instant(MONDAY + timedelta(days=day), time(hour, minute), LONDON)
    return instant + timedelta(seconds=second)


def user_row(database_url: str, telegram_id: int) -> dict[str, object]:
    return latest_row(database_url, "users", telegram_id)


async def onboard(
    api: FakeBotApi, sessions: SessionFactory, name: str, clock: ShiftedClock
) -> FakeUser:
    """Someone who finished onboarding (London; Mon, Wed, Fri at 08:00), scheduled from now."""
    return await onboarded_chat(api, sessions, name, now=clock.now(), greeted=True, scheduled=True)


async def next_nudge_becomes(
    database_url: str, telegram_id: int, expected: datetime, *, timeout: float = 10.0
) -> None:
    """Waits for the dispatcher to move the reminder on: how soon depends on the machine's load,
    so a fixed sleep followed by a read is a race."""
    deadline = monotonic() + timeout
    while (found := as_utc(user_row(database_url, telegram_id)["next_nudge_at"])) != expected:
        assert monotonic() < deadline, f"next_nudge_at stayed {found}, expected {expected}"
        await asyncio.sleep(0.1)


def callback_data(message: FakeMessage) -> list[str]:
    return [button.callback_data or "" for row in message.buttons for button in row]


def is_reminder(message: FakeMessage) -> bool:
    """A reminder, first or snoozed: their words differ, but both carry its buttons (n:...)."""
    body = message.body.lower()
    return any(phrase.lower() in body for phrase in (NUDGE, SNOOZED_NUDGE)) or any(
        data.startswith("n:") for data in callback_data(message)
    )


async def nothing_new(user: FakeUser, seconds: float) -> None:
    """No reminder of any kind arrives for `seconds` (a few dispatch ticks)."""
    before = len(user.messages())
    await asyncio.sleep(seconds)
    new = [m.body[:60] for m in user.messages()[before:] if is_reminder(m)]
    assert not new, new


async def walk_when(
    sessions: SessionFactory, walk_id: int, ready: Callable[[Walk], bool], *, timeout: float = 10.0
) -> Walk:
    """The walk once `ready` holds for it: the dispatcher writes in the background."""
    deadline = monotonic() + timeout
    while True:
        async with transaction(sessions) as session:
            walk = await session.get(Walk, walk_id)
        assert walk is not None
        if ready(walk):
            return walk
        assert monotonic() < deadline, f"walk {walk_id} never got there: {walk}"
        await asyncio.sleep(0.1)


@pytest.fixture
async def alice(
    api: FakeBotApi, sessions: SessionFactory, clock: ShiftedClock, bot: RunningBot
) -> FakeUser:
    clock.set(local(6, 0))
    return await onboard(api, sessions, "Alice", clock)


async def test_a_nudge_arrives_at_the_minute_set_in_settings(
    api: FakeBotApi, alice: FakeUser, clock: ShiftedClock, database_url: str
) -> None:
    alice.send("/settings")
    await alice.wait_for_text("Your settings")
    alice.tap("Reminder time")  # the menu turns into the question
    await alice.wait_for_screen("What time on those days")
    alice.send("07:30")
    await alice.wait_for_text("Saved")
    assert as_utc(user_row(database_url, alice.id)["next_nudge_at"]) == local(7, 30)

    clock.set(local(7, 29, 58))
    nudge = await alice.wait_for_text(NUDGE, timeout=6)
    arrived = clock.now()
    assert local(7, 30) <= arrived < local(7, 30) + timedelta(seconds=2)
    assert "6 x 30 s backward today" in nudge.body
    assert nudge.button_labels() == ["▶ Start now", "Snooze 30 min", "Not today"]
    assert not nudge.disable_notification  # the reminder they asked for makes a sound
    await nothing_new(alice, 1.0)  # sent once
    await next_nudge_becomes(database_url, alice.id, local(7, 30, day=2))


async def test_snooze_comes_back_once_then_not_today(
    api: FakeBotApi, alice: FakeUser, clock: ShiftedClock, database_url: str
) -> None:
    clock.set(local(7, 59, 59))
    first = await alice.wait_for_text(NUDGE, timeout=6)
    alice.tap("Snooze", message=first)
    snoozed = await alice.wait_for_text("Snoozed")
    assert "I'll remind you again at 08:3" in snoozed.body
    # The tapped reminder keeps no buttons: ticked just after the reply (the tick is cosmetic).
    await api.until(lambda: first.button_labels() == [], timeout=5)

    clock.jump(timedelta(minutes=30))
    again = await alice.wait_for_text("reminder again", timeout=6)
    assert again.button_labels() == ["▶ Start now", "Not today"]  # no second snooze
    alice.tap("Not today", message=again)
    rest = await alice.wait_for_text("Rest well")
    assert "Next reminder: Wednesday 7 January at 08:00" in rest.body
    clock.jump(timedelta(minutes=40))
    await nothing_new(alice, 1.0)
    await next_nudge_becomes(database_url, alice.id, local(8, day=2))


async def test_start_now_opens_todays_walk(alice: FakeUser, clock: ShiftedClock) -> None:
    clock.set(local(7, 59, 59))
    nudge = await alice.wait_for_text(NUDGE, timeout=6)
    alice.tap("Start now", message=nudge)
    card = await alice.wait_for_text("Before you start")
    assert any("Start" in label for label in card.button_labels())


async def test_no_nudge_after_a_walk_that_day(
    alice: FakeUser, clock: ShiftedClock, database_url: str
) -> None:
    clock.set(local(7, 0))
    alice.send("/walk 1x10/10")
    card = await alice.wait_for_text("Before you start")
    alice.tap("Start", message=card)
    await alice.wait_for_text("BACKWARD")
    alice.send("/stop")
    await alice.wait_for_text("How hard")
    clock.set(local(7, 59, 59))
    await nothing_new(alice, 2.5)
    await next_nudge_becomes(database_url, alice.id, local(8, day=2))
    await nothing_new(alice, 0.5)


async def test_down_for_an_hour_sends_the_nudge_once_late(
    alice: FakeUser, bot: RunningBot, clock: ShiftedClock
) -> None:
    await bot.stop()
    clock.set(local(9, 0))  # the 08:00 reminder fell due while the bot was down
    await bot.start()
    nudge = await alice.wait_for_text(NUDGE, timeout=6)
    assert "today" in nudge.body
    await nothing_new(alice, 1.0)


async def test_down_for_three_hours_skips_the_nudge_and_schedules_the_next(
    alice: FakeUser, bot: RunningBot, clock: ShiftedClock, database_url: str
) -> None:
    await bot.stop()
    clock.set(local(11, 0))
    await bot.start()
    await next_nudge_becomes(database_url, alice.id, local(8, day=2))
    await nothing_new(alice, 1.0)


async def test_pause_and_resume(alice: FakeUser, clock: ShiftedClock, database_url: str) -> None:
    alice.send("/pause banana")
    refused = await alice.wait_for_text("couldn't read")
    assert "/pause 7" in refused.body
    alice.send("/pause 2025-12-24")
    await alice.wait_for_text("already passed")
    alice.send("/pause 3")
    paused = await alice.wait_for_text("Reminders paused")
    assert "Thursday 8 January" in paused.body
    assert as_utc(user_row(database_url, alice.id)["next_nudge_at"]) == local(8, day=4)  # Fri
    clock.set(local(7, 59, 59))
    await nothing_new(alice, 1.5)
    alice.send("/pause")
    await alice.wait_for_text("paused until Thursday 8 January")
    alice.send("/resume")
    resumed = await alice.wait_for_text("Welcome back")
    assert "Wednesday 7 January at 08:00" in resumed.body


async def test_weekly_summary_arrives_at_its_slot_as_a_silent_photo(
    api: FakeBotApi, alice: FakeUser, clock: ShiftedClock, database_url: str
) -> None:
    clock.set(local(17, 59, 58, day=6))  # Sunday 11 January, 18:00 is the default slot
    summary = await alice.wait_for_text("Your week so far", timeout=15)
    assert clock.now() >= local(18, day=6)
    assert summary.caption is not None and summary.document is not None
    await row_when(
        database_url,
        "users",
        alice.id,
        lambda r: as_utc(r["next_summary_at"]) == local(18, day=13),  # moved on a week
    )
    await asyncio.sleep(1.0)  # five more dispatch ticks: a second photo would be here by now
    photos = [c for c in api.calls_to("sendPhoto") if c.status == 200]
    assert len(photos) == 1
    assert photos[0].params.get("disable_notification") is True


async def test_a_blocked_person_stops_getting_nudges_until_start(
    api: FakeBotApi, alice: FakeUser, clock: ShiftedClock, database_url: str
) -> None:
    alice.block(tell_bot=False)  # the 403 alone must stop the reminders
    clock.set(local(7, 59, 59))
    await api.wait_for(lambda c: c.status == 403 and c.params.get("chat_id") == alice.id, 6)
    for _ in range(50):
        row = user_row(database_url, alice.id)
        if not row["active"]:
            break
        await asyncio.sleep(0.1)
    assert not row["active"]
    assert row["next_nudge_at"] is None and row["next_summary_at"] is None

    alice.blocked = False
    alice.send("/start")
    await alice.wait_for_text("")
    row = user_row(database_url, alice.id)
    assert row["active"]
    assert as_utc(row["next_nudge_at"]) == local(8, day=2)
    clock.set(local(7, 59, 59, day=2))
    await alice.wait_for_text(NUDGE, timeout=6)


async def test_blocking_and_unblocking_as_telegram_reports_them(
    api: FakeBotApi, alice: FakeUser, clock: ShiftedClock, database_url: str
) -> None:
    alice.block()  # Telegram tells the bot at once (my_chat_member: kicked)
    await row_when(database_url, "users", alice.id, lambda r: not r["active"])
    sent_before = len(api.calls_to("sendMessage"))
    clock.set(local(7, 59, 59))
    await nothing_new(alice, 1.5)
    assert len(api.calls_to("sendMessage")) == sent_before  # not even tried: no 403 needed

    alice.unblock()  # my_chat_member: member again, with no /start
    row = await row_when(database_url, "users", alice.id, lambda r: bool(r["active"]))
    assert as_utc(row["next_nudge_at"]) == local(8, day=2)  # the next one, not a late one
    clock.set(local(7, 59, 59, day=2))
    await alice.wait_for_text(NUDGE, timeout=6)


def fan_out_sent_before(api: FakeBotApi, ids: range, message: FakeMessage) -> int:
    """How many messages to `ids` the fake Bot API had accepted when `message` reached it."""
    calls = api.calls[: call_index(api, message)]
    sends = [c for c in calls if c.method == "sendMessage" and c.status == 200]
    return sum(1 for c in sends if int(c.params["chat_id"]) in ids)


async def test_a_restart_in_the_middle_of_a_fan_out_neither_loses_nor_duplicates(
    api: FakeBotApi,
    sessions: SessionFactory,
    bot: RunningBot,
    clock: ShiftedClock,
    database_url: str,
) -> None:
    api.limits = Limits()  # Telegram-like flood control: 30/s overall, 3/s per chat
    count, first_id = 300, 9_100_000_000
    ids = range(first_id, first_id + count)
    async with transaction(sessions) as session:
        session.add_all(
            people_due_a_reminder(
                ids, now=clock.now(), zone="Asia/Kolkata", due_for=timedelta(seconds=5)
            )
        )

    def delivered() -> Counter[int]:
        return Counter(
            int(c.params["chat_id"])
            for c in api.calls
            if c.method == "sendMessage" and c.status == 200 and int(c.params["chat_id"]) in ids
        )

    await api.until(lambda: len(delivered()) >= 30, timeout=20)
    asker = api.user("Asker")  # a command in the middle of the fan-out is not kept waiting
    before = len(delivered())
    asker.send("/help")
    answer = await asker.wait_for_text("", timeout=5)
    # Counted in fan-out messages rather than seconds, since a loaded machine slows the fan-out
    # too. It goes at 25 a second, so 40 is about 1.6 s of it; behind the rest of a claimed
    # batch (50), or behind the fan-out, the answer would let far more through.
    answered_after = fan_out_sent_before(api, ids, answer)
    assert answered_after - before < 40, (before, answered_after)

    await api.until(lambda: len(delivered()) >= 80, timeout=20)
    await bot.restart()
    mid = len(delivered())
    assert mid < count  # the restart really came in the middle
    await api.until(lambda: len(delivered()) >= count, timeout=30)
    await asyncio.sleep(1.0)  # a few more ticks: nothing may come twice
    per_chat = delivered()
    assert set(per_chat) == set(ids)
    assert max(per_chat.values()) == 1
    engine = create_engine(sync_url(database_url))

    def scalar(sql: str) -> int:
        with engine.connect() as connection:
            return int(connection.execute(text(sql), {"now": clock.now()}).scalar_one())

    try:
        assert scalar("SELECT count(*) FROM users WHERE next_nudge_at <= :now") == 0
        # Every in-flight mark the claims wrote was cleared by a result: none lost on the way.
        deadline = monotonic() + 5
        while (marks := scalar("SELECT count(*) FROM failed_deliveries")) != 0:
            assert monotonic() < deadline, f"{marks} messages still marked in flight"
            await asyncio.sleep(0.1)
    finally:
        engine.dispose()


async def test_the_next_morning_knee_check_is_sent_once_silently(
    api: FakeBotApi, alice: FakeUser, sessions: SessionFactory, clock: ShiftedClock
) -> None:
    now = clock.now()
    async with transaction(sessions) as session:
        due, late = (
            Walk(
                user_id=alice.id,
                plan={},
                status="ended",
                created_at=now,
                knee_check_at=check_at,
                knee_pain=5,
            )
            for check_at in (now + timedelta(seconds=1), now - timedelta(hours=3))
        )
        session.add_all([due, late])
        await session.flush()
        assert due.id is not None and late.id is not None
        due_id, late_id = due.id, late.id
    question = await alice.wait_for_text(KNEE_QUESTION, timeout=6)
    assert question.disable_notification
    assert question.button_labels() == [str(n) for n in range(11)]
    assert callback_data(question) == [f"k:{due_id}:{n}" for n in range(11)]
    # The late one was taken off the queue without asking: it is never asked at a wrong time.
    await walk_when(sessions, late_id, lambda w: w.knee_check_sent_at is not None)
    await asyncio.sleep(1.0)  # five more dispatch ticks
    assert [m for m in alice.messages() if KNEE_QUESTION in m.body] == [question]
    late_buttons = [d for m in alice.messages() for d in callback_data(m) if f":{late_id}:" in d]
    assert late_buttons == []


async def test_one_dispatch_job_however_many_people(
    api: FakeBotApi, sessions: SessionFactory, bot: RunningBot, clock: ShiftedClock
) -> None:
    for name in ("Ann", "Ben", "Cat"):
        await onboard(api, sessions, name, clock)
    assert bot.app is not None and bot.app.job_queue is not None
    names = [job.name for job in bot.app.job_queue.jobs()]
    assert names.count("dispatch") == 1
    assert not any(name and "nudge" in name for name in names)
