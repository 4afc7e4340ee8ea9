"""The one way messages leave outside a reply: bounded retries, and a clear word on blocked chats.

A 429 is retried by PTB's AIORateLimiter (after retry_after); this adds what it does not do:
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


class Result(Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403: blocked, deactivated or kicked; stop writing to this chat
    FAILED = "failed"  # given up after retries, or a request Telegram will never accept


@dataclass(frozen=True)
class Delivery:
    result: Result
    message: Message | None = None


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
    for attempt in range(ATTEMPTS):
        try:
            return Delivery(Result.SENT, await method(**kwargs))
        except Forbidden:
            log.info("chat %s has blocked the bot", chat_id)
            return Delivery(Result.BLOCKED)
        except RetryAfter as error:  # only without a rate limiter, or once its retries ran out
            wait = _seconds(error.retry_after)
            if wait > MAX_RETRY_AFTER_S or attempt == ATTEMPTS - 1:
                break
            await asyncio.sleep(wait)
        except BadRequest as error:
            log.warning("Telegram refused a message to %s: %s", chat_id, error)
            return Delivery(Result.FAILED)
        except (TimedOut, NetworkError) as error:  # 5xx, timeouts, dropped connections
            if attempt == ATTEMPTS - 1:
                log.warning("giving up on a message to %s: %s", chat_id, error)
                break
            await asyncio.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
    return Delivery(Result.FAILED)


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
