"""/export and /deleteme: a person's data is theirs to take or erase."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from walkbot.bot import callbacks, texts
from walkbot.bot.feature import Feature
from walkbot.bot.guard import Caller, Tap, for_person, on_button
from walkbot.bot.replies import edit_text, query_message
from walkbot.context import WalkbotContext as Context
from walkbot.services.privacy import export_user
from walkbot.services.users import delete_user

DELETE_MARKUP = InlineKeyboardMarkup(
    [
        [callbacks.button(texts.DELETE_YES, callbacks.DELETE, "yes")],
        [callbacks.button(texts.DELETE_NO, callbacks.DELETE, "no")],
    ]
)

feature = Feature("privacy")


@feature.command("export", menu="Download your data")
@for_person
async def export(update: Update, context: Context, caller: Caller) -> None:
    rt = context.runtime
    async with rt.transaction() as session:
        data = await export_user(session, telegram_id=caller.id, now=rt.clock.now())
    if data is None:
        await caller.chat.send_message(texts.NOTHING_STORED)
        return
    await caller.chat.send_document(
        data, filename="walkbot-data.json", caption=texts.EXPORT_CAPTION
    )


@feature.command("deleteme", menu="Delete everything I hold about you")
async def ask_delete(update: Update, context: Context) -> None:
    if update.effective_chat is not None:
        await update.effective_chat.send_message(texts.DELETE_CONFIRM, reply_markup=DELETE_MARKUP)


@feature.button(callbacks.DELETE, "yes", "no")
@on_button
async def confirm_delete(update: Update, context: Context, tap: Tap) -> None:
    message = query_message(tap.query)
    await tap.query.answer()
    if tap.data != callbacks.data(callbacks.DELETE, "yes"):
        await edit_text(message, texts.DELETE_KEPT)
        return
    async with context.runtime.transaction() as session:
        existed = await delete_user(session, telegram_id=tap.id)
    await edit_text(message, texts.DELETED if existed else texts.NOTHING_STORED)
