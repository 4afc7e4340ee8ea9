"""Every handler, registered in one visible order. Earlier groups run first; within a group the
first matching handler wins."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from walkbot.bot import common, level, nudges, onboarding, privacy, settings, sixmin, summary, walks

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # Group -1: drop an update Telegram delivered twice before anything acts on it.
    app.add_handler(TypeHandler(Update, common.drop_duplicates), group=-1)

    app.add_handlers(
        [
            # Private chats: commands.
            CommandHandler("start", onboarding.start, filters=PRIVATE),
            CommandHandler("help", common.help_command, filters=PRIVATE),
            CommandHandler("settings", settings.show, filters=PRIVATE),
            CommandHandler("privacy", common.privacy, filters=PRIVATE),
            CommandHandler("export", privacy.export, filters=PRIVATE),
            CommandHandler("deleteme", privacy.ask_delete, filters=PRIVATE),
            CommandHandler("walk", walks.walk_command, filters=PRIVATE),
            CommandHandler("stop", walks.stop_command, filters=PRIVATE),
            CommandHandler("history", walks.history, filters=PRIVATE),
            CommandHandler("pause", nudges.pause_command, filters=PRIVATE),
            CommandHandler("resume", nudges.resume_command, filters=PRIVATE),
            CommandHandler("sixmin", sixmin.sixmin_command, filters=PRIVATE),
            CommandHandler("level", level.level_command, filters=PRIVATE),
            CommandHandler("summary", summary.summary_command, filters=PRIVATE),
            CommandHandler("stats", summary.stats_command, filters=PRIVATE),
            # Groups: a short introduction; challenges come later.
            CommandHandler(["start", "help"], common.group_intro, filters=GROUPS),
            ChatMemberHandler(common.bot_membership, ChatMemberHandler.MY_CHAT_MEMBER),
            # Buttons.
            CallbackQueryHandler(onboarding.consent, pattern=r"^consent:(yes|no)$"),
            CallbackQueryHandler(onboarding.answer_button, pattern=r"^a:"),
            CallbackQueryHandler(settings.choose, pattern=r"^set:"),
            CallbackQueryHandler(privacy.confirm_delete, pattern=r"^deleteme:(yes|no)$"),
            CallbackQueryHandler(walks.control, pattern=r"^w:"),
            CallbackQueryHandler(walks.rate, pattern=r"^r:"),
            CallbackQueryHandler(sixmin.button, pattern=r"^6m:"),
            CallbackQueryHandler(level.level_choice, pattern=r"^lv:"),
            CallbackQueryHandler(level.knee_answer, pattern=r"^k:"),
            CallbackQueryHandler(nudges.tap, pattern=r"^n:"),
            CallbackQueryHandler(common.stale_button),
            # Private chats: everything else gets an answer, never silence.
            MessageHandler(PRIVATE & filters.COMMAND, common.unknown_command),
            MessageHandler(PRIVATE & filters.TEXT, onboarding.answer_text),
            MessageHandler(PRIVATE & filters.LOCATION, onboarding.answer_location),
            MessageHandler(PRIVATE & filters.UpdateType.MESSAGE, onboarding.answer_other),
        ]
    )
    app.add_error_handler(common.on_error)
