"""The typed PTB context every handler and job receives: `context.runtime` instead of a
lookup in bot_data at each call (PTB's contexttypesbot example), and one Application type."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from walkbot.runtime import Runtime

RUNTIME_KEY = "walkbot.runtime"

BotData = dict[str, Any]
ChatData = dict[Any, Any]
UserData = dict[Any, Any]


class WalkbotContext(CallbackContext[ExtBot[None], UserData, ChatData, BotData]):
    @property
    def runtime(self) -> Runtime:
        return runtime_of(self.application)


# The context and job-queue parameters stay open: PTB types `context.application` with an
# unresolved context type, so a stricter alias would need a cast at every job and handler.
WalkbotApp = Application[ExtBot[None], Any, UserData, ChatData, BotData, Any]
WalkbotJobQueue = JobQueue[WalkbotContext]


def context_types() -> ContextTypes[WalkbotContext, UserData, ChatData, BotData]:
    return ContextTypes(context=WalkbotContext)


def install_runtime(application: Application[Any, Any, Any, Any, Any, Any], rt: Runtime) -> None:
    application.bot_data[RUNTIME_KEY] = rt


def runtime_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Runtime:
    value = application.bot_data[RUNTIME_KEY]
    assert isinstance(value, Runtime)
    return value
