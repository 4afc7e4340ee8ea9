"""Unit-test fixtures for virtual time.

Tests about timing (the rate limiter, delivery's backoff, per-chat ordering) run on looptime's
fast-forwarded event loop (`pytestmark = pytest.mark.looptime`): `loop.time()` and
`asyncio.sleep` become virtual and exact, so what they assert holds whatever the machine is
doing, and a wait of seconds costs none.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest


def loop_time() -> float:
    return asyncio.get_running_loop().time()


@pytest.fixture
def fake_api_on_loop_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake Bot API counts its flood limits (and stamps `Call.received_at`) on the event
    loop's clock instead of time.monotonic(), so on a fast-forwarded loop it sees the same
    virtual time as the bot: a wait of 1.1 s there is 1.1 s here too."""
    monkeypatch.setattr(
        "walkbot.sandbox.fakeapi.time", SimpleNamespace(monotonic=loop_time, time=time.time)
    )
