"""/export holds everything walkbot keeps about a person; /deleteme leaves nothing in any table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from walkbot.services.privacy import export_user
from walkbot.services.users import Person, create_user, delete_user
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import (
    FailedDelivery,
    LevelChange,
    RestPeriod,
    SixMinuteTest,
    Walk,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ALICE, BOB = 7_100_000_001, 7_100_000_002
PER_USER_TABLES = (Walk, LevelChange, SixMinuteTest, RestPeriod, FailedDelivery)


async def _seed(sessions: SessionFactory, user_id: int) -> None:
    async with transaction(sessions) as session:
        await create_user(session, person=Person(user_id, "Someone"), now=T0)
        await session.flush()
        session.add(
            Walk(
                user_id=user_id,
                plan={"warmup_s": 0, "rounds": 1, "backward_s": 10, "forward_s": 10},
                status="ended",
                created_at=T0,
                level=1,
                knee_pain=4,
                knee_morning=5,
                knee_morning_worse=True,
            )
        )
        session.add(
            LevelChange(user_id=user_id, changed_at=T0, from_level=1, to_level=2, reason="step_up")
        )
        session.add(
            SixMinuteTest(
                user_id=user_id, direction="backward", status="done", created_at=T0, metres=312.0
            )
        )
        session.add(
            RestPeriod(user_id=user_id, starts_at=T0, ends_at=T0 + timedelta(days=7), created_at=T0)
        )
        session.add(FailedDelivery(user_id=user_id, kind="nudge", failed_at=T0, detail="timed out"))


async def _count(sessions: SessionFactory, table: type, user_id: int) -> int:
    async with transaction(sessions) as session:
        column = table.user_id  # type: ignore[attr-defined]
        return (await session.exec(select(func.count()).where(column == user_id))).one()


async def test_export_includes_levels_tests_rests_and_morning_knee(
    sessions: SessionFactory,
) -> None:
    await _seed(sessions, ALICE)
    async with transaction(sessions) as session:
        raw = await export_user(session, telegram_id=ALICE, now=T0)
    assert raw is not None
    data = json.loads(raw)
    assert data["walks"][0]["knee_next_morning"] == 5
    assert data["walks"][0]["knee_next_morning_worse"] is True
    assert data["level_changes"] == [
        {"changed_at": T0.isoformat(), "from_level": 1, "to_level": 2, "reason": "step_up"}
    ]
    assert data["six_minute_tests"][0]["metres"] == 312.0
    assert data["rest_periods"][0]["ends_at"] == (T0 + timedelta(days=7)).isoformat()


async def test_deleteme_empties_every_table_for_that_person_only(sessions: SessionFactory) -> None:
    await _seed(sessions, ALICE)
    await _seed(sessions, BOB)
    async with transaction(sessions) as session:
        assert await delete_user(session, telegram_id=ALICE)
    for table in PER_USER_TABLES:
        assert await _count(sessions, table, ALICE) == 0, table.__name__
        assert await _count(sessions, table, BOB) == 1, table.__name__
