"""The one sequence after a walk ends (its last cue, /stop, Stop or "I need to stop"), on a
built but not running Application whose notifier only records: what was done, the effort
question, one reminder later; and nothing more once the person has blocked the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import RecordingNotifier
from tests.people import add_onboarded_person
from walkbot.app import build_application
from walkbot.context import WalkbotApp, runtime_of
from walkbot.ports import Outcome
from walkbot.sandbox import TEST_TOKEN
from walkbot.scheduling import cues
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import User, Walk

ALICE = 7_000_000_401
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[WalkbotApp]:
    settings = Settings(telegram_bot_token=TEST_TOKEN, database_url=database_url, _env_file=None)
    application = build_application(settings)
    yield application
    assert application.post_shutdown is not None
    await application.post_shutdown(application)  # disposes of its engine


@pytest.fixture
def notifier(app: WalkbotApp) -> RecordingNotifier:
    recording = RecordingNotifier()
    runtime_of(app).notifier = recording
    return recording


async def ended_walk(sessions: SessionFactory) -> Walk:
    async with transaction(sessions) as session:
        await add_onboarded_person(session, ALICE, "Alice", now=NOW - timedelta(days=1))
        walk = Walk(
            user_id=ALICE,
            plan={},
            status="ended",
            created_at=NOW - timedelta(minutes=20),
            started_at=NOW - timedelta(minutes=20),
            ended_at=NOW,
            end_reason="stopped",
            rating_step="effort",
        )
        session.add(walk)
        await session.flush()
    return walk


def reminder_jobs(app: WalkbotApp, walk: Walk) -> int:
    assert app.job_queue is not None and walk.id is not None
    return len(app.job_queue.get_jobs_by_name(cues.reminder_job_name(walk.id)))


async def test_what_was_done_then_the_effort_question_and_one_reminder(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    walk = await ended_walk(sessions)
    await cues.wrap_up(app, walk, "Done: 6 rounds", NOW)
    assert [(method, details) for method, _, details in notifier.calls] == [
        ("walk_ended", {"text": "Done: 6 rounds"}),
        ("rating_prompt", {"walk_id": walk.id, "step": "effort", "reminder": False}),
    ]
    assert reminder_jobs(app, walk) == 1


async def test_blocked_at_the_summary_nothing_more_is_asked(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    walk = await ended_walk(sessions)
    notifier.answers[ALICE] = Outcome("blocked", "forbidden")
    await cues.wrap_up(app, walk, "Done: 6 rounds", NOW)
    assert notifier.to(ALICE) == ["walk_ended"]
    assert reminder_jobs(app, walk) == 0
    async with transaction(sessions) as session:
        row, user = await session.get(Walk, walk.id), await session.get(User, ALICE)
    assert row is not None and row.rating_step is None  # no question left open
    assert user is not None and not user.active
