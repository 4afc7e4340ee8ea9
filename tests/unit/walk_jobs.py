"""What the tests of cue jobs and the overdue sweep share: the real Application at a fixed
NOW on a migrated database, its notifier swapped for one that records, and active walks
written straight to the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from tests.fakes import FixedClock, RecordingNotifier
from tests.people import add_onboarded_person
from walkbot.app import build_application
from walkbot.context import WalkbotApp, runtime_of
from walkbot.domain.walks import Pause, parse_custom_plan
from walkbot.sandbox import TEST_TOKEN
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import Walk

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
ALICE, BOB, CARA = 7_000_000_501, 7_000_000_502, 7_000_000_503


@asynccontextmanager
async def app_at_now(database_url: str) -> AsyncIterator[WalkbotApp]:
    settings = Settings(
        telegram_bot_token=TEST_TOKEN,
        database_url=database_url,
        overdue_grace_seconds=30,
        six_minute_test_seconds=360,
        _env_file=None,
    )
    application = build_application(settings, clock=FixedClock(NOW))
    yield application
    assert application.post_shutdown is not None
    await application.post_shutdown(application)  # disposes of its engine


def record_sends(app: WalkbotApp) -> RecordingNotifier:
    recording = RecordingNotifier()
    runtime_of(app).notifier = recording
    return recording


async def walk_started(
    sessions: SessionFactory,
    user_id: int,
    *,
    plan: str,
    ago: timedelta,
    last_cue: int = -1,
    paused_for: timedelta | None = None,
) -> int:
    """An active walk of `plan`, started `ago` before NOW, its cues up to `last_cue` sent;
    paused (still) for `paused_for` if given."""
    pauses = [] if paused_for is None else [Pause(NOW - paused_for).to_dict()]
    async with transaction(sessions) as session:
        await add_onboarded_person(session, user_id, "Walker", now=NOW - timedelta(days=1))
        walk = Walk(
            user_id=user_id,
            plan=parse_custom_plan(plan).to_dict(),
            status="active",
            created_at=NOW - ago,
            started_at=NOW - ago,
            last_cue_index=last_cue,
            pauses=pauses,
        )
        session.add(walk)
        await session.flush()
        assert walk.id is not None
        return walk.id


async def walk_row(sessions: SessionFactory, walk_id: int) -> Walk:
    async with transaction(sessions) as session:
        walk = await session.get(Walk, walk_id)
    assert walk is not None
    return walk
