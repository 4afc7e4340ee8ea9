"""The dispatch queue and its registered sources (nudges, summaries, knee checks) on a migrated
database, with explicit `now`: claiming advances rows, decisions (late, walked, resting),
snooze once, not today, pause/resume (services/reminders.py), 403, settings."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.fakes import real_sources
from tests.people import add_onboarded_person, person_in
from walkbot.domain.nudges import PauseUntil, parse_pause
from walkbot.services import dispatch as service
from walkbot.services import onboarding as flow
from walkbot.services import reminders
from walkbot.services.users import Person, create_user, get_user, mark_blocked, touch_user
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import FailedDelivery, RestPeriod, User, Walk

LONDON = "Europe/London"
ALICE = 7_000_000_001
MON, WED, FRI, SUN = 0, 2, 4, 6
# Monday 5 January 2026 is GMT: local time equals UTC.
MONDAY_8 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


async def seed(
    sessions: SessionFactory,
    user_id: int = ALICE,
    *,
    now: datetime = MONDAY_8 - timedelta(hours=1),
    zone: str = LONDON,
    days: frozenset[int] = frozenset({MON, WED, FRI}),
) -> None:
    async with transaction(sessions) as session:
        await add_onboarded_person(
            session,
            user_id,
            "Alice",
            now=now,
            zone=zone,
            reminder_days=days,
            reminder_time=time(8, 0),
            scheduled=True,
        )


def alice_in(sessions: SessionFactory) -> AbstractAsyncContextManager[tuple[AsyncSession, User]]:
    """One transaction with Alice's row loaded, as most of these tests act as her."""
    return person_in(sessions, ALICE)


async def row(sessions: SessionFactory, user_id: int = ALICE) -> User:
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=user_id)
        assert user is not None
        return user


async def claim(sessions: SessionFactory, now: datetime, limit: int = 50) -> service.Claim[Any]:
    async with transaction(sessions) as session:
        return await service.claim_due(
            session, sources=real_sources(sessions), now=now, limit=limit
        )


async def record(sessions: SessionFactory, now: datetime, results: list[service.Result]) -> None:
    registry = service.by_name(real_sources(sessions))
    async with transaction(sessions) as session:
        await service.record_results(session, sources=registry, now=now, results=results)


async def test_reschedule_sets_both_instants(sessions: SessionFactory) -> None:
    await seed(sessions)
    user = await row(sessions)
    assert user.next_nudge_at == MONDAY_8
    assert user.next_summary_at == datetime(2026, 1, 11, 18, tzinfo=UTC)  # Sunday 18:00


async def test_due_nudge_is_claimed_once_and_advanced(sessions: SessionFactory) -> None:
    await seed(sessions)
    assert (await claim(sessions, MONDAY_8 - timedelta(seconds=1))).rows == 0
    claimed = await claim(sessions, MONDAY_8 + timedelta(seconds=3))
    assert [(o.source, o.chat_id, o.due_at, o.payload.snoozable) for o in claimed.send] == [
        ("nudge", ALICE, MONDAY_8, True)
    ]
    assert claimed.send[0].user_id == ALICE
    assert claimed.send[0].payload.day == date(2026, 1, 5)
    assert claimed.send[0].payload.text.startswith("Time for your backward walk: ")
    assert (await row(sessions)).next_nudge_at == datetime(2026, 1, 7, 8, tzinfo=UTC)
    assert (await claim(sessions, MONDAY_8 + timedelta(seconds=4))).rows == 0


async def test_late_by_more_than_two_hours_is_skipped_and_no_burst(
    sessions: SessionFactory,
) -> None:
    await seed(sessions)
    back = datetime(2026, 1, 9, 12, tzinfo=UTC)  # down from Monday to Friday noon
    claimed = await claim(sessions, back)
    assert claimed.send == [] and claimed.skipped["late"] == 1
    assert (await row(sessions)).next_nudge_at == datetime(2026, 1, 12, 8, tzinfo=UTC)
    assert (await claim(sessions, back + timedelta(seconds=1))).rows == 0


async def test_late_within_two_hours_is_sent_once(sessions: SessionFactory) -> None:
    await seed(sessions)
    claimed = await claim(sessions, MONDAY_8 + timedelta(minutes=110))
    assert len(claimed.send) == 1
    assert (await claim(sessions, MONDAY_8 + timedelta(minutes=111))).rows == 0


async def test_no_nudge_after_a_walk_that_local_day(sessions: SessionFactory) -> None:
    await seed(sessions, zone="Asia/Kolkata", now=MONDAY_8 - timedelta(hours=7))  # 08:00 IST
    due = datetime(2026, 1, 5, 2, 30, tzinfo=UTC)
    assert (await row(sessions)).next_nudge_at == due
    async with transaction(sessions) as session:
        # 00:10 IST on the Monday, which is still Sunday in UTC.
        started = datetime(2026, 1, 4, 18, 40, tzinfo=UTC)
        session.add(
            Walk(user_id=ALICE, plan={}, status="ended", created_at=started, started_at=started)
        )
    claimed = await claim(sessions, due + timedelta(seconds=1))
    assert claimed.send == [] and claimed.skipped["walked"] == 1
    assert (await row(sessions)).next_nudge_at == datetime(2026, 1, 7, 2, 30, tzinfo=UTC)


async def test_a_walk_the_day_before_does_not_count(sessions: SessionFactory) -> None:
    await seed(sessions)
    async with transaction(sessions) as session:
        started = datetime(2026, 1, 4, 23, 50, tzinfo=UTC)  # Sunday 23:50 in London
        session.add(
            Walk(user_id=ALICE, plan={}, status="ended", created_at=started, started_at=started)
        )
    assert len((await claim(sessions, MONDAY_8)).send) == 1


async def test_snooze_comes_back_once_without_a_snooze_button(sessions: SessionFactory) -> None:
    await seed(sessions)
    await claim(sessions, MONDAY_8)
    tap = MONDAY_8 + timedelta(minutes=2)
    async with alice_in(sessions) as (session, user):
        assert await reminders.snooze(session, user=user, now=tap, day=date(2026, 1, 4)) == (
            "stale",
            None,
        )
        outcome, until = await reminders.snooze(session, user=user, now=tap, day=date(2026, 1, 5))
        assert (outcome, until) == ("snoozed", tap + timedelta(minutes=30))
        again, _ = await reminders.snooze(session, user=user, now=tap, day=date(2026, 1, 5))
        assert again == "already"
    assert (await claim(sessions, tap + timedelta(minutes=29))).rows == 0
    claimed = await claim(sessions, tap + timedelta(minutes=30))
    assert [(o.source, o.payload.snoozable) for o in claimed.send] == [("nudge", False)]
    assert "again" in claimed.send[0].payload.text
    user = await row(sessions)
    assert user.next_nudge_at == datetime(2026, 1, 7, 8, tzinfo=UTC)
    assert not user.nudge_snoozed


async def test_a_second_snooze_the_same_day_is_refused_after_the_first_came_back(
    sessions: SessionFactory,
) -> None:
    """The snoozed reminder has no Snooze button, but the first reminder's may still be on the
    phone (its removal can fail): the server refuses it all the same, and snoozes again the
    next reminder day."""
    await seed(sessions, days=frozenset(range(7)))
    await claim(sessions, MONDAY_8)
    tap = MONDAY_8 + timedelta(minutes=2)
    async with alice_in(sessions) as (session, user):
        assert (await reminders.snooze(session, user=user, now=tap, day=date(2026, 1, 5)))[0] == (
            "snoozed"
        )
    assert len((await claim(sessions, tap + timedelta(minutes=30))).send) == 1
    later = tap + timedelta(minutes=35)
    async with alice_in(sessions) as (session, user):
        outcome, _ = await reminders.snooze(session, user=user, now=later, day=date(2026, 1, 5))
        assert outcome == "already"
    assert (await claim(sessions, later + timedelta(minutes=30))).rows == 0
    tuesday = MONDAY_8 + timedelta(days=1)
    assert len((await claim(sessions, tuesday)).send) == 1
    async with alice_in(sessions) as (session, user):
        outcome, _ = await reminders.snooze(session, user=user, now=tuesday, day=date(2026, 1, 6))
        assert outcome == "snoozed"


async def test_a_settings_change_brings_back_no_reminder_for_a_day_that_had_one(
    sessions: SessionFactory,
) -> None:
    """Sent at 09:00, or dismissed with Not today: moving the time later that day starts from
    tomorrow. Before any reminder that day, a new time still counts today."""
    await seed(sessions, days=frozenset(range(7)))

    async def change_time(now: datetime, hour: int) -> datetime | None:
        async with alice_in(sessions) as (session, user):
            user.reminder_time = time(hour, 0)
            await reminders.reschedule(session, user=user, now=now)
            return user.next_nudge_at

    monday_9, monday_10 = MONDAY_8 + timedelta(hours=1), MONDAY_8 + timedelta(hours=2)
    assert await change_time(MONDAY_8 - timedelta(minutes=30), 9) == monday_9
    assert len((await claim(sessions, monday_9)).send) == 1
    assert await change_time(monday_9 + timedelta(minutes=5), 10) == monday_10 + timedelta(days=1)
    tuesday_10 = monday_10 + timedelta(days=1)
    async with alice_in(sessions) as (session, user):
        accepted, following = await reminders.not_today(
            session, user=user, now=tuesday_10 - timedelta(hours=3), day=date(2026, 1, 6)
        )
        assert accepted and following == tuesday_10 + timedelta(days=1)
    tuesday_11 = tuesday_10 + timedelta(hours=1)
    assert await change_time(tuesday_10 - timedelta(hours=2), 11) == tuesday_11 + timedelta(days=1)


async def test_moving_the_summary_slot_later_does_not_report_a_week_twice(
    sessions: SessionFactory,
) -> None:
    await seed(sessions, days=frozenset())
    sunday = datetime(2026, 1, 11, 18, tzinfo=UTC)
    assert len((await claim(sessions, sunday)).send) == 1
    async with alice_in(sessions) as (session, user):
        user.summary_time = time(20, 0)
        await reminders.reschedule(session, user=user, now=sunday + timedelta(minutes=5))
        assert user.next_summary_at == datetime(2026, 1, 18, 20, tzinfo=UTC)
        # A row still due for a reported week (set by hand, or by an older version) is skipped.
        user.next_summary_at = sunday + timedelta(hours=2)
    claimed = await claim(sessions, sunday + timedelta(hours=2))
    assert claimed.send == [] and claimed.skipped["reported"] == 1
    assert (await row(sessions)).next_summary_at == datetime(2026, 1, 18, 20, tzinfo=UTC)


async def test_not_today_drops_a_pending_snooze(sessions: SessionFactory) -> None:
    await seed(sessions, days=frozenset(range(7)))
    await claim(sessions, MONDAY_8)
    tap = MONDAY_8 + timedelta(minutes=1)
    async with alice_in(sessions) as (session, user):
        await reminders.snooze(session, user=user, now=tap, day=date(2026, 1, 5))
        accepted, following = await reminders.not_today(
            session, user=user, now=tap, day=date(2026, 1, 5)
        )
        assert accepted
        assert following == datetime(2026, 1, 6, 8, tzinfo=UTC)
    assert (await claim(sessions, tap + timedelta(minutes=31))).rows == 0
    assert not (await row(sessions)).nudge_snoozed


async def test_pause_and_resume(sessions: SessionFactory) -> None:
    await seed(sessions)
    now = MONDAY_8 + timedelta(hours=2)  # Monday 10:00
    request = parse_pause("7", now=now, zone=LONDON)
    assert isinstance(request, PauseUntil)
    async with alice_in(sessions) as (session, user):
        await reminders.pause(session, user=user, now=now, until=request)
        assert user.next_nudge_at == datetime(2026, 1, 12, 8, tzinfo=UTC)  # next Monday
        longer = parse_pause("2026-01-20", now=now, zone=LONDON)
        assert isinstance(longer, PauseUntil)
        await reminders.pause(session, user=user, now=now, until=longer)
        assert user.next_nudge_at == datetime(2026, 1, 21, 8, tzinfo=UTC)  # Wednesday after
        periods = (await session.exec(select(RestPeriod))).all()
        assert [(p.starts_at, p.ends_at) for p in periods] == [
            (now, datetime(2026, 1, 20, tzinfo=UTC))
        ]
    later = now + timedelta(days=1)  # Tuesday 10:00
    async with alice_in(sessions) as (session, user):
        assert await reminders.resume(session, user=user, now=later)
        assert not await reminders.resume(session, user=user, now=later)
        assert user.next_nudge_at == datetime(2026, 1, 7, 8, tzinfo=UTC)
        period = (await session.exec(select(RestPeriod))).one()
        assert period.ends_at == later  # the rest that happened stays on record


async def test_a_nudge_due_inside_a_rest_is_not_sent(sessions: SessionFactory) -> None:
    await seed(sessions)
    async with transaction(sessions) as session:
        # A rest written behind the queue's back (say, by a script): the claim still honours it.
        start = MONDAY_8 - timedelta(hours=1)
        session.add(
            RestPeriod(
                user_id=ALICE, starts_at=start, ends_at=start + timedelta(days=3), created_at=start
            )
        )
    claimed = await claim(sessions, MONDAY_8)
    assert claimed.send == [] and claimed.skipped["resting"] == 1
    assert (await row(sessions)).next_nudge_at == datetime(2026, 1, 9, 8, tzinfo=UTC)


async def test_summary_week_and_advance(sessions: SessionFactory) -> None:
    await seed(sessions, days=frozenset())
    assert (await row(sessions)).next_nudge_at is None  # reminders off
    sunday = datetime(2026, 1, 11, 18, tzinfo=UTC)
    claimed = await claim(sessions, sunday + timedelta(seconds=2))
    assert [(o.source, o.payload) for o in claimed.send] == [("summary", "this")]
    assert (await row(sessions)).next_summary_at == sunday + timedelta(days=7)
    async with alice_in(sessions) as (session, user):
        user.summary_day = MON
        await reminders.reschedule(session, user=user, now=sunday + timedelta(seconds=3))
    # Monday 12 January would report the week just reported on Sunday: the slot after it does.
    monday = datetime(2026, 1, 19, 18, tzinfo=UTC)
    assert (await row(sessions)).next_summary_at == monday
    assert [o.payload for o in (await claim(sessions, monday)).send] == ["last"]
    assert (await row(sessions)).summarised_week == date(2026, 1, 12)


async def test_knee_checks_are_claimed_once_and_late_ones_dropped(
    sessions: SessionFactory,
) -> None:
    await seed(sessions, days=frozenset())
    morning = datetime(2026, 1, 6, 8, tzinfo=UTC)
    async with transaction(sessions) as session:
        for check_at in (morning, morning - timedelta(hours=5)):
            session.add(
                Walk(
                    user_id=ALICE,
                    plan={},
                    status="ended",
                    created_at=check_at,
                    knee_check_at=check_at,
                )
            )
    claimed = await claim(sessions, morning + timedelta(seconds=5))
    assert [o.source for o in claimed.send] == ["knee"]
    assert claimed.skipped["late"] == 1
    async with transaction(sessions) as session:
        walks = (await session.exec(select(Walk))).all()
        assert all(w.knee_check_sent_at is not None for w in walks)
    assert (await claim(sessions, morning + timedelta(seconds=6))).rows == 0


async def test_blocked_stops_everything_and_start_reactivates(sessions: SessionFactory) -> None:
    await seed(sessions)
    claimed = await claim(sessions, MONDAY_8)
    later = MONDAY_8 + timedelta(seconds=1)
    await record(sessions, later, [service.Result(claimed.send[0], "blocked")])
    user = await row(sessions)
    assert not user.active and user.next_nudge_at is None and user.next_summary_at is None
    async with transaction(sessions) as session:
        await mark_blocked(session, telegram_id=ALICE, now=later)  # a second 403: no change
        found = await get_user(session, telegram_id=ALICE)
        assert found is not None
        await touch_user(session, user=found, person=Person(ALICE, "Alice"), now=later)
    user = await row(sessions)
    assert user.active and user.next_nudge_at == datetime(2026, 1, 7, 8, tzinfo=UTC)


async def test_a_give_up_is_recorded(sessions: SessionFactory) -> None:
    await seed(sessions)
    claimed = await claim(sessions, MONDAY_8)
    await record(
        sessions, MONDAY_8, [service.Result(claimed.send[0], "failed", "NetworkError: Bad Gateway")]
    )
    async with transaction(sessions) as session:
        failure = (await session.exec(select(FailedDelivery))).one()
    assert (failure.kind, failure.due_at, failure.detail) == (
        "nudge",
        MONDAY_8,
        "NetworkError: Bad Gateway",
    )


async def test_every_claimed_message_is_on_record_until_its_result_comes(
    sessions: SessionFactory,
) -> None:
    """The claim commits before sending: a process killed in between must leave a trace of
    who missed what. Sent and blocked results clear the marks; a give-up keeps its reason."""
    for offset in range(3):
        await seed(sessions, ALICE + offset)
    claimed = await claim(sessions, MONDAY_8)
    assert len(claimed.send) == 3

    async def marks() -> dict[int | None, str]:
        async with transaction(sessions) as session:
            rows = (await session.exec(select(FailedDelivery))).all()
        assert all(r.chat_id == r.user_id for r in rows)  # each to the person's own chat
        return {r.user_id: r.detail for r in rows}

    assert await marks() == {ALICE + offset: service.IN_FLIGHT for offset in range(3)}
    sent, blocked, failed = claimed.send
    await record(
        sessions,
        MONDAY_8,
        [
            service.Result(sent, "sent"),
            service.Result(blocked, "blocked", "Forbidden"),
            service.Result(failed, "failed", "TimedOut: gave up"),
        ],
    )
    assert await marks() == {failed.user_id: "TimedOut: gave up"}


async def test_batches_are_bounded_and_unscheduled_rows_get_instants(
    sessions: SessionFactory,
) -> None:
    for n in range(5):
        await seed(sessions, ALICE + n)
    async with alice_in(sessions) as (session, user):
        user.next_nudge_at = user.next_summary_at = None  # as if set up before reminders
    first = await claim(sessions, MONDAY_8, limit=2)
    assert len(first.send) == 2  # the claim itself never sweeps: ALICE is not among them
    async with transaction(sessions) as session:
        assert await reminders.schedule_unscheduled(session, now=MONDAY_8, limit=2) == 1
    async with transaction(sessions) as session:
        assert await reminders.schedule_unscheduled(session, now=MONDAY_8, limit=2) == 0
    second = await claim(sessions, MONDAY_8, limit=2)
    assert len(second.send) == 2
    third = await claim(sessions, MONDAY_8, limit=2)
    assert third.rows == 0  # ALICE was scheduled from "now": her next is Wednesday


async def test_settings_changes_and_finishing_onboarding_reschedule(
    sessions: SessionFactory,
) -> None:
    now = MONDAY_8 - timedelta(hours=1)
    async with transaction(sessions) as session:
        user = await create_user(session, person=Person(ALICE, "Alice"), now=now)
        user.onboarding_step, user.timezone = "units", LONDON
        outcome = await flow.answer(
            session, user=user, step="units", given=flow.Button("km"), now=now
        )
        assert outcome.onboarding_done
        assert user.next_nudge_at == MONDAY_8
        assert await flow.begin_edit(session, user=user, step="time", now=now)
        await flow.answer(session, user=user, step="time", given=flow.Text("07:30"), now=now)
        assert user.next_nudge_at == datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
        assert await flow.begin_edit(session, user=user, step="tz", now=now)
        await flow.answer(session, user=user, step="tz", given=flow.Button("Asia/Kolkata"), now=now)
        assert user.next_nudge_at == datetime(2026, 1, 7, 2, tzinfo=UTC)  # Wed 07:30 IST
        assert user.next_summary_at == datetime(2026, 1, 11, 12, 30, tzinfo=UTC)


async def test_a_row_with_an_unknown_zone_does_not_stop_the_dispatcher(
    sessions: SessionFactory,
) -> None:
    await seed(sessions)
    await seed(sessions, ALICE + 1)
    async with alice_in(sessions) as (_session, user):
        user.timezone = "Mars/Olympus_Mons"  # say, removed from tzdata since it was chosen
        user.next_summary_at = MONDAY_8
    claimed = await claim(sessions, MONDAY_8)
    assert [o.user_id for o in claimed.send] == [ALICE + 1]
    for _ in range(3):
        await claim(sessions, MONDAY_8)
    assert (await claim(sessions, MONDAY_8)).rows == 0
    user = await row(sessions)
    assert user.next_nudge_at is None and user.next_summary_at is None
