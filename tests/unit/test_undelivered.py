"""A walk cue, a walk's end, a rating question or a six-minute phrase given up on (after the
delivery's bounded retries) is put on record as a FailedDelivery row, as the queue's messages
are: "recorded as undeliverable", never only a log line. A message sent leaves no row."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from tests.fakes import RecordingNotifier
from tests.people import add_onboarded_person
from tests.unit.walk_jobs import ALICE, BOB, NOW, walk_row, walk_started
from walkbot.context import WalkbotApp
from walkbot.ports import Outcome
from walkbot.scheduling import cues
from walkbot.scheduling import sixmin as sixmin_jobs
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import FailedDelivery, SixMinuteTest


async def records(sessions: SessionFactory) -> list[tuple[int | None, str, str]]:
    async with transaction(sessions) as session:
        rows = (await session.exec(select(FailedDelivery))).all()
    return sorted((r.user_id, r.kind, r.detail) for r in rows)


async def test_a_cue_and_a_wrap_up_given_up_on_are_on_record(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    given_up = Outcome("failed", "NetworkError: Bad Gateway")
    notifier.answers[ALICE] = given_up
    mid = await walk_started(sessions, ALICE, plan="2x30/30", ago=timedelta(seconds=31))
    await cues.fire_due_cue(app, mid)  # the switch at 30 s
    assert await records(sessions) == [(ALICE, "walk-cue", given_up.detail)]

    ending = await walk_started(sessions, BOB, plan="1x30/30", ago=timedelta(seconds=61))
    await cues.fire_due_cue(app, ending)  # the finish: what was done, then the effort question
    assert [m for m, chat, _ in notifier.calls if chat == BOB] == ["walk_ended", "rating_prompt"]
    assert await records(sessions) == [(ALICE, "walk-cue", given_up.detail)]  # Bob's arrived

    notifier.answers[BOB] = given_up  # the same wrap-up again, its two messages given up on
    await cues.wrap_up(app, await walk_row(sessions, ending), "Well done", NOW)
    assert await records(sessions) == [
        (ALICE, "walk-cue", given_up.detail),
        (BOB, "rating", given_up.detail),
        (BOB, "walk-end", given_up.detail),
    ]


async def test_a_six_minute_phrase_given_up_on_is_on_record(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    notifier.answers[ALICE] = Outcome("failed", "TimedOut: Timed out")
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
    await sixmin_jobs.fire_due_cue(app, test_id)
    assert await records(sessions) == [(ALICE, "sixmin-cue", "TimedOut: Timed out")]
