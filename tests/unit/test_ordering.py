"""Updates from different chats overlap; updates from one chat never do, and keep their order.

The handlers' sleeps run on looptime's virtual clock: which one ends first is decided by their
lengths alone, never by how busy the machine is."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Chat, Message, Update, User

from walkbot.bot.ordering import PerChatUpdateProcessor

pytestmark = pytest.mark.looptime


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    user = User(chat_id, "Someone", is_bot=False)
    return Update(update_id, message=Message(update_id, None, chat, from_user=user))  # type: ignore[arg-type]


async def test_one_chat_in_order_other_chats_alongside() -> None:
    processor = PerChatUpdateProcessor()
    log: list[str] = []

    async def handle(name: str, delay: float) -> None:
        log.append(f"{name} start")
        await asyncio.sleep(delay)
        log.append(f"{name} end")

    await asyncio.gather(
        processor.process_update(update(1, 10), handle("a1", 0.2)),
        processor.process_update(update(2, 10), handle("a2", 0.0)),
        processor.process_update(update(3, 20), handle("b1", 0.05)),
    )
    # b1 (another chat) ran while a1 was still going; a2 waited for a1 and came after it.
    assert log.index("b1 end") < log.index("a1 end")
    assert log.index("a1 end") < log.index("a2 start")
    assert processor.chats_in_flight == 0  # locks are not kept for idle chats


async def test_a_failing_update_releases_its_chat() -> None:
    processor = PerChatUpdateProcessor()

    async def boom() -> None:
        raise RuntimeError("handler bug")

    async def fine() -> str:
        return "ok"

    results = await asyncio.gather(
        processor.process_update(update(1, 10), boom()),
        processor.process_update(update(2, 10), fine()),
        return_exceptions=True,
    )
    assert isinstance(results[0], RuntimeError) and results[1] is None
    assert processor.chats_in_flight == 0


async def test_updates_without_a_chat_are_not_serialised() -> None:
    processor = PerChatUpdateProcessor()
    order: list[str] = []

    async def handle(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        order.append(name)

    await asyncio.gather(
        processor.process_update(object(), handle("slow", 0.1)),
        processor.process_update(object(), handle("fast", 0.0)),
    )
    assert order == ["fast", "slow"]
