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
- every request with a chat_id passes an overall limiter (30/s), as in PTB;
- a group or channel (negative or @username chat_id) also passes its own 20/min limiter, as in
  PTB; a private chat passes its own limiter, a burst of 3 then about 1 a second (one every
  1.1 s), so answers to a busy chat are spaced instead of bunched;
- a RetryAfter for a request with a chat_id holds only that chat for retry_after + a margin,
  then retries (up to max_retries, or the per-call `rate_limit_args`); other chats go on,
  still under the overall limit. A RetryAfter without a chat_id holds everything, since we
  cannot tell what it was about (PTB's behaviour);
- requests without a chat_id (answerCallbackQuery, setMyCommands, ...) are not limited;
- per-chat state is pruned when it grows: a fan-out to 10,000 chats leaves only the chats
  that are still busy or held.

A RetryAfter that survives the retries reaches the caller: walkbot.delivery waits and tries
again for proactive sends; a handler's reply fails like any other error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
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


@dataclass
class _Chat:
    """One chat's limiter and, after a 429 about it, the loop time until which it is held."""

    limiter: AsyncLimiter | None
    held_until: float = 0.0

    def idle(self, now: float) -> bool:
        """No hold, and the bucket has drained: forgetting this chat changes nothing."""
        return self.held_until <= now and (
            self.limiter is None or self.limiter.has_capacity(self.limiter.max_rate)
        )


class ChatRateLimiter(BaseRateLimiter[int]):
    """Overall, per-group and per-private-chat limits; a 429 holds only the chat it was about.

    The private-chat limiter is aiolimiter's leaky bucket: `private_max_rate` requests at once,
    draining at `private_max_rate / private_time_period` a second. Defaults: a burst of 3, then
    one every 1.1 s: Telegram counts a message when it arrives, we when it leaves, and the 10%
    absorbs differences in latency (at exactly 1 s, the fake Bot API's Telegram-like bucket
    refused the 4th message of a burst: it arrived 0.998 s after the 1st, which had taken 2 ms
    longer on the way). A rate or period of 0 turns that limit off. `rate_limit_args` on a
    call overrides `max_retries` for that call (as in PTB, 0 or None means the default).
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
        max_retries: int = 0,
        retry_margin: float = 0.1,
        prune_above: int = 512,
    ) -> None:
        self._overall = (
            AsyncLimiter(overall_max_rate, overall_time_period)
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
        key = _chat_key(data.get("chat_id"))
        paid = bool(data.get("allow_paid_broadcast", False))
        loop = asyncio.get_running_loop()
        for attempt in range(max_retries + 1):
            try:
                if key is None:
                    await self._wait_for_holds(None)
                    return await callback(*args, **kwargs)
                return await self._limited(key, paid, callback, args, kwargs)
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
        self, key: ChatKey, paid: bool, callback: Callback, args: Any, kwargs: dict[str, Any]
    ) -> Result:
        await self._wait_for_holds(key)
        if paid:
            async with self._paid:
                return await callback(*args, **kwargs)
        # Looked up after the hold: between here and acquiring, nothing yields, so the pruning
        # cannot drop a limiter that a request is about to use.
        limiter = self._chat(key).limiter
        async with limiter or contextlib.nullcontext():
            # A 429 for this chat may have come in while we queued in its limiter.
            await self._wait_for_holds(key)
            async with self._overall or contextlib.nullcontext():
                return await callback(*args, **kwargs)

    async def _wait_for_holds(self, key: ChatKey | None) -> None:
        loop = asyncio.get_running_loop()
        while True:
            chat = self._chats.get(key) if key is not None else None
            until = max(self._held_until, chat.held_until if chat else 0.0)
            delay = until - loop.time()
            if delay <= 0:
                return
            await asyncio.sleep(delay)

    def _chat(self, key: ChatKey) -> _Chat:
        chat = self._chats.get(key)
        if chat is None:
            if len(self._chats) >= self._next_prune:
                self._prune()
            rate, period = self._group_rate if _is_group(key) else self._private_rate
            chat = _Chat(AsyncLimiter(rate, period) if rate and period else None)
            self._chats[key] = chat
        return chat

    def _prune(self) -> None:
        """Forget idle chats; prune again only once the busy ones have doubled, so a crowd of
        busy chats does not make every new chat pay a full scan."""
        now = asyncio.get_running_loop().time()
        for key in [key for key, chat in self._chats.items() if chat.idle(now)]:
            del self._chats[key]
        self._next_prune = max(self._prune_above, 2 * len(self._chats))


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
