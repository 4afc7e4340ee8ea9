"""The dispatch tick: one repeating job sends every due nudge, weekly summary and knee check.

Entry points (the app uses the first; benchmarks and tests may call the second directly):

- `start(app)`: registers ONE JobQueue job named "dispatch", every
  settings.dispatch_interval_seconds. Nothing is loaded at start-up, so start-up cost does not
  grow with the number of people: due rows are found by the indexed next_*_at columns.
- `await dispatch_once(bot, runtime, *, now=None, limit=BATCH_SIZE, rate=RATE, keep_going=...)
  -> DispatchStats`: drains what is due, batch by batch, until nothing is due (or keep_going()
  says stop), and returns counts. `now=None` reads runtime.clock for each batch.

Transaction shape (the row is the truth):
1. Claim, in one short transaction per batch of at most `limit` rows of each kind: lock due rows
   (PostgreSQL: FOR UPDATE SKIP LOCKED, so two dispatchers never take the same row), decide
   each (send / skip as too late / skip as already walked / resting), advance it to its next
   instant, COMMIT. No lock is held while talking to Telegram: a 50-row batch at 25 msg/s takes
   2 s, and holding row locks that long would block the person's own /settings or /pause.
2. Send the batch, paced (below Telegram's 30 msg/s, so cues and command replies, which share
   the bot's rate limiter, still find room) with bounded concurrency; 429s wait and retry,
   5xx/timeouts back off a bounded number of times (walkbot.delivery).
3. Record results in a second short transaction: 403 -> inactive and unscheduled; given up ->
   a FailedDelivery row.

So delivery is at-most-once: no two dispatchers, ticks or restarts send the same message (its
row was advanced before it was sent, by whichever dispatcher claimed it). One narrow exception
is Telegram's, not ours: a request that timed out after Telegram had accepted it is retried
(walkbot.delivery), and the Bot API has no idempotency key to refuse the repeat. A duplicate
"time for your walk" is spam; a missed one is mild, and the window is small:
- A graceful stop or restart (SIGTERM, RunningBot.restart) loses nothing: `app.running` turns
  False first, the tick stops claiming, finishes sending the batch it already claimed, and PTB's
  JobQueue.stop(wait=True) waits for it. Rows not yet claimed stay due for the next start.
- A hard kill (SIGKILL, power loss) can lose at most the one claimed batch in flight (<= `limit`
  rows of each kind). It is not lost without trace: the claim wrote each of its messages down as
  a FailedDelivery row marked in flight (service.IN_FLIGHT), and only a result clears it, so
  the rows left behind name exactly who missed what. They are not resent: one of them may have
  reached the phone just before the kill, and at-most-once is the promise.
- Down time: rows stay due; on return catch_up_decision sends a nudge up to 2 h late once,
  otherwise skips it, and advances from now, so there is never a burst of stale nudges.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from telegram import Bot

from walkbot.bot.knee import knee_check_message
from walkbot.bot.nudges import nudge_markup
from walkbot.bot.summary import send_report
from walkbot.context import WalkbotApp, WalkbotContext, runtime_of
from walkbot.delivery import Delivery, Result, send_message
from walkbot.ratelimit import background
from walkbot.runtime import Runtime
from walkbot.services import dispatch as service
from walkbot.services import reminders
from walkbot.services.summaries import gather_week, report_from
from walkbot.store.models import User

log = logging.getLogger(__name__)

JOB_NAME = "dispatch"
BATCH_SIZE = service.BATCH_SIZE
# Messages per second the dispatcher allows itself: under Telegram's ~30/s for bulk sends, so
# walk cues and replies (same token, same ChatRateLimiter) are never stuck behind a fan-out.
RATE = 25.0
CONCURRENCY = 8  # sends in flight at once
_BUSY_KEY = "walkbot.dispatch.busy"
_SWEPT_KEY = "walkbot.dispatch.swept"  # monotonic time of the last sweep for unscheduled rows
SWEEP_EVERY_S = 3600.0


@dataclass
class DispatchStats:
    batches: int = 0
    sent: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    blocked: int = 0
    failed: int = 0
    late: int = 0
    walked: int = 0
    resting: int = 0
    scheduled: int = 0

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())


class Pacer:
    """At most `rate` starts per second, spread evenly (no bursts for the API to refuse)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


def start(app: WalkbotApp) -> None:
    """Register the one dispatch job (from post_init). Runs first right after start-up."""
    if app.job_queue is None:
        log.warning("no JobQueue: nudges and weekly summaries will not be sent")
        return
    interval = runtime_of(app).settings.dispatch_interval_seconds
    for job in app.job_queue.get_jobs_by_name(JOB_NAME):
        job.schedule_removal()
    app.job_queue.run_repeating(
        _tick,
        interval=interval,
        first=min(interval, 1.0),
        name=JOB_NAME,
        # A tick may outlast the interval during a big fan-out: the next one returns at once
        # (see _tick) rather than APScheduler warning about skipped runs.
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 2},
    )


async def _tick(context: WalkbotContext) -> None:
    app: WalkbotApp = context.application
    if app.bot_data.get(_BUSY_KEY):
        return
    app.bot_data[_BUSY_KEY] = True
    try:
        swept = app.bot_data.get(_SWEPT_KEY)
        sweep = swept is None or time.monotonic() - swept >= SWEEP_EVERY_S
        if sweep:
            app.bot_data[_SWEPT_KEY] = time.monotonic()
        runtime = runtime_of(app)
        await dispatch_once(app.bot, runtime, sweep=sweep, keep_going=lambda: app.running)
    finally:
        app.bot_data[_BUSY_KEY] = False


async def dispatch_once(
    bot: Bot,
    runtime: Runtime,
    *,
    now: datetime | None = None,
    limit: int = BATCH_SIZE,
    rate: float = RATE,
    keep_going: Callable[[], bool] = lambda: True,
    sweep: bool = False,
) -> DispatchStats:
    """Send everything due, one claimed batch at a time, until nothing is due. With `sweep`,
    first give instants to people who have none yet (see service.schedule_unscheduled)."""
    stats, pacer = DispatchStats(), Pacer(rate)
    while sweep and keep_going():
        async with runtime.transaction() as session:
            count = await reminders.schedule_unscheduled(
                session, now=now or runtime.clock.now(), limit=limit
            )
        stats.scheduled += count
        sweep = count == limit
    while keep_going():
        moment = now or runtime.clock.now()
        async with runtime.transaction() as session:
            claimed = await service.claim_due(session, now=moment, limit=limit)
        if claimed.rows == 0:
            break
        stats.batches += 1
        stats.late += claimed.late
        stats.walked += claimed.walked
        stats.resting += claimed.resting
        if claimed.send:
            log.info("dispatch: claimed %d to send", len(claimed.send))
        with background():  # cues and replies go first; the fan-out takes what is left
            results = await _send_all(bot, runtime, claimed.send, pacer)
        for result in results:
            if result.outcome == "sent":
                stats.sent[result.item.kind] += 1
            elif result.outcome == "blocked":
                stats.blocked += 1
            else:
                stats.failed += 1
        if results:
            async with runtime.transaction() as session:
                await service.record_results(session, now=runtime.clock.now(), results=results)
    return stats


async def _send_all(
    bot: Bot, runtime: Runtime, items: list[service.Outgoing], pacer: Pacer
) -> list[service.Result]:
    """One task per person (their messages in order), CONCURRENCY at a time, paced."""
    per_person: dict[int, list[service.Outgoing]] = defaultdict(list)
    for item in items:
        per_person[item.user_id].append(item)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def person(queue: list[service.Outgoing]) -> list[service.Result]:
        done = []
        async with gate:
            for item in queue:
                await pacer.wait()
                result = await _send_one(bot, runtime, item)
                done.append(result)
                if result.outcome == "blocked":
                    break  # nothing more reaches them
        return done

    batches = await asyncio.gather(*(person(q) for q in per_person.values()))
    return [result for batch in batches for result in batch]


async def _send_one(bot: Bot, runtime: Runtime, item: service.Outgoing) -> service.Result:
    try:
        delivery = await _deliver(bot, runtime, item)
    except Exception as error:  # a bug in one message must not cost the rest of the batch
        log.exception("dispatch: could not send %s to %s", item.kind, item.user_id)
        return service.Result(item, "failed", f"{type(error).__name__}: {error}")
    if delivery.result is Result.SENT:
        return service.Result(item, "sent")
    if delivery.result is Result.BLOCKED:
        return service.Result(item, "blocked", delivery.detail)
    return service.Result(item, "failed", delivery.detail)


async def _deliver(bot: Bot, runtime: Runtime, item: service.Outgoing) -> Delivery:
    if item.kind == "nudge":
        assert item.day is not None
        markup = nudge_markup(item.day, snoozable=item.snoozable)
        # The one message people asked to be alerted by, at the time they chose: it makes a
        # sound. Summaries and knee checks are routine and arrive silently.
        return await send_message(bot, item.user_id, item.text, markup=markup, silent=False)
    if item.kind == "knee":
        assert item.walk_id is not None
        text, markup = knee_check_message(item.walk_id)
        return await send_message(bot, item.user_id, text, markup=markup, silent=True)
    assert item.week is not None
    async with runtime.transaction() as session:
        user = await session.get(User, item.user_id)
        if user is None:  # erased (/deleteme) since the claim: nobody to write to
            return Delivery(Result.FAILED, detail="person deleted")
        data = await gather_week(session, user=user, now=item.due_at, week=item.week)
    report = await report_from(data)  # drawn after the transaction: no connection held
    return await send_report(bot, item.user_id, report, silent=True)
