"""/start, consent, and every answer to an onboarding or settings question."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update

from walkbot.bot import sixmin, texts, walks
from walkbot.bot.questions import onboarding_summary, render, settings_view
from walkbot.bot.replies import callback_fields, edit_text, joined, mark_answered, query_message
from walkbot.bot.runtime import Context, person_of, runtime_of
from walkbot.services import onboarding as flow
from walkbot.services.users import create_user, get_user, touch_user
from walkbot.store.models import User

CONSENT_MARKUP = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton(texts.CONSENT_YES, callback_data="consent:yes"),
            InlineKeyboardButton(texts.CONSENT_NO, callback_data="consent:no"),
        ]
    ]
)


async def start(update: Update, context: Context) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = runtime_of(context)
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        if user is not None:
            await touch_user(session, user=user, person=person, now=rt.clock.now())
    if user is None:
        welcome = texts.with_name(texts.WELCOME, person.first_name)
        await chat.send_message(welcome, reply_markup=CONSENT_MARKUP)
    elif (step := flow.pending_step(user)) is not None:
        await ask(
            chat.id, context, user, step, prefix=texts.with_name(texts.RESUME, user.first_name)
        )
    else:
        await chat.send_message(texts.with_name(texts.GREET_KNOWN, user.first_name))


async def consent(update: Update, context: Context) -> None:
    query, person = update.callback_query, person_of(update)
    if query is None or person is None or query.message is None:
        return
    rt = runtime_of(context)
    if query.data == "consent:no":
        await query.answer()
        await edit_text(query_message(query), texts.CONSENT_DECLINED)
        return
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        created = user is None
        if user is None:
            user = await create_user(session, person=person, now=rt.clock.now())
    await query.answer()
    await mark_answered(query, texts.CONSENT_YES)
    step = flow.pending_step(user)
    if step is not None:
        await ask(
            query.message.chat.id,
            context,
            user,
            step,
            prefix=texts.CONSENT_GIVEN if created else None,
        )


async def answer_button(update: Update, context: Context) -> None:
    query, person = update.callback_query, person_of(update)
    if query is None or person is None or query.data is None or query.message is None:
        return
    step, value = callback_fields(query.data, 2)
    await _answer(update, context, step, flow.Button(value), query)


async def answer_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    await _answer(update, context, None, flow.Text(message.text), None)


async def answer_location(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or message.location is None:
        return
    given = flow.Location(message.location.latitude, message.location.longitude)
    await _answer(update, context, None, given, None)


async def answer_other(update: Update, context: Context) -> None:
    """Stickers, photos, voice notes: re-ask the open question, or say what I can read."""
    await _answer(update, context, None, None, None)


async def _answer(
    update: Update,
    context: Context,
    step: str | None,
    given: flow.Answer | None,
    query: CallbackQuery | None,
) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = runtime_of(context)
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        pending = flow.pending_step(user) if user is not None else None
        # A location answers only the time-zone question; anything else re-asks.
        usable = not isinstance(given, flow.Location) or pending == "tz"
        outcome = None
        if user is not None and pending is not None and given is not None and usable:
            outcome = await flow.answer(
                session, user=user, step=step or pending, given=given, now=rt.clock.now()
            )
    if query is not None:
        await query.answer(None if outcome is None or outcome.accepted else texts.STALE_BUTTON)
    if user is None:
        await chat.send_message(texts.NEED_START)
    elif pending is None:
        if not (isinstance(given, flow.Text) and await _take_text(update, context)):
            await chat.send_message(_unused_reply(given))
    elif outcome is None:
        reason = texts.LOCATION_NOT_NOW if isinstance(given, flow.Location) else texts.MEDIA_UNUSED
        await ask(chat.id, context, user, pending, prefix=reason)
    else:
        await _follow_up(chat.id, context, user, outcome, query)


async def _take_text(update: Update, context: Context) -> bool:
    """Typed answers owed elsewhere: a six-minute test's distance or note, a walk's note."""
    return await sixmin.take_text(update, context) or await walks.take_note(update, context)


def _unused_reply(given: flow.Answer | None) -> str:
    if isinstance(given, flow.Location):
        return texts.LOCATION_UNUSED
    if given is None:
        return texts.MEDIA_UNUSED
    return texts.NOT_NOW


async def _follow_up(
    chat_id: int, context: Context, user: User, outcome: flow.Outcome, query: CallbackQuery | None
) -> None:
    now = runtime_of(context).clock.now()
    if outcome.redraw and query is not None and outcome.ask is not None:
        text, markup = render(outcome.ask, user, editing=user.editing is not None)
        await edit_text(query_message(query), text, markup)
        return
    confirmation = None
    if outcome.accepted and outcome.chosen:
        if query is not None:
            await mark_answered(query, outcome.chosen)
        else:
            confirmation = f"Got it: {outcome.chosen}."
    safety = None
    if outcome.screening_done:
        safety = texts.SAFETY_FLAGGED if outcome.safety_flagged else texts.SAFETY_CLEAR
    prefix = joined(confirmation, outcome.notice, safety)
    if outcome.onboarding_done:
        text, markup = onboarding_summary(user, now)
        await context.bot.send_message(chat_id, joined(prefix, text), reply_markup=markup)
    elif outcome.settings_done:
        text, markup = settings_view(user, now)
        await context.bot.send_message(
            chat_id, joined(prefix, texts.SETTINGS_SAVED, text), reply_markup=markup
        )
    elif outcome.ask is not None:
        await ask(
            chat_id, context, user, outcome.ask, prefix=prefix, zone_choices=outcome.zone_choices
        )


async def ask(
    chat_id: int,
    context: Context,
    user: User,
    step: str,
    *,
    prefix: str | None = None,
    zone_choices: tuple[flow.ZoneChoice, ...] = (),
) -> None:
    text, markup = render(step, user, editing=user.editing is not None, zone_choices=zone_choices)
    await context.bot.send_message(chat_id, joined(prefix, text), reply_markup=markup)
