"""A note with control characters is stored clean. (Every command given hostile arguments:
tests/e2e/test_hostile_commands.py.)"""

from __future__ import annotations

from tests.e2e.rows import latest_row
from tests.people import onboarded_chat
from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.store.db import SessionFactory


async def test_a_note_with_control_characters_is_stored_clean(
    api: FakeBotApi, sessions: SessionFactory, bot: RunningBot, database_url: str
) -> None:
    """PostgreSQL refuses NUL in text, and bidi controls would scramble the note when shown."""
    alice = await onboarded_chat(api, sessions, "Alice")
    alice.send("/walk 3x30/30")
    alice.tap("Start", message=await alice.wait_for_text("Before you start"))
    alice.tap("I need to stop", message=await alice.wait_for_text("BACKWARD"))
    alice.tap("5 moderate", message=await alice.wait_for_text("How hard did that feel"))
    alice.tap("7", message=await alice.wait_for_screen("knee pain"))
    await alice.wait_for_screen("Anything to note")
    alice.send("Sore\x00 knee\x07\r\n\u202eleft\u202c side 👍")
    await alice.wait_for_text("all saved")
    assert latest_row(database_url, "walks", alice.id)["note"] == "Sore knee\nleft side 👍"
