"""The real `walkbot run` process killed (SIGKILL) between receiving an update and handling it,
in polling and in webhook mode: after a restart the update is handled, exactly once.

"Between receipt and handling" is made exact, not waited for: WALKBOT_TEST_HOLD_UPDATES
(walkbot.inbox.HOLD_ENV, a test-only setting) makes the first process write the update's id
to a file when it is about to handle it, and wait there to be killed. Before the inbox, this
update was lost: the polling offset or the webhook's 200 had told Telegram it was delivered.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from sqlmodel import select

from tests.e2e.test_process import polling, spawn, spawn_webhook, wait_exit
from tests.people import onboarded_chat
from walkbot.inbox import HOLD_ENV
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import InboxUpdate


def _holds(hold: Path, update_id: int) -> bool:
    return hold.exists() and str(update_id) in hold.read_text().split()


async def held(hold: Path, update_id: int, timeout: float = 30.0) -> None:
    """Until the process says it holds `update_id`, received and not handled. (The file is
    looked at every 50 ms: api.until would look only when the fake API is called.)"""
    deadline = asyncio.get_running_loop().time() + timeout
    while not _holds(hold, update_id):
        assert asyncio.get_running_loop().time() < deadline, "the update was never held"
        await asyncio.sleep(0.05)


async def stored_not_done(sessions: SessionFactory, update_id: int) -> bool:
    async with transaction(sessions) as session:
        row = await session.get(InboxUpdate, update_id)
    return row is not None and row.done_at is None and row.body is not None


async def answers(person: FakeUser, text: str) -> int:
    """After whatever the person sent before: /privacy is answered in order, so once its answer
    is here, a second answer to an earlier update would be here too."""
    person.send("/privacy")
    await person.wait_for_text("What I keep", timeout=15)
    return sum(text in m.body for m in person.messages())


async def test_polling_sigkill_between_receipt_and_handling_then_handled_once(
    api: FakeBotApi, sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann")
    hold = tmp_path / "held"
    since = len(api.calls)
    process = spawn(api, database_url, **{HOLD_ENV: str(hold)})
    try:
        await polling(api, since)
        sent = ann.send("/help")
        await held(hold, sent["update_id"])
        process.kill()  # SIGKILL: the offset of /help was never confirmed by a later call
        await wait_exit(process, 5)
        assert ann.messages() == [] and await stored_not_done(sessions, sent["update_id"])

        since = len(api.calls)
        process = spawn(api, database_url)
        await polling(api, since)  # handled at start-up; Telegram's copy is then refused
        await ann.wait_for_text("Here's what I can do", timeout=15)
        assert await answers(ann, "Here's what I can do") == 1
        process.send_signal(signal.SIGTERM)
        assert await wait_exit(process, 10) == 0
    finally:
        if process.poll() is None:
            process.kill()


async def test_webhook_sigkill_after_the_200_then_handled_once_and_a_redelivery_too(
    api: FakeBotApi, sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann")
    hold = tmp_path / "held"
    process, _ = await spawn_webhook(api, database_url, **{HOLD_ENV: str(hold)})
    try:
        sent = ann.send("/history")  # a handler that reads and writes in a transaction
        await held(hold, sent["update_id"])
        assert (sent["update_id"], 200) in api.webhook_deliveries  # Telegram's part is over
        process.kill()
        await wait_exit(process, 5)
        assert ann.messages() == [] and await stored_not_done(sessions, sent["update_id"])

        process, _ = await spawn_webhook(api, database_url)  # handled before the webhook is set
        first = await ann.next_message(timeout=15)
        api.inject_update(sent)  # and Telegram sends it once more, as it may
        assert await answers(ann, first.body) == 1
        async with transaction(sessions) as session:
            left = (await session.exec(select(InboxUpdate).where(InboxUpdate.body != None))).all()  # noqa: E711
        assert [row.update_id for row in left if row.update_id == sent["update_id"]] == []
        process.send_signal(signal.SIGTERM)
        assert await wait_exit(process, 10) == 0
    finally:
        if process.poll() is None:
            process.kill()
