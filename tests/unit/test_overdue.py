"""The overdue sweep (issue 11, point 4) and the compare-and-set that keeps a cue from racing
a Stop tap, another job or the sweep (point 10), on a migrated database with a fixed clock and
a notifier that only records. Races are interleaved by hand: the second party acts between the
first one's read of the walk and its compare-and-set."""

from __future__ import annotations

from datetime import timedelta

from tests.fakes import RecordingNotifier
from tests.people import add_onboarded_person
from tests.unit.walk_jobs import (
    ALICE,
    BOB,
    CARA,
    NOW,
    walk_row,
    walk_started,
)
from walkbot.context import WalkbotApp
from walkbot.domain.walk_copy import PAUSED_TOO_LONG
from walkbot.scheduling import overdue
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import SixMinuteTest


async def test_a_walk_past_its_end_is_wrapped_up_once_and_one_in_progress_is_untouched(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    # Alice's 40 s walk ended 20 min ago: its finish cue failed (the database was down).
    over = await walk_started(sessions, ALICE, plan="2x10/10", ago=timedelta(minutes=20))
    # Bob is half-way through his; Cara's ended 10 s ago: the finish job's turn, not the sweep's.
    going = await walk_started(sessions, BOB, plan="2x30/30", ago=timedelta(seconds=50))
    just = await walk_started(sessions, CARA, plan="1x10/10", ago=timedelta(seconds=30))

    assert await overdue.sweep(app) == overdue.Swept(walks=1, tests=0)
    ended = await walk_row(sessions, over)
    assert (ended.status, ended.end_reason, ended.rating_step) == ("ended", "finished", "effort")
    assert ended.ended_at == NOW - timedelta(minutes=20) + timedelta(seconds=40)
    assert notifier.to(ALICE) == ["walk_ended", "rating_prompt"]
    assert "while I was offline" in notifier.calls[0][2]["text"]
    assert notifier.to(BOB) == [] and notifier.to(CARA) == []
    assert (await walk_row(sessions, going)).status == "active"
    assert (await walk_row(sessions, just)).status == "active"

    calls = len(notifier.calls)
    assert await overdue.sweep(app) == overdue.Swept(walks=0, tests=0)  # nothing twice
    assert len(notifier.calls) == calls


async def test_a_six_minute_test_past_its_end_says_stop_and_asks_for_the_distance(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    async with transaction(sessions) as session:
        await add_onboarded_person(session, ALICE, "Alice", now=NOW - timedelta(days=1))
        test = SixMinuteTest(
            user_id=ALICE,
            direction="backward",
            status="running",
            created_at=NOW - timedelta(minutes=30),
            started_at=NOW - timedelta(minutes=30),
            last_cue_index=2,
        )
        session.add(test)
        await session.flush()
        test_id = test.id
    assert test_id is not None

    assert await overdue.sweep(app) == overdue.Swept(walks=0, tests=1)
    assert await overdue.sweep(app) == overdue.Swept(walks=0, tests=0)
    assert notifier.to(ALICE) == ["sixmin_cue", "distance_prompt"]
    assert notifier.calls[0][2]["final"] is True
    async with transaction(sessions) as session:
        row = await session.get(SixMinuteTest, test_id)
    assert row is not None and (row.status, row.step) == ("recording", "distance")


async def test_a_walk_paused_for_hours_is_ended_as_timed_out_once(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    # Alice paused 3 hours ago, 40 s into a 2 min walk, and never came back; Bob paused 10 min ago.
    gone = await walk_started(
        sessions,
        ALICE,
        plan="2x30/30",
        ago=timedelta(hours=3, seconds=40),
        last_cue=1,
        paused_for=timedelta(hours=3),
    )
    resting = await walk_started(
        sessions, BOB, plan="2x30/30", ago=timedelta(minutes=11), paused_for=timedelta(minutes=10)
    )

    assert await overdue.sweep(app) == overdue.Swept(walks=0, tests=0, paused=1)
    ended = await walk_row(sessions, gone)
    assert (ended.status, ended.end_reason, ended.rating_step) == ("ended", "timed_out", "effort")
    assert ended.active_s == 40
    assert notifier.to(ALICE) == ["walk_ended", "rating_prompt"]
    assert notifier.calls[0][2]["text"].startswith(PAUSED_TOO_LONG)
    assert (await walk_row(sessions, resting)).status == "active"
    assert await overdue.sweep(app) == overdue.Swept(walks=0, tests=0, paused=0)
    assert notifier.to(ALICE) == ["walk_ended", "rating_prompt"] and notifier.to(BOB) == []
