"""Each update is handled once: an id recorded before is a duplicate, whether it comes again
later or twice at once, and ids arriving while a write is under way share the next one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.bot.dedupe import UpdateLedger
from walkbot.services.updates import prune_updates, record_updates
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import ProcessedUpdate

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


class CountingLedger:
    """An UpdateLedger over the test database that counts its transactions; `fail` makes the
    next one raise."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self.transactions = 0
        self.fail: Exception | None = None
        self.ledger = UpdateLedger(self.transaction, lambda: NOW)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        self.transactions += 1
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        async with transaction(self.sessions) as session:
            yield session


async def stored(sessions: SessionFactory) -> int:
    async with transaction(sessions) as session:
        return (await session.exec(select(func.count()).select_from(ProcessedUpdate))).one()


async def test_record_updates_returns_only_ids_not_seen_before(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        assert await record_updates(session, update_ids=[5, 6], now=NOW) == {5, 6}
    async with transaction(sessions) as session:
        assert await record_updates(session, update_ids=[6, 7, 7], now=NOW) == {7}
        assert await record_updates(session, update_ids=[], now=NOW) == set()
    assert await stored(sessions) == 3


async def test_a_duplicate_is_refused_later_and_within_one_batch(sessions: SessionFactory) -> None:
    counting = CountingLedger(sessions)
    first = counting.ledger.first_time
    # The first claim writes alone; the four that arrive meanwhile go in together, the
    # repeated 2 among them.
    results = await asyncio.gather(first(1), first(2), first(2), first(3), first(1))
    assert list(results) == [True, True, False, True, False]
    assert counting.transactions == 2
    assert await first(3) is False  # delivered again later
    assert await first(4) is True
    assert await stored(sessions) == 4


async def test_a_failed_write_fails_its_batch_and_the_next_write_goes_ahead(
    sessions: SessionFactory,
) -> None:
    counting = CountingLedger(sessions)
    counting.fail = RuntimeError("database gone")
    results = await asyncio.gather(
        counting.ledger.first_time(1), counting.ledger.first_time(2), return_exceptions=True
    )
    # The first write (id 1) failed; id 2 waited for it and then had a write of its own.
    assert isinstance(results[0], RuntimeError) and results[1] is True
    assert await counting.ledger.first_time(1) is True  # never recorded, so not a duplicate
    assert await stored(sessions) == 2


async def test_a_claim_cancelled_while_waiting_is_not_written(sessions: SessionFactory) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    plain = CountingLedger(sessions)

    @asynccontextmanager
    async def slow() -> AsyncIterator[AsyncSession]:
        started.set()
        await release.wait()
        async with plain.transaction() as session:
            yield session

    ledger = UpdateLedger(slow, lambda: NOW)
    writing = asyncio.create_task(ledger.first_time(1))
    await started.wait()
    waiting = asyncio.create_task(ledger.first_time(2))
    await asyncio.sleep(0)  # queued behind the write under way
    waiting.cancel()
    release.set()
    assert await writing is True
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await stored(sessions) == 1


async def test_prune_forgets_old_ids_only(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await record_updates(session, update_ids=[1], now=NOW - timedelta(days=3))
        await record_updates(session, update_ids=[2], now=NOW)
    async with transaction(sessions) as session:
        await prune_updates(session, now=NOW)
    async with transaction(sessions) as session:
        assert await record_updates(session, update_ids=[1, 2], now=NOW) == {1}
