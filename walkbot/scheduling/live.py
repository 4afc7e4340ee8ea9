"""The live screen's watchdog: when a screen showing a walk stops saying it is visible, the
chat cues take over at once (domain/live.py has the rule, services/live.py the row).

One dated job per walk with a screen, named `walk:<id>:live`, at the last heartbeat plus the
timeout. A heartbeat does not move it (300 screens beating every 2 s would churn the
scheduler); when it fires it looks at the row with the runtime's clock: still live, it comes
back just after the newest heartbeat's timeout; gone quiet, it releases the screen and sends
the hand-over line. Should the process restart in between, the next heartbeat arms it again,
and a due cue that finds the screen quiet takes over by itself (scheduling/cues.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram.ext import JobQueue

from walkbot.context import WalkbotApp, WalkbotContext, runtime_of
from walkbot.domain import live as domain
from walkbot.scheduling.cues import end_for_blocked
from walkbot.scheduling.jobs import JOB_OPTIONS, row_id_of
from walkbot.services import live as service
from walkbot.services import walks
from walkbot.store.models import Walk


def watchdog_name(walk_id: int) -> str:
    return f"walk:{walk_id}:live"


def arm_watchdog(job_queue: JobQueue[Any], walk_id: int, seen_at: datetime) -> None:
    """Make sure the walk's watchdog will look just after `seen_at` times out (a watchdog
    already waiting looks earlier, finds the screen live and comes back later)."""
    name = watchdog_name(walk_id)
    if job_queue.scheduler.get_job(name) is not None:
        return
    _schedule(job_queue, walk_id, domain.watchdog_at(seen_at))


def _schedule(job_queue: JobQueue[Any], walk_id: int, when: datetime) -> None:
    name = watchdog_name(walk_id)
    # The job's id is its name, so finding it is a look-up rather than a scan of every job.
    # A look that is still waiting on a busy store when the next one is due must not make
    # APScheduler skip (and so drop) the next: both run, and the compare-and-set keeps the
    # hand-over to one.
    options = {**JOB_OPTIONS, "id": name, "replace_existing": True, "max_instances": 3}
    job_queue.run_once(_watchdog_job, when=when, name=name, data=walk_id, job_kwargs=options)


async def _watchdog_job(context: WalkbotContext) -> None:
    await check_screen(context.application, row_id_of(context))


async def check_screen(app: WalkbotApp, walk_id: int) -> None:
    """The watchdog's look at one walk, at the runtime clock's now."""
    rt = runtime_of(app)
    now = rt.clock.now()
    seen = rt.live.seen.get(walk_id)
    if seen is not None and domain.screen_is_live(seen, now):
        # Still live by this process's memory (an ended walk is forgotten there): look again
        # later without a transaction; 300 screens' watchdogs otherwise queue on the store.
        if app.job_queue is not None:
            _schedule(app.job_queue, walk_id, domain.watchdog_at(seen))
        return
    async with rt.transaction() as session:
        quiet = await service.quiet_screen(session, walk_id=walk_id, now=now, screens=rt.live)
        seen_at = None
        if quiet is None:
            walk = await session.get(Walk, walk_id)
            if walk is not None and walk.status == "active":
                seen_at = rt.live.last_seen(walk)
    if quiet is not None:
        await hand_over(app, quiet, now)
    elif seen_at is not None and app.job_queue is not None:
        _schedule(app.job_queue, walk_id, domain.watchdog_at(seen_at))


async def hand_over(app: WalkbotApp, walk: Walk, now: datetime) -> None:
    """The chat takes the cues back: one line saying where the walk is, with its controls.
    The cue jobs were never removed (held cues were claimed, not unscheduled), so the next
    one comes at its planned time."""
    assert walk.id is not None
    rt = runtime_of(app)
    status = walks.status_of(walk, now)
    if status.finished or status.paused:
        return
    text = domain.handover_text(walks.plan_of(walk), status)
    sent = await rt.notifier.walk_cue(walk.user_id, walk.id, text, sound=True)
    if sent.blocked:
        await end_for_blocked(app, walk.id)
