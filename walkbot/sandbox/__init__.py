"""The project's fake Telegram Bot API: for end-to-end tests and `walkbot console`."""

from walkbot.sandbox.fakeapi import (
    GROUP_ANONYMOUS_BOT,
    TEST_TOKEN,
    Button,
    Call,
    FakeBotApi,
    FakeGroup,
    FakeMessage,
    FakeUser,
    Limits,
)
from walkbot.sandbox.faults import FaultPlan

__all__ = [
    "GROUP_ANONYMOUS_BOT",
    "TEST_TOKEN",
    "Button",
    "Call",
    "FakeBotApi",
    "FakeGroup",
    "FakeMessage",
    "FakeUser",
    "FaultPlan",
    "Limits",
]
