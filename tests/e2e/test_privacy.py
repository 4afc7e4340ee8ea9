"""/export sends a person their own data; /deleteme erases it after a confirmation, and with it
every timed job about them: nothing is sent to them afterwards."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import create_engine, insert

from tests.e2e.rows import no_jobs_left, row_when
from tests.e2e.test_sixmin import set_up
from tests.e2e.test_walks import start_walk, walk_row
from tests.people import onboarded_chat
from tests.personal import T0, rows_naming, seed_everywhere
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.services.dispatch import IN_FLIGHT
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, sync_url
from walkbot.store.models import FailedDelivery


async def test_export_then_delete(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    alice.send("/export")
    export = await alice.wait_for_text("Your walkbot data")
    assert export.filename == "walkbot-data.json" and export.document is not None
    data = json.loads(export.document)
    assert data["profile"]["telegram_id"] == alice.id
    assert data["profile"]["timezone"] == "Europe/London"

    assert data["walks"] == []

    alice.send("/walk 1x10/10")
    await alice.wait_for_text("Before you start")
    alice.send("/export")
    export = await alice.wait_for_text("Your walkbot data")
    assert json.loads(export.document or b"{}")["walks"][0]["status"] == "ready"
    walks = await alice.wait_for_text("Your walks, for a spreadsheet")
    assert walks.filename == "walkbot-walks.csv" and walks.document is not None
    [walk] = csv.DictReader(io.StringIO(walks.document.decode("utf-8-sig")))
    assert walk["status"] == "ready"
    tests = await alice.wait_for_text("Your six-minute tests")
    assert tests.filename == "walkbot-six-minute-tests.csv"
    assert list(csv.DictReader(io.StringIO((tests.document or b"").decode("utf-8-sig")))) == []

    alice.send("/deleteme")
    confirm = await alice.wait_for_text("can't be undone")
    assert "challenge" in confirm.body and "six-minute tests" in confirm.body
    alice.tap("No, keep it", message=confirm)
    await api.wait_for(lambda c: c.method == "editMessageText" and "Kept" in str(c.params))
    assert walk_row(database_url, alice.id) != {}

    alice.send("/deleteme")
    confirm = await alice.wait_for_text("can't be undone")
    alice.tap("Yes, delete everything", message=confirm)
    await api.wait_for(lambda c: "everything about you is deleted" in str(c.params))
    assert walk_row(database_url, alice.id) == {}
    alice.send("/export")
    await alice.wait_for_text("don't hold any data")


async def test_privacy_fits_one_message(api: FakeBotApi, bot: RunningBot) -> None:
    gina = api.user("Gina")
    gina.send("/privacy")
    text = await gina.wait_for_text("What I keep")
    assert len(text.body) <= 4096
    assert "/export" in text.body and "/deleteme" in text.body and "totals" in text.body


@pytest.fixture
async def quick(settings: Settings) -> AsyncIterator[RunningBot]:
    """The bot with a 12-second six-minute test."""
    running = RunningBot(settings.model_copy(update={"six_minute_test_seconds": 12}))
    await running.start()
    yield running
    await running.stop()


def _jobs_about(bot: RunningBot, prefix: str) -> list[str]:
    assert bot.app is not None and bot.app.job_queue is not None
    return [j.name for j in bot.app.job_queue.jobs() if j.name and j.name.startswith(prefix)]


def _calls_to(api: FakeBotApi, chat_id: int, after: int) -> list[Any]:
    return [c for c in api.calls[after:] if str(c.params.get("chat_id")) == str(chat_id)]


async def _under_way(user: FakeUser, database_url: str, what: str) -> str:
    """Starts a walk or a six-minute test and waits for its first cue; its jobs' prefix."""
    if what == "walk":
        await start_walk(user, "3x10/10")
        await user.wait_for_text("BACKWARD")
        row = await row_when(database_url, "walks", user.id, lambda r: r["status"] == "active")
        return f"walk:{row['id']}:"
    await set_up(user, "Forward")
    await user.wait_for_text("5 minutes to go")
    row = await row_when(
        database_url, "six_minute_tests", user.id, lambda r: r["status"] == "running"
    )
    return f"sixmin:{row['id']}:"


@pytest.mark.parametrize("what", ["walk", "sixmin"])
async def test_deleteme_under_way_leaves_no_row_no_job_and_sends_nothing_more(
    api: FakeBotApi, sessions: SessionFactory, quick: RunningBot, database_url: str, what: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    bob = await onboarded_chat(api, sessions, "Bob")
    prefix = await _under_way(alice, database_url, what)
    assert _jobs_about(quick, prefix), "the cues to come are scheduled"
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as connection:
            # Rows about her in every other table that holds a person (found from the models:
            # level changes, rests, a challenge she set up and joined...), and a reminder a
            # dispatcher claimed but never confirmed sent.
            seed_everywhere(
                connection,
                alice.id,
                seeded={"users": alice.id, "walks": 0, "six_minute_tests": 0},
            )
            connection.execute(
                insert(FailedDelivery).values(
                    user_id=alice.id, kind="nudge", due_at=T0, failed_at=T0, detail=IN_FLIGHT
                )
            )
            seed_everywhere(connection, bob.id, seeded={"users": bob.id})

        alice.send("/deleteme")
        confirm = await alice.wait_for_text("can't be undone")
        alice.tap("Yes, delete everything", message=confirm)
        done = await api.wait_for(lambda c: "everything about you is deleted" in str(c.params))
        erased_at = api.calls.index(done) + 1

        with engine.connect() as connection:
            assert rows_naming(connection, alice.id) == {}
            assert "challenge_members" in rows_naming(connection, bob.id)  # only hers went
        assert quick.app is not None
        await no_jobs_left(quick.app.job_queue, prefix)
        # Past the next cues (every 10 s on the walk, every 2 s in the test) and the test's end:
        # nothing more reaches her.
        await asyncio.sleep(12 if what == "walk" else 11)
        assert [(c.method, c.params.get("text")) for c in _calls_to(api, alice.id, erased_at)] == []
    finally:
        engine.dispose()
