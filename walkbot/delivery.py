"""The one way messages leave outside a reply: bounded retries, and a clear word on blocked chats.

A 429 is retried by the bot's rate limiter (walkbot.ratelimit, after retry_after), and here
again once its retries run out (429s never use up the attempts); this adds what it does not do:
backoff for 5xx and timeouts, and telling the caller when the person has blocked the bot.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

log = logging.getLogger(__name__)

ATTEMPTS = 4
BACKOFF_S = (0.5, 1.0, 2.0)
MAX_RETRY_AFTER_S = 60.0
MAX_RATE_WAITS = 20  # 429s in a row for one message before it counts as failed
_GONE = "chat not found"  # Telegram's 400 for a chat id it no longer knows


class Result(Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403: blocked, deactivated or kicked; stop writing to this chat
    FAILED = "failed"  # given up after retries, or a request Telegram will never accept


@dataclass(frozen=True)
class Delivery:
    result: Result
    message: Message | None = None
    detail: str = ""  # why, when not SENT (kept on FailedDelivery rows)


async def send_message(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
    silent: bool = False,
) -> Delivery:
    return await _with_retries(
        bot.send_message,
        chat_id=chat_id,
        text=text,
        reply_markup=markup,
        disable_notification=silent,
    )


async def _with_retries(method: Any, **kwargs: Any) -> Delivery:
    chat_id = kwargs.get("chat_id")
    attempt, rate_waits = 0, 0
    while True:
        try:
            return Delivery(Result.SENT, await method(**kwargs))
        except Forbidden:
            log.info("chat %s has blocked the bot", chat_id)
            return Delivery(Result.BLOCKED, detail="forbidden")
        except RetryAfter as error:  # only without a rate limiter, or once its retries ran out
            # Flood control is not a fault: wait as told and try again, without spending one
            # of the attempts, so a busy fan-out drops nothing. Bounded all the same.
            wait = _seconds(error.retry_after)
            rate_waits += 1
            if wait > MAX_RETRY_AFTER_S or rate_waits > MAX_RATE_WAITS:
                log.warning("giving up on a message to %s: flood control %ss", chat_id, wait)
                return Delivery(Result.FAILED, detail=f"429 retry_after {wait:g}s")
            await asyncio.sleep(wait)
        except BadRequest as error:
            if _GONE in str(error).lower():
                # A chat that worked before and is now unknown: the account was deleted. Like a
                # block, nothing will reach it; retrying every reminder day only adds failures.
                log.info("chat %s no longer exists", chat_id)
                return Delivery(Result.BLOCKED, detail=f"400 {error}")
            log.warning("Telegram refused a message to %s: %s", chat_id, error)
            return Delivery(Result.FAILED, detail=f"400 {error}")
        except (TimedOut, NetworkError) as error:  # 5xx, timeouts, dropped connections
            attempt += 1
            if attempt >= ATTEMPTS:
                log.warning("giving up on a message to %s: %s", chat_id, error)
                return Delivery(Result.FAILED, detail=f"{type(error).__name__}: {error}")
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
