"""One person writing faster than Telegram lets us answer (about 1 message a second per chat)
waits for their own answers; nobody else does."""

from __future__ import annotations

import time

from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot


async def test_a_hurried_person_does_not_hold_up_anyone_else(
    api: FakeBotApi, bot: RunningBot
) -> None:
    assert bot.settings.rate_limit  # the production limiter: about 1 message/s per chat
    bob, alice = api.user("Bob"), api.user("Alice")
    for _ in range(8):
        bob.send("/help")
    await api.until(lambda: len(api.messages(bob.id)) >= 3, timeout=5)  # Bob's burst is used up

    asked = time.monotonic()
    alice.send("/help")
    await alice.wait_for_text("Here's what I can do", timeout=5)
    alice_waited = time.monotonic() - asked

    await api.until(lambda: len(api.messages(bob.id)) == 8, timeout=15)
    bob_took = time.monotonic() - asked
    assert alice_waited < 1.0, alice_waited  # was ~5 s when updates ran one at a time
    assert bob_took > 3.0  # Bob's five remaining answers are spaced about a second apart
    assert all("Here's what I can do" in m.body for m in api.messages(bob.id))
