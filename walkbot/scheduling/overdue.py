"""The overdue sweep: a walk or six-minute test whose timeline ended but that is still under
way is wrapped up as its last cue would have done it.

A finish cue can fail for good: the database down over the end (its transaction fails and no
later job exists), or its job lost. The walk then stayed "active" for ever: /walk said it was
on and complete at once, and /sixmin refused. Every `overdue_sweep_seconds` (and at start-up,
through cues.restore and sixmin.restore, which fire every overdue cue) this sweep fires the due
cue of each walk and test more than `overdue_grace_seconds` past its end: the finish words and
the rating question, or "Stop." and the distance question. A walk paused for longer than the
domain allows (PAUSE_TIMEOUT) has no end; it is ended as "timed_out", with what was done.
The grace leaves the finish job its turn; should both run at once, the compare-and-set on the
row (services claim_cues, claim_cue) lets one of them through, so nothing is sent twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from walkbot.context import WalkbotApp, WalkbotContext, runtime_of
from walkbot.scheduling import cues, sixmin
from walkbot.scheduling.jobs import JOB_OPTIONS
from walkbot.services import sixmin as sixmin_service
from walkbot.services import walks as walk_service

log = logging.getLogger(__name__)

JOB_NAME = "overdue-sweep"


@dataclass(frozen=True)
class Swept:
    walks: int  # past their end
    tests: int
    paused: int = 0  # walks paused too long, ended as timed out


def start(app: WalkbotApp) -> None:
    """Register the sweep's one repeating job (from post_init, after the restores)."""
    if app.job_queue is None:
        return
    every = runtime_of(app).settings.overdue_sweep_seconds
    for job in app.job_queue.get_jobs_by_name(JOB_NAME):
        job.schedule_removal()
    app.job_queue.run_repeating(
        _job, interval=every, first=every, name=JOB_NAME, job_kwargs=JOB_OPTIONS
    )


async def _job(context: WalkbotContext) -> None:
    await sweep(context.application)


async def sweep(app: WalkbotApp) -> Swept:
    """Wrap up every walk and test overdue now; returns how many were looked at."""
    rt = runtime_of(app)
    now = rt.clock.now()
    grace = timedelta(seconds=rt.settings.overdue_grace_seconds)
    duration = sixmin.duration_of(app)
    async with rt.transaction() as session:
        walks = await walk_service.overdue_walks(session, now=now, grace=grace)
        tests = await sixmin_service.overdue_tests(
            session, now=now, duration_s=duration, grace=grace
        )
    for walk_id in walks.over:
        try:
            await cues.fire_due_cue(app, walk_id)
        except Exception:  # one walk's fault must not keep the others open: next sweep
            log.warning("could not wrap up overdue walk %s", walk_id, exc_info=True)
    for walk_id in walks.abandoned:
        try:
            await cues.time_out(app, walk_id)
        except Exception:
            log.warning("could not end walk %s, paused too long", walk_id, exc_info=True)
    for test_id in tests:
        try:
            await sixmin.fire_due_cue(app, test_id)
        except Exception:
            log.warning("could not wrap up overdue six-minute test %s", test_id, exc_info=True)
    swept = Swept(len(walks.over), len(tests), len(walks.abandoned))
    if swept != Swept(0, 0, 0):
        log.info("swept %s", swept)
    return swept
