"""The programme on a migrated database: level walks, decisions recorded as level changes,
/level choices, the starting level from the screening, and the next-morning knee check."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.people import add_onboarded_person, person_in
from walkbot.domain import programme as domain
from walkbot.domain.screening import QUESTION_KEYS
from walkbot.domain.walks import WalkPlan
from walkbot.services import programme as service
from walkbot.services import walks
from walkbot.services.users import get_user
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import LevelChange, User, Walk

T0 = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)  # Monday, 18:00 in London
ALICE, BOB = 7_100_000_001, 7_100_000_002
ALL_NO = dict.fromkeys(QUESTION_KEYS, False)
A_YES = {**ALL_NO, "fall": True}


@pytest.fixture
async def people(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        for telegram_id, name in ((ALICE, "Alice"), (BOB, "Bob")):
            await add_onboarded_person(session, telegram_id, name, now=T0, screening=ALL_NO)


def alice_in(sessions: SessionFactory) -> AbstractAsyncContextManager[tuple[AsyncSession, User]]:
    """One transaction with Alice's row loaded, as most of these tests act as her."""
    return person_in(sessions, ALICE)


async def user_row(sessions: SessionFactory, telegram_id: int = ALICE) -> User:
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=telegram_id)
        assert user is not None
        return user


async def changes(sessions: SessionFactory) -> list[tuple[int, int, str, int | None]]:
    async with transaction(sessions) as session:
        rows = await session.exec(select(LevelChange).order_by(col(LevelChange.id)))
        return [(r.from_level, r.to_level, r.reason, r.walk_id) for r in rows]


async def rated_walk(
    sessions: SessionFactory,
    at: datetime,
    *,
    effort: int = 5,
    pain: int | None = 2,
    end: walks.EndReason = "finished",
    plan: WalkPlan | None = None,
    user_id: int = ALICE,
) -> tuple[int, walks.Rated]:
    """A walk planned, walked (all of it unless ended early), and rated through the services."""
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=user_id)
        assert user is not None
        walk, _ = await walks.prepare(session, user=user, plan=plan, now=at)
        await walks.start(session, walk=walk, now=at)
        length = walks.plan_of(walk).total_s if end == "finished" else 60
        ended = at + timedelta(seconds=length)
        await walks.end(session, walk=walk, now=ended, reason=end)
        await walks.rate(session, walk=walk, step="effort", value=effort, now=ended)
        rated = await walks.rate(session, walk=walk, step="pain", value=pain, now=ended)
        assert rated.accepted and walk.id is not None
        return walk.id, rated


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


async def test_a_plain_walk_uses_the_level_plan_and_a_custom_one_does_not(
    sessions: SessionFactory, people: None
) -> None:
    custom = WalkPlan(0, 2, 10, 10, 0)
    async with alice_in(sessions) as (session, alice):
        alice.level = 2
        walk, _ = await walks.prepare(session, user=alice, plan=None, now=T0)
        assert (walk.level, walks.plan_of(walk)) == (2, domain.level_plan(2))
        other, _ = await walks.prepare(session, user=alice, plan=custom, now=T0)
        assert (other.level, walks.plan_of(other)) == (None, custom)


async def test_two_easy_walks_step_up_and_the_move_is_recorded(
    sessions: SessionFactory, people: None
) -> None:
    _, first = await rated_walk(sessions, day(0), effort=5, pain=1)
    assert first.decision is not None
    assert (first.decision.kind, first.decision.level) == ("repeat", 1)
    second_id, second = await rated_walk(sessions, day(2), effort=6, pain=1)
    assert second.decision is not None
    assert second.decision.line == (
        "Next time: 6 x 45 s backward. Your last two walks felt moderate."
    )
    assert (await user_row(sessions)).level == 2
    assert await changes(sessions) == [(1, 2, "step_up:easy_twice", second_id)]
    # The count starts afresh at the new level.
    _, third = await rated_walk(sessions, day(4), effort=4, pain=1)
    assert third.decision is not None
    assert (third.decision.kind, third.decision.reason) == ("repeat", "one_easy")
    assert third.decision.line.startswith("Next time: same again, 6 x 45 s backward.")


async def test_custom_walks_never_move_the_programme(
    sessions: SessionFactory, people: None
) -> None:
    custom = WalkPlan(0, 2, 10, 10, 0)
    for n in range(3):
        _, rated = await rated_walk(sessions, day(n), effort=3, pain=0, plan=custom)
        assert rated.decision is None
    _, worst = await rated_walk(sessions, day(4), effort=10, end="need_to_stop", plan=custom)
    assert worst.decision is None
    assert (await user_row(sessions)).level == 1
    assert await changes(sessions) == []


async def test_need_to_stop_steps_down_and_is_recorded_kindly(
    sessions: SessionFactory, people: None
) -> None:
    walk_id, rated = await rated_walk(sessions, day(0), effort=3, pain=0, end="need_to_stop")
    assert rated.decision is not None
    assert rated.decision.kind == "step_down"
    assert "right call" in rated.decision.line
    assert (await user_row(sessions)).level == 0
    assert await changes(sessions) == [(1, 0, "step_down:need_to_stop", walk_id)]


async def test_a_person_who_changed_level_meanwhile_keeps_their_choice(
    sessions: SessionFactory, people: None
) -> None:
    await rated_walk(sessions, day(0))
    async with alice_in(sessions) as (session, alice):
        walk, _ = await walks.prepare(session, user=alice, plan=None, now=day(2))
        await walks.start(session, walk=walk, now=day(2))
        assert (
            await service.choose(session, user=alice, choice="back", expected_level=1, now=day(2))
            == 0
        )
        await walks.end(session, walk=walk, now=day(2) + timedelta(hours=1), reason="finished")
        await walks.rate(session, walk=walk, step="effort", value=3, now=day(2))
        rated = await walks.rate(session, walk=walk, step="pain", value=0, now=day(2))
    assert rated.decision is None
    assert (await user_row(sessions)).level == 0


# --- /level ----------------------------------------------------------------------------------


async def test_choosing_to_repeat_counts_two_fresh_walks(
    sessions: SessionFactory, people: None
) -> None:
    await rated_walk(sessions, day(0), effort=4, pain=0)
    async with alice_in(sessions) as (session, alice):
        view = await service.level_view(session, user=alice)
        assert (view.level, view.towards_step_up, view.next) == (1, 1, "6 x 45 s backward")
        chosen = await service.choose(
            session, user=alice, choice="repeat", expected_level=1, now=day(1)
        )
        assert chosen == 1
        assert (await service.level_view(session, user=alice)).towards_step_up == 0
    _, rated = await rated_walk(sessions, day(2), effort=4, pain=0)
    assert rated.decision is not None
    assert rated.decision.kind == "repeat"
    _, rated = await rated_walk(sessions, day(3), effort=4, pain=0)
    assert rated.decision is not None
    assert rated.decision.kind == "step_up"
    assert [c[2] for c in await changes(sessions)] == ["chose_repeat", "step_up:easy_twice"]


async def test_stepping_back_and_stale_or_impossible_choices(
    sessions: SessionFactory, people: None
) -> None:
    async with alice_in(sessions) as (session, alice):
        assert (
            await service.choose(session, user=alice, choice="back", expected_level=2, now=T0)
            is None
        )
        assert (
            await service.choose(session, user=alice, choice="back", expected_level=1, now=T0) == 0
        )
        assert alice.level == 0
        # No level below the first; unknown choices are refused.
        assert (
            await service.choose(session, user=alice, choice="back", expected_level=0, now=T0)
            is None
        )
        assert (
            await service.choose(session, user=alice, choice="jump", expected_level=0, now=T0)
            is None
        )
        view = await service.level_view(session, user=alice)
        assert not view.can_step_back
    assert await changes(sessions) == [(1, 0, "chose_back", None)]


# --- screening -------------------------------------------------------------------------------


async def test_a_screening_yes_starts_lower_only_before_the_first_rated_walk(
    sessions: SessionFactory, people: None
) -> None:
    async with alice_in(sessions) as (session, alice):
        alice.screening = A_YES
        assert await service.apply_screening(session, user=alice, now=T0) == 0
        alice.screening = ALL_NO  # answered again, all no, still before any walk
        assert await service.apply_screening(session, user=alice, now=T0) == 1
        alice.screening = A_YES
        assert await service.apply_screening(session, user=alice, now=T0) == 0
    await rated_walk(sessions, day(1))
    async with alice_in(sessions) as (session, alice):
        alice.screening = ALL_NO
        assert await service.apply_screening(session, user=alice, now=day(2)) is None
        assert alice.level == 0
    assert [c[2] for c in await changes(sessions)] == ["start", "start", "start"]


async def test_a_screening_yes_allows_one_step_up_a_week(
    sessions: SessionFactory, people: None
) -> None:
    async with alice_in(sessions) as (session, alice):
        alice.screening = A_YES
        await service.apply_screening(session, user=alice, now=T0)
    await rated_walk(sessions, day(1), effort=4, pain=0)
    _, held = await rated_walk(sessions, day(3), effort=4, pain=0)
    assert held.decision is not None
    assert (held.decision.kind, held.decision.reason) == ("hold", "weekly_cap")
    assert "in 4 days" in held.decision.line
    _, up = await rated_walk(sessions, day(7), effort=4, pain=0)
    assert up.decision is not None
    assert (up.decision.kind, up.decision.level) == ("step_up", 1)
    # Two more easy walks in the same week: held again.
    await rated_walk(sessions, day(8), effort=4, pain=0)
    _, again = await rated_walk(sessions, day(9), effort=4, pain=0)
    assert again.decision is not None
    assert again.decision.reason == "weekly_cap"
    assert (await user_row(sessions)).level == 1


# --- the knee check --------------------------------------------------------------------------


async def walk_row(sessions: SessionFactory, walk_id: int) -> Walk:
    async with transaction(sessions) as session:
        walk = await session.get(Walk, walk_id)
        assert walk is not None
        return walk


async def test_knee_pain_above_three_books_a_check_the_next_morning(
    sessions: SessionFactory, people: None
) -> None:
    sore, _ = await rated_walk(sessions, day(0), pain=4)  # Monday evening
    fine, _ = await rated_walk(sessions, day(1), pain=3)
    skipped, _ = await rated_walk(sessions, day(2), pain=None)
    # Tuesday has no reminder by default (Mon, Wed, Fri at 08:00): 09:00 London = 08:00 UTC.
    assert (await walk_row(sessions, sore)).knee_check_at == datetime(2026, 5, 5, 8, 0, tzinfo=UTC)
    assert (await walk_row(sessions, fine)).knee_check_at is None
    assert (await walk_row(sessions, skipped)).knee_check_at is None
    # Wednesday evening: Thursday has no reminder either; Thursday's walk -> Friday 08:00 local.
    thursday, _ = await rated_walk(sessions, day(3), pain=5)
    assert (await walk_row(sessions, thursday)).knee_check_at == datetime(
        2026, 5, 8, 7, 0, tzinfo=UTC
    )


async def test_a_worse_morning_blocks_the_next_step_up(
    sessions: SessionFactory, people: None
) -> None:
    sore, rated = await rated_walk(sessions, day(0), effort=5, pain=4)
    assert rated.decision is not None and rated.decision.kind == "repeat"
    assert ((await user_row(sessions)).level, await changes(sessions)) == (1, [])
    async with alice_in(sessions) as (session, alice):
        answer = await service.record_knee_answer(
            session, user=alice, walk_id=sore, score=5, now=day(1)
        )
    assert answer.accepted and answer.worse
    assert answer.text is not None and "won't step up" in answer.text
    row = await walk_row(sessions, sore)
    assert (row.knee_morning, row.knee_morning_worse) == (5, True)
    assert ((await user_row(sessions)).level, await changes(sessions)) == (1, [])
    # A second easy walk would step up (as `later` does below); the worse morning holds it.
    _, next_walk = await rated_walk(sessions, day(2), effort=5, pain=4)
    assert next_walk.decision is not None
    assert (next_walk.decision.kind, next_walk.decision.reason) == ("hold", "knee_morning")
    assert ((await user_row(sessions)).level, await changes(sessions)) == (1, [])
    # One walk later the worse morning is no longer one of the last two.
    _, later = await rated_walk(sessions, day(4), effort=5, pain=3)
    assert later.decision is not None
    assert later.decision.kind == "step_up"


async def test_a_worse_morning_takes_back_the_step_up_that_walk_made(
    sessions: SessionFactory, people: None
) -> None:
    await rated_walk(sessions, day(0), effort=5, pain=4)
    sore, rated = await rated_walk(sessions, day(2), effort=5, pain=4)
    assert rated.decision is not None and rated.decision.kind == "step_up"
    async with alice_in(sessions) as (session, alice):
        answer = await service.record_knee_answer(
            session, user=alice, walk_id=sore, score=6, now=day(3)
        )
    assert answer.text is not None and "stay at 6 x 30 s backward" in answer.text
    assert (await user_row(sessions)).level == 1
    assert [c[2] for c in await changes(sessions)] == ["step_up:easy_twice", "knee_morning"]


async def test_a_settled_morning_changes_nothing(sessions: SessionFactory, people: None) -> None:
    await rated_walk(sessions, day(0), effort=5, pain=4)
    sore, _ = await rated_walk(sessions, day(2), effort=5, pain=4)
    stepped_up = [(1, 2, "step_up:easy_twice", sore)]
    assert ((await user_row(sessions)).level, await changes(sessions)) == (2, stepped_up)
    async with alice_in(sessions) as (session, alice):
        answer = await service.record_knee_answer(
            session, user=alice, walk_id=sore, score=2, now=day(3)
        )
    assert answer.accepted and not answer.worse
    assert ((await user_row(sessions)).level, await changes(sessions)) == (2, stepped_up)


async def test_knee_answers_only_once_for_ones_own_asked_walk(
    sessions: SessionFactory, people: None
) -> None:
    sore, _ = await rated_walk(sessions, day(0), pain=4)
    not_asked, _ = await rated_walk(sessions, day(1), pain=1)
    async with transaction(sessions) as session:
        alice = await get_user(session, telegram_id=ALICE)
        bob = await get_user(session, telegram_id=BOB)
        assert alice is not None and bob is not None

        async def answer(user: User, walk_id: int, score: int) -> bool:
            result = await service.record_knee_answer(
                session, user=user, walk_id=walk_id, score=score, now=day(2)
            )
            return result.accepted

        assert not await answer(bob, sore, 2)
        assert not await answer(alice, not_asked, 2)
        assert not await answer(alice, sore, 11)
        assert not await answer(alice, sore + 1000, 2)
        assert await answer(alice, sore, 2)
        assert not await answer(alice, sore, 9)
    assert (await walk_row(sessions, sore)).knee_morning == 2


# --- custom walks, worse mornings and the count ----------------------------------------------

CUSTOM = WalkPlan(0, 2, 10, 10, 0)


async def level_progress(sessions: SessionFactory) -> int:
    async with alice_in(sessions) as (session, alice):
        return (await service.level_view(session, user=alice)).towards_step_up


async def test_a_custom_walk_with_high_pain_starts_the_count_again(
    sessions: SessionFactory, people: None
) -> None:
    await rated_walk(sessions, day(0), effort=4, pain=1)
    assert await level_progress(sessions) == 1
    # Its pain advice says "we'll hold this level or step down next time".
    _, sore = await rated_walk(sessions, day(1), effort=3, pain=8, plan=CUSTOM)
    assert sore.decision is None
    assert ((await user_row(sessions)).level, await changes(sessions)) == (1, [])
    assert await level_progress(sessions) == 0
    # Without the custom walk this second easy walk would step up (as in the first test).
    _, next_walk = await rated_walk(sessions, day(2), effort=4, pain=1)
    assert next_walk.decision is not None
    assert (next_walk.decision.kind, next_walk.decision.reason) == ("repeat", "one_easy")
    assert (await user_row(sessions)).level == 1
    _, after = await rated_walk(sessions, day(3), effort=4, pain=1)
    assert after.decision is not None and after.decision.kind == "step_up"


async def test_a_worse_morning_after_a_custom_walk_holds_the_next_step_up(
    sessions: SessionFactory, people: None
) -> None:
    await rated_walk(sessions, day(0), effort=5, pain=2)
    sore, _ = await rated_walk(sessions, day(1), effort=3, pain=4, plan=CUSTOM)
    async with alice_in(sessions) as (session, alice):
        answer = await service.record_knee_answer(
            session, user=alice, walk_id=sore, score=6, now=day(2) - timedelta(hours=9)
        )
    assert answer.worse and answer.text is not None and "won't step up" in answer.text
    _, next_walk = await rated_walk(sessions, day(2), effort=5, pain=2)
    assert next_walk.decision is not None
    assert (next_walk.decision.kind, next_walk.decision.reason) == ("hold", "knee_morning")
    assert ((await user_row(sessions)).level, await changes(sessions)) == (1, [])


async def test_level_progress_agrees_with_the_rule_after_a_pain_rise(
    sessions: SessionFactory, people: None
) -> None:
    await rated_walk(sessions, day(0), effort=4, pain=1)
    _, rose = await rated_walk(sessions, day(1), effort=4, pain=3)
    assert rose.decision is not None and rose.decision.reason == "pain_rose"
    assert await level_progress(sessions) == 1  # not "2 of 2": the rise started it again
    _, up = await rated_walk(sessions, day(2), effort=4, pain=3)
    assert up.decision is not None and up.decision.kind == "step_up"


# Monday 18:00 in London (T0): knee pain 4 books the check for Tuesday 09:00 (08:00 UTC).
TUESDAY_05_LONDON = datetime(2026, 5, 5, 4, 0, tzinfo=UTC)
TUESDAY_CHECK = datetime(2026, 5, 5, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("sore_plan", [None, CUSTOM], ids=["level_walk", "custom_walk"])
async def test_a_worse_morning_takes_back_a_step_up_made_by_a_later_walk(
    sessions: SessionFactory, people: None, sore_plan: WalkPlan | None
) -> None:
    if sore_plan is not None:  # the custom walk needs a level walk before it to pair with
        await rated_walk(sessions, day(-1), effort=5, pain=2)
    sore, _ = await rated_walk(sessions, day(0), effort=5, pain=4, plan=sore_plan)
    assert (await walk_row(sessions, sore)).knee_check_at == TUESDAY_CHECK
    early, rated = await rated_walk(sessions, TUESDAY_05_LONDON, effort=5, pain=2)
    assert rated.decision is not None and rated.decision.kind == "step_up"
    async with alice_in(sessions) as (session, alice):
        answer = await service.record_knee_answer(
            session, user=alice, walk_id=sore, score=7, now=TUESDAY_CHECK
        )
    assert answer.text is not None and "stay at 6 x 30 s backward" in answer.text
    assert (await user_row(sessions)).level == 1
    assert await changes(sessions) == [
        (1, 2, "step_up:easy_twice", early),
        (2, 1, "knee_morning", None),
    ]


async def test_a_step_up_already_walked_at_the_new_level_stands(
    sessions: SessionFactory, people: None
) -> None:
    sore, _ = await rated_walk(sessions, day(0), effort=5, pain=4)
    await rated_walk(sessions, TUESDAY_05_LONDON, effort=5, pain=2)
    # A walk at the new level was rated before the answer: it was judged there already.
    await rated_walk(sessions, TUESDAY_05_LONDON + timedelta(hours=1), effort=5, pain=2)
    async with alice_in(sessions) as (session, alice):
        answer = await service.record_knee_answer(
            session, user=alice, walk_id=sore, score=7, now=TUESDAY_CHECK
        )
    assert answer.text is not None and "won't step up" in answer.text
    assert (await user_row(sessions)).level == 2
    assert [c[2] for c in await changes(sessions)] == ["step_up:easy_twice"]


async def test_a_step_up_made_before_the_walk_asked_about_stands(
    sessions: SessionFactory, people: None
) -> None:
    await rated_walk(sessions, day(0), effort=5, pain=2)
    await rated_walk(sessions, day(1), effort=5, pain=2)
    assert (await user_row(sessions)).level == 2
    # A custom walk after the step up, so no walk at the new level since it.
    later, _ = await rated_walk(sessions, day(2), effort=3, pain=4, plan=CUSTOM)
    async with alice_in(sessions) as (session, alice):
        answer = await service.record_knee_answer(
            session, user=alice, walk_id=later, score=6, now=day(3) - timedelta(hours=9)
        )
    assert answer.worse and answer.text is not None and "won't step up" in answer.text
    assert (await user_row(sessions)).level == 2
    assert [c[2] for c in await changes(sessions)] == ["step_up:easy_twice"]


async def test_a_replayed_repeat_adds_no_row_until_a_walk_comes_between(
    sessions: SessionFactory, people: None
) -> None:
    """Replaying the lv:repeat tap used to add a row every time (issue 11, point 10)."""
    for _ in range(5):
        async with alice_in(sessions) as (session, alice):
            assert await service.choose(
                session, user=alice, choice="repeat", expected_level=1, now=day(1)
            )
    assert await changes(sessions) == [(1, 1, "chose_repeat", None)]
    await rated_walk(sessions, day(2))
    async with alice_in(sessions) as (session, alice):
        await service.choose(session, user=alice, choice="repeat", expected_level=1, now=day(3))
    assert len(await changes(sessions)) == 2  # after a walk, repeating starts the count again
