"""/walk, the walk buttons and /stop as results: who may walk, which walk they get, and what
each button did, which the handlers only put into words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.people import add_onboarded_person
from walkbot.domain import sixmin as sixmin_domain
from walkbot.domain.walks import WalkPlan
from walkbot.services import sixmin
from walkbot.services import walks as service
from walkbot.services.users import Person, create_user, get_user
from walkbot.store.db import SessionFactory, transaction

T0 = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
PLAN = WalkPlan(warmup_s=0, rounds=2, backward_s=10, forward_s=10, cooldown_s=0)
ALICE, BOB = 7_000_000_201, 7_000_000_202


async def seed(sessions: SessionFactory, telegram_id: int = ALICE) -> None:
    async with transaction(sessions) as session:
        await add_onboarded_person(session, telegram_id, "Alice", now=T0, screening={"fall": True})


async def seed_half_set_up(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await create_user(session, person=Person(ALICE, "Alice"), now=T0)


async def request(
    sessions: SessionFactory, plan: WalkPlan | None = PLAN, now: datetime = T0
) -> service.WalkCard:
    async with transaction(sessions) as session:
        return await service.request_walk(session, telegram_id=ALICE, plan=plan, now=now)


async def control(
    sessions: SessionFactory, walk_id: int | None, action: str, *, user_id: int = ALICE, at: int = 0
) -> service.Controlled:
    async with transaction(sessions) as session:
        return await service.control(
            session, user_id=user_id, walk_id=walk_id, action=action, now=T0 + timedelta(seconds=at)
        )


async def stop(sessions: SessionFactory, at: int = 0) -> service.Controlled:
    async with transaction(sessions) as session:
        return await service.stop_open(session, user_id=ALICE, now=T0 + timedelta(seconds=at))


async def test_strangers_and_the_half_set_up_get_no_walk(sessions: SessionFactory) -> None:
    assert await request(sessions) == service.WalkCard("need_start")
    await seed_half_set_up(sessions)
    assert await request(sessions) == service.WalkCard("finish_setup")


async def test_a_new_walk_comes_with_its_plan_and_the_safety_card_it_needs(
    sessions: SessionFactory,
) -> None:
    await seed(sessions)
    card = await request(sessions)
    assert (card.kind, card.plan, card.needs_support) == ("new", PLAN.describe(), True)
    again = await request(sessions)  # an unstarted card is replaced, not reused
    assert again.kind == "new" and again.id != card.id


async def test_a_walk_under_way_is_shown_with_its_status(sessions: SessionFactory) -> None:
    await seed(sessions)
    card = await request(sessions)
    assert (await control(sessions, card.id, "start")).done
    assert (await control(sessions, card.id, "pause", at=5)).done
    shown = await request(sessions, plan=None, now=T0 + timedelta(seconds=8))
    assert (shown.kind, shown.id, shown.paused) == ("open", card.id, True)
    assert shown.status and shown.plan == ""


async def test_no_walk_while_a_six_minute_test_runs(sessions: SessionFactory) -> None:
    await seed(sessions)
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=ALICE)
        assert user is not None
        test = await sixmin.create(
            session, user=user, direction=sixmin_domain.direction_of("forward"), now=T0
        )
        assert test is not None and test.id is not None
        test.status, test.step = "running", None
    assert await request(sessions) == service.WalkCard("testing", id=test.id)


async def test_buttons_act_only_on_ones_own_walk_and_only_when_they_apply(
    sessions: SessionFactory,
) -> None:
    await seed(sessions)
    await seed(sessions, BOB)
    walk_id = (await request(sessions)).id
    assert await control(sessions, walk_id, "start", user_id=BOB) == service.Controlled(None)
    assert await control(sessions, None, "start") == service.Controlled(None)
    assert not (await control(sessions, walk_id, "pause")).done  # not started yet
    assert not (await control(sessions, walk_id, "forged")).done
    assert (await control(sessions, walk_id, "start")).done
    assert not (await control(sessions, walk_id, "start")).done
    assert not (await control(sessions, walk_id, "cancel")).done  # too late for Not now
    needed = await control(sessions, walk_id, "need", at=15)
    assert needed.done and needed.summary is not None and needed.summary.active_s == 15
    assert needed.walk is not None and needed.walk.end_reason == "need_to_stop"


async def test_stop_ends_a_walk_under_way_or_puts_away_an_unstarted_card(
    sessions: SessionFactory,
) -> None:
    await seed(sessions)
    assert await stop(sessions) == service.Controlled(None)
    await request(sessions)
    put_away = await stop(sessions)
    assert put_away.done and put_away.summary is None
    assert await stop(sessions) == service.Controlled(None)
    walk_id = (await request(sessions)).id
    await control(sessions, walk_id, "start")
    ended = await stop(sessions, at=12)
    assert ended.done and ended.summary is not None and ended.summary.active_s == 12
    assert ended.walk is not None and ended.walk.end_reason == "stopped"
