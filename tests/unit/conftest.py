"""Unit-test fixtures for virtual time.

Tests about timing (the rate limiter, delivery's backoff, per-chat ordering) run on looptime's
fast-forwarded event loop (`pytestmark = pytest.mark.looptime`): `loop.time()` and
`asyncio.sleep` become virtual and exact, so what they assert holds whatever the machine is
doing, and a wait of seconds costs none.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from tests.fakes import RecordingNotifier
from tests.unit.walk_jobs import app_at_now, record_sends
from walkbot.context import WalkbotApp


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


# The walk-job tests (cue races, the overdue sweep, stale cues, the live hand-over, records of
# what jobs give up on) share one application on a fixed clock and a recording notifier. A
# module with an `app` or `notifier` of its own (test_web, test_live_api) overrides these.
@pytest.fixture
async def app(database_url: str) -> AsyncIterator[WalkbotApp]:
    async with app_at_now(database_url) as application:
        yield application


@pytest.fixture
def notifier(app: WalkbotApp) -> RecordingNotifier:
    return record_sends(app)
