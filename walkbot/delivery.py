"""The one way messages leave outside a reply: bounded retries, and a clear word on blocked chats.

A 429 is retried by the bot's rate limiter (walkbot.ratelimit, after retry_after), and here
again once its retries run out (429s never use up the attempts); this adds what it does not do:
backoff for 5xx and timeouts, and telling the caller when the person has blocked the bot.

Groups add two more: a group that became a supergroup answers ChatMigrated with its new id,
and the message is sent there once (the caller learns the id from Delivery.migrated_to and
moves its rows); and the board a challenge edits in place (`edit_text`), where "message is not
modified" means the text was already right, and a message Telegram no longer has is GONE.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from walkbot.ports import STALE, Restate
from walkbot.ratelimit import StaleMessage, restating
from walkbot.request import own_retries

log = logging.getLogger(__name__)

ATTEMPTS = 4
BACKOFF_S = (0.5, 1.0, 2.0)
MAX_RETRY_AFTER_S = 60.0
MAX_RATE_WAITS = 20  # 429s in a row for one message before it counts as failed
_GONE = "chat not found"  # Telegram's 400 for a chat id it no longer knows
_NOT_MODIFIED = "message is not modified"  # an edit to the text it already has: done
# An edit of a message Telegram no longer has, or will not let us change (deleted by an admin,
# older than 48 hours in some clients' terms): the caller posts a new one instead.
_CANNOT_EDIT = ("message to edit not found", "message can't be edited", "message_id_invalid")
GONE = "gone"  # Delivery.detail for that case


class Result(Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403: blocked, deactivated or kicked; stop writing to this chat
    FAILED = "failed"  # given up after retries, or a request Telegram will never accept


@dataclass(frozen=True)
class Delivery:
    result: Result
    message: Message | None = None
    detail: str = ""  # why, when not SENT (kept on FailedDelivery rows)
    migrated_to: int | None = None  # the group's new supergroup id, when it had moved


async def edit_text(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> Delivery:
    """Edit a message's text in place (a group's board). SENT also when it was already so;
    FAILED with detail GONE when the message can no longer be edited."""
    return await _with_retries(
        bot.edit_message_text,
        text=text,
        chat_id=chat_id,
        message_id=message_id,
        reply_markup=markup,
    )


async def send_message(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
    silent: bool = False,
    thread_id: int | None = None,
    restate: Restate | None = None,
) -> Delivery:
    """`thread_id`: the forum topic to post in (None: the chat itself). `restate`: what the
    text should be if it leaves later than now (flood control held it), asked before every
    attempt after a wait; None from it drops the message (FAILED, detail STALE)."""
    return await _with_retries(
        bot.send_message,
        restate=restate,
        chat_id=chat_id,
        text=text,
        reply_markup=markup,
        disable_notification=silent,
        message_thread_id=thread_id,
    )


async def _with_retries(method: Any, *, restate: Restate | None = None, **kwargs: Any) -> Delivery:
    attempt, rate_waits = 0, 0
    migrated_to: int | None = None
    while True:
        chat_id = kwargs.get("chat_id")
        if restate is not None and (attempt or rate_waits):  # after a wait: still worth it?
            text = restate()
            if text is None:
                log.info("dropped a message to %s: its moment has passed", chat_id)
                return Delivery(Result.FAILED, detail=STALE, migrated_to=migrated_to)
            kwargs["text"] = text
        try:
            # The attempts are counted here, not again per request; the rate limiter asks
            # `restate` too, after any wait of its own.
            with own_retries(), restating(restate):
                sent = await method(**kwargs)
            # An edit answers True for an inline message and the Message otherwise.
            message = sent if isinstance(sent, Message) else None
            return Delivery(Result.SENT, message, migrated_to=migrated_to)
        except StaleMessage:
            log.info("dropped a message to %s: its moment passed while it waited", chat_id)
            return Delivery(Result.FAILED, detail=STALE, migrated_to=migrated_to)
        except ChatMigrated as error:
            if migrated_to is not None:  # moved twice in one send: not a group we understand
                log.warning("chat %s migrated again, to %s", chat_id, error.new_chat_id)
                return Delivery(Result.FAILED, detail="migrated twice", migrated_to=migrated_to)
            # The group became a supergroup: the same message goes to its new id, once.
            log.info("chat %s is now the supergroup %s", chat_id, error.new_chat_id)
            migrated_to = kwargs["chat_id"] = error.new_chat_id
        except Forbidden:
            log.info("chat %s has blocked the bot", chat_id)
            return Delivery(Result.BLOCKED, detail="forbidden", migrated_to=migrated_to)
        except RetryAfter as error:  # only without a rate limiter, or once its retries ran out
            # Flood control is not a fault: wait as told and try again, without spending one
            # of the attempts, so a busy fan-out drops nothing. Bounded all the same.
            wait = _seconds(error.retry_after)
            rate_waits += 1
            if wait > MAX_RETRY_AFTER_S or rate_waits > MAX_RATE_WAITS:
                log.warning("giving up on a message to %s: flood control %ss", chat_id, wait)
                return Delivery(
                    Result.FAILED, detail=f"429 retry_after {wait:g}s", migrated_to=migrated_to
                )
            await asyncio.sleep(wait)
        except BadRequest as error:
            said = str(error).lower()
            if _NOT_MODIFIED in said:
                return Delivery(Result.SENT, migrated_to=migrated_to)
            if any(reason in said for reason in _CANNOT_EDIT):
                log.info(
                    "message %s in %s can no longer be edited", kwargs.get("message_id"), chat_id
                )
                return Delivery(Result.FAILED, detail=GONE, migrated_to=migrated_to)
            if _GONE in said:
                # A chat that worked before and is now unknown: the account was deleted. Like a
                # block, nothing will reach it; retrying every reminder day only adds failures.
                log.info("chat %s no longer exists", chat_id)
                return Delivery(Result.BLOCKED, detail=f"400 {error}", migrated_to=migrated_to)
            log.warning("Telegram refused a message to %s: %s", chat_id, error)
            return Delivery(Result.FAILED, detail=f"400 {error}", migrated_to=migrated_to)
        except (TimedOut, NetworkError) as error:  # 5xx, timeouts, dropped connections
            attempt += 1
            if attempt >= ATTEMPTS:
                log.warning("giving up on a message to %s: %s", chat_id, error)
                detail = f"{type(error).__name__}: {error}"
                return Delivery(Result.FAILED, detail=detail, migrated_to=migrated_to)
            await asyncio.sleep(BACKOFF_S[min(attempt - 1, len(BACKOFF_S) - 1)])


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


async def send_photo(
    bot: Bot,
    chat_id: int,
    photo: bytes,
    *,
    caption: str | None = None,
    silent: bool = False,
) -> Delivery:
    """A picture (PNG bytes), with an optional caption of at most 1024 characters."""
    return await _with_retries(
        bot.send_photo,
        chat_id=chat_id,
        photo=photo,
        caption=caption,
        disable_notification=silent,
    )
