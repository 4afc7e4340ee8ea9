"""The bot's HTTP requests, retried when Telegram certainly did not take them.

Every request the bot makes (a handler's reply, an answer to a tap, an edit) goes through PTB's
HTTPXRequest; this one tries again, a bounded number of times with a short backoff, when the
failure proves the request had no effect:

- a 5xx answer (502 Bad Gateway, 500, 503, 504): Telegram answered, and said it did not do it;
- a failure to connect (refused, unreachable, DNS, a connect timeout) or a wait for a free
  connection in the pool (PTB: "Request was *not* sent to Telegram"): nothing left the machine.

A request that was sent and then timed out waiting for its answer (a read or write timeout, or
the connection dropped mid-answer) is NOT retried: Telegram may well have taken it, and a
second copy of a reply or a walk cue is worse than the one that arrived unconfirmed. It reaches
the handler as TimedOut, and the error handler's apology ("please try again") covers the case
where it did not arrive. The reasoning is in docs/reliability.md.

429s are the rate limiter's (walkbot/ratelimit.py). walkbot.delivery has its own retries for
proactive sends (and records what it gave up on): inside `own_retries()` this layer sends once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

BACKOFF_S = (0.25, 1.0)  # two retries: about 1.25 s at most on top of the attempts themselves

_OWN_RETRIES: ContextVar[bool] = ContextVar("walkbot_own_retries", default=False)

# httpx failures that happen before a single byte of the request reached Telegram.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@contextlib.contextmanager
def own_retries() -> Iterator[None]:
    """The caller retries by itself (walkbot.delivery): requests made inside are sent once."""
    token = _OWN_RETRIES.set(True)
    try:
        yield
    finally:
        _OWN_RETRIES.reset(token)


def never_sent(error: BaseException) -> bool:
    """True when the request certainly did not reach Telegram (see the module's docstring)."""
    return isinstance(error, (TimedOut, NetworkError)) and isinstance(error.__cause__, _NEVER_SENT)


class RetryingRequest(HTTPXRequest):
    """HTTPXRequest that retries 5xx answers and requests that never left (module docstring).
    `backoff`: the wait before each retry; its length is the number of retries."""

    def __init__(self, *args: Any, backoff: Sequence[float] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._backoff = tuple(BACKOFF_S if backoff is None else backoff)

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        retries = () if _OWN_RETRIES.get() else self._backoff
        for wait in (*retries, None):
            try:
                code, payload = await super().do_request(*args, **kwargs)
            except (TimedOut, NetworkError) as error:
                if wait is None or not never_sent(error):
                    raise
                log.info("request not sent (%s); trying again in %gs", error, wait)
            else:
                if code < 500 or wait is None:
                    return code, payload
                log.info("Telegram answered %d; trying again in %gs", code, wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")
