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
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT_UPDATES = 16
# PTB takes its own semaphore before do_process_update, where it would also count updates that
# only wait for their chat's turn: it is made this wide (so PTB's max_concurrent_updates reads
# this), and the bound applies in do_process_update instead.
_WAITING = 1_000_000


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be a positive integer")
        super().__init__(_WAITING)
        self._running = asyncio.Semaphore(max_concurrent_updates)
        # chat -> (its lock, how many updates hold or wait for it); dropped when unused.
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock, users = self._chats.get(key, (asyncio.Lock(), 0))
        self._chats[key] = (lock, users + 1)
        try:
            async with lock, self._running:
                await coroutine
        finally:
            lock, users = self._chats[key]
            if users <= 1:
                del self._chats[key]
            else:
                self._chats[key] = (lock, users - 1)

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
