"""A person who blocks the bot, told by Telegram or seen through a 403 on any kind of message:
the bot stops writing to them, leaves nothing half-asked, and never answers the fault with an
apology."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.rows import no_jobs_left, row_when
from tests.e2e.test_walks import start_walk
from tests.people import onboarded_chat
from walkbot.bot import texts
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.scheduling import cues
from walkbot.store.db import SessionFactory


@pytest.fixture
async def alice(api: FakeBotApi, sessions: SessionFactory, bot: RunningBot) -> FakeUser:
    return await onboarded_chat(api, sessions, "Alice")


def is_inactive(row: dict[str, object]) -> bool:
    return not row["active"]


async def test_blocked_as_the_effort_question_goes_out(
    api: FakeBotApi, alice: FakeUser, bot: RunningBot, database_url: str
) -> None:
    api.fail_next("sendMessage", status=403, chat_id=alice.id, text_contains="How hard")
    await start_walk(alice, "1x10/10")
    await alice.wait_for_text("BACKWARD")
    alice.send("/stop")
    await row_when(database_url, "users", alice.id, is_inactive)
    walk = await row_when(database_url, "walks", alice.id, lambda r: r["status"] == "ended")
    assert walk["rating_step"] is None  # no question left open for a reply that cannot come
    assert bot.app is not None and bot.app.job_queue is not None
    reminder = cues.reminder_job_name(int(str(walk["id"])))
    await no_jobs_left(bot.app.job_queue, reminder)  # and no reminder later


async def test_a_reply_refused_with_403_marks_them_blocked_without_an_apology(
    api: FakeBotApi, alice: FakeUser, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    api.fail_next("sendMessage", status=403, chat_id=alice.id, text_contains="what I can do")
    with caplog.at_level(logging.INFO):
        alice.send("/help")
        await row_when(database_url, "users", alice.id, is_inactive)
    apologies = [c for c in api.calls_to("sendMessage") if c.params.get("text") == texts.ERROR]
    assert apologies == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "has blocked the bot" in caplog.text


async def test_told_of_a_block_mid_walk_the_walk_ends_without_another_send(
    api: FakeBotApi, alice: FakeUser, bot: RunningBot, database_url: str
) -> None:
    await start_walk(alice, "2x10/10")
    await alice.wait_for_text("BACKWARD")
    sends = len(api.calls_to("sendMessage"))
    alice.block()  # Telegram's my_chat_member (kicked) reaches the bot before the next cue
    walk = await row_when(database_url, "walks", alice.id, lambda r: r["status"] == "ended")
    assert walk["end_reason"] == "blocked"
    assert is_inactive(await row_when(database_url, "users", alice.id, is_inactive))
    assert bot.app is not None and bot.app.job_queue is not None
    prefix = f"walk:{walk['id']}:cue:"
    await no_jobs_left(bot.app.job_queue, prefix)
    assert len(api.calls_to("sendMessage")) == sends  # no cue tried against the block
