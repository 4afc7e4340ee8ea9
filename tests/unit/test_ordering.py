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


def group_update(update_id: int, chat_id: int, user_id: int) -> Update:
    chat = Chat(chat_id, Chat.SUPERGROUP)
    user = User(user_id, "Member", is_bot=False)
    return Update(update_id, message=Message(update_id, None, chat, from_user=user))  # type: ignore[arg-type]


async def test_a_flood_from_one_person_is_cut_with_one_notice_and_others_go_on() -> None:
    processor = PerChatUpdateProcessor(max_waiting_per_chat=3)
    told: list[int] = []

    async def notice(chat_id: int) -> None:
        told.append(chat_id)

    processor.flood_notice = notice
    handled: list[str] = []

    async def handle(name: str, seconds: float = 1.0) -> None:
        await asyncio.sleep(seconds)  # each of the flood's updates takes a while
        handled.append(name)

    flood = [processor.process_update(update(n, 10), handle(f"a{n}")) for n in range(10)]
    other = processor.process_update(update(99, 20), handle("b", 0.5))
    await asyncio.gather(*flood, other)
    # Three held or waiting for chat 10 at once; the seven beyond them were dropped unrun.
    assert [name for name in handled if name.startswith("a")] == ["a0", "a1", "a2"]
    assert processor.dropped == 7 and told == [10]
    assert handled[0] == "b"  # half a second in: the flood held nobody else up
    assert processor.chats_in_flight == 0

    # The flood over, the next update from that person is handled, and a new flood is told anew.
    await processor.process_update(update(11, 10), handle("a11"))
    await asyncio.gather(
        *(processor.process_update(update(20 + n, 10), handle("x")) for n in range(4))
    )
    assert "a11" in handled and told == [10, 10]


async def test_a_group_is_never_cut_short() -> None:
    processor = PerChatUpdateProcessor(max_waiting_per_chat=3)
    handled: list[int] = []

    async def handle(user_id: int) -> None:
        await asyncio.sleep(0.1)
        handled.append(user_id)

    await asyncio.gather(
        *(processor.process_update(group_update(n, -100, n), handle(n)) for n in range(1, 11))
    )
    assert handled == list(range(1, 11)) and processor.dropped == 0
