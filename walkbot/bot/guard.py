"""Who sent an update, and whether they may have what they asked for: one guard instead of a
preamble in every handler.

- `@for_person`: a message from a person (not a bot) in a chat -> `handler(update, context,
  caller)`; anything else is ignored, as it always was.
- `@for_known_person` and `@for_set_up_person`: the same, and `caller.transaction()`, the
  handler's own transaction, first reads in the store whether the person has started (and
  finished setting up). If not, the handler stops there and they are told NEED_START or
  FINISH_SETUP_FIRST: no second transaction, and services reading the person again in that
  transaction find the row in the session.
- `@on_button`: a button tap with data from a person -> `handler(update, context, tap)`.

The refusal texts live in REFUSALS, which also words the `need_start`/`finish_setup` kinds some
services still return to their direct callers.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import CallbackQuery, Chat, Update

from walkbot.bot import texts
from walkbot.bot.people import person_of
from walkbot.context import WalkbotContext as Context
from walkbot.runtime import Runtime
from walkbot.services import users
from walkbot.services.users import Person
from walkbot.store.models import User

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
Needs = Literal["started", "set_up"]

REFUSALS: Mapping[str, str] = {
    "need_start": texts.NEED_START,
    "finish_setup": texts.FINISH_SETUP_FIRST,
}


@dataclass(frozen=True)
class Caller:
    """A person writing in a chat, and where to answer them."""

    person: Person
    chat: Chat

    @property
    def id(self) -> int:
        return self.person.telegram_id


@dataclass(frozen=True)
class Member(Caller):
    """A caller whose handler may act only once the store agrees they are far enough along."""

    runtime: Runtime
    needs: Needs

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[tuple[AsyncSession, User]]:
        """The handler's transaction, with the person's row; the handler stops here (and the
        guard answers) when they have not started or, if need be, not finished setting up."""
        async with self.runtime.transaction() as session:
            ready = await users.readiness(session, telegram_id=self.id)
            refused = ready.kind == "need_start" or (
                ready.kind == "finish_setup" and self.needs == "set_up"
            )
            if refused or ready.user is None:
                raise _NotReady(ready.kind)
            yield session, ready.user


@dataclass(frozen=True)
class Tap:
    """A button tapped by a person, with its data."""

    query: CallbackQuery
    person: Person
    data: str

    @property
    def id(self) -> int:
        return self.person.telegram_id


class _NotReady(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def caller_of(update: Update) -> Caller | None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return None
    return Caller(person, chat)


def for_person(handler: Callable[[Update, Context, Caller], Awaitable[None]]) -> Handler:
    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        caller = caller_of(update)
        if caller is not None:
            await handler(update, context, caller)

    return guarded


def _for_member(
    needs: Needs,
) -> Callable[[Callable[[Update, Context, Member], Awaitable[None]]], Handler]:
    def decorate(handler: Callable[[Update, Context, Member], Awaitable[None]]) -> Handler:
        @functools.wraps(handler)
        async def guarded(update: Update, context: Context) -> None:
            caller = caller_of(update)
            if caller is None:
                return
            member = Member(caller.person, caller.chat, context.runtime, needs)
            try:
                await handler(update, context, member)
            except _NotReady as refusal:
                await caller.chat.send_message(REFUSALS[refusal.kind])

        return guarded

    return decorate


for_known_person = _for_member("started")
for_set_up_person = _for_member("set_up")


def on_button(handler: Callable[[Update, Context, Tap], Awaitable[None]]) -> Handler:
    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        query, person = update.callback_query, person_of(update)
        if query is None or person is None or query.data is None:
            return
        await handler(update, context, Tap(query, person, query.data))

    return guarded
