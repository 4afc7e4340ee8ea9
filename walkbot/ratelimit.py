"""A rate limiter that knows about chats: about 1 message a second per private chat, and a 429
holds the chat it was about, not the whole bot.

Why not PTB's AIORateLimiter: it limits 30/s overall and 20/min per group, but has no limit
per private chat (Telegram asks for about 1 a second, short bursts tolerated), and it answers
ANY RetryAfter by holding every request, for every chat, for retry_after + 0.1 s. Measured
with bench/fanout.py (docs/performance.md, "Nudge fan-out"): a fan-out at 25 msg/s while one
person sends /help twice a second; one 429 for that person held everything for 1.1 s, their
two or three pending answers then went out together, drew the next 429 (more than 3 a second
in one chat), which held everything again, and so on: 112 429s from one injected, the fan-out
fell from 25 to about 11 msg/s, /help p95 1.1 s.

Here:
- every request with a chat_id passes an overall limiter: at most 30 in any second, as a
  burst of 2 then 28/s (PTB's lets 60 through in one second: 30 at once, then 30/s);
- a group or channel (negative or @username chat_id) also passes its own 20/min limiter, as in
  PTB; a private chat passes its own pacer, a burst of 3 then about 1 a second (one every
  1.1 s), counted when each message has arrived and sent one at a time, so answers to a busy
  chat are spaced instead of bunched and keep their order;
- a RetryAfter for a request with a chat_id holds only that chat for retry_after + a margin,
  then retries (up to max_retries, or the per-call `rate_limit_args`); other chats go on,
  still under the overall limit. A RetryAfter without a chat_id holds everything, since we
  cannot tell what it was about (PTB's behaviour);
- requests without a chat_id (answerCallbackQuery, setMyCommands, ...) and requests that
  only read about a chat (getChatMember, getChatAdministrators, getChat) are not limited;
- per-chat state is pruned when it grows: a fan-out to 10,000 chats leaves only the chats
  that are still busy or held;
- background sends (the dispatcher's nudges and summaries, marked with `background()`) take
  the overall budget only when no other message is waiting for it: walk cues and replies to
  people go first, and a fan-out fills the gaps;
- a message sent inside `restating(fn)` (a walk cue) reads what `fn()` says when it finally
  leaves, after every wait here, and is not sent at all when that is None (StaleMessage):
  a "turn around" held 30 s by a 429 would otherwise arrive after the turn was due again.

A RetryAfter that survives the retries reaches the caller: walkbot.delivery waits and tries
again for proactive sends; a handler's reply fails like any other error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import constants
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]
Callback = Callable[..., Coroutine[Any, Any, Result]]
ChatKey = int | str


_BACKGROUND: ContextVar[bool] = ContextVar("walkbot_background_send", default=False)
_RESTATE: ContextVar[Callable[[], str | None] | None] = ContextVar("walkbot_restate", default=None)


class StaleMessage(Exception):
    """A message held here (a 429 on its chat, the chat's pace) whose moment passed meanwhile:
    its `restating` function said it should no longer be sent. Nothing was sent."""


@contextlib.contextmanager
def restating(restate: Callable[[], str | None] | None) -> Iterator[None]:
    """The messages sent inside read what `restate()` says at the moment they leave, after
    every wait here; when it says None they are not sent (StaleMessage). A walk cue held by
    flood control is so re-worded for the time actually left, or dropped once stale."""
    token = _RESTATE.set(restate)
    try:
        yield
    finally:
        _RESTATE.reset(token)


@contextlib.contextmanager
def background() -> Iterator[None]:
    """Marks the sends made inside (in this task, and tasks it starts) as background: they
    yield the overall budget to any other message waiting for it."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


class _ChatPacer:
    """Telegram's limit for one private chat, as Telegram sees it: a burst, then one message
    per `interval`, counted when a message ARRIVES. We cannot see arrivals, but a message has
    arrived by the time its response is back; so messages to the chat go one at a time, and
    each is counted at the moment its response came back (a GCRA over those moments). That
    count is never earlier than Telegram's, so a busy event loop or a slow network that
    delays one message more than the next cannot squeeze two into one interval. It also keeps
    one chat's messages in the order they were sent.

    Counting at send time (aiolimiter's bucket) was measured to fail exactly so: on a loaded
    machine a burst sent with 25 other messages arrived 0.1-0.3 s late, the next message to
    the chat did not, and the 10% margin was gone.
    """

    def __init__(self, burst: float, interval: float) -> None:
        self._tolerance = max(0.0, (burst - 1) * interval)
        self._interval = interval
        self._tat = float("-inf")  # GCRA: the theoretical arrival time of the next message
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        async with self._lock:
            wait = self._tat - self._tolerance - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:  # refused or failed too: it may have arrived, and Telegram counts it
                self._tat = max(self._tat, loop.time()) + self._interval

    def idle(self, now: float) -> bool:
        return not self._lock.locked() and self._tat <= now


@dataclass
class _Chat:
    """One chat's limiter and, after a 429 about it, the loop time until which it is held."""

    limiter: AsyncLimiter | _ChatPacer | None
    held_until: float = 0.0

    def idle(self, now: float) -> bool:
        """No hold, and nothing in flight or counted still: forgetting it changes nothing."""
        if self.held_until > now:
            return False
        if isinstance(self.limiter, _ChatPacer):
            return self.limiter.idle(now)
        return self.limiter is None or self.limiter.has_capacity(self.limiter.max_rate)


class ChatRateLimiter(BaseRateLimiter[int]):
    """Overall, per-group and per-private-chat limits; a 429 holds only the chat it was about.

    A private chat gets `private_max_rate` messages at once, then one per
    `private_time_period / private_max_rate` seconds, counted when each response is back
    (_ChatPacer). Defaults: a burst of 3, then one every 1.1 s; the 10% is for the difference
    between our clock and Telegram's. A rate or period of 0 turns that limit off.
    `rate_limit_args` on a call overrides `max_retries` for that call (as in PTB, 0 or None
    means the default).
    """

    def __init__(
        self,
        *,
        overall_max_rate: float = constants.FloodLimit.MESSAGES_PER_SECOND,
        overall_time_period: float = 1.0,
        group_max_rate: float = constants.FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP,
        group_time_period: float = 60.0,
        private_max_rate: float = 3.0,
        private_time_period: float = 3.3,
        overall_burst: float = 2.0,
        max_retries: int = 0,
        retry_margin: float = 0.1,
        prune_above: int = 512,
    ) -> None:
        self._overall = (
            _window_limiter(overall_max_rate, overall_time_period, overall_burst)
            if overall_max_rate and overall_time_period
            else None
        )
        self._paid = AsyncLimiter(constants.FloodLimit.PAID_MESSAGES_PER_SECOND, 1)
        self._group_rate = (group_max_rate, group_time_period)
        self._private_rate = (private_max_rate, private_time_period)
        self._max_retries = max_retries
        self._margin = retry_margin
        self._prune_above = prune_above
        self._next_prune = prune_above
        self._chats: dict[ChatKey, _Chat] = {}
        self._held_until = 0.0  # everything, after a 429 we could not pin on a chat
        # Foreground messages (cues, replies) waiting for the overall budget; background sends
        # wait for this to be set (no foreground waiting) before they join the queue.
        self._foreground_waiting = 0
        self._foreground_clear = asyncio.Event()
        self._foreground_clear.set()
        self._background_turn = asyncio.Lock()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    @property
    def tracked_chats(self) -> int:
        """How many chats have state (a limiter or a hold) right now."""
        return len(self._chats)

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        max_retries = rate_limit_args or self._max_retries
        # Only messages count against a chat's limits: a group's admins asked for at a Join
        # (getChatMember, getChatAdministrators) must not spend its 20 a minute.
        key = _chat_key(data.get("chat_id")) if endpoint.startswith(_MESSAGES) else None
        paid = bool(data.get("allow_paid_broadcast", False))
        loop = asyncio.get_running_loop()
        for attempt in range(max_retries + 1):
            try:
                if key is None:
                    await self._wait_for_holds(None)
                    return await callback(*args, **kwargs)
                return await self._limited(key, paid, callback, args, kwargs, data)
            except RetryAfter as error:
                wait = error._retry_after.total_seconds()  # .retry_after: int or timedelta
                # Hold the chat even when giving up: its next requests would only be refused.
                until = loop.time() + wait + self._margin
                if key is None:
                    self._held_until = max(self._held_until, until)
                else:
                    chat = self._chat(key)
                    chat.held_until = max(chat.held_until, until)
                if attempt == max_retries:
                    log.warning(
                        "%s to %s: flood control (retry after %gs) after %d retries",
                        endpoint,
                        key,
                        wait,
                        max_retries,
                    )
                    raise
                log.info("%s to %s: flood control, holding it for %gs", endpoint, key, wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _limited(
        self,
        key: ChatKey,
        paid: bool,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        data: dict[str, Any],
    ) -> Result:
        await self._wait_for_holds(key)
        if paid:
            async with self._paid:
                _restate(data)
                return await callback(*args, **kwargs)
        # Looked up after the hold: between here and acquiring, nothing yields, so the pruning
        # cannot drop a limiter that a request is about to use.
        limiter = self._chat(key).limiter
        pace = limiter.slot() if isinstance(limiter, _ChatPacer) else limiter
        async with pace or contextlib.nullcontext():
            # A 429 for this chat may have come in while we queued in its limiter.
            await self._wait_for_holds(key)
            async with self._overall_budget():
                _restate(data)  # after every wait: what it says now, or not at all
                return await callback(*args, **kwargs)

    @contextlib.asynccontextmanager
    async def _overall_budget(self) -> AsyncIterator[None]:
        if self._overall is None:
            yield
            return
        if _BACKGROUND.get():
            # Never queue inside the limiter, where a cue arriving later would wait behind us:
            # take the budget only when it is free at once and no foreground message wants it.
            # One background send at a time watches the budget: the rest wait their turn
            # here, instead of all waking at every poll.
            poll = self._overall.time_period / self._overall.max_rate
            async with self._background_turn:
                while self._foreground_waiting or not self._overall.has_capacity():
                    if self._foreground_waiting:
                        await self._foreground_clear.wait()
                    else:
                        await asyncio.sleep(poll)
                await self._overall.acquire()  # free: returns without yielding
            yield
            return
        self._foreground_waiting += 1
        self._foreground_clear.clear()
        try:
            await self._overall.acquire()
        finally:
            self._foreground_waiting -= 1
            if not self._foreground_waiting:
                self._foreground_clear.set()
        yield

    async def _wait_for_holds(self, key: ChatKey | None) -> None:
        loop = asyncio.get_running_loop()
        slept_until = None
        while True:
            chat = self._chats.get(key) if key is not None else None
            until = max(self._held_until, chat.held_until if chat else 0.0)
            # Once we have slept to a hold's end, it is over: asyncio may wake a timer a clock
            # tick early (a coarse clock, or looptime's microseconds), and sleeping again for
            # the leftover fraction would spin without the loop's time ever moving on.
            # Sleep again only for a hold that came or grew while we slept.
            if until == slept_until or until <= loop.time():
                return
            slept_until = until
            await asyncio.sleep(until - loop.time())

    def _chat(self, key: ChatKey) -> _Chat:
        chat = self._chats.get(key)
        if chat is None:
            if len(self._chats) >= self._next_prune:
                self._prune()
            limiter: AsyncLimiter | _ChatPacer | None = None
            if _is_group(key):
                rate, period = self._group_rate
                limiter = AsyncLimiter(rate, period) if rate and period else None
            else:
                rate, period = self._private_rate
                limiter = _ChatPacer(rate, period / rate) if rate and period else None
            chat = _Chat(limiter)
            self._chats[key] = chat
        return chat

    def _prune(self) -> None:
        """Forget idle chats; prune again only once the busy ones have doubled, so a crowd of
        busy chats does not make every new chat pay a full scan."""
        now = asyncio.get_running_loop().time()
        for key in [key for key, chat in self._chats.items() if chat.idle(now)]:
            del self._chats[key]
        self._next_prune = max(self._prune_above, 2 * len(self._chats))


def _restate(data: dict[str, Any]) -> None:
    """Apply the `restating` function, if any, to the request about to leave. `data` is the
    very dict PTB turns into the request's parameters after this returns."""
    restate = _RESTATE.get()
    if restate is None or "text" not in data:
        return
    text = restate()
    if text is None:
        raise StaleMessage
    data["text"] = text


def _window_limiter(rate: float, period: float, burst: float) -> AsyncLimiter:
    """At most `rate` messages in ANY `period`, as Telegram counts its ~30 a second: a leaky
    bucket holding `burst`, drained at (rate - burst) per period. A bucket of the whole `rate`
    (AsyncLimiter(30, 1), PTB's choice) lets 30 go at once and 30 more within the same second:
    measured with bench/cue_latency.py, 100 walks starting together drew 235 429s that way."""
    burst = max(1.0, min(burst, rate - 1)) if rate > 1 else 1.0
    drain = rate - burst if rate > burst else rate
    return AsyncLimiter(burst, burst * period / drain)


# Bot API methods that put a message in a chat or change one (edits count like sends).
_MESSAGES = ("send", "edit", "copy", "forward")


def _chat_key(chat_id: object) -> ChatKey | None:
    if chat_id is None:
        return None
    if isinstance(chat_id, int):
        return chat_id
    with contextlib.suppress(ValueError, TypeError):
        return int(str(chat_id))  # an integer id passed as a string
    return str(chat_id)  # "@channelusername"


def _is_group(key: ChatKey) -> bool:
    """Groups, supergroups and channels: negative ids, or an @username (PTB cannot tell which)."""
    return isinstance(key, str) or key < 0
