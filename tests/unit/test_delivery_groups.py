"""walkbot.delivery for groups: a forum topic, a group that became a supergroup (ChatMigrated:
sent once more at the new id, which the caller learns), and editing a board in place ("not
modified" is done; a message Telegram lost is GONE; 429s, 5xx and 403 as for sends).

A stub Bot raises what Telegram would answer, in order; on looptime's loop every wait is
virtual, so the backoffs and retry_afters cost no real time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from telegram import Bot, Chat, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from walkbot.bot.notifier import outcome_of
from walkbot.delivery import GONE, Result, edit_text, send_message

pytestmark = pytest.mark.looptime

GROUP, SUPERGROUP = -4_001, -1_000_000_004_001


def message(chat_id: int, message_id: int = 7) -> Message:
    return Message(message_id, None, Chat(chat_id, Chat.SUPERGROUP))  # type: ignore[arg-type]


@dataclass
class StubBot:
    """Answers each call with the next of `answers` (an exception is raised), recording the
    call's keyword arguments and the loop time it came at."""

    answers: list[Any]
    calls: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)

    def _answer(self, method: str, kwargs: dict[str, Any]) -> Any:
        self.calls.append((method, dict(kwargs), asyncio.get_running_loop().time()))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, Callable):  # type: ignore[arg-type]
            return answer(kwargs)
        return answer

    async def send_message(self, **kwargs: Any) -> Any:
        return self._answer("send_message", kwargs)

    async def edit_message_text(self, **kwargs: Any) -> Any:
        return self._answer("edit_message_text", kwargs)

    def chats(self) -> list[int]:
        return [kwargs["chat_id"] for _, kwargs, _ in self.calls]


def as_bot(stub: StubBot) -> Bot:
    return cast(Bot, stub)


def sent_to(kwargs: dict[str, Any]) -> Message:
    return message(kwargs["chat_id"])


async def test_a_post_goes_to_its_forum_topic_silently() -> None:
    stub = StubBot([sent_to])
    delivery = await send_message(as_bot(stub), GROUP, "board", silent=True, thread_id=42)
    assert delivery.result is Result.SENT and delivery.migrated_to is None
    [(_, kwargs, _)] = stub.calls
    assert (kwargs["message_thread_id"], kwargs["disable_notification"]) == (42, True)


async def test_a_migrated_group_gets_the_message_at_its_new_id_once() -> None:
    stub = StubBot([ChatMigrated(SUPERGROUP), sent_to])
    delivery = await send_message(as_bot(stub), GROUP, "board")
    assert delivery.result is Result.SENT
    assert delivery.migrated_to == SUPERGROUP
    assert delivery.message is not None and delivery.message.chat_id == SUPERGROUP
    assert stub.chats() == [GROUP, SUPERGROUP]
    assert outcome_of(delivery).migrated_to == SUPERGROUP


async def test_a_second_migration_in_one_send_gives_up_keeping_the_first_id() -> None:
    stub = StubBot([ChatMigrated(SUPERGROUP), ChatMigrated(SUPERGROUP - 1)])
    delivery = await send_message(as_bot(stub), GROUP, "board")
    assert delivery.result is Result.FAILED and delivery.migrated_to == SUPERGROUP
    assert len(stub.calls) == 2


async def test_a_migrated_group_that_removed_the_bot_is_blocked_at_its_new_id() -> None:
    stub = StubBot([ChatMigrated(SUPERGROUP), Forbidden("bot was kicked from the supergroup")])
    delivery = await send_message(as_bot(stub), GROUP, "board")
    assert delivery.result is Result.BLOCKED and delivery.migrated_to == SUPERGROUP
    assert outcome_of(delivery).blocked


async def test_an_edit_changes_the_text_and_markup_in_place() -> None:
    stub = StubBot([sent_to])
    delivery = await edit_text(as_bot(stub), GROUP, 7, "new board", None)
    assert delivery.result is Result.SENT
    [(method, kwargs, _)] = stub.calls
    assert method == "edit_message_text"
    assert (kwargs["chat_id"], kwargs["message_id"], kwargs["text"]) == (GROUP, 7, "new board")


async def test_an_edit_to_the_same_text_is_not_an_error() -> None:
    stub = StubBot(
        [BadRequest("Message is not modified: specified new message content and reply markup")]
    )
    delivery = await edit_text(as_bot(stub), GROUP, 7, "same board", None)
    assert delivery.result is Result.SENT
    assert len(stub.calls) == 1


@pytest.mark.parametrize(
    "refusal", ["Message to edit not found", "Message can't be edited", "Message_id_invalid"]
)
async def test_an_edit_of_a_lost_message_is_gone(refusal: str) -> None:
    stub = StubBot([BadRequest(refusal)])
    delivery = await edit_text(as_bot(stub), GROUP, 7, "board", None)
    assert (delivery.result, delivery.detail) == (Result.FAILED, GONE)
    assert outcome_of(delivery).detail == GONE


async def test_an_edit_waits_out_flood_control_and_backs_off_server_errors() -> None:
    stub = StubBot([RetryAfter(9), NetworkError("Bad Gateway"), sent_to])
    start = asyncio.get_running_loop().time()
    delivery = await edit_text(as_bot(stub), GROUP, 7, "board", None)
    assert delivery.result is Result.SENT
    waits = [round(at - start, 3) for _, _, at in stub.calls]
    assert waits == [0.0, 9.0, 9.5]  # retry_after 9 s, then the first backoff


async def test_an_edit_in_a_group_that_removed_the_bot_is_blocked() -> None:
    stub = StubBot([Forbidden("bot was kicked from the group chat")])
    assert (await edit_text(as_bot(stub), GROUP, 7, "board", None)).result is Result.BLOCKED


async def test_an_edit_follows_a_migration_with_the_same_message() -> None:
    stub = StubBot([ChatMigrated(SUPERGROUP), sent_to])
    delivery = await edit_text(as_bot(stub), GROUP, 7, "board", None)
    assert (delivery.result, delivery.migrated_to) == (Result.SENT, SUPERGROUP)
    assert [(kwargs["chat_id"], kwargs["message_id"]) for _, kwargs, _ in stub.calls] == [
        (GROUP, 7),
        (SUPERGROUP, 7),
    ]
