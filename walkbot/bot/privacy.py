"""/export and /deleteme: a person's data is theirs to take or erase."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from walkbot.bot import texts
from walkbot.bot.people import person_of
from walkbot.bot.replies import edit_text, query_message
from walkbot.context import WalkbotContext as Context
from walkbot.services.privacy import export_user
from walkbot.services.users import delete_user

DELETE_MARKUP = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton(texts.DELETE_YES, callback_data="deleteme:yes")],
        [InlineKeyboardButton(texts.DELETE_NO, callback_data="deleteme:no")],
    ]
)


async def export(update: Update, context: Context) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = context.runtime
    async with rt.transaction() as session:
        data = await export_user(session, telegram_id=person.telegram_id, now=rt.clock.now())
    if data is None:
        await chat.send_message(texts.NOTHING_STORED)
        return
    await chat.send_document(data, filename="walkbot-data.json", caption=texts.EXPORT_CAPTION)


async def ask_delete(update: Update, context: Context) -> None:
    if update.effective_chat is not None:
        await update.effective_chat.send_message(texts.DELETE_CONFIRM, reply_markup=DELETE_MARKUP)


async def confirm_delete(update: Update, context: Context) -> None:
    query, person = update.callback_query, person_of(update)
    if query is None or person is None:
        return
    message = query_message(query)
    await query.answer()
    if query.data != "deleteme:yes":
        await edit_text(message, texts.DELETE_KEPT)
        return
    async with context.runtime.transaction() as session:
        existed = await delete_user(session, telegram_id=person.telegram_id)
    await edit_text(message, texts.DELETED if existed else texts.NOTHING_STORED)
