"""The root composes the features: the command menus come from the commands each feature
declares, in the order and words people have always seen, and every menu entry has its
handler."""

from __future__ import annotations

from unittest.mock import AsyncMock

from telegram.ext import ApplicationBuilder, CommandHandler, filters

from walkbot.bot import handlers
from walkbot.bot.feature import NEW, Feature, Menu
from walkbot.context import context_types
from walkbot.sandbox import TEST_TOKEN

PRIVATE_MENU = [
    ("walk", "Start today's backward-walking session"),
    ("stop", "End the walk you're on"),
    ("history", "Your latest walks"),
    ("sixmin", "Six-minute walk test"),
    ("level", "Your programme level: repeat it or step back"),
    ("summary", "This week so far, with a chart (/summary last: last week)"),
    ("stats", "All-time totals, best week, levels and tests"),
    ("pause", "Rest from reminders: /pause 7 (days) or /pause 2026-12-24"),
    ("resume", "End a pause: reminders start again"),
    ("settings", "Time zone, reminders, units, safety answers"),
    ("help", "What I can do"),
    ("privacy", "What I keep about you"),
    ("export", "Download your data"),
    ("deleteme", "Delete everything I hold about you"),
    ("leave", "Leave your group challenges"),
]
GROUP_MENU = [
    ("help", "What walkbot does"),
    ("leaderboard", "The challenge board"),
    ("challenges", "Past challenges and their winners"),
    ("leave", "Leave this group's challenge"),
]
ADMIN_ONLY = {
    ("challenge", "Start a group challenge"),
    ("groupsettings", "Time zone and daily board time"),
}


def test_the_menus_keep_their_order_and_words() -> None:
    assert [(c.command, c.description) for c in handlers.private_menu()] == PRIVATE_MENU
    assert [(c.command, c.description) for c in handlers.group_menu()] == GROUP_MENU
    admins = [(c.command, c.description) for c in handlers.group_admin_menu()]
    # Admins see everyone's group commands, in order, with theirs among them.
    assert [entry for entry in admins if entry not in ADMIN_ONLY] == GROUP_MENU
    assert set(admins) >= ADMIN_ONLY


def test_a_feature_lists_admin_commands_only_in_the_admins_menu() -> None:
    feature = Feature("demo")
    noop = AsyncMock()
    feature.command("board", chats="groups", menu="Board")(noop)
    feature.command("manage", chats="groups", admins_only=True, menu="Manage")(noop)
    feature.command("mine", menu="Mine")(noop)
    feature.command("quiet", chats="groups")(noop)  # handled, listed nowhere

    def listed(menu: Menu) -> list[str]:
        return [command.command for command in feature.menu(menu)]

    assert listed("private") == ["mine"]
    assert listed("groups") == ["board"]
    assert listed("group_admins") == ["board", "manage"]
    assert len(feature.handlers()) == 4


def test_every_menu_entry_has_a_command_handler_for_its_chat_type() -> None:
    app = ApplicationBuilder().token(TEST_TOKEN).context_types(context_types()).build()
    handlers.register(app)
    commands = [
        h for group in app.handlers.values() for h in group if isinstance(h, CommandHandler)
    ]

    # Every command takes new messages only (an edit is never a new command): chats & NEW.
    assert all(getattr(h.filters, "and_filter", None) is NEW for h in commands)

    def handled(command: str, chats: filters.BaseFilter) -> bool:
        return any(
            command in h.commands and getattr(h.filters, "base_filter", None) is chats
            for h in commands
        )

    for entry in handlers.private_menu():
        assert handled(entry.command, filters.ChatType.PRIVATE), entry.command
    for entry in handlers.group_admin_menu():
        assert handled(entry.command, filters.ChatType.GROUPS), entry.command
    assert handled("start", filters.ChatType.PRIVATE) and handled("start", filters.ChatType.GROUPS)
