"""/export and /deleteme: a person's data is theirs to take or erase."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import JobQueue

from walkbot.bot import callbacks, texts
from walkbot.bot.feature import Feature
from walkbot.bot.guard import Caller, Tap, for_person, on_button
from walkbot.bot.replies import answer_tap, query_message, show_next
from walkbot.context import WalkbotContext as Context
from walkbot.scheduling import cues, sixmin
from walkbot.services.privacy import export_files
from walkbot.services.users import Erased, delete_user

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
        files = await export_files(session, telegram_id=caller.id, now=rt.clock.now())
    if files is None:
        await caller.chat.send_message(texts.NOTHING_STORED)
        return
    captions = [texts.EXPORT_CAPTION, texts.EXPORT_WALKS_CAPTION, texts.EXPORT_TESTS_CAPTION]
    for file, caption in zip(files, captions, strict=True):
        await caller.chat.send_document(file.content, filename=file.filename, caption=caption)


@feature.command("deleteme", menu="Delete everything I hold about you")
async def ask_delete(update: Update, context: Context) -> None:
    if update.effective_chat is not None:
        await update.effective_chat.send_message(texts.DELETE_CONFIRM, reply_markup=DELETE_MARKUP)


@feature.button(callbacks.DELETE, "yes", "no")
@on_button
async def confirm_delete(update: Update, context: Context, tap: Tap) -> None:
    # The erasure and its word first; the tap's answer last (Telegram refuses answers to taps
    # older than 10-15 s, and that must never leave someone's data in place).
    message = query_message(tap.query)
    if tap.data != callbacks.data(callbacks.DELETE, "yes"):
        await show_next(context.bot, tap.id, message, texts.DELETE_KEPT)
        await answer_tap(tap.query)
        return
    async with context.runtime.transaction() as session:
        erased = await delete_user(session, telegram_id=tap.id, now=context.runtime.clock.now())
    if erased is not None and context.job_queue is not None:
        forget_jobs(context.job_queue, erased)
    done = texts.DELETED if erased is not None else texts.NOTHING_STORED
    await show_next(context.bot, tap.id, message, done)
    await answer_tap(tap.query)


def forget_jobs(job_queue: JobQueue[Any], erased: Erased) -> None:
    """Every timed job about their walks and tests: cues, the rating reminder, a test's
    phrases. Removed after the commit: a job that runs in between finds no row and sends
    nothing, and if the erasure had failed, a walk under way would keep its cues. One pass
    over the queue, however many walks they had."""
    prefixes = tuple(cues.job_prefix(walk_id) for walk_id in erased.walk_ids) + tuple(
        sixmin.job_prefix(test_id) for test_id in erased.test_ids
    )
    if not prefixes:
        return
    for job in job_queue.jobs():
        if job.name is not None and job.name.startswith(prefixes):
            job.schedule_removal()
