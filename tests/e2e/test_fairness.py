"""One person writing faster than Telegram lets us answer (about 1 message a second per chat)
waits for their own answers; nobody else does.

Checked by the order in which the answers reached the fake Bot API, not by how long anyone
waited: on a loaded machine every reply is slower, but Alice's still overtakes Bob's queue."""

from __future__ import annotations

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

    alice.send("/help")
    await alice.wait_for_text("Here's what I can do", timeout=5)
    await api.until(lambda: len(api.messages(bob.id)) == 8, timeout=15)
    assert all("Here's what I can do" in m.body for m in api.messages(bob.id))

    answers = [
        (int(c.params["chat_id"]), c.received_at)
        for c in api.calls
        if c.method == "sendMessage" and c.status == 200
    ]
    bobs = [at for chat, at in answers if chat == bob.id]
    alices_turn = [chat for chat, _ in answers].index(alice.id)
    # Alice's answer went out while Bob still had answers waiting: handled one update at a
    # time, it came after all eight of his (and took about 5 s). Bob's 7th leaves at least
    # 4.4 s after his 1st, so this holds unless her /help took longer than that.
    assert [chat for chat, _ in answers[alices_turn:]].count(bob.id) >= 2
    # Bob's answers after his burst of three are paced as Telegram asks, about 1 a second:
    # the 8th reached the API at least 5 s after the 1st (the pacer's 1.1 s leaves 5.5 s).
    assert bobs[7] - bobs[0] >= 5.0
