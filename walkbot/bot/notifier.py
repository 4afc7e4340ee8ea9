"""The Telegram side of walkbot's ports (walkbot/ports.py and the queue sources' senders): each
message in words and buttons from the views, sent through walkbot.delivery (bounded retries,
a clear word on blocked chats), answered as a plain Outcome.

The composition root (app.py) builds one per Application and hands it to the jobs (as
Runtime.notifier) and to the queue sources it registers.
"""

from __future__ import annotations

from datetime import date

from telegram import Bot, InlineKeyboardMarkup

from walkbot.bot import challenge_views, sixmin_views, walk_views
from walkbot.bot.knee import knee_check_message
from walkbot.bot.nudges import nudge_markup
from walkbot.bot.summary import send_report
from walkbot.delivery import Delivery, Result, edit_text, send_message
from walkbot.ports import Outcome, Restate
from walkbot.services.challenge_posts import GroupPost, Posted
from walkbot.services.summaries import WeeklyReport


def outcome_of(delivery: Delivery) -> Outcome:
    moved = delivery.migrated_to
    if delivery.result is Result.SENT:
        return Outcome("sent", migrated_to=moved)
    if delivery.result is Result.BLOCKED:
        return Outcome("blocked", delivery.detail, migrated_to=moved)
    return Outcome("failed", delivery.detail, migrated_to=moved)


class BotNotifier:
    """Every port walkbot's jobs and queue sources send through, on one Bot."""

    def __init__(self, bot: Bot, *, live_url: str | None = None) -> None:
        self._bot = bot
        self._live_url = live_url  # WEBAPP_URL: the first cue offers the live screen

    async def _send(
        self,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
        *,
        silent: bool,
        restate: Restate | None = None,
    ) -> Outcome:
        return outcome_of(
            await send_message(
                self._bot, chat_id, text, markup=markup, silent=silent, restate=restate
            )
        )

    # ---- a walk (WalkNotifier) ----

    async def walk_cue(
        self,
        user_id: int,
        walk_id: int,
        text: str,
        *,
        sound: bool,
        live_button: bool = False,
        restate: Restate | None = None,
    ) -> Outcome:
        live_url = self._live_url if live_button else None
        markup = walk_views.controls(walk_id, paused=False, live_url=live_url)
        return await self._send(user_id, text, markup, silent=not sound, restate=restate)

    async def walk_ended(self, user_id: int, text: str) -> Outcome:
        return await self._send(user_id, text, None, silent=False)

    async def rating_prompt(
        self, user_id: int, walk_id: int, *, step: str, reminder: bool
    ) -> Outcome:
        text, markup = walk_views.rating_prompt(walk_id, step, reminder=reminder)
        return await self._send(user_id, text, markup, silent=True)

    # ---- a six-minute test (SixMinuteNotifier) ----

    async def sixmin_cue(self, user_id: int, test_id: int, text: str, *, final: bool) -> Outcome:
        markup = None if final else sixmin_views.stop_button(test_id)
        return await self._send(user_id, text, markup, silent=False)

    async def distance_prompt(self, user_id: int, test_id: int, *, units: str) -> Outcome:
        text, markup = sixmin_views.distance_prompt(test_id, units, stopped_early=False)
        return await self._send(user_id, text, markup, silent=True)

    # ---- the queue's sources (services/*_source.py) ----

    async def nudge(self, chat_id: int, *, day: date, text: str, snoozable: bool) -> Outcome:
        # The one message people asked to be alerted by, at the time they chose: it makes a
        # sound. Summaries and knee checks are routine and arrive silently.
        markup = nudge_markup(day, snoozable=snoozable)
        return await self._send(chat_id, text, markup, silent=False)

    async def knee_check(self, chat_id: int, walk_id: int) -> Outcome:
        text, markup = knee_check_message(walk_id)
        return await self._send(chat_id, text, markup, silent=True)

    async def weekly_report(self, chat_id: int, report: WeeklyReport) -> Outcome:
        return outcome_of(await send_report(self._bot, chat_id, report, silent=True))

    # ---- a group challenge's posts (services/challenge_posts.py) ----

    async def post_board(self, post: GroupPost) -> Posted:
        # Routine, so silent; in the forum topic the challenge was created in. The Join
        # button rides along while one may still join (not on the results).
        text = challenge_views.board_text(post.board, post.occasion)
        markup = None if post.occasion == "results" else challenge_views.card_markup(post.board)
        delivery = await send_message(
            self._bot, post.chat_id, text, markup=markup, silent=True, thread_id=post.thread_id
        )
        message_id = delivery.message.message_id if delivery.message is not None else None
        return Posted(outcome_of(delivery), message_id)

    async def edit_board(self, post: GroupPost, message_id: int) -> Outcome:
        text = challenge_views.board_text(post.board, post.occasion)
        markup = challenge_views.card_markup(post.board)
        return outcome_of(await edit_text(self._bot, post.chat_id, message_id, text, markup))
