"""Updates through the inbox in a running bot: a redelivery is answered once, in polling and
webhook mode alike; a store that fails at receipt acknowledges nothing; and what a stopped bot
stored and did not handle is handled at start-up, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from tests.e2e.test_webhook import webhook_bot  # noqa: F401 - the webhook-mode fixture
from tests.people import onboarded_chat
from walkbot.bot import texts
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.services import updates
from walkbot.services.updates import Received, store_updates
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import InboxUpdate

HELP_STARTS = "Here's what I can do"


async def answered_once(person: FakeUser) -> None:
    """/privacy goes after whatever came before it, in order: once its answer is here, any
    second answer to an earlier /help would be here too. (The person was greeted with one
    /help before the test: see onboarded_chat.)"""
    person.send("/privacy")
    await person.wait_for_text("What I keep")
    assert sum(m.body.startswith(HELP_STARTS) for m in person.messages()) == 2


async def all_done(sessions: SessionFactory, *, timeout: float = 10.0) -> None:
    """Waits until every stored update is marked done. A handler that writes nothing is marked
    right after it ends, just after its reply was sent: a test that has just seen the reply
    must not expect the mark in the same instant."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with transaction(sessions) as session:
            rows = await session.exec(
                select(InboxUpdate.update_id).where(col(InboxUpdate.done_at).is_(None))
            )
            left = list(rows.all())
        if not left:
            return
        assert asyncio.get_running_loop().time() < deadline, f"updates not done: {left}"
        await asyncio.sleep(0.05)


@pytest.fixture(params=["polling", "webhook"])
def running(request: pytest.FixtureRequest) -> RunningBot:
    name = "bot" if request.param == "polling" else "webhook_bot"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


async def test_the_same_update_twice_is_answered_once(
    api: FakeBotApi, running: RunningBot, sessions: SessionFactory
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    sent = ann.send("/help")
    await ann.wait_for_text(HELP_STARTS)
    api.inject_update(sent)  # Telegram delivers it again
    await answered_once(ann)
    await all_done(sessions)
    async with transaction(sessions) as session:
        row = await session.get(InboxUpdate, sent["update_id"])
    assert row is not None and row.body is None  # done: the message is not kept


async def test_a_store_failing_at_receipt_answers_503_and_the_retry_is_handled_once(
    api: FakeBotApi,
    webhook_bot: RunningBot,  # noqa: F811
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    real = updates.store_updates
    failures: list[int] = []

    async def fails_once(session: Any, **kwargs: Any) -> set[int]:
        if not failures:
            failures.append(1)
            raise OperationalError("INSERT INTO update_inbox ...", {}, Exception("db down"))
        return await real(session, **kwargs)

    monkeypatch.setattr("walkbot.inbox.store_updates", fails_once)
    sent = ann.send("/help")
    await ann.wait_for_text(HELP_STARTS)  # the fake tries again 0.5 s after the 503
    statuses = [status for uid, status in api.webhook_deliveries if uid == sent["update_id"]]
    assert statuses == [503, 200]
    await answered_once(ann)
    # Ann was told once that it could not be saved yet; the retry was answered.
    assert [m.body for m in ann.messages()].count(texts.STORE_DOWN_HELD) == 1


async def test_what_was_stored_and_not_handled_is_handled_at_start_up_once(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory
) -> None:
    """As a process stopped between receipt and handling leaves it (the real SIGKILL is in
    test_inbox_process.py): stored, not done, and Telegram still holding it."""
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    await bot.stop()
    sent = ann.send("/help")  # Telegram holds it until a getUpdates confirms it
    async with transaction(sessions) as session:
        received = [Received(sent["update_id"], ann.id, sent)]
        await store_updates(session, received=received, now=datetime.now(UTC))
    await bot.start()  # handled at start-up; then fetched from Telegram again, and refused
    await ann.wait_for_text(HELP_STARTS)
    await answered_once(ann)
    await all_done(sessions)
