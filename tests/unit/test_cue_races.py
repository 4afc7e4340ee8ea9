"""The compare-and-set that keeps a cue from racing a Stop tap, another cue job or the overdue
sweep (issue 11, point 10), on a migrated database with a fixed clock and a notifier that only
records. Races are interleaved by hand: the second party acts between the first one's read of
the row and its compare-and-set, as a job outside the chat's lock can."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.fakes import RecordingNotifier
from tests.people import add_onboarded_person
from tests.unit.walk_jobs import (
    ALICE,
    NOW,
    walk_row,
    walk_started,
)
from walkbot.context import WalkbotApp
from walkbot.scheduling import cues, overdue
from walkbot.scheduling import sixmin as sixmin_jobs
from walkbot.services import sixmin as sixmin_service
from walkbot.services import walks as walk_service
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import SixMinuteTest, Walk


def between_read_and_claim(
    monkeypatch: pytest.MonkeyPatch,
    module: Any,
    name: str,
    meanwhile: Callable[[], Awaitable[object]],
) -> None:
    """The first call of `module.name` (a compare-and-set) lets `meanwhile` run first: another
    party acting after the caller read the row and before it claims it."""
    original = getattr(module, name)
    done = False

    async def interleaved(*args: Any, **kwargs: Any) -> bool:
        nonlocal done
        if not done:
            done = True
            await meanwhile()
        result: bool = await original(*args, **kwargs)
        return result

    monkeypatch.setattr(module, name, interleaved)


async def test_a_cue_job_that_read_the_walk_before_a_stop_sends_nothing_after_it(
    app: WalkbotApp,
    notifier: RecordingNotifier,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="2x30/30", ago=timedelta(seconds=30))

    async def stop() -> None:
        async with transaction(sessions) as session:
            await walk_service.stop_open(session, user_id=ALICE, now=NOW)

    between_read_and_claim(monkeypatch, walk_service, "claim_cues", stop)
    await cues.fire_due_cue(app, walk_id)  # "Forward" was due at 30 s
    assert notifier.calls == []
    row = await walk_row(sessions, walk_id)
    assert (row.status, row.end_reason, row.last_cue_index) == ("ended", "stopped", -1)


async def test_a_stop_after_a_cue_was_claimed_still_ends_the_walk(
    app: WalkbotApp,
    notifier: RecordingNotifier,
    sessions: SessionFactory,
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="2x30/30", ago=timedelta(seconds=30))
    async with transaction(sessions) as session:
        walk = await session.get(Walk, walk_id)  # Stop reads the walk...
        assert walk is not None
        await cues.fire_due_cue(app, walk_id)  # ...a cue goes meanwhile...
        stopped = await walk_service.end(session, walk=walk, now=NOW, reason="stopped")
    assert stopped is not None  # ...and Stop still takes
    assert notifier.to(ALICE) == ["walk_cue"]
    assert (await walk_row(sessions, walk_id)).end_reason == "stopped"


async def test_two_jobs_for_one_cue_send_it_once(
    app: WalkbotApp,
    notifier: RecordingNotifier,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="2x30/30", ago=timedelta(seconds=30))
    between_read_and_claim(
        monkeypatch, walk_service, "claim_cues", lambda: cues.fire_due_cue(app, walk_id)
    )
    await cues.fire_due_cue(app, walk_id)
    assert notifier.to(ALICE) == ["walk_cue"]


async def test_the_finish_cue_and_the_sweep_at_once_wrap_up_once(
    app: WalkbotApp,
    notifier: RecordingNotifier,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="1x10/10", ago=timedelta(minutes=5))
    between_read_and_claim(monkeypatch, walk_service, "claim_cues", lambda: overdue.sweep(app))
    await cues.fire_due_cue(app, walk_id)  # the finish job, late, with the sweep in between
    assert notifier.to(ALICE) == ["walk_ended", "rating_prompt"]  # one effort question
    assert (await walk_row(sessions, walk_id)).end_reason == "finished"


async def test_a_six_minute_phrase_that_read_the_test_before_its_stop_is_not_said(
    app: WalkbotApp,
    notifier: RecordingNotifier,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with transaction(sessions) as session:
        await add_onboarded_person(session, ALICE, "Alice", now=NOW - timedelta(days=1))
        test = SixMinuteTest(
            user_id=ALICE,
            direction="forward",
            status="running",
            created_at=NOW - timedelta(seconds=60),
            started_at=NOW - timedelta(seconds=60),  # "5 minutes to go" is due now
        )
        session.add(test)
        await session.flush()
        test_id = test.id
    assert test_id is not None

    async def stop() -> None:
        async with transaction(sessions) as session:
            row = await session.get(SixMinuteTest, test_id)
            assert row is not None
            assert await sixmin_service.stop(session, test=row, now=NOW)

    between_read_and_claim(monkeypatch, sixmin_service, "claim_cue", stop)
    await sixmin_jobs.fire_due_cue(app, test_id)
    assert notifier.calls == []
