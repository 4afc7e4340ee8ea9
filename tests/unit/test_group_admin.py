"""Who may manage a group's challenge and who may join it, asked of Telegram and remembered
for a minute per chat on the injected clock; Telegram's errors answer "no" and are logged by
chat, never by person."""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from telegram import (
    Chat,
    ChatMember,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    Message,
    User,
)
from telegram.error import BadRequest

from walkbot.bot import group_admin
from walkbot.context import WalkbotContext

GROUP = -100123
ANN, BOB, HIDDEN = User(1, "Ann", False), User(2, "Bob", False), User(3, "Hidden", False)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    at: datetime = T0

    def now(self) -> datetime:
        return self.at


@dataclass
class Telegram:
    """getChatAdministrators and getChatMember, counting the calls made."""

    admins: list[ChatMember] = field(default_factory=lambda: [ChatMemberOwner(ANN, False)])
    members: dict[int, ChatMember] = field(default_factory=dict)
    failing: bool = False
    admin_calls: int = 0
    member_calls: int = 0

    async def get_chat_administrators(self, chat_id: int) -> list[ChatMember]:
        self.admin_calls += 1
        if self.failing:
            raise BadRequest("Chat not found")
        return self.admins

    async def get_chat_member(self, chat_id: int, user_id: int) -> ChatMember:
        self.member_calls += 1
        if self.failing or user_id not in self.members:
            raise BadRequest("Member not found")
        return self.members[user_id]


def _context(telegram: Telegram, clock: Clock) -> WalkbotContext:
    context = SimpleNamespace(
        application=SimpleNamespace(bot_data={}),
        runtime=SimpleNamespace(clock=clock),
        bot=telegram,
    )
    return cast(WalkbotContext, context)


def _restricted(user: User, *, is_member: bool) -> ChatMemberRestricted:
    rights: dict[str, Any] = {
        name: False
        for name in inspect.signature(ChatMemberRestricted).parameters
        if name.startswith("can_")
    }
    return ChatMemberRestricted(user, is_member, until_date=T0, **rights)


async def test_the_admin_list_is_asked_once_a_minute_per_chat() -> None:
    telegram, clock = Telegram(), Clock()
    context = _context(telegram, clock)
    telegram.members[BOB.id] = ChatMemberMember(BOB)

    assert await group_admin.is_admin(context, GROUP, ANN.id)
    assert not await group_admin.is_admin(context, GROUP, BOB.id)
    clock.at += timedelta(seconds=59)
    assert await group_admin.is_admin(context, GROUP, ANN.id)
    assert not await group_admin.is_admin(context, GROUP, BOB.id)
    assert (telegram.admin_calls, telegram.member_calls) == (1, 1)

    # Bob is promoted: within a minute of the last look, walkbot asks again.
    telegram.admins = [ChatMemberOwner(ANN, False), ChatMemberOwner(BOB, False)]
    clock.at += timedelta(seconds=2)
    assert await group_admin.is_admin(context, GROUP, BOB.id)
    assert telegram.admin_calls == 2

    # Another chat has a list of its own.
    assert await group_admin.is_admin(context, GROUP - 1, ANN.id)
    assert telegram.admin_calls == 3


async def test_an_admin_missing_from_the_list_is_found_through_get_chat_member() -> None:
    """An anonymous admin's taps carry their real id, which the list may leave out."""
    telegram = Telegram()
    telegram.members[HIDDEN.id] = ChatMemberOwner(HIDDEN, True)
    context = _context(telegram, Clock())
    assert await group_admin.is_admin(context, GROUP, HIDDEN.id)
    assert await group_admin.is_admin(context, GROUP, HIDDEN.id)
    assert telegram.member_calls == 1


async def test_forget_asks_again() -> None:
    telegram = Telegram()
    context = _context(telegram, Clock())
    assert await group_admin.is_admin(context, GROUP, ANN.id)
    group_admin.forget(context, GROUP)
    telegram.admins = []
    telegram.members[ANN.id] = ChatMemberLeft(ANN)
    assert not await group_admin.is_admin(context, GROUP, ANN.id)
    assert telegram.admin_calls == 2


@pytest.mark.parametrize(
    ("member", "inside"),
    [
        (ChatMemberMember(BOB), True),
        (ChatMemberOwner(BOB, False), True),
        (ChatMemberLeft(BOB), False),
        (_restricted(BOB, is_member=True), True),  # muted, still in the group
        (_restricted(BOB, is_member=False), False),  # restricted, then left
    ],
)
async def test_who_counts_as_in_the_group(member: ChatMember, inside: bool) -> None:
    telegram = Telegram()
    telegram.members[BOB.id] = member
    context = _context(telegram, Clock())
    assert await group_admin.is_member(context, GROUP, BOB.id) is inside
    assert await group_admin.is_admin(context, GROUP, BOB.id) is (member.status == "creator")
    assert telegram.member_calls == 1  # one question, remembered


async def test_telegram_errors_answer_no_and_log_the_chat_not_the_person(
    caplog: pytest.LogCaptureFixture,
) -> None:
    telegram = Telegram(failing=True)
    context = _context(telegram, Clock())
    with caplog.at_level(logging.INFO, logger=group_admin.__name__):
        assert not await group_admin.is_admin(context, GROUP, 987654321)
        assert not await group_admin.is_member(context, GROUP, 987654321)
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert str(GROUP) in logged and "987654321" not in logged


def _message(chat: Chat, sender_chat: Chat | None) -> Message:
    return Message(1, T0, chat, from_user=None, sender_chat=sender_chat)


def test_an_anonymous_admin_writes_as_the_group_itself() -> None:
    group = Chat(GROUP, "supergroup", title="Club")
    channel = Chat(-100999, "channel", title="News")
    assert group_admin.anonymous_admin(_message(group, group))
    assert not group_admin.anonymous_admin(_message(group, channel))  # a linked channel's post
    assert not group_admin.anonymous_admin(_message(group, None))
    assert not group_admin.anonymous_admin(None)
