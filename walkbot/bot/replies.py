"""Small helpers for replying that every feature shares.

A step of a multi-step flow (onboarding, settings, walk ratings) costs one message: the question
just answered is edited into the next one (show_next). Telegram counts edits like sends against
a chat's ~1 message a second, so an edit that echoed the choice plus a new question made a
person tapping through at human speed wait for the per-chat pacer at every step. Answering the
tap and stripping old buttons are cosmetic: they come after the essential work (jobs, the next
question), and a failure is logged rather than raised (answer_tap, mark_answered). Telegram
refuses answers to taps older than about 10-15 s ("query is too old": every tap queued over a
restart), and an edit can meet a 502: neither may cost a walk its cues or a rating its next
question. show_next is the essential reply, so an edit that fails for any reason but a block
becomes a new message.
"""

from __future__ import annotations

import logging

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, TelegramError

log = logging.getLogger(__name__)


async def edit_text(
    message: Message | None, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit a bot message; an unchanged or vanished message is not worth an error."""
    if message is None:
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower() and "not found" not in str(error).lower():
            raise


async def show_next(
    bot: Bot,
    chat_id: int,
    message: Message | None,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    silent: bool = False,
) -> None:
    """The next step of a flow as one message: `message` (the question just answered) edited
    into it, or a new message when there is none or the edit failed (deleted, too old for
    Telegram to send us, or a 5xx or timeout: better a second copy, should Telegram have
    applied an edit it did not confirm, than a question never asked); `silent` sends that
    without a notification sound. A block (Forbidden) is raised for the error handler."""
    if message is not None:
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except Forbidden:
            raise
        except TelegramError as error:
            if "not modified" in str(error).lower():  # a repeated tap: it already shows this
                return
            log.info("could not edit message %s (%s); sending it anew", message.id, error)
    await bot.send_message(chat_id, text, reply_markup=markup, disable_notification=silent)


async def answer_tap(query: CallbackQuery, text: str | None = None) -> None:
    """Stop the button's spinner, with a short note if any. Cosmetic, so it goes after the
    reply that matters, and a failure (too late, a network hiccup) is only logged."""
    try:
        await query.answer(text)
    except TelegramError as error:
        log.info("could not answer callback query %s: %s", query.id, error)


async def mark_answered(query: CallbackQuery, chosen: str) -> None:
    """Show the choice on the question and take its buttons away, so it can't be tapped twice.
    Cosmetic: a failure is logged, except a block, which the error handler must hear about."""
    message = query_message(query)
    if message is None or message.text is None:
        return
    try:
        await edit_text(message, answered(message.text, chosen))
    except Forbidden:
        raise
    except TelegramError as error:
        log.info("could not mark message %s answered: %s", message.id, error)


def answered(question: str, chosen: str) -> str:
    """A question with the choice shown under it."""
    return f"{question}\n\n→ {chosen}"


def ticked(chosen: str) -> str:
    """The line above a next question that keeps the last choice in view."""
    return f"✓ {chosen}"


def query_message(query: CallbackQuery) -> Message | None:
    """The bot message a button sat on; None when Telegram no longer sends it (too old)."""
    return query.message if isinstance(query.message, Message) else None


def callback_fields(data: str, count: int) -> list[str]:
    """The `count` fields after the prefix of callback data like `w:12:pause`, padded with ""
    so forged or truncated data never raises."""
    return [*data.split(":", count)[1:], *[""] * count][:count]


def number_field(text: str) -> int | None:
    """A walk id, level or score from callback data; None unless plain ASCII digits that fit a
    BIGINT column. str.isdigit alone lets "²" through to int(), which raises, and a forged
    40-digit id would overflow the column in PostgreSQL."""
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None


def joined(*parts: str | None) -> str:
    return "\n\n".join(part for part in parts if part)
