"""What each command says to someone who has not started, or not finished setting up: the
words the one guard (bot/guard.py) gives, unchanged from when each handler said them itself."""

from __future__ import annotations

import asyncio

from walkbot.bot import texts
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot

# Commands that need onboarding finished; /history and /settings need only a start.
SET_UP_ONLY = ("/walk", "/pause", "/resume", "/sixmin", "/level", "/summary", "/stats")


async def test_a_stranger_is_told_to_send_start(api: FakeBotApi, bot: RunningBot) -> None:
    commands = (*SET_UP_ONLY, "/history", "/settings", "/walk 5x30/60")
    people = [api.user(f"Stranger {i}") for i in range(len(commands))]
    for person, command in zip(people, commands, strict=True):
        person.send(command)
    replies = await asyncio.gather(*(person.next_message() for person in people))
    for command, reply in zip(commands, replies, strict=True):
        assert (command, reply.body) == (command, texts.NEED_START)
        assert reply.buttons == []


async def _mid_onboarding(api: FakeBotApi, name: str) -> FakeUser:
    person = api.user(name)
    person.send("/start")
    consent = await person.wait_for_text("your coach for backward walking")
    person.tap("Yes, let's start", message=consent)
    await person.wait_for_text("Safety check 1 of 9")
    return person


async def test_someone_mid_onboarding_is_asked_to_finish(api: FakeBotApi, bot: RunningBot) -> None:
    commands = (*SET_UP_ONLY, "/settings")
    people = await asyncio.gather(
        *(_mid_onboarding(api, f"Newcomer {i}") for i in range(len(commands)))
    )
    for person, command in zip(people, commands, strict=True):
        person.send(command)
    replies = await asyncio.gather(*(person.next_message() for person in people))
    for command, reply in zip(commands[:-1], replies[:-1], strict=True):
        assert (command, reply.body) == (command, texts.FINISH_SETUP_FIRST)
    settings = replies[-1]  # /settings asks the question they owe instead
    assert settings.body.startswith(texts.SETTINGS_FINISH_ONBOARDING + "\n\nSafety check 1 of 9")
