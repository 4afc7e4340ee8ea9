"""The root: every feature's handlers, composed in one visible order. Earlier groups run first;
within a group the first matching handler wins. A new feature is a module with a `feature`
(see bot/feature.py) and one line in FEATURES."""

from __future__ import annotations

from telegram import BotCommand

from walkbot.bot import (
    challenges,
    common,
    level,
    nudges,
    onboarding,
    privacy,
    settings,
    sixmin,
    summary,
    walks,
)
from walkbot.bot.feature import Chats, Feature
from walkbot.context import WalkbotApp

# In this order: the private menu lists their commands in it too.
FEATURES: tuple[Feature, ...] = (
    onboarding.feature,
    walks.feature,
    sixmin.feature,
    level.feature,
    summary.feature,
    nudges.feature,
    settings.feature,
    common.feature,
    privacy.feature,
    challenges.feature,
)
# What no feature took: a stale button, an unknown command, then anything else a person sends in
# a private chat, as an answer to the question they owe (never silence).
FALLBACKS: tuple[Feature, ...] = (common.fallbacks, onboarding.fallbacks)


def register(app: WalkbotApp) -> None:
    # A redelivered update never gets this far: the inbox refuses it at receipt, and the first
    # transaction of a handler marks its update done (walkbot/inbox.py).
    for feature in (*FEATURES, *FALLBACKS):
        app.add_handlers(feature.handlers())
    app.add_error_handler(common.on_error)


def private_menu() -> list[BotCommand]:
    return [command for feature in FEATURES for command in feature.menu("private")]


def group_menu() -> list[BotCommand]:
    return [command for feature in FEATURES for command in feature.menu("groups")]


def group_admin_menu() -> list[BotCommand]:
    return [command for feature in FEATURES for command in feature.menu("group_admins")]


def commands() -> list[tuple[str, Chats]]:
    """Every command a feature handles, in menus or not, and the chats it is handled in."""
    return [command for feature in FEATURES for command in feature.commands]
