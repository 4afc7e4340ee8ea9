"""No personal data in the logs at any level: a whole run at DEBUG, its records grepped."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.bot import texts
from walkbot.bot import walks as walk_handlers
from walkbot.logs import QUIET, configure_logging
from walkbot.sandbox import TEST_TOKEN, FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings

NAME = "Zelda-Unique-9731"
NOTE = "Knee-Whisper-4417 wobbly on the left"
# What must appear in no log line, whatever the level.
PERSONAL = (NAME, "Knee-Whisper-4417", "heart_condition", '"heart": true', TEST_TOKEN)


class Capture(logging.Handler):
    """Every record as the bot's own handler would write it: message and traceback."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.lines: list[str] = []
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Capture]:
    """LOG_LEVEL=DEBUG as `walkbot run` sets it up, plus a capturing handler on the root logger
    with the bot's formatter; the root and the quietened loggers are put back afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in QUIET}
    configure_logging("DEBUG", secrets=[TEST_TOKEN])
    capture = Capture(root.handlers[0].formatter)
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def _onboard(user: FakeUser) -> None:
    user.send("/start")
    await user.wait_for_text("Shall we start?")
    user.tap("Yes, let's start")
    for n in range(1, 10):
        question = await user.wait_for_screen(f"Safety check {n} of 9")
        user.tap("Yes" if n == 1 else "No", message=question)  # 1: a heart condition
    user.tap("A little", message=await user.wait_for_text("walked backwards for exercise"))
    await user.wait_for_screen("What matters most")
    user.tap("Balance")
    await user.wait_for_screen("Which time zone")
    user.send("europe/london")
    await user.wait_for_text("Which days")
    user.tap("Sun")
    user.tap("Done")
    await user.wait_for_screen("What time")
    user.send("7:45")
    await user.wait_for_text("Kilometres or miles")
    user.tap("Miles")
    await user.wait_for_screen("All set")


async def _walk_with_a_note(user: FakeUser) -> None:
    user.send("/walk 3x30/30")
    user.tap("Start", message=await user.wait_for_text("Before you start"))
    user.tap("I need to stop", message=await user.wait_for_text("BACKWARD"))
    user.tap("5 moderate", message=await user.wait_for_text("How hard did that feel"))
    user.tap("7", message=await user.wait_for_screen("knee pain"))
    await user.wait_for_screen("Anything to note")
    user.send(NOTE)
    await user.wait_for_text("all saved")


async def _failing_insert(session: AsyncSession, *, user: Any, now: Any) -> str:
    """A write that breaks a NOT NULL constraint, carrying a name and screening answers: on
    PostgreSQL the error's detail quotes the whole row ("Failing row contains (...)")."""
    connection = await session.connection()
    await connection.execute(
        text("INSERT INTO users (telegram_id, first_name, screening) VALUES (:id, :name, :s)"),
        {"id": -user.telegram_id, "name": NAME, "s": json.dumps({"heart_condition": True})},
    )
    raise AssertionError("the insert should have failed")


async def test_a_run_at_debug_logs_no_name_note_answer_or_token(
    captured: Capture, api: FakeBotApi, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The logging is set up first, as `walkbot run` does; no pacing, to keep the run short.
    bot = RunningBot(settings.model_copy(update={"rate_limit": False}))
    await bot.start()
    try:
        zelda = api.user(NAME)
        await _onboard(zelda)
        await _walk_with_a_note(zelda)
        monkeypatch.setattr(walk_handlers, "history_text", _failing_insert)
        zelda.send("/history")
        await zelda.wait_for_text(texts.ERROR)
    finally:
        await bot.stop()

    logged = "\n".join(captured.lines)
    assert "handler failed" in logged and "IntegrityError" in logged  # the fault is logged
    assert "INSERT INTO users" in logged  # with what it was doing
    for line in [*captured.lines, *captured.messages]:
        for secret in PERSONAL:
            assert secret not in line, (secret, line[:2000])
