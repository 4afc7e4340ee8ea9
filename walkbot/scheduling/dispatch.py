"""The dispatch tick: one repeating job sends whatever every registered queue source has due
(reminders, weekly summaries, knee checks; see services/dispatch.py for what a source is).

Entry points (the app uses the first; benchmarks and tests may call the second directly):

- `start(app)`: registers ONE JobQueue job named "dispatch", every
  settings.dispatch_interval_seconds. Nothing is loaded at start-up, so start-up cost does not
  grow with the number of people: due rows are found by indexed columns (users.next_*_at...).
- `await dispatch_once(runtime, *, sources=None, now=None, limit=BATCH_SIZE, rate=RATE,
  keep_going=..., sweep=False) -> DispatchStats`: drains what is due, batch by batch, until
  nothing is due (or keep_going() says stop), and returns counts. `sources=None` takes the
  runtime's registry (Runtime.sources, set by app.queue_sources); `now=None` reads
  runtime.clock for each batch.

This module knows no kind of message by name: everything below holds for every source.

Transaction shape (the row is the truth):
1. Claim, one short transaction per source per batch of at most `limit` rows: the source locks
   due rows (PostgreSQL: FOR UPDATE SKIP LOCKED, so two dispatchers never take the same row),
   decides each (send / skip: too late, already walked, resting...), advances it to its next
   instant; each message to send is written down as in flight; COMMIT. A source whose claim
   raises is logged and left out until the next tick; its rows stay due and the others go on.
   No lock is held while talking to Telegram: a 50-row batch at 25 msg/s takes 2 s, and
   holding row locks that long would block the person's own /settings or /pause.
2. Send the batch as background sends (walkbot.ratelimit.background: cues and replies go
   first), paced by the event loop's clock (below Telegram's 30 msg/s, so cues and command
   replies, which share the bot's rate limiter, still find room), one task per chat with
   bounded concurrency, each item through its source's `deliver` (a port that bot/notifier.py
   implements); 429s wait and retry, 5xx/timeouts back off a bounded number of times
   (walkbot.delivery). A chat that refuses a message is not tried again in this batch.
3. Record results in a second short transaction: the in-flight marks of what arrived are
   cleared; a refusing chat is handed to its source (a person: inactive and unscheduled);
   given up -> the mark keeps the reason (a FailedDelivery row).
Sweeps (`sweep=True`: at start-up and hourly from the tick) first let each source do its
upkeep, such as giving instants to people who have none.

So delivery is at-most-once: no two dispatchers, ticks or restarts send the same message (its
row was advanced before it was sent, by whichever dispatcher claimed it). One narrow exception
is Telegram's, not ours: a request that timed out after Telegram had accepted it is retried
(walkbot.delivery), and the Bot API has no idempotency key to refuse the repeat. A duplicate
"time for your walk" is spam; a missed one is mild, and the window is small:
- A graceful stop or restart (SIGTERM, RunningBot.restart) loses nothing: `app.running` turns
  False first, the tick stops claiming, finishes sending the batch it already claimed, and PTB's
  JobQueue.stop(wait=True) waits for it. Rows not yet claimed stay due for the next start.
- A hard kill (SIGKILL, power loss) can lose at most the one claimed batch in flight (<= `limit`
  rows of each source). It is not lost without trace: the claim wrote each of its messages down
  as a FailedDelivery row marked in flight (service.IN_FLIGHT), and only a result clears it, so
  the rows left behind name exactly which chat missed what. They are not resent: one of them
  may have reached the phone just before the kill, and at-most-once is the promise.
- Down time: rows stay due; on return each source's catch-up policy decides (a nudge is sent
  up to 2 h late once, otherwise skipped, and advanced from now), so there is never a burst of
  stale messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from walkbot.context import WalkbotApp, WalkbotContext, runtime_of
from walkbot.ratelimit import background
from walkbot.runtime import Runtime
from walkbot.services import dispatch as service
from walkbot.services.dispatch import Claim, Outgoing, Source

log = logging.getLogger(__name__)

JOB_NAME = "dispatch"
BATCH_SIZE = service.BATCH_SIZE
# Messages per second the dispatcher allows itself: under Telegram's ~30/s for bulk sends, so
# walk cues and replies (same token, same ChatRateLimiter) are never stuck behind a fan-out.
RATE = 25.0
CONCURRENCY = 8  # sends in flight at once
_BUSY_KEY = "walkbot.dispatch.busy"
_SWEPT_KEY = "walkbot.dispatch.swept"  # event-loop time of the last sweep
SWEEP_EVERY_S = 3600.0


@dataclass
class DispatchStats:
    batches: int = 0
    sent: Counter[str] = field(default_factory=Counter)  # by source
    blocked: int = 0
    failed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # by reason: late, walked, ...
    scheduled: int = 0  # rows the sweeps touched
    broken: set[str] = field(default_factory=set)  # sources whose claim raised (logged)

    @property
    def total_sent(self) -> int:
        return self.sent.total()


class Pacer:
    """At most `rate` starts per second, spread evenly (no bursts for the API to refuse).
    Time is the event loop's, so a test on a fast-forwarded loop sees exact gaps."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


def start(app: WalkbotApp) -> None:
    """Register the one dispatch job (from post_init). Runs first right after start-up."""
    if app.job_queue is None:
        log.warning("no JobQueue: nothing queued (reminders, summaries...) will be sent")
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
    runtime = runtime_of(app)
    runtime.vitals.last_tick_at = runtime.clock.now()  # /healthz: the job queue is alive
    if app.bot_data.get(_BUSY_KEY):
        return
    app.bot_data[_BUSY_KEY] = True
    try:
        now = asyncio.get_running_loop().time()
        swept = app.bot_data.get(_SWEPT_KEY)
        sweep = swept is None or now - swept >= SWEEP_EVERY_S
        if sweep:
            app.bot_data[_SWEPT_KEY] = now
        await dispatch_once(runtime, sweep=sweep, keep_going=lambda: app.running)
        runtime.vitals.last_dispatch_done_at = runtime.clock.now()
    finally:
        app.bot_data[_BUSY_KEY] = False


async def dispatch_once(
    runtime: Runtime,
    *,
    sources: Sequence[Source[Any]] | None = None,
    now: datetime | None = None,
    limit: int = BATCH_SIZE,
    rate: float = RATE,
    keep_going: Callable[[], bool] = lambda: True,
    sweep: bool = False,
) -> DispatchStats:
    """Send everything due from every source (default: the runtime's registry), one claimed
    batch at a time, until nothing is due. With `sweep`, first let each source do its upkeep
    (Source.sweep: such as giving instants to people who have none yet)."""
    registry = service.by_name(runtime.sources if sources is None else sources)
    stats, pacer = DispatchStats(), Pacer(rate)
    if sweep:
        await _sweep(
            runtime, registry.values(), now=now, limit=limit, keep_going=keep_going, into=stats
        )
    while keep_going():
        moment = now or runtime.clock.now()
        claimed = await _claim(runtime, registry.values(), now=moment, limit=limit, into=stats)
        if claimed.rows == 0:
            break
        stats.batches += 1
        stats.skipped.update(claimed.skipped)
        if claimed.send:
            log.info("dispatch: claimed %d to send", len(claimed.send))
        with background():  # cues and replies go first; the fan-out takes what is left
            results = await _send_all(runtime, registry, claimed.send, pacer)
        for result in results:
            if result.outcome == "sent":
                stats.sent[result.item.source] += 1
            elif result.outcome == "blocked":
                stats.blocked += 1
            else:
                stats.failed += 1
        if results:
            async with runtime.transaction() as session:
                await service.record_results(
                    session, sources=registry, now=runtime.clock.now(), results=results
                )
    return stats


async def _sweep(
    runtime: Runtime,
    sources: Iterable[Source[Any]],
    now: datetime | None,
    limit: int,
    keep_going: Callable[[], bool],
    *,
    into: DispatchStats,
) -> None:
    for source in sources:
        count = limit
        while count == limit and keep_going():
            async with runtime.transaction() as session:
                count = await source.sweep(session, now=now or runtime.clock.now(), limit=limit)
            into.scheduled += count


async def _claim(
    runtime: Runtime,
    sources: Iterable[Source[Any]],
    *,
    now: datetime,
    limit: int,
    into: DispatchStats,
) -> Claim[Any]:
    """One batch: each source claims in its own short transaction, so a source that fails
    (a bug in a new kind of message) costs only its own rows, which stay due; it is left out
    for the rest of this dispatch and tried again at the next tick."""
    claimed: Claim[Any] = Claim()
    for source in sources:
        if source.name in into.broken:
            continue
        try:
            async with runtime.transaction() as session:
                got = await service.claim_due(session, sources=[source], now=now, limit=limit)
        except Exception:
            log.exception("dispatch: the %r source could not claim; its rows stay due", source.name)
            into.broken.add(source.name)
            continue
        claimed.send.extend(got.send)
        claimed.skipped.update(got.skipped)
    return claimed


async def _send_all(
    runtime: Runtime, sources: Mapping[str, Source[Any]], items: list[Outgoing[Any]], pacer: Pacer
) -> list[service.Result]:
    """One task per chat (its messages in order), CONCURRENCY at a time, paced. A message for
    a person who erased themselves since the claim is dropped unsent, without a result (its
    in-flight record went with them)."""
    per_chat: dict[int, list[Outgoing[Any]]] = {}
    for item in items:
        per_chat.setdefault(item.chat_id, []).append(item)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def chat(queue: list[Outgoing[Any]]) -> list[service.Result]:
        done: list[service.Result] = []
        async with gate:
            for item in queue:
                if done and done[-1].outcome == "blocked":  # nothing more reaches them
                    done.append(service.Result(item, "blocked", "not tried: " + done[-1].detail))
                    continue
                if not await _still_claimed(runtime, item):
                    log.info("dispatch: a %s not sent: its person was erased", item.source)
                    continue
                await pacer.wait()
                done.append(await _send_one(sources[item.source], item))
        return done

    batches = await asyncio.gather(*(chat(q) for q in per_chat.values()))
    return [result for batch in batches for result in batch]


async def _still_claimed(runtime: Runtime, item: Outgoing[Any]) -> bool:
    if item.user_id is None:  # a group post: no person to have gone
        return True
    try:
        async with runtime.transaction() as session:
            return await service.still_claimed(session, item=item)
    except Exception:  # the database is away: a reminder still goes, as it did before the check
        log.warning("dispatch: could not check a %s is still claimed; sending it", item.source)
        return True


async def _send_one(source: Source[Any], item: Outgoing[Any]) -> service.Result:
    try:
        outcome = await source.deliver(item)
    except Exception as error:  # a bug in one message must not cost the rest of the batch
        log.exception("dispatch: could not send %s to %s", item.source, item.chat_id)
        return service.Result(item, "failed", f"{type(error).__name__}: {error}")
    return service.Result(item, outcome.status, outcome.detail)
