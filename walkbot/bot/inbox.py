"""The Telegram side of the inbox (walkbot/inbox.py): what is stored of an update, the polling
bot that stores each batch before PTB may confirm it, the update processor that handles each
update as its inbox entry, and the start-up pass over what a stopped process left.

Polling, as PTB 22's Updater does it (telegram/ext/_updater.py, `polling_action_cb`): it calls
`bot.get_updates(offset=last + 1)`, puts every update of the answer in the update queue, and
moves its offset past the last one; Telegram takes an update as delivered only when a later
getUpdates asks for an offset beyond it. So storing the batch inside `get_updates`, before it
returns, stores it before it can be confirmed. A store that fails raises a NetworkError: PTB
logs it (runner._polling_error), backs off, and asks again with the same offset, so Telegram
sends the same batch again. Redeliveries must still be returned (PTB's offset has to move past
them); the processor drops them.

While the store is down an update cannot be handled (it could not be marked done), but the
person should not be left in silence: `UnstoredNotice` tells each private chat once per update
that walkbot cannot save anything right now and will come back to it. The update itself is
handled when Telegram delivers it again after the store is back (polling: the same batch is
fetched again; webhook: the 503 makes Telegram retry).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any

from telegram import Bot, Update
from telegram.constants import ChatType
from telegram.error import NetworkError, TelegramError
from telegram.ext import ExtBot

from walkbot.bot import texts
from walkbot.bot.ordering import PerChatUpdateProcessor
from walkbot.context import WalkbotApp
from walkbot.inbox import HOLD_ENV, Inbox
from walkbot.services.updates import Received

log = logging.getLogger(__name__)


def received(update: Update, body: dict[str, Any] | None = None) -> Received:
    """What is stored of an update: its id, its JSON body (as Telegram sent it, when known),
    and whom it concerns, so /deleteme can erase it: the person it is from, else its chat."""
    user, chat = update.effective_user, update.effective_chat
    about = user.id if user is not None else chat.id if chat is not None else None
    return Received(update.update_id, about, body if body is not None else update.to_dict())


def hold_from_env() -> Path | None:
    """TEST ONLY: walkbot.inbox.HOLD_ENV."""
    value = os.environ.get(HOLD_ENV)
    return Path(value) if value else None


class UnstoredNotice:
    """One line to a private chat whose update could not be stored: once per update, however
    often the same batch is fetched again (or Telegram retries the webhook) during an outage.
    Sent in a task of its own, so fetching never waits on it; a failed send is logged."""

    REMEMBERED = 10_000  # update ids told about; the oldest are forgotten first

    def __init__(self) -> None:
        self._told: OrderedDict[int, None] = OrderedDict()
        self._sending: set[asyncio.Task[None]] = set()

    def tell(self, bot: Bot, updates: Sequence[Update]) -> None:
        for update in updates:
            chat = update.effective_chat
            if update.update_id in self._told or chat is None or chat.type != ChatType.PRIVATE:
                continue  # told already; groups wait in silence (many people, one outage)
            if update.message is None and update.callback_query is None:
                continue  # an edit, a membership change: nothing anyone waits for
            self._told[update.update_id] = None
            while len(self._told) > self.REMEMBERED:
                self._told.popitem(last=False)
            task = asyncio.create_task(self._send(bot, chat.id))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    @staticmethod
    async def _send(bot: Bot, chat_id: int) -> None:
        try:
            await bot.send_message(chat_id, texts.STORE_DOWN_HELD)
        except TelegramError as error:
            log.warning("could not say the store is down (%s)", type(error).__name__)


class InboxBot(ExtBot[None]):
    """ExtBot whose get_updates stores the batch before handing it to PTB's Updater."""

    __slots__ = ("_inbox", "_unstored")

    def __init__(self, *args: Any, inbox: Inbox, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inbox = inbox  # PTB freezes a bot's public attributes
        self._unstored = UnstoredNotice()

    def tell_unstored(self, updates: Sequence[Update]) -> None:
        """The store is down: tell these updates' people once (UnstoredNotice)."""
        self._unstored.tell(self, updates)

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        if updates:
            try:
                new = await self._inbox.store([received(update) for update in updates])
            except Exception as error:
                self.tell_unstored(updates)
                # The type only: a database error's text may quote the statement.
                raise NetworkError(
                    f"could not store {len(updates)} updates ({type(error).__name__}); "
                    "they will be fetched again"
                ) from None
            refused = []
            for update in updates:  # stored before, or a second copy in this batch
                if update.update_id in new:
                    new.discard(update.update_id)
                else:
                    refused.append(update.update_id)
            self._inbox.refuse(refused)
        return updates


class InboxUpdateProcessor(PerChatUpdateProcessor):
    """Each update handled as its inbox entry (walkbot.inbox.Inbox.handled): the chat's turn,
    the handler, and the mark after it. Redeliveries refused at receipt go no further."""

    inbox: Inbox | None = None  # set by the composition root

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        inbox = self.inbox
        if inbox is None or not isinstance(update, Update):
            await super().do_process_update(update, coroutine)
            return
        if inbox.take_refused(update.update_id):
            log.info("dropping update %s: delivered before", update.update_id)
            close = getattr(coroutine, "close", None)
            if close is not None:
                close()  # never started
            return
        await inbox.handled(update.update_id, super().do_process_update(update, coroutine))


async def replay(app: WalkbotApp, inbox: Inbox) -> int:
    """Handle what was stored and not done (the process stopped between receipt and the
    mark), oldest first, one at a time. Call before updates are fetched or served; returns
    how many. The start-up's redeliveries of these are then refused as stored before."""
    pending = await inbox.unfinished()
    if pending:
        log.info("handling %d updates received before the last stop", len(pending))
    for update_id, body in pending:
        try:
            update = Update.de_json(body, app.bot)
        except Exception:  # an unreadable body is dropped, never retried
            log.warning("update %s could not be read back; dropping it", update_id)
            await inbox.finish(update_id)
            continue
        await inbox.handled(update_id, app.process_update(update))
    return len(pending)
