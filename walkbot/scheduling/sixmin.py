"""Six-minute test cue jobs: the test row is the truth, and jobs (see jobs.py) only say when to
look at it; whether a late phrase is still worth saying is the test's late policy (`sixmin.due`).
What they say goes through the runtime's notifier (walkbot/ports.py SixMinuteNotifier).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram.ext import JobQueue

from walkbot.context import WalkbotApp, WalkbotContext, runtime_of
from walkbot.domain import sixmin as domain
from walkbot.scheduling.jobs import cancel_series, replace_series, row_id_of
from walkbot.scheduling.undelivered import DISTANCE, SIXMIN_CUE, note
from walkbot.services import sixmin as service
from walkbot.services import users
from walkbot.store.models import SixMinuteTest, User

log = logging.getLogger(__name__)


def _cue_prefix(test_id: int) -> str:
    return f"sixmin:{test_id}:cue:"


def cue_job_name(test_id: int, index: int) -> str:
    return f"{_cue_prefix(test_id)}{index}"


def job_prefix(test_id: int) -> str:
    """Every job about one test (its phrases) has a name starting so."""
    return f"sixmin:{test_id}:"


def duration_of(app: WalkbotApp) -> int:
    return runtime_of(app).settings.six_minute_test_seconds


def schedule_cues(job_queue: JobQueue[Any], test: SixMinuteTest, now: datetime) -> int:
    """Date jobs for every phrase still to come; replaces any the test already had."""
    assert test.id is not None and test.started_at is not None
    started, duration = test.started_at, duration_of(job_queue.application)
    cues = domain.pending(started, now, last_sent_index=test.last_cue_index, duration_s=duration)
    times = ((cue.index, cue.at(started)) for cue in cues)
    return replace_series(
        job_queue, _cue_job, prefix=_cue_prefix(test.id), data=test.id, times=times
    )


def cancel_cues(job_queue: JobQueue[Any], test_id: int) -> None:
    cancel_series(job_queue, _cue_prefix(test_id))


async def _cue_job(context: WalkbotContext) -> None:
    await fire_due_cue(context.application, row_id_of(context))


async def fire_due_cue(app: WalkbotApp, test_id: int) -> None:
    """Say what the late policy says is due now (at most one phrase), and record it."""
    rt = runtime_of(app)
    now, duration = rt.clock.now(), duration_of(app)
    async with rt.transaction() as session:
        test = await session.get(SixMinuteTest, test_id)
        if test is None or test.status != "running" or test.started_at is None:
            return
        dispatch = domain.due(
            test.started_at, now, last_sent_index=test.last_cue_index, duration_s=duration
        )
        # Compare-and-set in this transaction: a Stop tap, another job or the sweep that got
        # there first leaves nothing to say.
        if not await service.claim_cue(session, test=test, last_index=dispatch.last_sent_index):
            return
        if dispatch.action == "stop" and not await service.finish(
            session, test=test, duration_s=duration
        ):
            return
        user = await session.get(User, test.user_id)
        units = user.units if user is not None else "km"
    if dispatch.text is None:
        return
    final = dispatch.action == "stop"
    sent = await rt.notifier.sixmin_cue(test.user_id, test_id, dispatch.text, final=final)
    await note(app, sent, user_id=test.user_id, kind=SIXMIN_CUE)
    if sent.blocked:
        await end_for_blocked(app, test_id)
        return
    if final:
        if app.job_queue is not None:
            cancel_cues(app.job_queue, test_id)
        prompt = await rt.notifier.distance_prompt(test.user_id, test_id, units=units)
        await note(app, prompt, user_id=test.user_id, kind=DISTANCE)
        if prompt.blocked:
            await end_for_blocked(app, test_id)


async def end_for_blocked(app: WalkbotApp, test_id: int) -> None:
    """They blocked the bot: end the test quietly and stop writing to them."""
    rt = runtime_of(app)
    now = rt.clock.now()
    async with rt.transaction() as session:
        test = await session.get(SixMinuteTest, test_id)
        if test is None:
            return
        await service.cancel_for_blocked(session, test=test)
        await users.mark_blocked(session, telegram_id=test.user_id, now=now)
    if app.job_queue is not None:
        cancel_cues(app.job_queue, test_id)


async def restore(app: WalkbotApp) -> None:
    """At start-up: carry every running test on from where its clock says it is."""
    rt = runtime_of(app)
    now = rt.clock.now()
    async with rt.transaction() as session:
        running = await service.running_tests(session)
    for test in running:
        assert test.id is not None
        await fire_due_cue(app, test.id)  # a phrase still on time, or "Stop." and the distance
    async with rt.transaction() as session:
        still_running = await service.running_tests(session)
    if app.job_queue is not None:
        for test in still_running:
            schedule_cues(app.job_queue, test, now)
    log.info("restored %d running six-minute tests", len(still_running))
