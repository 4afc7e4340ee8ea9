"""Updates from different chats run side by side; updates from one chat run in order.

PTB processes one update at a time by default. Together with the per-chat rate limit
(walkbot.ratelimit), that let one person who writes faster than Telegram lets us answer hold up
everyone: measured, another person's /help waited 5.4 s behind eight quick /help messages from
someone else. Running every update concurrently instead would let one person's two quick taps
race each other (an onboarding answer and the next question, a double-tapped rating), so the
order within a chat is kept with one lock per chat.

An update waits for its chat's turn first and only then for one of MAX_CONCURRENT_UPDATES
running places, so a person with many updates queued holds one place, not one per update (with
PTB's semaphore outside the chat lock, someone sending 64 messages at once held every place).
The bound is small on purpose: each running update may hold an HTTP connection, and httpx's
pool checks every connection it has on every request it hands out. At 64 running updates that
bookkeeping was about a third of walkbot's extra cost per /help over a bare PTB bot under load
(bench/reply_speed.py, docs/performance.md). The price: a reply waiting for its chat's rate
limit keeps its place meanwhile, so 16 chats each waiting at once would hold up the rest.

A flood from one person is bounded: beyond MAX_WAITING_PER_CHAT updates held or waiting for
one private chat, further ones are dropped (never handled, so never recorded as handled) and
the person is told once per flood (`flood_notice`). Answering 100 forwarded messages one by
one at Telegram's ~1 a second per chat would take minutes and help nobody. Groups are not
bounded: their updates come from many people (fifty members tapping Join at once).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 16
MAX_WAITING_PER_CHAT = 10  # at ~1 reply a second, ten answers already take ten seconds
FloodNotice = Callable[[int], Awaitable[None]]
# PTB takes its own semaphore before do_process_update, where it would also count updates that
# only wait for their chat's turn: it is made this wide (so PTB's max_concurrent_updates reads
# this), and the bound applies in do_process_update instead.
_WAITING = 1_000_000


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(
        self,
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
        *,
        max_waiting_per_chat: int = MAX_WAITING_PER_CHAT,
    ) -> None:
        if max_concurrent_updates < 1 or max_waiting_per_chat < 1:
            raise ValueError("update bounds must be positive integers")
        super().__init__(_WAITING)
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._per_chat = max_waiting_per_chat
        # chat -> (its lock, how many updates hold or wait for it); dropped when unused.
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}
        self._flooding: set[int] = set()  # private chats told of their flood, until it ends
        self.dropped = 0
        # Set by the composition root: tells a person their flood was cut short.
        self.flood_notice: FloodNotice | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock, users = self._chats.get(key, (asyncio.Lock(), 0))
        if key > 0 and users >= self._per_chat:
            await self._drop(key, coroutine)
            return
        self._chats[key] = (lock, users + 1)
        try:
            async with lock, self._running:
                await coroutine
        finally:
            lock, users = self._chats[key]
            if users <= 1:
                del self._chats[key]
                self._flooding.discard(key)
            else:
                self._chats[key] = (lock, users - 1)

    async def _drop(self, chat_id: int, coroutine: Awaitable[Any]) -> None:
        if inspect.iscoroutine(coroutine):
            coroutine.close()  # never started: nothing ran, nothing was recorded
        self.dropped += 1
        if chat_id in self._flooding or self.flood_notice is None:
            return
        self._flooding.add(chat_id)
        log.info("chat %s is flooding; dropping what is beyond %s waiting", chat_id, self._per_chat)
        try:
            await self.flood_notice(chat_id)
        except Exception:  # a courtesy: the chat's own updates go on regardless
            log.warning("could not tell chat %s about its flood", chat_id, exc_info=True)

    @property
    def chats_in_flight(self) -> int:
        return len(self._chats)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: PTB waits for the updates in flight."""


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None
