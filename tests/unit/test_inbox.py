"""The inbox (walkbot/inbox.py, services/updates.py): an update is stored once by its id, marked
done in the transaction of its handler's first write (or right after a handler that writes
nothing), and what was stored and not done is what a restart handles again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.fakes import RecordingNotifier
from walkbot.inbox import AlreadyHandled, Inbox
from walkbot.runtime import Runtime
from walkbot.services.updates import (
    Received,
    erase_person_updates,
    finish_updates,
    prune_updates,
    store_updates,
    unfinished_updates,
)
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import GroupChat, InboxUpdate

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
ANN, BOB = 7_100_000_001, 7_100_000_002


def update(update_id: int, user_id: int | None = ANN, text: str = "/help") -> Received:
    return Received(update_id, user_id, {"update_id": update_id, "message": {"text": text}})


class FixedClock:
    def now(self) -> datetime:
        return NOW


async def rows(sessions: SessionFactory) -> dict[int, InboxUpdate]:
    async with transaction(sessions) as session:
        found = (await session.exec(select(InboxUpdate))).all()
    return {row.update_id: row for row in found}


class Counting:
    """Transactions over the test database, counted; `fail` makes the next one raise."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self.transactions = 0
        self.fail: Exception | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        self.transactions += 1
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        async with transaction(self.sessions) as session:
            yield session


def runtime(sessions: SessionFactory, inbox: Inbox) -> Runtime:
    settings = Settings(telegram_bot_token="123456:" + "a" * 35)
    return Runtime(settings, sessions, FixedClock(), RecordingNotifier(), inbox=inbox)


# --- the statements -----------------------------------------------------------------------------


async def test_store_keeps_the_first_of_each_id_and_says_which_were_new(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        assert await store_updates(session, received=[update(5), update(6)], now=NOW) == {5, 6}
    async with transaction(sessions) as session:
        again = [update(6, text="changed"), update(7), update(7, user_id=BOB)]
        assert await store_updates(session, received=again, now=NOW) == {7}
        assert await store_updates(session, received=[], now=NOW) == set()
    stored = await rows(sessions)
    assert stored[6].body == {"update_id": 6, "message": {"text": "/help"}}  # not overwritten
    assert stored[7].user_id == ANN and stored[7].received_at == NOW
    assert all(row.done_at is None for row in stored.values())


async def test_finish_marks_done_once_clears_the_body_and_records_an_unknown_id(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        await store_updates(session, received=[update(1), update(2)], now=NOW)
    later = NOW + timedelta(seconds=3)
    async with transaction(sessions) as session:
        assert await finish_updates(session, update_ids=[1, 9], now=later) == {1, 9}
    async with transaction(sessions) as session:
        assert await finish_updates(session, update_ids=[1, 2, 9], now=later) == {2}
    stored = await rows(sessions)
    assert stored[1].done_at == later and stored[1].body is None
    assert stored[1].received_at == NOW and stored[1].user_id == ANN
    assert stored[9].done_at == later  # handed over some other way: now known as handled
    async with transaction(sessions) as session:
        assert await store_updates(session, received=[update(9)], now=later) == set()


async def test_unfinished_is_what_is_stored_and_not_done_oldest_first(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        await store_updates(session, received=[update(12), update(10), update(11)], now=NOW)
        await finish_updates(session, update_ids=[11], now=NOW)
    async with transaction(sessions) as session:
        pending = await unfinished_updates(session)
    assert [uid for uid, _ in pending] == [10, 12]
    assert pending[0][1] == {"update_id": 10, "message": {"text": "/help"}}


async def test_prune_forgets_ids_older_than_two_days_only(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await store_updates(session, received=[update(1)], now=NOW - timedelta(days=3))
        await store_updates(session, received=[update(2)], now=NOW - timedelta(hours=47))
    async with transaction(sessions) as session:
        await prune_updates(session, now=NOW)
    assert set(await rows(sessions)) == {2}


async def test_erasing_a_person_keeps_bare_ids_done_and_leaves_others(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        await store_updates(session, received=[update(1), update(2), update(3, BOB)], now=NOW)
        await finish_updates(session, update_ids=[1], now=NOW - timedelta(seconds=1))
    async with transaction(sessions) as session:
        await erase_person_updates(session, user_id=ANN, now=NOW)
    stored = await rows(sessions)
    assert [(r.user_id, r.body) for r in (stored[1], stored[2])] == [(None, None)] * 2
    assert stored[1].done_at == NOW - timedelta(seconds=1) and stored[2].done_at == NOW
    assert stored[3].user_id == BOB and stored[3].body is not None and stored[3].done_at is None
    async with transaction(sessions) as session:
        assert await store_updates(session, received=[update(2)], now=NOW) == set()


# --- group commits ----------------------------------------------------------------------------


async def test_stores_arriving_together_share_a_commit_and_a_repeat_is_not_new(
    sessions: SessionFactory,
) -> None:
    counting = Counting(sessions)
    inbox = Inbox(counting.transaction, lambda: NOW)
    # The first store writes alone; the four that arrive meanwhile go in together, the
    # repeated 2 among them (a webhook retry racing its original).
    results = await asyncio.gather(
        inbox.store([update(1)]),
        inbox.store([update(2)]),
        inbox.store([update(2)]),
        inbox.store([update(3), update(4)]),
        inbox.store([update(1)]),
    )
    assert list(results) == [{1}, {2}, set(), {3, 4}, set()]
    assert counting.transactions == 2
    assert await inbox.store([update(3)]) == set()


async def test_a_store_and_a_mark_waiting_together_share_a_commit(
    sessions: SessionFactory,
) -> None:
    counting = Counting(sessions)
    inbox = Inbox(counting.transaction, lambda: NOW)
    stored, also_stored, marked = await asyncio.gather(
        inbox.store([update(1)]), inbox.store([update(2)]), inbox.finish(1)
    )
    assert (stored, also_stored, marked) == ({1}, {2}, True)
    assert counting.transactions == 2  # the first alone; the second store with the mark
    assert await inbox.finish(1) is False
    assert [uid for uid, _ in await inbox.unfinished()] == [2]


async def test_a_redelivery_stored_with_the_mark_of_its_original_is_not_new(
    sessions: SessionFactory,
) -> None:
    counting = Counting(sessions)
    inbox = Inbox(counting.transaction, lambda: NOW)
    await inbox.store([update(1)])
    _, redelivered, marked = await asyncio.gather(
        inbox.store([update(5)]), inbox.store([update(1)]), inbox.finish(1)
    )
    assert (redelivered, marked) == (set(), True)  # one batch: the copy of 1 and its mark


async def test_a_failed_store_fails_its_batch_and_stores_nothing(sessions: SessionFactory) -> None:
    counting = Counting(sessions)
    inbox = Inbox(counting.transaction, lambda: NOW)
    counting.fail = RuntimeError("database gone")
    results = await asyncio.gather(
        inbox.store([update(1)]), inbox.store([update(2)]), return_exceptions=True
    )
    # The first write (id 1) failed; id 2 waited for it and then had a write of its own.
    assert isinstance(results[0], RuntimeError) and results[1] == {2}
    assert await inbox.store([update(1)]) == {1}  # never stored, so not a redelivery


async def test_a_store_cancelled_while_waiting_is_not_written(sessions: SessionFactory) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    @asynccontextmanager
    async def slow() -> AsyncIterator[AsyncSession]:
        started.set()
        await release.wait()
        async with transaction(sessions) as session:
            yield session

    inbox = Inbox(slow, lambda: NOW)
    writing = asyncio.create_task(inbox.store([update(1)]))
    await started.wait()
    waiting = asyncio.create_task(inbox.store([update(2)]))
    await asyncio.sleep(0)  # queued behind the write under way
    waiting.cancel()
    release.set()
    assert await writing == {1}
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert set(await rows(sessions)) == {1}


# --- handling: done with the handler's first commit --------------------------------------------


async def rest(session: AsyncSession, n: int) -> None:
    """Some write of a handler's (a group's row: any row will do)."""
    session.add(GroupChat(id=-(400_000_000 + n), created_at=NOW, updated_at=NOW))


async def rests(sessions: SessionFactory) -> int:
    async with transaction(sessions) as session:
        return len((await session.exec(select(GroupChat))).all())


async def test_the_first_transaction_marks_the_update_done_and_later_ones_do_not(
    sessions: SessionFactory,
) -> None:
    counting = Counting(sessions)
    inbox = Inbox(counting.transaction, lambda: NOW)
    rt = runtime(sessions, inbox)
    await inbox.store([update(1)])
    seen: list[datetime | None] = []

    async def handler() -> None:
        async with rt.transaction() as session:
            await rest(session, 0)
        seen.append((await rows(sessions))[1].done_at)  # done with that commit
        async with rt.transaction() as session:
            await rest(session, 1)

    before = counting.transactions
    await inbox.handled(1, handler())
    assert seen == [NOW] and await rests(sessions) == 2
    assert counting.transactions == before  # no mark of its own afterwards
    assert (await rows(sessions))[1].body is None


async def test_a_handled_update_stops_the_handler_and_its_write_is_rolled_back(
    sessions: SessionFactory,
) -> None:
    inbox = Inbox(Counting(sessions).transaction, lambda: NOW)
    rt = runtime(sessions, inbox)
    await inbox.store([update(1)])
    async with transaction(sessions) as session:
        await finish_updates(session, update_ids=[1], now=NOW)  # another process did it
    stopped: list[BaseException] = []

    async def handler() -> None:
        try:
            async with rt.transaction() as session:
                await rest(session, 0)
                await session.flush()
        except AlreadyHandled as error:
            stopped.append(error)

    await inbox.handled(1, handler())
    assert len(stopped) == 1 and await rests(sessions) == 0


async def test_a_rolled_back_first_transaction_leaves_the_claim_to_the_next(
    sessions: SessionFactory,
) -> None:
    inbox = Inbox(Counting(sessions).transaction, lambda: NOW)
    rt = runtime(sessions, inbox)
    await inbox.store([update(1)])
    done_during: list[datetime | None] = []

    async def handler() -> None:
        with pytest.raises(RuntimeError):
            async with rt.transaction():
                raise RuntimeError("the handler's own failure")
        done_during.append((await rows(sessions))[1].done_at)
        async with rt.transaction() as session:
            await rest(session, 0)
        done_during.append((await rows(sessions))[1].done_at)

    await inbox.handled(1, handler())
    assert done_during == [None, NOW]


async def test_a_handler_that_writes_nothing_is_marked_right_after(
    sessions: SessionFactory,
) -> None:
    inbox = Inbox(Counting(sessions).transaction, lambda: NOW)
    await inbox.store([update(1), update(2)])
    during: list[datetime | None] = []

    async def handler() -> None:
        during.append((await rows(sessions))[1].done_at)

    await inbox.handled(1, handler())
    stored = await rows(sessions)
    assert during == [None] and stored[1].done_at == NOW and stored[2].done_at is None
    async with transaction(sessions) as session:
        assert [uid for uid, _ in await unfinished_updates(session)] == [2]


async def test_a_task_or_job_started_by_the_handler_does_not_take_its_claim(
    sessions: SessionFactory,
) -> None:
    inbox = Inbox(Counting(sessions).transaction, lambda: NOW)
    rt = runtime(sessions, inbox)
    await inbox.store([update(1)])
    during: list[datetime | None] = []

    async def job() -> None:  # inherits the handler's context, as a scheduled job can
        async with rt.transaction() as session:
            await rest(session, 0)
        during.append((await rows(sessions))[1].done_at)

    async def handler() -> None:
        await asyncio.create_task(job())

    await inbox.handled(1, handler())
    assert during == [None] and (await rows(sessions))[1].done_at == NOW


async def test_a_transaction_outside_any_handler_marks_nothing(sessions: SessionFactory) -> None:
    inbox = Inbox(Counting(sessions).transaction, lambda: NOW)
    rt = runtime(sessions, inbox)
    await inbox.store([update(1)])
    async with rt.transaction():
        pass
    assert (await rows(sessions))[1].done_at is None


async def test_a_mark_that_fails_after_the_handler_leaves_it_for_the_next_start(
    sessions: SessionFactory,
) -> None:
    counting = Counting(sessions)
    inbox = Inbox(counting.transaction, lambda: NOW)
    await inbox.store([update(1)])

    async def handler() -> None:
        counting.fail = RuntimeError("database gone")

    await inbox.handled(1, handler())  # logged, not raised
    assert [uid for uid, _ in await inbox.unfinished()] == [1]
