"""/settings: every stored choice, each changeable on its own."""

from __future__ import annotations

from telegram import Update

from walkbot.bot import texts
from walkbot.bot.onboarding import ask, ask_in_place
from walkbot.bot.questions import settings_view
from walkbot.bot.replies import edit_text, query_message
from walkbot.bot.runtime import Context, person_of, runtime_of
from walkbot.services import onboarding as flow


async def show(update: Update, context: Context) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = runtime_of(context)
    async with rt.transaction() as session:
        user = await flow.open_settings(session, telegram_id=person.telegram_id, now=rt.clock.now())
    if user is None:
        await chat.send_message(texts.NEED_START)
    elif user.onboarding_step is not None:
        await ask(
            chat.id, context, user, user.onboarding_step, prefix=texts.SETTINGS_FINISH_ONBOARDING
        )
    else:
        text, markup = settings_view(user, rt.clock.now())
        await chat.send_message(text, reply_markup=markup)


async def choose(update: Update, context: Context) -> None:
    """A tap on a settings button: open that one question, go back, or show the menu."""
    query, person = update.callback_query, person_of(update)
    if query is None or person is None or query.data is None:
        return
    step = query.data.removeprefix("set:")
    rt = runtime_of(context)
    now = rt.clock.now()
    async with rt.transaction() as session:
        tap = await flow.settings_tap(session, telegram_id=person.telegram_id, step=step, now=now)
    if tap.kind == "stale" or tap.user is None:
        await query.answer(texts.STALE_BUTTON)
        return
    await query.answer()
    if tap.kind == "question":  # the menu becomes the question: one message, Back returns
        await ask_in_place(query, context, tap.user, step)
        return
    text, markup = settings_view(tap.user, now)
    if step == "back":
        await edit_text(query_message(query), text, markup)
    else:
        await context.bot.send_message(tap.user.telegram_id, text, reply_markup=markup)
