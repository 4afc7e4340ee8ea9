"""`walkbot console`: chat with the real bot in a terminal, offline, through the fake Bot API.

Type text or /commands; type a button's number to tap it; `:location LAT LON` shares a
location; `:group` opens a group with three simulated members to try a challenge in;
`:quit` (or Ctrl-D) leaves. Everything is kept in walkbot-console.db.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.context import runtime_of
from walkbot.runtime import Runtime
from walkbot.sandbox.embedded import RunningBot
from walkbot.sandbox.fakeapi import TEST_TOKEN, FakeBotApi, FakeGroup, FakeMessage, FakeUser
from walkbot.services import challenges, users
from walkbot.services.users import Person
from walkbot.settings import Settings
from walkbot.store.db import is_sqlite
from walkbot.store.migrate import upgrade
from walkbot.store.models import Walk

CONSOLE_USER_ID = 1_000_001
DEFAULT_DATABASE = "sqlite:///walkbot-console.db"
HELP = (
    "Type a message or /command, a number to tap a button, :location LAT LON, :group to try a "
    "group challenge, or :quit."
)
GROUP_TITLE = "Console walking club"
SIMULATED_MEMBERS = ("Ann", "Bob", "Cem")
GROUP_HELP = (
    "Send /challenge to start one; :members join has Ann, Bob and Cem join it, :members walk "
    "has each do a short walk; :private goes back to your own chat."
)


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


class Console:
    """What one typed line does: in your private chat with walkbot, or, after `:group`, in a
    group with a few simulated members (Ann, Bob and Cem, who have finished setting up). There
    `:members join` has them tap Join on the newest card and `:members walk` records a short
    backward walk for each, so a board moves without waiting for real walks."""

    def __init__(self, api: FakeBotApi, bot: RunningBot, you: FakeUser, out: TextIO) -> None:
        self.api, self.bot, self.you, self.out = api, bot, you, out
        self.group: FakeGroup | None = None
        self.in_group = False
        self.members: list[FakeUser] = []

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def chats(self) -> dict[int, str]:
        """The chats to show: yours (unlabelled), and the group once there is one."""
        shown = {self.you.chat_id: ""}
        if self.group is not None:
            shown[self.group.id] = GROUP_TITLE
        return shown

    @property
    def here(self) -> int:
        return self.group.id if self.in_group and self.group is not None else self.you.chat_id

    async def handle(self, line: str) -> bool:
        """Act on one line; False to stop."""
        if line in {":quit", ":q", "exit"}:
            return False
        if line.startswith(":location"):
            parts = line.split()
            try:
                self.you.share_location(float(parts[1]), float(parts[2]))
            except (IndexError, ValueError):
                self.say("Usage: :location 51.5 -0.12")
        elif line == ":group":
            await self._enter_group()
        elif line == ":private":
            self.in_group = False
            self.say("-- your private chat with walkbot")
        elif line.startswith(":members"):
            await self._members(line.split()[1:])
        else:
            self._send(line)
        return True

    def _send(self, line: str) -> None:
        target = button_for(self.api.messages(self.here), line)
        if self.in_group and self.group is not None:
            if target is not None:
                self.group.tap(self.you, target[1], message=target[0])
            elif line:
                self.group.send(self.you, line)
        elif target is not None:
            self.you.tap(target[1], message=target[0])
        elif line:
            self.you.send(line)

    async def _enter_group(self) -> None:
        if self.group is None:
            self.members = [self.api.user(name) for name in SIMULATED_MEMBERS]
            rt = self._runtime()
            async with rt.transaction() as session:
                for member in self.members:
                    await _set_up_person(session, member, now=rt.clock.now())
            self.group = self.api.group(GROUP_TITLE, creator=self.you, members=self.members)
        self.in_group = True
        self.say(f"-- the group {GROUP_TITLE!r}: you are its admin. {GROUP_HELP}")

    def _runtime(self) -> Runtime:
        assert self.bot.app is not None
        return runtime_of(self.bot.app)

    async def _members(self, args: list[str]) -> None:
        if self.group is None:
            self.say("Type :group first.")
            return
        if args == ["join"]:
            cards = [m for m in self.api.messages(self.group.id) if "Join" in m.button_labels()]
            if not cards:
                self.say("No challenge card to join yet: send /challenge in the group.")
                return
            for member in self.members:
                self.group.tap(member, "Join", message=cards[-1])
            self.say(f"-- {', '.join(SIMULATED_MEMBERS)} tapped Join")
        elif args == ["walk"]:
            rt = self._runtime()
            now = rt.clock.now()
            async with rt.transaction() as session:
                for minutes, member in enumerate(self.members, 2):
                    await _walked(session, member.id, backward_minutes=minutes, now=now)
            self.say("-- each simulated member did a short backward walk; the card follows")
        else:
            self.say("Usage: :members join | :members walk")


async def _set_up_person(session: AsyncSession, member: FakeUser, *, now: datetime) -> None:
    """A simulated member who has finished onboarding (so Join takes them at once); kept from
    an earlier console run if the database has them."""
    if await users.get_user(session, telegram_id=member.id) is not None:
        return
    user = await users.create_user(session, person=Person(member.id, member.first_name), now=now)
    user.onboarding_step, user.timezone = None, "Europe/London"
    session.add(user)


async def _walked(
    session: AsyncSession, user_id: int, *, backward_minutes: int, now: datetime
) -> None:
    """A finished walk, as the walk flow records one, and its board edit. It is dated now, not
    its length ago: a challenge started a moment ago counts walks from its start."""
    started = now
    session.add(
        Walk(
            user_id=user_id,
            plan={"rounds": 1, "backward_s": 60 * backward_minutes, "forward_s": 0},
            status="ended",
            created_at=started,
            started_at=started,
            ended_at=now,
            end_reason="finished",
            backward_s=60 * backward_minutes,
            active_s=120 * backward_minutes,
            rounds_done=1,
        )
    )
    await challenges.walk_ended(session, user_id=user_id, now=now)


async def _printer(api: FakeBotApi, chats: Callable[[], dict[int, str]], out: TextIO) -> None:
    """Every new or edited bot message in the console's chats, labelled by chat."""
    seen: dict[tuple[int, int], int] = {}

    def fresh() -> list[tuple[int, FakeMessage]]:
        return [
            (chat_id, message)
            for chat_id in chats()
            for message in api.messages(chat_id)
            if seen.get((chat_id, message.message_id), -1) != message.edits
        ]

    while True:
        await api.until(lambda: bool(fresh()), timeout=10**9)
        for chat_id, message in fresh():
            key = (chat_id, message.message_id)
            edited = key in seen
            seen[key] = message.edits
            label = chats()[chat_id]
            head = f"[{label}] " if label else ""
            print(head + render(message, edited=edited), file=out, flush=True)


async def _chat(console: Console) -> None:
    while True:
        try:
            line = (await asyncio.to_thread(input, "> ")).strip()
        except EOFError:
            await asyncio.sleep(1)  # let the last replies arrive when input is piped
            return
        if not await console.handle(line):
            return


def console_settings(api: FakeBotApi, database_url: str) -> Settings:
    return Settings(
        telegram_bot_token=TEST_TOKEN,
        database_url=database_url,
        telegram_api_base_url=api.base_url,
        # Group posts come round quickly, so a board moves while you watch.
        dispatch_interval_seconds=2,
        board_edit_gap_seconds=5,
        _env_file=None,
    )


async def _console(database_url: str) -> None:
    if is_sqlite(database_url):
        upgrade(database_url)
    async with FakeBotApi() as api:
        bot = RunningBot(console_settings(api, database_url))
        await bot.start()
        you = api.user("You", user_id=CONSOLE_USER_ID)
        print(f"walkbot console: offline, talking to a fake Bot API at {api.base_url}")
        print(HELP)
        console = Console(api, bot, you, sys.stdout)
        printer = asyncio.create_task(_printer(api, console.chats, sys.stdout))
        try:
            await _chat(console)
        finally:
            printer.cancel()
            await bot.stop()


def run_console(*, database_url: str | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_console(database_url or DEFAULT_DATABASE))
    print("Bye!")
    return 0
