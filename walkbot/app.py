"""The composition root: settings in, a ready-to-run Application out. Nothing runs at import."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol, cast

from telegram import (
    Bot,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.ext import ApplicationBuilder
from telegram.request import HTTPXRequest

from walkbot.bot import handlers, texts
from walkbot.bot import inbox as bot_inbox
from walkbot.bot.notifier import BotNotifier
from walkbot.clock import Clock, SystemClock
from walkbot.context import (
    WalkbotApp,
    WalkbotContext,
    context_types,
    install_runtime,
    runtime_of,
)
from walkbot.domain import timezones
from walkbot.inbox import Inbox
from walkbot.ratelimit import ChatRateLimiter
from walkbot.request import RetryingRequest
from walkbot.runtime import Runtime
from walkbot.scheduling import cues, dispatch, overdue, sixmin
from walkbot.services import challenge_posts
from walkbot.services.challenge_posts import ChallengePoster
from walkbot.services.dispatch import Source
from walkbot.services.knee_source import KneeCheckSender, KneeCheckSource
from walkbot.services.nudge_source import NudgeSender, NudgeSource
from walkbot.services.summary_source import ReportSender, SummarySource
from walkbot.services.updates import prune_updates
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, create_engine, session_factory, transaction
from walkbot.vitals import Vitals
from walkbot.webapp.menu import set_live_menu

log = logging.getLogger(__name__)


def build_application(settings: Settings, *, clock: Clock | None = None) -> WalkbotApp:
    engine = create_engine(settings.database_url)
    clock = clock or SystemClock()
    vitals = Vitals()

    async def post_init(app: WalkbotApp) -> None:
        private, groups = handlers.private_menu(), handlers.group_menu()
        await app.bot.set_my_commands(private, scope=BotCommandScopeAllPrivateChats())
        await app.bot.set_my_commands(groups, scope=BotCommandScopeAllGroupChats())
        await app.bot.set_my_commands(
            handlers.group_admin_menu(), scope=BotCommandScopeAllChatAdministrators()
        )
        await set_live_menu(app.bot, settings.webapp_url)  # the live screen, when configured
        if app.job_queue is not None:
            app.job_queue.run_repeating(_prune, interval=3600, first=60, name="prune-updates")
        await cues.restore(app)
        dispatch.start(app)  # one job for every queue source (queue_sources)
        await sixmin.restore(app)
        overdue.start(app)  # walks and tests whose end passed without their last cue
        preload_in_background(timezones.preload)  # the city index: off the event loop, now
        await replay_inbox(app)  # last: walks and jobs are restored, nothing fetched yet

    async def post_shutdown(app: WalkbotApp) -> None:
        await engine.dispose()

    sessions = session_factory(engine)
    inbox = Inbox(lambda: transaction(sessions), clock.now, hold=bot_inbox.hold_from_env())
    processor = bot_inbox.InboxUpdateProcessor()
    processor.inbox = inbox
    builder = (
        ApplicationBuilder()
        .context_types(context_types())
        .bot(inbox_bot(settings, inbox))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .update_queue(ReceivingQueue(vitals, clock))
        # Chats side by side, each chat in order: one hurried person never holds up the rest.
        .concurrent_updates(processor)
    )
    # PTB's builder types the JobQueue with the default context; ours is WalkbotContext.
    app = cast(WalkbotApp, builder.build())
    install_runtime(
        app, build_runtime(settings, sessions, clock, app.bot, vitals=vitals, inbox=inbox)
    )

    async def flood_notice(chat_id: int) -> None:
        await app.bot.send_message(chat_id, texts.FLOOD)

    processor.flood_notice = flood_notice
    handlers.register(app)
    return app


def build_runtime(
    settings: Settings,
    sessions: SessionFactory,
    clock: Clock | None,
    bot: Bot,
    *,
    vitals: Vitals | None = None,
    inbox: Inbox | None = None,
) -> Runtime:
    """What handlers and jobs share, wired: the ports they send through are Telegram messages
    and buttons (bot/notifier.py) on `bot`."""
    notifier = BotNotifier(bot, live_url=settings.webapp_url)
    clock = clock or SystemClock()
    return Runtime(
        settings=settings,
        sessions=sessions,
        clock=clock,
        notifier=notifier,
        vitals=vitals or Vitals(),
        inbox=inbox,
        sources=queue_sources(
            notifier,
            sessions,
            clock=clock,
            board_edit_gap=timedelta(seconds=settings.board_edit_gap_seconds),
        ),
    )


def inbox_bot(settings: Settings, inbox: Inbox) -> bot_inbox.InboxBot:
    """The bot PTB's builder would make (its two HTTP pools and sizes), as an InboxBot: its
    getUpdates stores each batch before PTB can confirm it (walkbot/bot/inbox.py)."""
    return bot_inbox.InboxBot(
        inbox=inbox,
        token=settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_base_url,
        # A reply Telegram certainly did not take (a 5xx, a failed connect) is sent again.
        request=RetryingRequest(connection_pool_size=256),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        # About 1/s per private chat; a 429 holds only its chat, then is retried.
        rate_limiter=ChatRateLimiter(max_retries=3) if settings.rate_limit else None,
    )


async def replay_inbox(app: WalkbotApp) -> None:
    """Start-up: handle what was stored and not done (walkbot/inbox.py). From post_init,
    before polling or the webhook starts."""
    inbox = runtime_of(app).inbox
    if inbox is not None:
        await bot_inbox.replay(app, inbox)


def preload_in_background(preload: Callable[[], None]) -> threading.Thread:
    """Run `preload` (building a cache: about a second, far longer on a loaded machine) in a
    daemon thread. Not the event loop's executor: `asyncio.run` waits for its threads before
    it returns, so a SIGTERM soon after start-up waited for the build, past the 10 s a stop
    may take. Whatever is not built yet is built on first use."""
    thread = threading.Thread(target=preload, name="walkbot-preload", daemon=True)
    thread.start()
    return thread


class ReceivingQueue(asyncio.Queue[object]):
    """PTB's update queue (the Updater in polling mode and walkbot/web.py in webhook mode put
    updates in it), noting when the last update arrived: /healthz reports it."""

    def __init__(self, vitals: Vitals, clock: Clock) -> None:
        super().__init__()
        self._vitals, self._clock = vitals, clock

    def put_nowait(self, item: object) -> None:  # Queue.put ends here too
        if isinstance(item, Update):  # not PTB's stop signal
            self._vitals.last_update_at = self._clock.now()
        super().put_nowait(item)


class QueueNotifier(NudgeSender, ReportSender, KneeCheckSender, ChallengePoster, Protocol):
    """The ports of every registered source, as bot/notifier.py implements them."""


def queue_sources(
    notifier: QueueNotifier,
    sessions: SessionFactory,
    *,
    clock: Clock | None = None,
    board_edit_gap: timedelta = challenge_posts.DEFAULT_EDIT_GAP,
) -> tuple[Source[Any], ...]:
    """The dispatch queue's registry (services/dispatch.py): every kind of message sent at a
    stored instant. A new kind is a source beside its feature, added here. `clock`: the time
    a group's board is read at when it is sent."""
    return (
        NudgeSource(notifier),
        SummarySource(notifier, sessions),
        KneeCheckSource(notifier),
        *challenge_posts.sources(
            notifier, sessions, clock or SystemClock(), board_edit_gap=board_edit_gap
        ),
    )


async def _prune(context: WalkbotContext) -> None:
    rt = context.runtime
    async with rt.transaction() as session:
        await prune_updates(session, now=rt.clock.now())
