"""/settings: every stored choice, each changeable on its own."""

from __future__ import annotations

from telegram import Update

from walkbot.bot import callbacks, texts
from walkbot.bot.feature import Feature
from walkbot.bot.guard import Member, Tap, for_known_person, on_button
from walkbot.bot.onboarding import ask, ask_in_place
from walkbot.bot.questions import settings_view
from walkbot.bot.replies import answer_tap, callback_fields, query_message, show_next
from walkbot.context import WalkbotContext as Context
from walkbot.services import onboarding as flow

feature = Feature("settings")


@feature.command("settings", menu="Time zone, reminders, units, safety answers")
@for_known_person
async def show(update: Update, context: Context, caller: Member) -> None:
    rt = context.runtime
    async with caller.transaction() as (session, user):
        await flow.cancel_edit(session, user=user, now=rt.clock.now())
    if user.onboarding_step is not None:
        await ask(
            caller.chat.id,
            context,
            user,
            user.onboarding_step,
            prefix=texts.SETTINGS_FINISH_ONBOARDING,
        )
    else:
        text, markup = settings_view(user, rt.clock.now())
        await caller.chat.send_message(text, reply_markup=markup)


@feature.button(callbacks.SETTINGS)
@on_button
async def choose(update: Update, context: Context, tap: Tap) -> None:
    """A tap on a settings button: open that one question, go back, or show the menu."""
    query = tap.query
    (step,) = callback_fields(tap.data, 1)
    rt = context.runtime
    now = rt.clock.now()
    async with rt.transaction() as session:
        tapped = await flow.settings_tap(session, telegram_id=tap.id, step=step, now=now)
    if tapped.kind == "stale" or tapped.user is None:
        await answer_tap(query, texts.STALE_BUTTON)
        return
    user = tapped.user
    if tapped.kind == "question":  # the menu becomes the question: one message, Back returns
        await ask_in_place(query, context, user, step)
    elif step == "back":
        text, markup = settings_view(user, now)
        await show_next(context.bot, user.telegram_id, query_message(query), text, markup)
    else:
        text, markup = settings_view(user, now)
        await context.bot.send_message(user.telegram_id, text, reply_markup=markup)
    await answer_tap(query)  # after the reply: cosmetic, and refused for taps 10-15 s old
