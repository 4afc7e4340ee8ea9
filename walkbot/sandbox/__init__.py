"""The project's fake Telegram Bot API: for end-to-end tests and `walkbot console`."""

from walkbot.sandbox.fakeapi import (
    TEST_TOKEN,
    Button,
    Call,
    FakeBotApi,
    FakeMessage,
    FakeUser,
    Limits,
)

__all__ = ["TEST_TOKEN", "Button", "Call", "FakeBotApi", "FakeMessage", "FakeUser", "Limits"]
