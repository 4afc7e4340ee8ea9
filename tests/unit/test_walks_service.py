"""The walk service on a migrated database: one open walk, owners only, pauses, rating once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.people import add_onboarded_person
from walkbot.domain.walks import WalkPlan
from walkbot.services import summaries
from walkbot.services import walks as service
from walkbot.services.users import delete_user, get_user
from walkbot.services.walk_history import history_text
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import Walk

T0 = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
PLAN = WalkPlan(warmup_s=0, rounds=2, backward_s=10, forward_s=10, cooldown_s=0)
ALICE, BOB = 7_000_000_001, 7_000_000_002


@pytest.fixture
async def walk_id(sessions: SessionFactory) -> int:
    async with transaction(sessions) as session:
        alice = await add_onboarded_person(session, ALICE, "Alice", now=T0)
        await add_onboarded_person(session, BOB, "Bob", now=T0)
        walk, is_new = await service.prepare(session, user=alice, plan=PLAN, now=T0)
        assert is_new
        assert await service.start(session, walk=walk, now=T0)
        assert walk.id is not None
        return walk.id


async def _walk(sessions: SessionFactory, walk_id: int, user_id: int = ALICE) -> Walk | None:
    async with transaction(sessions) as session:
        return await service.owned_walk(session, user_id=user_id, walk_id=walk_id)


async def test_only_the_owner_can_touch_a_walk(sessions: SessionFactory, walk_id: int) -> None:
    assert await _walk(sessions, walk_id, BOB) is None
    assert await _walk(sessions, walk_id, ALICE) is not None
    assert await _walk(sessions, walk_id + 1000, ALICE) is None


async def test_a_second_walk_request_returns_the_active_one(
    sessions: SessionFactory, walk_id: int
) -> None:
    async with transaction(sessions) as session:
        alice = await get_user(session, telegram_id=ALICE)
        assert alice is not None
        walk, is_new = await service.prepare(session, user=alice, plan=PLAN, now=T0)
    assert not is_new
    assert walk.id == walk_id


async def test_pause_and_resume_shift_the_end_and_stop_counts_what_was_done(
    sessions: SessionFactory, walk_id: int
) -> None:
    async with transaction(sessions) as session:
        walk = await service.owned_walk(session, user_id=ALICE, walk_id=walk_id)
        assert walk is not None
        assert await service.pause(session, walk=walk, now=T0 + timedelta(seconds=5))
        assert not await service.pause(session, walk=walk, now=T0 + timedelta(seconds=6))
        assert await service.resume(session, walk=walk, now=T0 + timedelta(seconds=65))
        assert service.timeline_of(walk).ends_at == T0 + timedelta(seconds=100)
        summary = await service.end(
            session, walk=walk, now=T0 + timedelta(seconds=80), reason="stopped"
        )
    assert summary is not None
    stored = await _walk(sessions, walk_id)
    assert stored is not None
    assert (stored.status, stored.end_reason, stored.rating_step) == ("ended", "stopped", "effort")
    assert (stored.active_s, stored.backward_s, stored.rounds_done) == (20, 10, 1)


async def test_ratings_are_taken_once_in_order_and_in_range(
    sessions: SessionFactory, walk_id: int
) -> None:
    async with transaction(sessions) as session:
        walk = await service.owned_walk(session, user_id=ALICE, walk_id=walk_id)
        assert walk is not None
        await service.end(session, walk=walk, now=T0 + timedelta(seconds=40), reason="finished")
        now = T0 + timedelta(minutes=1)
        assert not (await service.rate(session, walk=walk, step="pain", value=3, now=now)).accepted
        assert not (
            await service.rate(session, walk=walk, step="effort", value=11, now=now)
        ).accepted
        first = await service.rate(session, walk=walk, step="effort", value=5, now=now)
        again = await service.rate(session, walk=walk, step="effort", value=9, now=now)
        pain = await service.rate(session, walk=walk, step="pain", value=7, now=now)
        note = await service.rate(session, walk=walk, step="note", value=" felt good ", now=now)
    assert first.accepted and first.next_step == "pain"
    assert not again.accepted
    assert pain.accepted and pain.advice is not None and "clinician" in pain.advice
    assert note.accepted and note.next_step is None
    stored = await _walk(sessions, walk_id)
    assert stored is not None
    assert (stored.effort, stored.knee_pain, stored.note) == (5, 7, "felt good")


async def test_history_totals_come_from_ended_walks(sessions: SessionFactory, walk_id: int) -> None:
    async with transaction(sessions) as session:
        walk = await service.owned_walk(session, user_id=ALICE, walk_id=walk_id)
        assert walk is not None
        await service.end(session, walk=walk, now=T0 + timedelta(seconds=40), reason="finished")
        found = await service.history(session, user_id=ALICE)
        nothing = await service.history(session, user_id=BOB)
    assert (found.count, found.backward_s, found.active_s) == (1, 20, 40)
    assert nothing.count == 0


async def test_history_counts_agree_with_their_nouns(
    sessions: SessionFactory, walk_id: int
) -> None:
    async with transaction(sessions) as session:
        walk = await service.owned_walk(session, user_id=ALICE, walk_id=walk_id)
        alice = await get_user(session, telegram_id=ALICE)
        assert walk is not None and alice is not None
        await service.end(session, walk=walk, now=T0 + timedelta(seconds=20), reason="stopped")
        one = await history_text(session, user=alice, now=T0 + timedelta(minutes=1))
        later = T0 + timedelta(days=1)
        second, _ = await service.prepare(session, user=alice, plan=PLAN, now=later)
        await service.start(session, walk=second, now=later)
        await service.end(
            session, walk=second, now=later + timedelta(seconds=40), reason="finished"
        )
        two = await history_text(session, user=alice, now=later + timedelta(minutes=1))
    assert one == (
        "Your latest walks:\n"
        "Mon 04 May · 10 s backward · 1 round · stopped early\n"
        "\n"
        "In all: 1 walk, 10 s backward, 20 s walking."
    )
    assert two.endswith(
        "Tue 05 May · 20 s backward · 2 rounds\n"
        "Mon 04 May · 10 s backward · 1 round · stopped early\n"
        "\n"
        "In all: 2 walks, 30 s backward, 1 min walking."
    )


async def test_a_walk_stopped_at_once_counts_nowhere(
    sessions: SessionFactory, walk_id: int
) -> None:
    async with transaction(sessions) as session:
        walk = await service.owned_walk(session, user_id=ALICE, walk_id=walk_id)
        assert walk is not None
        await service.end(session, walk=walk, now=T0, reason="stopped")  # Start, then Stop
        found = await service.history(session, user_id=ALICE)
        stats = await summaries.all_time_totals(session, user_id=ALICE)
    assert (found.count, found.walks) == (0, [])
    assert stats.walks == 0  # /history and /stats agree


async def test_deleting_a_person_deletes_their_walks(
    sessions: SessionFactory, walk_id: int
) -> None:
    async with transaction(sessions) as session:
        assert await delete_user(session, telegram_id=ALICE, now=T0)
    async with transaction(sessions) as session:
        assert await session.get(Walk, walk_id) is None
