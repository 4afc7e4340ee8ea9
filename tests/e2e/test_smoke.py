from __future__ import annotations

from tests.e2e.harness import RunningBot
from walkbot.sandbox import FakeBotApi


async def test_start_greets_and_asks_consent(api: FakeBotApi, bot: RunningBot) -> None:
    alice = api.user("Alice")
    alice.send("/start")
    welcome = await alice.next_message()
    assert "walkbot" in welcome.body
    assert welcome.button_labels() == ["Yes, let's start", "No thanks"]
