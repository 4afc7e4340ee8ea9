"""The bound on running updates counts updates that run, not updates waiting for their chat's
turn: one person with many updates queued cannot take every place."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Chat, Message, Update, User

from walkbot.bot.ordering import PerChatUpdateProcessor


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    user = User(chat_id, "Someone", is_bot=False)
    return Update(update_id, message=Message(update_id, None, chat, from_user=user))  # type: ignore[arg-type]


async def settle() -> None:
    """Let every task that can run, run (a few loop iterations; no clock involved)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_queued_updates_of_one_chat_leave_the_other_places_free() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=2)
    release = asyncio.Event()
    started: list[str] = []

    async def handle(name: str, *, hold: bool = False) -> None:
        started.append(name)
        if hold:
            await release.wait()

    # Bob's first update runs and holds a place; five more of his wait for his chat's turn.
    bob = [
        asyncio.create_task(processor.process_update(update(n, 10), handle(f"bob{n}", hold=True)))
        for n in range(1, 7)
    ]
    await settle()
    alice = asyncio.create_task(processor.process_update(update(7, 20), handle("alice")))
    await settle()
    assert started == ["bob1", "alice"]  # Alice had the second place at once
    assert alice.done()

    release.set()
    await asyncio.gather(*bob)
    assert started == ["bob1", "alice", "bob2", "bob3", "bob4", "bob5", "bob6"]
    assert processor.chats_in_flight == 0


async def test_no_more_than_the_bound_run_at_once() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=3)
    release = asyncio.Event()
    running = peak = 0

    async def handle() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    tasks = [
        asyncio.create_task(processor.process_update(update(n, 100 + n), handle()))
        for n in range(8)
    ]
    await settle()
    assert (running, peak) == (3, 3)  # eight chats, three places
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 3


def test_a_bound_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        PerChatUpdateProcessor(max_concurrent_updates=0)
