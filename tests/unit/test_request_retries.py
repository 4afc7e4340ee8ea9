"""Retrying the bot's requests (walkbot/request.py): a 5xx answer and a failure to connect are
tried again, a bounded number of times with backoff; a request that was sent and then timed
out is not (Telegram may have taken it). httpx's MockTransport stands in for Telegram, and
looptime's loop makes every backoff virtual, so the waits are exact and cost no time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from walkbot.request import BACKOFF_S, RetryingRequest, never_sent, own_retries

pytestmark = pytest.mark.looptime

TOKEN = "123456:TEST-token"
SENT = {"ok": True, "result": {"message_id": 5, "date": 0, "chat": {"id": 42, "type": "private"}}}

Step = int | type[httpx.RequestError]  # a status to answer with, or an httpx error to raise


def telegram(steps: list[Step], seen: list[float]) -> Callable[[httpx.Request], httpx.Response]:
    """Answers each request with the next step (the last one repeats), noting its loop time."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(asyncio.get_running_loop().time())
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        if not isinstance(step, int):
            raise step("simulated", request=request)
        body = SENT if step == 200 else {"ok": False, "error_code": step, "description": "Bad"}
        return httpx.Response(step, content=json.dumps(body).encode())

    return handle


async def send(steps: list[Step]) -> tuple[BaseException | None, list[float]]:
    """One sendMessage through a Bot on RetryingRequest; the error it raised (if any) and the
    loop times, from the first, at which Telegram saw each attempt."""
    seen: list[float] = []
    transport = httpx.MockTransport(telegram(steps, seen))
    request = RetryingRequest(httpx_kwargs={"transport": transport})
    bot = Bot(TOKEN, request=request, get_updates_request=RetryingRequest())
    await request.initialize()
    error: BaseException | None = None
    try:
        await bot.send_message(42, "hello")
    except Exception as raised:
        error = raised
    finally:
        await request.shutdown()
    return error, [round(t - seen[0], 6) for t in seen]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_is_tried_again_after_a_backoff(status: int) -> None:
    error, seen = await send([status, 200])
    assert error is None and seen == [0, BACKOFF_S[0]]


async def test_retries_are_bounded() -> None:
    error, seen = await send([502])
    assert isinstance(error, NetworkError) and not isinstance(error, TimedOut)
    assert seen == [0, BACKOFF_S[0], BACKOFF_S[0] + BACKOFF_S[1]]


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_a_request_that_never_left_is_tried_again(failure: type[httpx.RequestError]) -> None:
    error, seen = await send([failure, failure, 200])
    assert error is None and seen == [0, BACKOFF_S[0], BACKOFF_S[0] + BACKOFF_S[1]]


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError]
)
async def test_a_request_that_may_have_arrived_is_not_sent_twice(
    failure: type[httpx.RequestError],
) -> None:
    error, seen = await send([failure, 200])
    assert isinstance(error, NetworkError) and not never_sent(error)
    assert seen == [0]


@pytest.mark.parametrize("status", [400, 403, 409, 429])
async def test_a_refusal_is_an_answer_not_a_fault(status: int) -> None:
    error, seen = await send([status, 200])
    assert error is not None and seen == [0]


async def test_a_caller_with_retries_of_its_own_sends_once() -> None:
    """walkbot.delivery counts its own attempts (and records what it gave up on)."""
    with own_retries():
        error, seen = await send([502, 200])
    assert isinstance(error, NetworkError) and seen == [0]
