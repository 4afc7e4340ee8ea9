"""/settings: every stored choice, each changeable on its own."""

from __future__ import annotations

from telegram import Update

from walkbot.bot import texts
from walkbot.bot.onboarding import ask
from walkbot.bot.questions import settings_view
from walkbot.bot.replies import edit_text, query_message
from walkbot.bot.runtime import Context, person_of, runtime_of
from walkbot.services import onboarding as flow
from walkbot.services.users import get_user


async def show(update: Update, context: Context) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = runtime_of(context)
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        if user is not None:
            await flow.cancel_edit(session, user=user, now=rt.clock.now())
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
        user = await get_user(session, telegram_id=person.telegram_id)
        opened = False
        if user is not None and step in {"back", "menu"}:
            await flow.cancel_edit(session, user=user, now=now)
        elif user is not None:
            opened = await flow.begin_edit(session, user=user, step=step, now=now)
    message = query_message(query)
    if (
        user is None
        or user.onboarding_step is not None
        or (step not in {"back", "menu"} and not opened)
    ):
        await query.answer(texts.STALE_BUTTON)
        return
    await query.answer()
    if opened:
        await ask(user.telegram_id, context, user, step)
        return
    text, markup = settings_view(user, now)
    if step == "back":
        await edit_text(message, text, markup)
    else:
        await context.bot.send_message(user.telegram_id, text, reply_markup=markup)
