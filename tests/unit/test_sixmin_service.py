"""The six-minute test service on a migrated database: owners only, one question at a time,
stopping early, and comparisons with earlier tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from tests.people import add_onboarded_person
from walkbot.services import sixmin as service
from walkbot.services.users import get_user
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import SixMinuteTest, User

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
ALICE, BOB = 7_000_000_011, 7_000_000_012


@pytest.fixture
async def people(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        for telegram_id, name in ((ALICE, "Alice"), (BOB, "Bob")):
            await add_onboarded_person(session, telegram_id, name, now=T0)


async def _user(session: object, telegram_id: int = ALICE) -> User:
    user = await get_user(session, telegram_id=telegram_id)  # type: ignore[arg-type]
    assert user is not None
    return user


async def _answer(
    sessions: SessionFactory, test_id: int, step: str, value: int | str | None, now: datetime
) -> service.Answered:
    async with transaction(sessions) as session:
        test = await session.get(SixMinuteTest, test_id)
        assert test is not None
        return await service.answer(session, test=test, step=step, value=value, units="km", now=now)


async def _running(sessions: SessionFactory, direction: str = "backward", at: datetime = T0) -> int:
    async with transaction(sessions) as session:
        test = await service.create(
            session,
            user=await _user(session),
            direction=direction,  # type: ignore[arg-type]
            now=at,
        )
        assert test is not None and test.id is not None
        assert not await service.start(session, test=test, now=at)  # effort first
        answered = await service.answer(
            session, test=test, step="effort_before", value=2, units="km", now=at
        )
        assert answered.accepted and service.is_ready(test)
        assert await service.start(session, test=test, now=at)
        assert not await service.start(session, test=test, now=at)  # only once
        return test.id


async def _recorded(
    sessions: SessionFactory, direction: str, metres: str, at: datetime
) -> service.Answered:
    test_id = await _running(sessions, direction, at)
    async with transaction(sessions) as session:
        test = await session.get(SixMinuteTest, test_id)
        assert test is not None
        assert await service.finish(session, test=test, duration_s=360)
    end = at + timedelta(minutes=7)
    assert (await _answer(sessions, test_id, "distance", metres, end)).accepted
    assert (await _answer(sessions, test_id, "effort_after", 6, end)).accepted
    return await _answer(sessions, test_id, "symptoms", None, end)


async def test_only_the_owner_sees_or_changes_a_test(
    sessions: SessionFactory, people: None
) -> None:
    test_id = await _running(sessions)
    async with transaction(sessions) as session:
        assert await service.owned_test(session, user_id=BOB, test_id=test_id) is None
        assert await service.owned_test(session, user_id=ALICE, test_id=test_id + 99) is None
        test = await service.owned_test(session, user_id=ALICE, test_id=test_id)
        assert test is not None and test.status == "running"
        assert await service.open_test(session, user_id=BOB) is None
        assert [t.id for t in await service.running_tests(session)] == [test_id]


async def test_a_new_test_waits_for_a_running_one_and_replaces_an_unstarted_card(
    sessions: SessionFactory, people: None
) -> None:
    async with transaction(sessions) as session:
        alice = await _user(session)
        card = await service.create(session, user=alice, direction="forward", now=T0)
        again = await service.create(session, user=alice, direction="backward", now=T0)
        assert card is not None and again is not None
        assert (card.status, again.status, again.step) == ("cancelled", "setup", "effort_before")
    test_id = await _running(sessions)
    async with transaction(sessions) as session:
        assert (
            await service.create(session, user=await _user(session), direction="forward", now=T0)
            is None
        )
        test = await session.get(SixMinuteTest, test_id)
        assert test is not None and test.status == "running"


async def test_the_finished_test_asks_distance_then_effort_then_symptoms_once_each(
    sessions: SessionFactory, people: None
) -> None:
    test_id = await _running(sessions)
    end = T0 + timedelta(minutes=6, seconds=2)
    assert not (await _answer(sessions, test_id, "distance", "400", end)).accepted  # running
    async with transaction(sessions) as session:
        test = await session.get(SixMinuteTest, test_id)
        assert test is not None
        assert await service.finish(session, test=test, duration_s=360)
        assert not await service.finish(session, test=test, duration_s=360)
        assert test.ended_at == T0 + timedelta(minutes=6)
        owed = await service.owed_text(session, user_id=ALICE)
        assert owed is not None and owed.id == test_id
    wrong = await _answer(sessions, test_id, "distance", "3 km", end)
    assert not wrong.accepted and wrong.error is not None and "more than anyone" in wrong.error
    assert not (await _answer(sessions, test_id, "effort_after", 5, end)).accepted  # not yet
    got = await _answer(sessions, test_id, "distance", "6 laps of 60 m + 12 m", end)
    assert (got.accepted, got.next_step, got.chosen) == (True, "effort_after", "372 m")
    assert not (await _answer(sessions, test_id, "distance", "500", end)).accepted  # once
    assert not (await _answer(sessions, test_id, "effort_after", 11, end)).accepted
    assert (await _answer(sessions, test_id, "effort_after", 7, end)).next_step == "symptoms"
    done = await _answer(sessions, test_id, "symptoms", "  rested once, a bit dizzy ", end)
    assert done.accepted and done.next_step is None
    assert done.advice is not None and "clinician" in done.advice
    assert done.comparison is not None and done.comparison.nth == 1
    async with transaction(sessions) as session:
        test = await session.get(SixMinuteTest, test_id)
        assert test is not None
        assert (test.status, test.step, test.stopped_early) == ("done", None, False)
        assert (test.metres, test.laps, test.lap_length_m) == (372.0, 6, 60.0)
        assert (test.effort_before, test.effort_after) == (2, 7)
        assert test.symptoms == "rested once, a bit dizzy"
        assert await service.owed_text(session, user_id=ALICE) is None


async def test_stopping_early_still_asks_the_distance_and_is_not_a_baseline(
    sessions: SessionFactory, people: None
) -> None:
    await _recorded(sessions, "backward", "300", T0 - timedelta(days=21))
    test_id = await _running(sessions)
    async with transaction(sessions) as session:
        test = await session.get(SixMinuteTest, test_id)
        assert test is not None
        assert await service.stop(session, test=test, now=T0 + timedelta(minutes=2))
        assert not await service.stop(session, test=test, now=T0 + timedelta(minutes=3))
        assert (test.status, test.step, test.stopped_early) == ("recording", "distance", True)
    short = await _answer(sessions, test_id, "distance", "6 m", T0)  # short is fine when stopped
    assert short.accepted
    await _answer(sessions, test_id, "effort_after", None, T0)
    done = await _answer(sessions, test_id, "symptoms", None, T0)
    assert done.comparison is not None and "stopped early" in done.comparison.text
    async with transaction(sessions) as session:
        test = await session.get(SixMinuteTest, test_id)
        assert test is not None and (test.status, test.effort_after) == ("stopped", None)
    later = await _recorded(sessions, "backward", "324", T0 + timedelta(days=1))
    assert later.comparison is not None
    assert "+24 m since 3 weeks ago" in later.comparison.text  # against the full test
    assert "7%" in later.comparison.text  # the second full backward test


async def test_results_compare_backward_with_forward_and_skip_unmeasured_tests(
    sessions: SessionFactory, people: None
) -> None:
    await _recorded(sessions, "forward", "540", T0 - timedelta(days=30))
    unmeasured_id = await _running(sessions, "backward", T0 - timedelta(days=25))
    async with transaction(sessions) as session:
        test = await session.get(SixMinuteTest, unmeasured_id)
        assert test is not None
        await service.finish(session, test=test, duration_s=360)
    skipped = await _answer(sessions, unmeasured_id, "distance", None, T0)
    assert skipped.accepted and skipped.chosen == "Not measured"
    await _answer(sessions, unmeasured_id, "effort_after", 5, T0)
    assert (await _answer(sessions, unmeasured_id, "symptoms", None, T0)).comparison is None
    result = await _recorded(sessions, "backward", "312", T0)
    assert result.comparison is not None
    assert result.comparison.text.startswith("Backward 312 m, 58% of your forward distance.")
    async with transaction(sessions) as session:
        latest = await service.latest_results(session, user_id=ALICE)
        assert {d: r.metres for d, r in latest.items()} == {"forward": 540.0, "backward": 312.0}
        assert await service.latest_results(session, user_id=BOB) == {}


async def test_not_today_cancels_only_an_unstarted_test(
    sessions: SessionFactory, people: None
) -> None:
    async with transaction(sessions) as session:
        test = await service.create(session, user=await _user(session), direction="forward", now=T0)
        assert test is not None
        assert await service.cancel(session, test=test)
        assert not await service.cancel(session, test=test)
        assert not await service.start(session, test=test, now=T0)
        assert await service.open_test(session, user_id=ALICE) is None
    running_id = await _running(sessions)
    async with transaction(sessions) as session:
        running = await session.get(SixMinuteTest, running_id)
        assert running is not None and not await service.cancel(session, test=running)


async def test_asking_for_the_same_card_again_is_that_card_not_a_new_row(
    sessions: SessionFactory, people: None
) -> None:
    """Replaying the 6m:new tap used to add a row every time (issue 11, point 10)."""
    async with transaction(sessions) as session:
        ids = {
            (
                await service.create(
                    session, user=await _user(session), direction="forward", now=T0
                )
            ).id  # type: ignore[union-attr]
            for _ in range(5)
        }
    assert len(ids) == 1
    async with transaction(sessions) as session:
        other = await service.create(
            session, user=await _user(session), direction="backward", now=T0
        )
        assert other is not None and other.id not in ids  # another direction: a new card
        rows = (await session.exec(select(SixMinuteTest))).all()
    assert sorted(r.status for r in rows) == ["cancelled", "setup"]


async def test_symptoms_are_stored_without_control_characters(
    sessions: SessionFactory, people: None
) -> None:
    """PostgreSQL refuses NUL in text; bidi controls would scramble the note when shown."""
    test_id = await _running(sessions)
    async with transaction(sessions) as session:
        test = await session.get(SixMinuteTest, test_id)
        assert test is not None and await service.finish(session, test=test, duration_s=360)
    end = T0 + timedelta(minutes=7)
    assert (await _answer(sessions, test_id, "distance", "400", end)).accepted
    assert (await _answer(sessions, test_id, "effort_after", 6, end)).accepted
    done = await _answer(sessions, test_id, "symptoms", "\u202edizzy\x00 once\x07", end)
    assert done.accepted
    async with transaction(sessions) as session:
        test = await session.get(SixMinuteTest, test_id)
        assert test is not None and test.symptoms == "dizzy once"
