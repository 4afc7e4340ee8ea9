"""`walkbot console`'s group: a newcomer tries a challenge offline with simulated members."""

from __future__ import annotations

import asyncio
import contextlib
import io

from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.console import (
    CONSOLE_USER_ID,
    GROUP_TITLE,
    Console,
    _printer,
    console_settings,
)
from walkbot.sandbox.embedded import RunningBot


class _Output(io.StringIO):
    """The terminal: says when something was printed (the printer is a task of its own)."""

    def __init__(self) -> None:
        super().__init__()
        self.printed = asyncio.Event()

    def write(self, text: str) -> int:
        self.printed.set()
        return super().write(text)


async def _printed(out: _Output, needle: str, timeout: float = 5.0) -> str:
    async with asyncio.timeout(timeout):
        while needle not in out.getvalue():
            out.printed.clear()
            await out.printed.wait()
    return out.getvalue()


async def test_a_challenge_in_the_console_group_with_simulated_members(
    api: FakeBotApi, database_url: str
) -> None:
    bot = RunningBot(console_settings(api, database_url))
    await bot.start()
    try:
        you = api.user("You", user_id=CONSOLE_USER_ID)
        out = _Output()
        console = Console(api, bot, you, out)
        printer = asyncio.create_task(_printer(api, console.chats, out))
        assert await console.handle(":members join")
        assert "Type :group first" in out.getvalue()

        await console.handle(":group")
        assert console.group is not None and GROUP_TITLE in console.chats().values()
        group = console.group
        await console.handle("/challenge")
        wizard = await group.wait_for_text("What should count?")
        for choice in ("1", "1", "1", "1"):  # minutes, a ranking, 7 days, now
            edits = wizard.edits
            await console.handle(choice)
            await api.until(lambda: wizard.edits > edits, timeout=5)  # noqa: B023
        assert "Join" in wizard.button_labels()

        await console.handle(":members join")
        await console.handle(":members walk")
        # The card follows the walks (the console's short board-edit gap and dispatch tick).
        await api.until(lambda: "4 min" in wizard.body, timeout=15)
        # Cem walked 4 minutes, Bob 3, Ann 2.
        assert wizard.body.index("Cem") < wizard.body.index("Bob") < wizard.body.index("Ann")

        await console.handle(":private")
        await console.handle("/help")
        await you.wait_for_text("Here's what I can do")
        shown = await _printed(out, "Here's what I can do")
        # The group's messages are labelled with it; yours are not; edits say so.
        assert f"[{GROUP_TITLE}] walkbot (edited): 🏆 {GROUP_TITLE}" in shown
        assert "\nwalkbot: Here's what I can do" in shown
        assert not await console.handle(":quit")
    finally:
        printer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await printer
        await bot.stop()
