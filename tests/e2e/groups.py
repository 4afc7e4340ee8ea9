"""What the group-challenge e2e tests share: reading the rows the bot stored, the toast a tap
was answered with, and an admin tapping through the /challenge wizard."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text

from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.fakeapi import FakeGroup, FakeMessage
from walkbot.store.db import sync_url


def rows(database_url: str, sql: str, **params: object) -> list[dict[str, Any]]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return [dict(row) for row in connection.execute(text(sql), params).mappings()]
    finally:
        engine.dispose()


def challenge_rows(database_url: str) -> list[dict[str, Any]]:
    return rows(database_url, "SELECT * FROM challenges ORDER BY id")


async def answered(api: FakeBotApi, update: dict[str, Any]) -> str:
    """What the bot said in answer to a tap (the toast), once it answered."""
    query_id = update["callback_query"]["id"]
    await api.until(lambda: api.answered_callbacks.get(query_id) is not None, timeout=5)
    return api.answered_callbacks[query_id] or ""


async def launch(group: FakeGroup, admin: FakeUser, *choices: str) -> FakeMessage:
    """`admin` sends /challenge and taps through the wizard; returns the card it becomes."""
    group.send(admin, "/challenge")
    return await tap_through(group, admin, *choices)


async def tap_through(group: FakeGroup, admin: FakeUser, *choices: str) -> FakeMessage:
    """After a /challenge: `admin` taps `choices` on the wizard; returns the card it becomes."""
    wizard = await group.wait_for_text("What should count?")
    for label in choices:
        edits = wizard.edits
        group.tap(admin, label, message=wizard)
        await group.api.until(lambda: wizard.edits > edits, timeout=5)  # noqa: B023
    await group.api.until(lambda: "Join" in wizard.button_labels(), timeout=5)
    return wizard
