"""Small helpers for replying that every feature shares."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

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


async def mark_answered(query: CallbackQuery, chosen: str) -> None:
    """Show the choice on the question and take its buttons away, so it can't be tapped twice."""
    message = query.message
    if isinstance(message, Message) and message.text is not None:
        await edit_text(message, f"{message.text}\n\n→ {chosen}")


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
