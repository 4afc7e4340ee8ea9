"""An edited message is never a new answer: it changes nothing stored and gets one line."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.rows import latest_row
from tests.people import onboarded_chat
from walkbot.bot import texts
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.store.db import SessionFactory, sync_url


def _notes(database_url: str, user_id: int) -> list[object]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            statement = text("SELECT note FROM walks WHERE user_id = :id ORDER BY id")
            return list(connection.execute(statement, {"id": user_id}).scalars())
    finally:
        engine.dispose()


@pytest.fixture
async def alice(api: FakeBotApi, sessions: SessionFactory, bot: RunningBot) -> FakeUser:
    return await onboarded_chat(api, sessions, "Alice")


async def _stop_and_rate(user: FakeUser) -> None:
    """A walk ended at once, rated, and waiting for its note."""
    user.send("/walk 3x30/30")
    user.tap("Start", message=await user.wait_for_text("Before you start"))
    user.tap("I need to stop", message=await user.wait_for_text("BACKWARD"))
    user.tap("5 moderate", message=await user.wait_for_text("How hard did that feel"))
    user.tap("7", message=await user.wait_for_screen("knee pain"))
    await user.wait_for_screen("Anything to note")


async def test_editing_yesterdays_note_is_not_todays_note(
    api: FakeBotApi, alice: FakeUser, database_url: str
) -> None:
    await _stop_and_rate(alice)
    yesterday = alice.send("Felt steady")
    await alice.wait_for_text("all saved")
    first = latest_row(database_url, "walks", alice.id)
    assert first["note"] == "Felt steady"

    await _stop_and_rate(alice)  # today's walk owes a note
    alice.edit(yesterday, "Felt wobbly")
    await alice.wait_for_text(texts.EDITS_IGNORED)
    today = latest_row(database_url, "walks", alice.id)
    assert today["id"] != first["id"]
    assert (today["rating_step"], today["note"]) == ("note", None)  # still owed, still empty
    assert _notes(database_url, alice.id) == ["Felt steady", None]  # yesterday's as it was

    alice.send("Felt fine")  # a new message is the answer, as ever
    await alice.wait_for_text("all saved")
    assert _notes(database_url, alice.id) == ["Felt steady", "Felt fine"]


async def test_an_edit_into_a_command_runs_nothing(
    api: FakeBotApi, alice: FakeUser, database_url: str
) -> None:
    hello = alice.send("hello")
    await alice.wait_for_text("I didn't catch that")
    alice.edit(hello, "/walk 3x30/30")
    line = await alice.wait_for_text(texts.EDITS_IGNORED)
    assert alice.messages()[-1] is line  # the one line, and no walk card
    assert latest_row(database_url, "walks", alice.id) == {}
