"""Each update handled once: its id is recorded before any handler acts on it, and an id seen
before means Telegram delivered it twice.

Recording each id in a transaction of its own was the costliest step of a reply under load
(bench/reply_speed.py, docs/performance.md): a commit per update, and on SQLite dozens of
concurrent writers queueing for the file's write lock through busy_timeout's back-off sleeps,
which put seconds on the slowest replies. Here the ids that arrive while a write is under way
wait for it, then go in together: one statement, one commit (a group commit). A lone update
costs what it did; a crowd shares the cost; and only one such write runs at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.services.updates import record_updates

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class UpdateLedger:
    def __init__(self, transaction: Transaction, now: Callable[[], datetime]) -> None:
        self._transaction = transaction
        self._now = now
        self._waiting: list[tuple[int, asyncio.Future[bool]]] = []
        self._writing = asyncio.Lock()  # first come, first served

    async def first_time(self, update_id: int) -> bool:
        """True for the first delivery of `update_id`, False for any later one (also when the
        same id is waiting twice in one batch). A failed write fails every update in it."""
        claim: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        entry = (update_id, claim)
        self._waiting.append(entry)
        try:
            async with self._writing:
                if not claim.done():  # nobody took it along: write everything waiting
                    batch, self._waiting = self._waiting, []
                    await self._write(batch)
            return await claim
        except BaseException:  # cancelled (shutting down): leave nothing behind
            with contextlib.suppress(ValueError):
                self._waiting.remove(entry)
            if claim.done() and not claim.cancelled():
                claim.exception()  # retrieved: no "never retrieved" warning
            claim.cancel()
            raise

    async def _write(self, batch: list[tuple[int, asyncio.Future[bool]]]) -> None:
        try:
            async with self._transaction() as session:
                new = await record_updates(
                    session, update_ids={uid for uid, _ in batch}, now=self._now()
                )
        except BaseException as error:
            for _, claim in batch:
                if claim.done():
                    continue
                if isinstance(error, asyncio.CancelledError):
                    claim.cancel()
                else:
                    claim.set_exception(error)
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        for update_id, claim in batch:
            if not claim.done():
                claim.set_result(update_id in new)
                new.discard(update_id)  # the same id again in this batch is a duplicate
