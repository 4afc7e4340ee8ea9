"""`walkbot console`: chat with the real bot in a terminal, offline, through the fake Bot API.

Type text or /commands; type a button's number to tap it; `:location LAT LON` shares a
location; `:quit` (or Ctrl-D) leaves. Everything is kept in walkbot-console.db.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import TextIO

from walkbot.sandbox.embedded import RunningBot
from walkbot.sandbox.fakeapi import TEST_TOKEN, FakeBotApi, FakeMessage, FakeUser
from walkbot.settings import Settings
from walkbot.store.db import is_sqlite
from walkbot.store.migrate import upgrade

CONSOLE_USER_ID = 1_000_001
DEFAULT_DATABASE = "sqlite:///walkbot-console.db"
HELP = "Type a message or /command, a number to tap a button, :location LAT LON, or :quit."


def render(message: FakeMessage, *, edited: bool = False) -> str:
    """A bot message for the terminal: its text, then its buttons numbered from 1."""
    head = "walkbot (edited)" if edited else "walkbot"
    lines = [f"{head}: " + message.body.replace("\n", "\n         ")]
    labels = message.button_labels()
    if labels:
        lines.append("   " + "  ".join(f"[{i}] {label}" for i, label in enumerate(labels, 1)))
    return "\n".join(lines)


def button_for(messages: list[FakeMessage], choice: str) -> tuple[FakeMessage, str] | None:
    """'2' -> the second button of the newest message that has buttons."""
    if not (choice.isascii() and choice.isdigit()):
        return None
    for message in reversed(messages):
        labels = message.button_labels()
        if labels:
            index = int(choice) - 1
            return (message, labels[index]) if 0 <= index < len(labels) else None
    return None


async def _printer(api: FakeBotApi, you: FakeUser, out: TextIO) -> None:
    seen: dict[int, int] = {}
    while True:

        def changed() -> bool:
            messages = api.messages(you.chat_id)
            return len(messages) > len(seen) or any(
                seen.get(m.message_id, -1) != m.edits for m in messages
            )

        await api.until(changed, timeout=10**9, chat_id=you.chat_id)
        for message in api.messages(you.chat_id):
            if seen.get(message.message_id) != message.edits:
                edited = message.message_id in seen
                seen[message.message_id] = message.edits
                print(render(message, edited=edited), file=out, flush=True)


async def _chat(api: FakeBotApi, you: FakeUser) -> None:
    while True:
        try:
            line = (await asyncio.to_thread(input, "> ")).strip()
        except EOFError:
            await asyncio.sleep(1)  # let the last replies arrive when input is piped
            return
        if line in {":quit", ":q", "exit"}:
            return
        if line.startswith(":location"):
            parts = line.split()
            try:
                you.share_location(float(parts[1]), float(parts[2]))
            except (IndexError, ValueError):
                print("Usage: :location 51.5 -0.12")
            continue
        target = button_for(api.messages(you.chat_id), line)
        if target is not None:
            you.tap(target[1], message=target[0])
        elif line:
            you.send(line)


async def _console(database_url: str) -> None:
    if is_sqlite(database_url):
        upgrade(database_url)
    async with FakeBotApi() as api:
        settings = Settings(
            telegram_bot_token=TEST_TOKEN,
            database_url=database_url,
            telegram_api_base_url=api.base_url,
            _env_file=None,
        )
        bot = RunningBot(settings)
        await bot.start()
        you = api.user("You", user_id=CONSOLE_USER_ID)
        print(f"walkbot console: offline, talking to a fake Bot API at {api.base_url}")
        print(HELP)
        printer = asyncio.create_task(_printer(api, you, sys.stdout))
        try:
            await _chat(api, you)
        finally:
            printer.cancel()
            await bot.stop()


def run_console(*, database_url: str | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_console(database_url or DEFAULT_DATABASE))
    print("Bye!")
    return 0
