"""Help, privacy, groups, the fallbacks that keep the bot from ever going silent, and errors."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import ChatMigrated, Forbidden
from telegram.ext import ApplicationHandlerStop, filters

from walkbot.bot import challenges, texts
from walkbot.bot.feature import Feature
from walkbot.bot.replies import answer_tap
from walkbot.context import WalkbotContext as Context
from walkbot.domain.wording import bounded
from walkbot.inbox import AlreadyHandled
from walkbot.scheduling import presence
from walkbot.services.users import mark_blocked
from walkbot.store.db import unreachable

log = logging.getLogger(__name__)

feature = Feature("common")
# What no feature took: registered after every feature (see bot/handlers.py).
fallbacks = Feature("fallbacks")


@feature.command("help", menu="What I can do")
async def help_command(update: Update, context: Context) -> None:
    if update.effective_chat is not None:
        await update.effective_chat.send_message(texts.HELP)


@feature.command("privacy", menu="What I keep about you")
async def privacy(update: Update, context: Context) -> None:
    if update.effective_chat is not None:
        await update.effective_chat.send_message(texts.PRIVACY)


@fallbacks.message(filters.ChatType.PRIVATE & filters.COMMAND)
async def unknown_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    command = bounded(message.text.split()[0].split("@")[0], 33)  # "/" and 32 at most
    await message.reply_text(texts.NOT_A_COMMAND.format(command=command))


@fallbacks.edited(filters.ChatType.PRIVATE)
async def edited_message(update: Update, context: Context) -> None:
    """An edit changes nothing stored (it could be of a message answered days ago); say so,
    so a corrected answer is sent again rather than lost."""
    if update.effective_chat is not None:
        await update.effective_chat.send_message(texts.EDITS_IGNORED)


@feature.command("start", chats="groups")
@feature.command("help", chats="groups", menu="What walkbot does")
async def group_intro(update: Update, context: Context) -> None:
    chat, message = update.effective_chat, update.effective_message
    if chat is not None:
        link = f"https://t.me/{context.bot.username}"
        topic = message.message_thread_id if message and message.is_topic_message else None
        await context.bot.send_message(
            chat.id, texts.GROUP_INTRO.format(link=link), message_thread_id=topic
        )


@feature.my_chat_member()
async def bot_membership(update: Update, context: Context) -> None:
    """In a private chat: the person blocked the bot (nothing more is sent) or unblocked it
    (reminders resume). In a group: walkbot added or removed (bot/challenges.py)."""
    change = update.my_chat_member
    if change is None:
        return
    if change.chat.type == "private":
        blocked = change.new_chat_member.status == ChatMemberStatus.BANNED  # "kicked"
        await presence.block_changed(
            context.application, telegram_id=change.chat.id, blocked=blocked
        )
        return
    await challenges.group_membership(update, context)  # a group: its challenge lives there


async def on_error(update: object, context: Context) -> None:
    """Log the fault (never the token) and tell the person, so nobody meets silence. A reply
    refused with 403 in a private chat means they blocked the bot: stop writing to them.
    An update found handled already (walkbot/inbox.py) stops quietly: nothing was changed."""
    if isinstance(context.error, AlreadyHandled):
        raise ApplicationHandlerStop
    if isinstance(context.error, Forbidden) and isinstance(update, Update):
        await _blocked(update, context)
        return
    if isinstance(context.error, ChatMigrated) and isinstance(update, Update):
        await _moved(update, context, context.error.new_chat_id)
        return
    log.error(
        "handler failed for update %s", getattr(update, "update_id", None), exc_info=context.error
    )
    if isinstance(update, Update):
        await _apologise(update, context.error)


async def _apologise(update: Update, error: BaseException | None) -> None:
    """The short apology: the message first (Telegram refuses answers to taps older than
    10-15 s, and that refusal must not cost the person the apology), then the tap's spinner;
    each failure only logged. With the database out of reach, it says nothing could be saved
    (the usual apology promises nothing is lost)."""
    text = texts.STORE_DOWN if unreachable(error) else texts.ERROR
    if update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(text)
        except Exception:  # the apology itself failed; the log above holds the cause
            log.warning("could not send the apology", exc_info=True)
    if update.callback_query is not None:
        await answer_tap(update.callback_query, text[:190])


async def _blocked(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        log.info("Telegram refused a message to chat %s: %s", chat and chat.id, context.error)
        return
    log.info("chat %s has blocked the bot", chat.id)
    rt = context.runtime
    async with rt.transaction() as session:
        await mark_blocked(session, telegram_id=chat.id, now=rt.clock.now())


async def _moved(update: Update, context: Context, new_chat_id: int) -> None:
    """A reply to a group Telegram has just turned into a supergroup: move its rows (the
    service message may not have come yet) and ask for the command again where it now is."""
    chat = update.effective_chat
    if chat is None:
        return
    log.info("group %s is now %s", chat.id, new_chat_id)
    await challenges.group_moved_to(context, old_chat_id=chat.id, new_chat_id=new_chat_id)
    try:
        await context.bot.send_message(new_chat_id, texts.GROUP_MOVED)
    except Exception:  # the note itself is a courtesy; the rows have moved
        log.warning("could not tell group %s it moved", new_chat_id, exc_info=True)


@fallbacks.any_button()
async def stale_button(update: Update, context: Context) -> None:
    """A button from an old message, or data nobody sends: answer it and change nothing."""
    if update.callback_query is not None:
        await answer_tap(update.callback_query, texts.STALE_BUTTON)
