"""/settings: every stored choice, each changeable on its own."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update

from walkbot.bot import texts
from walkbot.bot.onboarding import ask
from walkbot.bot.questions import settings_view
from walkbot.bot.replies import edit_text, query_message
from walkbot.bot.runtime import Context, person_of, runtime_of
from walkbot.services import onboarding as flow
from walkbot.services.users import get_user
from walkbot.store.models import User

MENUS = frozenset({"back", "menu"})  # steps that show the settings menu, not a question


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
        user, opened = await _open(session, person.telegram_id, step, now)
    if user is None or user.onboarding_step is not None or (step not in MENUS and not opened):
        await query.answer(texts.STALE_BUTTON)
        return
    await query.answer()
    if opened:
        await ask(user.telegram_id, context, user, step)
        return
    text, markup = settings_view(user, now)
    if step == "back":
        await edit_text(query_message(query), text, markup)
    else:
        await context.bot.send_message(user.telegram_id, text, reply_markup=markup)


async def _open(
    session: AsyncSession, user_id: int, step: str, now: datetime
) -> tuple[User | None, bool]:
    """Open one question for editing (True when it opened); Back and the menu close any open
    one instead."""
    user = await get_user(session, telegram_id=user_id)
    if user is None:
        return None, False
    if step in MENUS:
        await flow.cancel_edit(session, user=user, now=now)
        return user, False
    return user, await flow.begin_edit(session, user=user, step=step, now=now)
