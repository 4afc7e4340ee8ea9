from __future__ import annotations

from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot


async def test_start_greets_and_asks_consent(api: FakeBotApi, bot: RunningBot) -> None:
    alice = api.user("Alice")
    alice.send("/start")
    welcome = await alice.next_message()
    assert "walkbot" in welcome.body
    assert welcome.button_labels() == ["Yes, let's start", "No thanks"]
