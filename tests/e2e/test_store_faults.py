"""When the store fails under an update: one apology, and nothing handled twice or half."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from tests.people import onboarded_chat
from walkbot.bot import texts
from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.store.db import SessionFactory


async def test_a_failing_duplicate_check_apologises_once_and_handles_nothing(
    api: FakeBotApi,
    bot: RunningBot,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)

    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT INTO processed_updates ...", {}, Exception("db down"))

    monkeypatch.setattr("walkbot.bot.dedupe.record_updates", failing)
    ann.send("/history")
    apology = await ann.next_message()
    assert apology.body == texts.STORE_DOWN  # the store is out of reach: nothing was saved

    monkeypatch.undo()
    ann.send("/help")
    after = await ann.next_message()
    # The next message is the answer to /help: /history was never handled behind the apology
    # and no second apology came.
    assert after.body.startswith("Here's what I can do")
    assert [m.body for m in ann.messages()[-2:]] == [texts.STORE_DOWN, after.body]
