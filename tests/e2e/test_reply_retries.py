"""A handler's reply that Telegram answered with a 5xx is sent again (walkbot/request.py), so
a 502 costs the person neither the reply nor an apology; retries stay bounded. The backoff is
shortened to hundredths of a second: the fake Bot API answers at once, so nothing here hangs on
timing, only on the order of the calls it records."""

from __future__ import annotations

import pytest

from tests.people import onboarded_chat
from walkbot import request
from walkbot.bot import texts
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.store.db import SessionFactory


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request, "BACKOFF_S", (0.01, 0.02))


@pytest.fixture
async def alice(api: FakeBotApi, sessions: SessionFactory, bot: RunningBot) -> FakeUser:
    return await onboarded_chat(api, sessions, "Alice")


def sends(api: FakeBotApi, chat_id: int) -> list[int]:
    return [
        c.status
        for c in api.calls
        if c.method == "sendMessage" and str(c.params.get("chat_id")) == str(chat_id)
    ]


async def test_a_reply_that_met_502s_arrives_once_without_an_apology(
    api: FakeBotApi, alice: FakeUser
) -> None:
    before = len(sends(api, alice.id))
    api.fail_next("sendMessage", status=502, chat_id=alice.id, times=2)
    alice.send("/help")
    await alice.wait_for_text(texts.HELP[:30])
    assert sends(api, alice.id)[before:] == [502, 502, 200]
    alice.send("/privacy")  # the next update is handled after any apology would have been
    await alice.wait_for_text(texts.PRIVACY[:30])
    assert not any("went wrong" in m.body for m in alice.messages())
    assert sum(texts.HELP[:30] in m.body for m in alice.messages()) == 1


async def test_a_reply_that_keeps_failing_is_given_up_on(api: FakeBotApi, alice: FakeUser) -> None:
    before = len(sends(api, alice.id))
    api.fail_next("sendMessage", status=503, chat_id=alice.id, times=3)
    alice.send("/help")
    await alice.wait_for_text("went wrong")  # the apology, after three refused attempts
    assert sends(api, alice.id)[before:] == [503, 503, 503, 200]
