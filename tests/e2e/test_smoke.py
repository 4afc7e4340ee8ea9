from __future__ import annotations

import asyncio

from walkbot.runner import Running
from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings

CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


async def test_start_greets_and_asks_consent(api: FakeBotApi, bot: RunningBot) -> None:
    alice = api.user("Alice")
    alice.send("/start")
    welcome = await alice.next_message()
    assert "walkbot" in welcome.body
    assert welcome.button_labels() == ["Yes, let's start", "No thanks"]


async def test_a_409_on_polling_is_told_apart_and_asks_to_stop(
    api: FakeBotApi, settings: Settings
) -> None:
    """PTB would retry a 409 for ever, splitting updates with the other poller."""
    running = Running(settings, host="127.0.0.1", poll_timeout=1)
    await running.start()
    try:
        await running.wait_leading()
        assert not running.conflict.is_set()
        api.fail_next("getUpdates", status=409, retry_after=None, description=CONFLICT, times=2)
        async with asyncio.timeout(10):
            await running.conflict.wait()
    finally:
        await running.stop()


async def test_a_single_409_is_a_handover_overlap_and_polling_goes_on(
    api: FakeBotApi, settings: Settings
) -> None:
    """When the lease passes on, the old leader's last getUpdates can end the new leader's
    first long poll once (Telegram answers it 409): that is retried, not a reason to stop."""
    running = Running(settings, host="127.0.0.1", poll_timeout=1)
    await running.start()
    try:
        await running.wait_leading()
        api.fail_next("getUpdates", status=409, retry_after=None, description=CONFLICT)
        await api.wait_for(lambda c: c.method == "getUpdates" and c.status == 409, timeout=10)
        alice = api.user("Alice")
        alice.send("/start")
        await alice.wait_for_text("walkbot", timeout=10)  # still polling
        assert not running.conflict.is_set()
    finally:
        await running.stop()


async def test_a_409_while_the_lease_is_in_doubt_means_another_leads_and_steps_down(
    api: FakeBotApi, settings: Settings
) -> None:
    """A leader whose lease session failed works on in doubt (walkbot/lease.py); another
    process polling (Telegram's 409) can only mean it took the lease: step down, not exit."""
    running = Running(settings, host="127.0.0.1", poll_timeout=1)
    await running.start()
    try:
        await running.wait_leading()
        running.lease.in_doubt.set()
        api.fail_next("getUpdates", status=409, retry_after=None, description=CONFLICT)
        async with asyncio.timeout(10):
            await running.lease.lost.wait()
        assert not running.conflict.is_set()  # a step-down, not "another bot: stop"
        assert running.term is not None
        async with asyncio.timeout(10):
            await running.term  # the leader's term is over: the caller steps down
    finally:
        await running.stop()
