"""The one guard for "who is this and are they set up": who reaches a handler, what a stranger
or someone mid-onboarding is told instead, and that the check rides in the handler's own
transaction (no extra one per update)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import CallbackQuery, Chat, Message, Update
from telegram import User as TelegramUser

from tests.fakes import RecordingNotifier
from walkbot.bot import texts
from walkbot.bot.guard import (
    Caller,
    Member,
    Tap,
    for_known_person,
    for_person,
    for_set_up_person,
    on_button,
)
from walkbot.clock import ShiftedClock
from walkbot.context import WalkbotContext
from walkbot.runtime import Runtime
from walkbot.sandbox import TEST_TOKEN
from walkbot.services.users import Person, create_user, get_user, readiness
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import User

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = 7_000_000_501


class CountingRuntime(Runtime):
    """Counts the transactions handlers open."""

    opened = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        self.opened += 1
        async with super().transaction() as session:
            yield session


@dataclass
class FakeBot:
    sent: list[tuple[int, str]] = field(default_factory=list)

    async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
        self.sent.append((chat_id, text))


@dataclass
class FakeContext:
    runtime: Runtime


@pytest.fixture
def runtime(sessions: SessionFactory, database_url: str) -> CountingRuntime:
    settings = Settings(telegram_bot_token=TEST_TOKEN, database_url=database_url, _env_file=None)
    return CountingRuntime(
        settings=settings,
        sessions=sessions,
        clock=ShiftedClock(NOW),
        notifier=RecordingNotifier(),
    )


async def seed(sessions: SessionFactory, *, onboarded: bool) -> None:
    async with transaction(sessions) as session:
        user = await create_user(session, person=Person(ALICE, "Alice"), now=NOW)
        if onboarded:
            user.onboarding_step, user.timezone = None, "Europe/London"


def command(bot: FakeBot, *, from_bot: bool = False) -> Update:
    chat = Chat(ALICE, Chat.PRIVATE)
    chat.set_bot(cast(Any, bot))
    sender = TelegramUser(ALICE, "Alice", is_bot=from_bot)
    return Update(1, message=Message(1, NOW, chat, from_user=sender, text="/level"))


def button(data: str | None) -> Update:
    sender = TelegramUser(ALICE, "Alice", is_bot=False)
    return Update(1, callback_query=CallbackQuery("q1", sender, "chat-instance", data=data))


def context_for(runtime: Runtime) -> WalkbotContext:
    return cast(WalkbotContext, FakeContext(runtime))


class Seen:
    def __init__(self) -> None:
        self.users: list[int] = []
        self.after_transaction = False


def set_up_handler(seen: Seen) -> Any:
    @for_set_up_person
    async def handler(update: Update, context: WalkbotContext, caller: Member) -> None:
        async with caller.transaction() as (_, user):
            seen.users.append(user.telegram_id)
        seen.after_transaction = True

    return handler


def known_handler(seen: Seen) -> Any:
    @for_known_person
    async def handler(update: Update, context: WalkbotContext, caller: Member) -> None:
        async with caller.transaction() as (_, user):
            seen.users.append(user.telegram_id)
        seen.after_transaction = True

    return handler


async def test_readiness_reads_how_far_someone_has_come(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        assert (await readiness(session, telegram_id=ALICE)).kind == "need_start"
    await seed(sessions, onboarded=False)
    async with transaction(sessions) as session:
        mid = await readiness(session, telegram_id=ALICE)
        assert mid.kind == "finish_setup" and mid.user is not None
    async with transaction(sessions) as session:
        user = await session.get(User, ALICE)
        assert user is not None
        user.onboarding_step = None
    async with transaction(sessions) as session:
        ready = await readiness(session, telegram_id=ALICE)
        assert ready.kind == "ready" and ready.user is not None and ready.user.telegram_id == ALICE


async def test_a_stranger_is_told_to_start_and_the_handler_stops(
    runtime: CountingRuntime,
) -> None:
    bot, seen = FakeBot(), Seen()
    for handler in (set_up_handler(seen), known_handler(seen)):
        await handler(command(bot), context_for(runtime))
    assert bot.sent == [(ALICE, texts.NEED_START), (ALICE, texts.NEED_START)]
    assert seen.users == [] and not seen.after_transaction
    assert runtime.opened == 2  # one each: the check was the handler's own transaction


async def test_someone_still_onboarding_is_asked_to_finish_unless_being_known_is_enough(
    runtime: CountingRuntime, sessions: SessionFactory
) -> None:
    await seed(sessions, onboarded=False)
    bot, refused, known = FakeBot(), Seen(), Seen()
    await set_up_handler(refused)(command(bot), context_for(runtime))
    assert bot.sent == [(ALICE, texts.FINISH_SETUP_FIRST)] and not refused.after_transaction
    await known_handler(known)(command(bot), context_for(runtime))
    assert known.users == [ALICE] and known.after_transaction
    assert len(bot.sent) == 1


async def test_someone_set_up_reaches_the_handler_in_one_transaction(
    runtime: CountingRuntime, sessions: SessionFactory
) -> None:
    await seed(sessions, onboarded=True)
    bot, seen = FakeBot(), Seen()
    await set_up_handler(seen)(command(bot), context_for(runtime))
    assert seen.users == [ALICE] and seen.after_transaction
    assert bot.sent == [] and runtime.opened == 1


async def test_a_service_reading_the_person_again_costs_no_query(
    runtime: CountingRuntime, sessions: SessionFactory, database_url: str
) -> None:
    await seed(sessions, onboarded=True)
    statements: list[str] = []

    @for_set_up_person
    async def handler(update: Update, context: WalkbotContext, caller: Member) -> None:
        async with caller.transaction() as (session, user):
            connection = await session.connection()
            event.listen(connection.sync_engine, "before_cursor_execute", record)
            try:
                again = await get_user(session, telegram_id=caller.id)
            finally:
                event.remove(connection.sync_engine, "before_cursor_execute", record)
            assert again is user

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    await handler(command(FakeBot()), context_for(runtime))
    assert statements == []


async def test_for_person_passes_the_person_and_chat_and_ignores_bots(
    runtime: CountingRuntime,
) -> None:
    callers: list[Caller] = []

    @for_person
    async def handler(update: Update, context: WalkbotContext, caller: Caller) -> None:
        callers.append(caller)

    bot = FakeBot()
    await handler(command(bot, from_bot=True), context_for(runtime))
    assert callers == []
    await handler(command(bot), context_for(runtime))
    assert [(c.id, c.person.first_name, c.chat.id) for c in callers] == [(ALICE, "Alice", ALICE)]
    assert runtime.opened == 0  # no store check for who someone is


async def test_on_button_passes_the_tap_with_its_data_and_ignores_taps_without(
    runtime: CountingRuntime,
) -> None:
    taps: list[Tap] = []

    @on_button
    async def handler(update: Update, context: WalkbotContext, tap: Tap) -> None:
        taps.append(tap)

    await handler(button(None), context_for(runtime))
    assert taps == []
    await handler(button("w:12:pause"), context_for(runtime))
    assert [(t.id, t.data, t.query.id) for t in taps] == [(ALICE, "w:12:pause", "q1")]
