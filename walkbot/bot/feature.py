"""A feature's handlers, declared next to the functions that handle them: each command with its
menu entry, each button with its callback prefix. The root (bot/handlers.py) only composes
features, in an order it shows; app.py builds the command menus from the same features.

    feature = Feature("walks")

    @feature.command("walk", menu="Start today's backward-walking session")
    @for_set_up_person
    async def walk_command(update, context, caller): ...

Declaring records what to build; nothing touches an Application until `handlers()` is called.
Handlers and menu entries keep the order they are declared in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from telegram import BotCommand, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from walkbot.bot import callbacks
from walkbot.bot.guard import Handler
from walkbot.context import WalkbotContext

Chats = Literal["private", "groups"]
# Which command menu lists a command: Telegram shows group admins a menu of their own.
Menu = Literal["private", "groups", "group_admins"]
WalkbotHandler = BaseHandler[Update, WalkbotContext, Any]
H = TypeVar("H", bound=Handler)

CHAT_FILTERS: dict[Chats, filters.BaseFilter] = {
    "private": filters.ChatType.PRIVATE,
    "groups": filters.ChatType.GROUPS,
}
# New messages only: PTB's CommandHandler (and any filter reading effective_message) also takes
# edits, and an edit of yesterday's message must not become today's answer (see `edited`).
NEW = filters.UpdateType.MESSAGE


@dataclass(frozen=True)
class MenuEntry:
    menu: Menu
    command: BotCommand


class Feature:
    def __init__(self, name: str) -> None:
        self.name = name
        self._builders: list[Callable[[], WalkbotHandler]] = []
        self._menu: list[MenuEntry] = []
        self._prefixes: list[str] = []
        self._commands: list[tuple[str, Chats]] = []

    def command(
        self,
        name: str,
        *,
        menu: str | None = None,
        chats: Chats = "private",
        admins_only: bool = False,
    ) -> Callable[[H], H]:
        """`/name` in private chats (or groups); `menu` is its line in that chat type's menu
        (`admins_only`: in the menu group admins see, not everyone's)."""

        def declare(callback: H) -> H:
            self._commands.append((name, chats))
            self._builders.append(
                lambda: CommandHandler(name, callback, filters=CHAT_FILTERS[chats] & NEW)
            )
            if menu is not None:
                listed: Menu = "group_admins" if chats == "groups" and admins_only else chats
                self._menu.append(MenuEntry(listed, BotCommand(name, menu)))
            return callback

        return declare

    def button(self, prefix: str, *choices: str) -> Callable[[H], H]:
        """Taps on buttons whose data the views built under `prefix` (see callbacks.pattern)."""

        regex = re.compile(callbacks.pattern(prefix, *choices))

        def ours(data: object) -> bool:
            # Longer than Telegram lets a button carry: forged, whatever it starts with. Such
            # data goes to the stale-button fallback, never to a feature's parser.
            return isinstance(data, str) and callbacks.fits(data) and bool(regex.match(data))

        def declare(callback: H) -> H:
            self._prefixes.append(prefix)
            self._builders.append(lambda: CallbackQueryHandler(callback, pattern=ours))
            return callback

        return declare

    def any_button(self) -> Callable[[H], H]:
        """Every tap no other handler took (register it after the features)."""

        def declare(callback: H) -> H:
            self._builders.append(lambda: CallbackQueryHandler(callback))
            return callback

        return declare

    def message(self, message_filter: filters.BaseFilter) -> Callable[[H], H]:
        def declare(callback: H) -> H:
            self._builders.append(lambda: MessageHandler(message_filter & NEW, callback))
            return callback

        return declare

    def edited(self, message_filter: filters.BaseFilter) -> Callable[[H], H]:
        """Edits of earlier messages, which no other handler takes."""

        def declare(callback: H) -> H:
            edits = message_filter & filters.UpdateType.EDITED_MESSAGE
            self._builders.append(lambda: MessageHandler(edits, callback))
            return callback

        return declare

    def chat_member(self) -> Callable[[H], H]:
        """Someone else joined or left a group (Telegram sends these to admin bots only)."""

        def declare(callback: H) -> H:
            self._builders.append(
                lambda: ChatMemberHandler(callback, ChatMemberHandler.CHAT_MEMBER)
            )
            return callback

        return declare

    def my_chat_member(self) -> Callable[[H], H]:
        """The bot itself added to or removed from a chat, or blocked and unblocked."""

        def declare(callback: H) -> H:
            self._builders.append(
                lambda: ChatMemberHandler(callback, ChatMemberHandler.MY_CHAT_MEMBER)
            )
            return callback

        return declare

    def handlers(self) -> list[WalkbotHandler]:
        """Fresh PTB handlers, in the order declared."""
        return [build() for build in self._builders]

    def menu(self, chats: Menu) -> list[BotCommand]:
        """The commands listed in a menu; group admins see everyone's group commands too."""
        shown = {chats, "groups"} if chats == "group_admins" else {chats}
        return [entry.command for entry in self._menu if entry.menu in shown]

    @property
    def commands(self) -> tuple[tuple[str, Chats], ...]:
        """Every command this feature handles, listed in a menu or not, with where."""
        return tuple(self._commands)

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The callback prefixes this feature answers."""
        return tuple(self._prefixes)
