"""The six-minute test's buttons as results: who may begin a test, that a walk under way or a
test running comes first, and that each button is taken only on one's own test, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.people import add_onboarded_person
from walkbot.domain.walks import WalkPlan
from walkbot.services import sixmin_taps as taps
from walkbot.services import walks
from walkbot.services.users import Person, create_user, get_user
from walkbot.store.db import SessionFactory, transaction

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
ALICE, BOB = 7_000_000_401, 7_000_000_402
PLAN = WalkPlan(warmup_s=0, rounds=1, backward_s=10, forward_s=10, cooldown_s=0)


async def seed(sessions: SessionFactory, telegram_id: int = ALICE) -> None:
    async with transaction(sessions) as session:
        user = await add_onboarded_person(session, telegram_id, "Alice", now=T0)
        user.units = "mi"


async def begin(sessions: SessionFactory, user_id: int = ALICE) -> taps.Begun:
    async with transaction(sessions) as session:
        return await taps.begin(session, user_id=user_id, direction="backward", now=T0)


async def tap(
    sessions: SessionFactory, request: taps.Tap | None, *, user_id: int = ALICE, at: int = 0
) -> taps.Tapped:
    async with transaction(sessions) as session:
        now = T0 + timedelta(seconds=at)
        return await taps.tap(session, user_id=user_id, request=request, now=now)


async def end_walk(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        walk = await walks.open_walk(session, user_id=ALICE)
        assert walk is not None
        assert await walks.end(session, walk=walk, now=T0, reason="stopped") is not None


async def test_strangers_and_the_half_set_up_cannot_begin(sessions: SessionFactory) -> None:
    assert await begin(sessions) == taps.Begun("stale")
    async with transaction(sessions) as session:
        await create_user(session, person=Person(ALICE, "Alice"), now=T0)
    assert await begin(sessions) == taps.Begun("stale")


async def test_a_walk_under_way_or_a_test_running_comes_first(sessions: SessionFactory) -> None:
    await seed(sessions)
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=ALICE)
        assert user is not None
        walk, _ = await walks.prepare(session, user=user, plan=PLAN, now=T0)
        assert await walks.start(session, walk=walk, now=T0)
    assert await begin(sessions) == taps.Begun("walking")
    await end_walk(sessions)
    begun = await begin(sessions)
    assert begun.kind == "created" and begun.test_id > 0 and not begun.needs_support
    effort = await tap(sessions, taps.Tap(begun.test_id, "answer", "effort_before", 3))
    assert effort.kind == "answered"
    assert (await tap(sessions, taps.Tap(begun.test_id, "start"))).kind == "started"
    assert await begin(sessions) == taps.Begun("running")


async def test_buttons_are_taken_on_ones_own_test_once_and_in_order(
    sessions: SessionFactory,
) -> None:
    await seed(sessions)
    await seed(sessions, BOB)
    test_id = (await begin(sessions)).test_id
    assert await tap(sessions, None) == taps.Tapped("stale")
    assert await tap(sessions, taps.Tap(test_id, "cancel"), user_id=BOB) == taps.Tapped("stale")
    assert (await tap(sessions, taps.Tap(test_id, "start"))).kind == "stale"  # effort first
    assert (await tap(sessions, taps.Tap(test_id, "forged"))).kind == "stale"
    effort = await tap(sessions, taps.Tap(test_id, "answer", "effort_before", 3))
    assert effort.answered is not None and effort.answered.accepted
    started = await tap(sessions, taps.Tap(test_id, "start"))
    assert started.kind == "started" and started.test is not None and started.units == "mi"
    assert (await tap(sessions, taps.Tap(test_id, "start"))).kind == "stale"  # only once
    assert (await tap(sessions, taps.Tap(test_id, "cancel"))).kind == "stale"  # too late
    stopped = await tap(sessions, taps.Tap(test_id, "stop"), at=90)
    assert stopped.kind == "stopped" and stopped.test is not None and stopped.test.stopped_early
    skipped = await tap(sessions, taps.Tap(test_id, "answer", "distance"), at=95)
    assert skipped.answered is not None and skipped.answered.next_step == "effort_after"
    again = await tap(sessions, taps.Tap(test_id, "answer", "distance"), at=96)
    assert again == taps.Tapped("stale")


async def test_not_today_puts_away_an_unstarted_test(sessions: SessionFactory) -> None:
    await seed(sessions)
    test_id = (await begin(sessions)).test_id
    cancelled = await tap(sessions, taps.Tap(test_id, "cancel"))
    assert cancelled.kind == "cancelled" and cancelled.test is not None
    assert cancelled.test.status == "cancelled"
    assert (await tap(sessions, taps.Tap(test_id, "cancel"))).kind == "stale"
