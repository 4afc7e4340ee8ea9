"""When the store fails under an update: one apology, and nothing handled twice or half; when
it fails at receipt, nothing is acknowledged, and the update is handled once it works again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from tests.people import onboarded_chat
from walkbot.bot import texts
from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.services import updates
from walkbot.store.db import SessionFactory


async def test_a_failing_mark_as_handled_apologises_once_and_handles_nothing(
    api: FakeBotApi,
    bot: RunningBot,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)

    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT INTO update_inbox ...", {}, Exception("db down"))

    # The handler's first transaction marks its update done (walkbot/inbox.py): that fails,
    # so the transaction does, and the handler with it.
    monkeypatch.setattr("walkbot.inbox.finish_updates", failing)
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


async def test_a_failing_store_at_receipt_is_fetched_again_and_handled_once(
    api: FakeBotApi,
    bot: RunningBot,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    real = updates.store_updates
    failures: list[int] = []

    async def fails_once(session: Any, **kwargs: Any) -> set[int]:
        if not failures:
            failures.append(len(kwargs["received"]))
            raise OperationalError("INSERT INTO update_inbox ...", {}, Exception("db down"))
        return await real(session, **kwargs)

    monkeypatch.setattr("walkbot.inbox.store_updates", fails_once)
    sent = ann.send("/help")
    notice = await ann.next_message()  # not stored: Ann is told, not left in silence
    assert notice.body == texts.STORE_DOWN_HELD
    answer = await ann.next_message()  # PTB backs off (1 s), asks again, gets it again
    assert answer.body.startswith("Here's what I can do") and failures == [1]
    served = [
        call
        for call in api.calls_to("getUpdates")
        if any(u["update_id"] == sent["update_id"] for u in call.response.get("result", []))
    ]
    assert len(served) >= 2  # not confirmed while it was not stored

    ann.send("/privacy")  # after the /help: anything /help still had to say came before it
    await ann.next_message()
    # One answer, and the /help that greeted Ann before the test (onboarded_chat).
    assert sum(m.body.startswith("Here's what I can do") for m in ann.messages()) == 2
