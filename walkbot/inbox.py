"""Exactly-once update handling: every update is stored before Telegram is told it arrived, and
marked done in the same transaction as the handler's first write.

- **Receipt.** `Inbox.store` writes the update (id, body, the person it is from) before the
  acknowledgement: before the webhook's 200 (walkbot/web.py) and, in polling, before PTB asks
  for the next batch, which is what confirms the last one (walkbot/bot/inbox.py). An id stored
  before is a redelivery and is not handed to the Application again.
- **Handling.** `Inbox.handled` names the update being handled in a context variable; the
  first transaction the handler opens (`Runtime.transaction` calls `claim_current`) marks it
  done (`UPDATE ... SET done_at WHERE update_id = ? AND done_at IS NULL`, as an upsert) and
  commits with the handler's own writes. None marked means someone else handled it:
  `AlreadyHandled` rolls the transaction back and stops the handler. A handler that writes
  nothing (/help), or fails, or is cut short by a flood, is marked done right after it.
- **Start-up.** What was stored and is not done (a process killed between receipt and the
  mark) is handled again, oldest first (walkbot/bot/inbox.replay), before updates are fetched.

Stores and after-handler marks are group commits, as the de-duplication record before them
was (docs/performance.md): what arrives while a write is under way waits for it and goes in
with the next one, one commit for all of it, and only one such write runs at a time.

What "exactly once" covers, and what it cannot, is in docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.services.updates import (
    Received,
    finish_updates,
    store_updates,
    unfinished_updates,
)

log = logging.getLogger(__name__)

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]
T = TypeVar("T")
K = TypeVar("K")

# TEST ONLY. Set to a file path, the bot writes each update's id to that file when it is about
# to be handled and then waits for ever instead of handling it: the e2e tests SIGKILL it there,
# between receipt and handling, without guessing at timings (tests/e2e/test_inbox_process.py).
HOLD_ENV = "WALKBOT_TEST_HOLD_UPDATES"


class AlreadyHandled(Exception):
    """The update being handled is marked done already (another process, or a redelivery
    handled first): the handler's transaction is rolled back and the handler stops."""


@dataclass
class Handling:
    """The update the current task is handling, and whether it has been marked done."""

    update_id: int
    owner: asyncio.Task[Any] | None
    state: Literal["open", "claiming", "done"] = "open"


CURRENT: ContextVar[Handling | None] = ContextVar("walkbot.inbox.handling", default=None)


async def claim_current(session: AsyncSession, *, now: datetime) -> Handling | None:
    """In the handler's first transaction: mark its update done, in that transaction. Returns
    the Handling to confirm once the transaction commits (None: nothing to mark here: no update
    is being handled, this is not the first transaction, or a task the handler started)."""
    handling = CURRENT.get()
    if handling is None or handling.state != "open":
        return None
    if handling.owner is not asyncio.current_task():  # a job or task started by the handler
        return None
    handling.state = "claiming"
    try:
        first = await finish_updates(session, update_ids=[handling.update_id], now=now)
    except BaseException:
        handling.state = "open"
        raise
    if not first:
        handling.state = "done"
        log.info("update %s was handled already; stopping", handling.update_id)
        raise AlreadyHandled(handling.update_id)
    return handling


def settle(handling: Handling | None, *, committed: bool) -> None:
    """After the claiming transaction: done if it committed, open again if it rolled back
    (a later transaction of the handler, or the mark after it, takes the claim)."""
    if handling is not None:
        handling.state = "done" if committed else "open"


class GroupWrite(Generic[T, K]):
    """Writes of keyed items, grouped: callers arriving while a write is under way wait for it
    and go in together with the next one. `write` answers the keys that were new; each caller
    gets its own new keys, and a key sent by two callers in one batch counts for the first."""

    def __init__(
        self,
        transaction: Transaction,
        now: Callable[[], datetime],
        write: Callable[[AsyncSession, list[T], datetime], Awaitable[set[K]]],
        key: Callable[[T], K],
    ) -> None:
        self._transaction, self._now, self._write, self._key = transaction, now, write, key
        self._waiting: list[tuple[list[T], asyncio.Future[set[K]]]] = []
        self._writing = asyncio.Lock()  # first come, first served

    async def __call__(self, items: Sequence[T]) -> set[K]:
        claim: asyncio.Future[set[K]] = asyncio.get_running_loop().create_future()
        entry = (list(items), claim)
        self._waiting.append(entry)
        try:
            async with self._writing:
                if not claim.done():  # nobody took it along: write everything waiting
                    batch, self._waiting = self._waiting, []
                    await self._flush(batch)
            return await claim
        except BaseException:  # cancelled (shutting down): leave nothing behind
            with contextlib.suppress(ValueError):
                self._waiting.remove(entry)
            if claim.done() and not claim.cancelled():
                claim.exception()  # retrieved: no "never retrieved" warning
            claim.cancel()
            raise

    async def _flush(self, batch: list[tuple[list[T], asyncio.Future[set[K]]]]) -> None:
        try:
            async with self._transaction() as session:
                new = await self._write(
                    session, [item for items, _ in batch for item in items], self._now()
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
        for items, claim in batch:
            mine = {self._key(item) for item in items} & new
            new -= mine  # the same key again later in this batch is not new
            if not claim.done():
                claim.set_result(mine)


Key = tuple[Literal["stored", "marked"], int]


async def _write(session: AsyncSession, items: list[Received | int], now: datetime) -> set[Key]:
    """Stores (Received) and marks after handlers (update ids) waiting together go in one
    transaction: under load, a batch fetched shares its commit with the marks of those just
    answered. Their answers are kept apart: a redelivery stored in the batch that marks its
    original is not new."""
    received = [item for item in items if isinstance(item, Received)]
    finished = [item for item in items if isinstance(item, int)]
    new: set[Key] = set()
    if received:
        stored = await store_updates(session, received=received, now=now)
        new |= {("stored", uid) for uid in stored}
    if finished:
        marked = await finish_updates(session, update_ids=finished, now=now)
        new |= {("marked", uid) for uid in marked}
    return new


def _key(item: Received | int) -> Key:
    return ("marked", item) if isinstance(item, int) else ("stored", item.update_id)


class Inbox:
    def __init__(
        self, transaction: Transaction, now: Callable[[], datetime], *, hold: Path | None = None
    ) -> None:
        self._transaction = transaction
        self._writes: GroupWrite[Received | int, Key] = GroupWrite(transaction, now, _write, _key)
        self._refused: Counter[int] = Counter()
        self._hold = hold

    async def store(self, received: Sequence[Received]) -> set[int]:
        """Store the updates before they are acknowledged; returns the ids stored now (the
        others were stored before: redeliveries). Raises when the store fails: then nothing
        may be acknowledged."""
        return {uid for _, uid in await self._writes(received)}

    def refuse(self, update_ids: Collection[int]) -> None:
        """Redeliveries that polling hands to PTB anyway (its offset must move past them):
        as many copies of each id as are given here are dropped when they reach the update
        processor. (Which copy of an id is handled does not matter: they are the same.)"""
        self._refused.update(update_ids)

    def take_refused(self, update_id: int) -> bool:
        if self._refused[update_id] > 0:
            self._refused[update_id] -= 1
            if not self._refused[update_id]:
                del self._refused[update_id]
            return True
        return False

    async def finish(self, update_id: int) -> bool:
        """Mark done after the handler (it wrote nothing, or failed). False: it was done."""
        return ("marked", update_id) in await self._writes([update_id])

    async def unfinished(self) -> list[tuple[int, dict[str, Any]]]:
        async with self._transaction() as session:
            return await unfinished_updates(session)

    async def handled(self, update_id: int, work: Awaitable[Any]) -> None:
        """Run `work` (the Application handling the update) as the handling of `update_id`,
        and mark it done afterwards if no transaction of the handler did."""
        handling = Handling(update_id, asyncio.current_task())
        token = CURRENT.set(handling)
        try:
            if self._hold is not None:
                await self._hold_here(update_id)
            await work
        finally:
            CURRENT.reset(token)
        if handling.state == "done":
            return
        handling.state = "done"
        try:
            await self.finish(update_id)
        except Exception as error:  # its text may quote a statement; never the update
            log.warning(
                "could not mark update %s done (%s); it is handled again at the next start",
                update_id,
                type(error).__name__,
            )

    async def _hold_here(self, update_id: int) -> None:
        """TEST ONLY (HOLD_ENV): say which update is held, then wait to be killed."""
        assert self._hold is not None
        with self._hold.open("a", encoding="utf-8") as out:
            out.write(f"{update_id}\n")
        await asyncio.Event().wait()
