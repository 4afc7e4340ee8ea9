"""/export sends a person their own data; /deleteme erases it after a confirmation."""

from __future__ import annotations

import json

from tests.e2e.test_walks import walk_row
from tests.people import onboarded_chat
from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.store.db import SessionFactory


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
    alice.send("/deleteme")
    confirm = await alice.wait_for_text("can't be undone")
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
