"""/pause, /resume, Snooze and Not today as results: who may, what changed, and the days and
times described on the person's own wall, which the handlers only put into words."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from walkbot.domain.profile import days_to_mask
from walkbot.services import pauses as service
from walkbot.services import reminders
from walkbot.services.pauses import NudgeResult, PauseResult
from walkbot.services.users import Person, create_user, get_user
from walkbot.store.db import SessionFactory, transaction

LONDON = "Europe/London"
ALICE = 7_000_000_101
MON, WED, FRI = 0, 2, 4
# Monday 5 January 2026 is GMT: local time equals UTC.
MONDAY_8 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
MONDAY = date(2026, 1, 5)


async def seed(
    sessions: SessionFactory,
    *,
    zone: str | None = LONDON,
    onboarded: bool = True,
    days: frozenset[int] = frozenset({MON, WED, FRI}),
) -> None:
    now = MONDAY_8 - timedelta(hours=1)
    async with transaction(sessions) as session:
        user = await create_user(session, person=Person(ALICE, "Alice"), now=now)
        user.timezone = zone
        user.onboarding_step = None if onboarded else user.onboarding_step
        user.reminder_days, user.reminder_time = days_to_mask(days), time(8, 0)
        await reminders.reschedule(session, user=user, now=now)


async def pause(sessions: SessionFactory, argument: str, now: datetime) -> PauseResult:
    async with transaction(sessions) as session:
        return await service.pause(session, telegram_id=ALICE, argument=argument, now=now)


async def resume(sessions: SessionFactory, now: datetime) -> PauseResult:
    async with transaction(sessions) as session:
        return await service.resume(session, telegram_id=ALICE, now=now)


async def snooze(sessions: SessionFactory, now: datetime, day: date) -> NudgeResult:
    async with transaction(sessions) as session:
        return await service.snooze(session, telegram_id=ALICE, now=now, day=day)


async def not_today(sessions: SessionFactory, now: datetime, day: date) -> NudgeResult:
    async with transaction(sessions) as session:
        return await service.not_today(session, telegram_id=ALICE, now=now, day=day)


async def test_nobody_and_the_half_set_up_are_turned_away(sessions: SessionFactory) -> None:
    assert await pause(sessions, "7", MONDAY_8) == PauseResult("need_start")
    assert await resume(sessions, MONDAY_8) == PauseResult("need_start")
    assert await snooze(sessions, MONDAY_8, MONDAY) == NudgeResult("gone")
    assert await not_today(sessions, MONDAY_8, MONDAY) == NudgeResult("gone")
    await seed(sessions, onboarded=False)
    assert await pause(sessions, "7", MONDAY_8) == PauseResult("finish_setup")
    assert await resume(sessions, MONDAY_8) == PauseResult("finish_setup")


async def test_a_zone_is_needed_to_pause(sessions: SessionFactory) -> None:
    await seed(sessions, zone=None)
    assert await pause(sessions, "7", MONDAY_8) == PauseResult("finish_setup")
    assert await resume(sessions, MONDAY_8) == PauseResult("finish_setup")


async def test_pause_status_and_resume(sessions: SessionFactory) -> None:
    await seed(sessions)
    now = MONDAY_8 + timedelta(hours=2)  # Monday 10:00
    assert await pause(sessions, "", now) == PauseResult("help")
    assert await resume(sessions, now) == PauseResult("not_paused")
    refused = await pause(sessions, "0", now)
    assert refused == PauseResult("refused", reason="A pause needs at least 1 day.")

    assert await pause(sessions, "7", now) == PauseResult("paused", day="Monday 12 January")
    assert await pause(sessions, " ", now) == PauseResult("status", day="Monday 12 January")
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=ALICE)
        assert user is not None and user.next_nudge_at == datetime(2026, 1, 12, 8, tzinfo=UTC)

    later = now + timedelta(days=1)  # Tuesday 10:00: Wednesday's reminder is the next one
    resumed = await resume(sessions, later)
    assert resumed == PauseResult("resumed", next_reminder="Wednesday 7 January at 08:00")
    assert await pause(sessions, "off", later) == PauseResult("not_paused")


async def test_pause_off_ends_a_pause_like_resume(sessions: SessionFactory) -> None:
    await seed(sessions)
    await pause(sessions, "3", MONDAY_8)
    resumed = await pause(sessions, "off", MONDAY_8 + timedelta(hours=1))
    assert resumed == PauseResult("resumed", next_reminder="Wednesday 7 January at 08:00")


async def test_a_pause_into_next_year_names_the_year(sessions: SessionFactory) -> None:
    await seed(sessions)
    december = datetime(2026, 12, 28, 10, tzinfo=UTC)
    result = await pause(sessions, "2027-01-04", december)
    assert result == PauseResult("paused", day="Monday 4 January 2027")


async def test_snooze_once_tells_the_local_time(sessions: SessionFactory) -> None:
    await seed(sessions, zone="Asia/Tokyo")  # UTC+9: 08:02 UTC is 17:02 on Monday there
    tap = MONDAY_8 + timedelta(minutes=2)
    assert await snooze(sessions, tap, MONDAY - timedelta(days=1)) == NudgeResult("stale")
    snoozed = await snooze(sessions, tap, MONDAY)
    assert snoozed == NudgeResult("snoozed", at="17:32")
    assert snoozed.done
    already = await snooze(sessions, tap, MONDAY)
    assert already == NudgeResult("already")
    assert not already.done


async def test_not_today_names_the_next_reminder(sessions: SessionFactory) -> None:
    await seed(sessions)
    tap = MONDAY_8 + timedelta(minutes=1)
    assert await not_today(sessions, tap, MONDAY + timedelta(days=1)) == NudgeResult("stale")
    resting = await not_today(sessions, tap, MONDAY)
    assert resting == NudgeResult("resting", next_reminder="Wednesday 7 January at 08:00")
    assert resting.done


async def test_not_today_with_no_reminder_days_says_reminders_are_off(
    sessions: SessionFactory,
) -> None:
    await seed(sessions, days=frozenset())
    resting = await not_today(sessions, MONDAY_8, MONDAY)
    assert resting == NudgeResult("resting", next_reminder=None)
