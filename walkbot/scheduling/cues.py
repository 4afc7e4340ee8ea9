"""Walk cue jobs: the walk row is the truth, and jobs (see jobs.py) only say when to look at
it; whether a late cue is still worth sending is the walk domain's late policy (`due_cues`).

What they send goes through the runtime's notifier (walkbot/ports.py WalkNotifier), so this
module never builds a message or a button. `wrap_up` is the one sequence after a walk ends,
whether its last cue ended it or the person did (bot/walks.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import JobQueue

from walkbot.context import WalkbotApp, WalkbotContext, runtime_of
from walkbot.domain import live as live_rules
from walkbot.domain import walk_copy as copy
from walkbot.domain import walks as domain
from walkbot.domain.live import Gate
from walkbot.scheduling.jobs import cancel_series, replace_once, replace_series, row_id_of
from walkbot.scheduling.undelivered import RATING, WALK_CUE, WALK_END, note
from walkbot.services import live, users
from walkbot.services import walks as service
from walkbot.store.models import Walk

log = logging.getLogger(__name__)


def _cue_prefix(walk_id: int) -> str:
    return f"walk:{walk_id}:cue:"


def cue_job_name(walk_id: int, index: int) -> str:
    return f"{_cue_prefix(walk_id)}{index}"


def reminder_job_name(walk_id: int) -> str:
    return f"walk:{walk_id}:rating-reminder"


def job_prefix(walk_id: int) -> str:
    """Every job about one walk (its cues, its rating reminder) has a name starting so."""
    return f"walk:{walk_id}:"


def schedule_cues(job_queue: JobQueue[Any], walk: Walk, now: datetime) -> int:
    """Date jobs for every cue still to come; replaces any the walk already had."""
    assert walk.id is not None
    timeline = service.timeline_of(walk)
    cues = domain.pending_cues(timeline, now, last_sent_index=walk.last_cue_index)
    times = ((cue.index, cue.at) for cue in cues)
    return replace_series(
        job_queue, _cue_job, prefix=_cue_prefix(walk.id), data=walk.id, times=times
    )


def cancel_cues(job_queue: JobQueue[Any], walk_id: int) -> None:
    cancel_series(job_queue, _cue_prefix(walk_id))


def schedule_rating_reminder(job_queue: JobQueue[Any], walk: Walk, now: datetime) -> None:
    """One reminder a while after the last rating answer (or the end): it asks again whichever
    question is then owed, so a step whose question never arrived (a send that failed after
    the answer before it was stored) is not stranded. Replaced at every step."""
    assert walk.id is not None
    assert walk.ended_at is not None
    delay = runtime_of(job_queue.application).settings.rating_reminder_minutes
    since = max(walk.ended_at, walk.rated_at) if walk.rated_at is not None else walk.ended_at
    when = max(now, since + timedelta(minutes=delay))
    replace_once(job_queue, _reminder_job, name=reminder_job_name(walk.id), data=walk.id, when=when)


async def _cue_job(context: WalkbotContext) -> None:
    await fire_due_cue(context.application, row_id_of(context))


async def fire_due_cue(app: WalkbotApp, walk_id: int) -> None:
    """Send what the late policy says is due now (at most one message), and record it."""
    rt = runtime_of(app)
    now = rt.clock.now()
    async with rt.transaction() as session:
        walk = await session.get(Walk, walk_id)
        if walk is None or walk.status != "active":
            return
        timeline = service.timeline_of(walk)
        sent_before = walk.last_cue_index
        dispatch = domain.due_cues(timeline, now, last_sent_index=sent_before)
        first = sent_before < 0  # the walk's first cue offers the live screen
        gate: Gate = "send"
        # Compare-and-set in this transaction: a Stop tap, another job, the sweep or a second
        # process that got there first leaves nothing to send.
        if not await service.claim_cues(session, walk=walk, last_index=dispatch.last_sent_index):
            return
        if dispatch.action == "complete":
            ended = await service.end(
                session, walk=walk, now=timeline.ends_at or now, reason="finished"
            )
            if ended is None:
                return
        else:
            # A live screen showing the walk cues it on the phone: the chat cue is claimed
            # (so the index stays right) but held; a screen gone quiet hands back here.
            gate = await live.cue_gate(session, walk=walk, now=now, screens=rt.live)
    if dispatch.action == "complete":
        if dispatch.text is not None:
            await wrap_up(app, walk, dispatch.text, now)
        return
    text = dispatch.text
    if gate == "hold":
        return
    if gate == "take_over":  # the screen went quiet: say so, and where the walk is if need be
        text = (
            f"{copy.LIVE_SCREEN_CLOSED}\n{text}"
            if text is not None
            else live_rules.handover_text(timeline.plan, timeline.status_at(now))
        )
    if text is None:
        return

    def restate() -> str | None:
        """Held by flood control: what the late policy says at the moment it leaves."""
        return domain.restate_cue(
            timeline, rt.clock.now(), sent_before=sent_before, claimed=dispatch
        )

    sent = await rt.notifier.walk_cue(
        walk.user_id, walk_id, text, sound=dispatch.sound, live_button=first, restate=restate
    )
    if sent.blocked:
        await end_for_blocked(app, walk_id)
    await note(app, sent, user_id=walk.user_id, kind=WALK_CUE)


async def time_out(app: WalkbotApp, walk_id: int) -> None:
    """A walk paused too long (domain PAUSE_TIMEOUT) ends as "timed_out": what was done and the
    rating question, as any other end (the overdue sweep calls this)."""
    rt = runtime_of(app)
    now = rt.clock.now()
    async with rt.transaction() as session:
        ended = await service.time_out(session, walk_id=walk_id, now=now)
    if ended is not None:
        walk, summary = ended
        await wrap_up(app, walk, f"{copy.PAUSED_TOO_LONG}\n\n{summary.text}", now)


async def wrap_up(app: WalkbotApp, walk: Walk, text: str, now: datetime) -> None:
    """A walk just ended (its last cue, /stop, Stop or "I need to stop"): cues off, what was
    done (`text`), the effort question, and one reminder later if it stays unanswered. The
    one sequence for every way a walk ends. A block at either message: nothing more is asked
    (no question left open, no reminder), and they are marked inactive."""
    assert walk.id is not None
    notifier = runtime_of(app).notifier
    runtime_of(app).live.forget(walk.id)  # a screen on it has nothing more to hold
    if app.job_queue is not None:
        cancel_cues(app.job_queue, walk.id)
    ended = await notifier.walk_ended(walk.user_id, text)
    await note(app, ended, user_id=walk.user_id, kind=WALK_END)
    if ended.blocked:
        await _blocked_after_walk(app, walk.id)
    elif await _ask_effort(app, walk) and app.job_queue is not None:
        schedule_rating_reminder(app.job_queue, walk, now)


async def _ask_effort(app: WalkbotApp, walk: Walk) -> bool:
    """Ask how hard it felt. False when they have blocked the bot: then nothing more is asked."""
    return await _ask(app, walk, "effort")


async def _ask(app: WalkbotApp, walk: Walk, step: str, *, reminder: bool = False) -> bool:
    """Ask the rating question owed at `step`; False when they have blocked the bot."""
    assert walk.id is not None
    notifier = runtime_of(app).notifier
    sent = await notifier.rating_prompt(walk.user_id, walk.id, step=step, reminder=reminder)
    await note(app, sent, user_id=walk.user_id, kind=RATING)
    if sent.blocked:
        await _blocked_after_walk(app, walk.id)
        return False
    return True


async def _blocked_after_walk(app: WalkbotApp, walk_id: int) -> None:
    """The walk is over but they blocked the bot: no questions open, no reminder, no nudges."""
    rt = runtime_of(app)
    async with rt.transaction() as session:
        walk = await session.get(Walk, walk_id)
        if walk is None:
            return
        walk.rating_step = None
        session.add(walk)
        await users.mark_blocked(session, telegram_id=walk.user_id, now=rt.clock.now())
    if app.job_queue is not None:
        for job in app.job_queue.get_jobs_by_name(reminder_job_name(walk_id)):
            job.schedule_removal()


async def end_for_blocked(app: WalkbotApp, walk_id: int) -> None:
    """They blocked the bot: end the walk quietly and stop writing to them."""
    rt = runtime_of(app)
    now = rt.clock.now()
    async with rt.transaction() as session:
        walk = await session.get(Walk, walk_id)
        if walk is None:
            return
        await service.end(session, walk=walk, now=now, reason="blocked")
        walk.rating_step = None
        await users.mark_blocked(session, telegram_id=walk.user_id, now=now)
    if app.job_queue is not None:
        cancel_cues(app.job_queue, walk_id)


async def _reminder_job(context: WalkbotContext) -> None:
    app, walk_id = context.application, row_id_of(context)
    rt = runtime_of(app)
    async with rt.transaction() as session:
        walk = await session.get(Walk, walk_id)
        if walk is None or walk.rating_step is None or walk.rating_reminded:
            return
        walk.rating_reminded = True
        session.add(walk)
        step = walk.rating_step
    await _ask(app, walk, step, reminder=True)


async def restore(app: WalkbotApp) -> None:
    """At start-up: carry every walk on from where its timeline says it is."""
    rt = runtime_of(app)
    now = rt.clock.now()
    async with rt.transaction() as session:
        active = await service.active_walks(session)
        owing = await service.walks_owing_rating(session)
    for walk in active:
        assert walk.id is not None
        await fire_due_cue(app, walk.id)  # one catch-up message, or the finish
    async with rt.transaction() as session:
        still_active = await service.active_walks(session)
    if app.job_queue is None:
        return
    for walk in still_active:
        if not service.is_paused(walk):
            schedule_cues(app.job_queue, walk, now)
    for walk in owing:
        if walk.ended_at is not None:
            schedule_rating_reminder(app.job_queue, walk, now)
    log.info("restored %d active walks, %d awaiting a rating", len(still_active), len(owing))
