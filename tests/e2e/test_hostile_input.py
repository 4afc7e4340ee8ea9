"""Every command, given the longest, most tangled argument Telegram lets through, answers
within Telegram's 4,096 characters: no reply refused as too long, no apology."""

from __future__ import annotations

import pytest

from tests.e2e.rows import latest_row
from tests.people import onboarded_chat
from walkbot.bot import handlers, texts
from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.store.db import SessionFactory

TELEGRAM_LIMIT = 4096
ARGUMENTS = {
    "one long word": "x" * TELEGRAM_LIMIT,
    "many lines": "6x30/120\n" + "zz 12 laps\n" * 400,
    "control characters": "\x00\x07\u202e\u2066" + "y\x00" * 2100,
}


@pytest.mark.parametrize("argument", ARGUMENTS.values(), ids=ARGUMENTS.keys())
async def test_every_command_answers_hostile_arguments_within_the_limit(
    api: FakeBotApi, sessions: SessionFactory, bot: RunningBot, argument: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    commands = [f"/{command.command}" for command in handlers.private_menu()]
    sent = [f"{command} {argument}" for command in [*commands, "/nosuchthing"]]
    sent += ["/" + argument.replace(" ", "")[1:], argument]  # an unknown command; plain text
    for text in sent:
        alice.send(text[:TELEGRAM_LIMIT])
        reply = await alice.next_message(timeout=10)  # a reply arrives (PTB refused none)
        assert len(reply.body) <= TELEGRAM_LIMIT, text[:20]
        alice.skip_to_end()
    alice.send("/help")
    await alice.wait_for_text(texts.HELP[:40], timeout=10)
    bodies = [message.body for message in alice.messages()]
    assert not [body for body in bodies if texts.ERROR in body]
    assert api.calls_to("sendMessage") and not [
        call for call in api.calls_to("sendMessage") if len(str(call.params.get("text"))) > 4096
    ]


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
